"""Which inputs a batch covers, their output names, and the hashes that make it resumable."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from usguide.errors import UsguideError

VIDEO_SUFFIXES = frozenset({".mkv", ".mp4", ".avi", ".mov", ".dcm"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp"})
_CHUNK = 1 << 20


@dataclass(frozen=True)
class BatchInput:
    """One input of a batch.

    Attributes:
        path: the source specification (a file or folder) the workers open.
        key: a unique name inside the batch (the path relative to the folder it was found
            in); the output is ``DIR/results/<key>.jsonl`` and the manifest is keyed by it.
    """

    path: Path
    key: str


def find_inputs(paths: list[str | Path], pattern: str | None = None) -> list[BatchInput]:
    """Expands the command line's INPUTS into inputs, in a stable order.

    A session folder (``meta.json``), a video or DICOM file and an image folder are inputs
    themselves; any other folder is searched: for ``pattern`` (a ``Path.glob`` pattern, e.g.
    ``'**/*.dcm'``) when given, otherwise for session folders, videos, DICOM files and image
    folders at any depth (a session folder is not searched further).

    Raises:
        UsguideError: a path that does not exist, or nothing found.
    """
    found: list[BatchInput] = []
    for given in map(Path, paths):
        if not given.exists():
            raise UsguideError(f"input not found: {given} — give files or folders that exist")
        if given.is_file() or _is_session(given) or (_has_images(given) and pattern is None):
            found.append(BatchInput(given, given.name))
            continue
        matches = sorted(given.glob(pattern)) if pattern else _search(given)
        found.extend(BatchInput(match, match.relative_to(given).as_posix()) for match in matches)
    if not found:
        raise UsguideError(
            f"no inputs found in {', '.join(map(str, paths))} — give session folders, videos, "
            "DICOM files or image folders (or --glob PATTERN)"
        )
    return _unique_keys(found)


def _is_session(folder: Path) -> bool:
    return folder.is_dir() and (folder / "meta.json").exists()


def _has_images(folder: Path) -> bool:
    return folder.is_dir() and any(
        child.suffix.lower() in IMAGE_SUFFIXES for child in folder.iterdir() if child.is_file()
    )


def _search(folder: Path) -> list[Path]:
    out: list[Path] = []
    for child in sorted(folder.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_dir():
            if _is_session(child) or _has_images(child):
                out.append(child)
            else:
                out.extend(_search(child))
        elif child.suffix.lower() in VIDEO_SUFFIXES:
            out.append(child)
    return out


def _unique_keys(inputs: list[BatchInput]) -> list[BatchInput]:
    """Two roots can hold the same relative path: the later one gets its path's hash appended."""
    seen: set[str] = set()
    out: list[BatchInput] = []
    for item in inputs:
        key = item.key
        if key in seen:
            key = f"{key}-{hashlib.sha256(str(item.path.resolve()).encode()).hexdigest()[:8]}"
        seen.add(key)
        out.append(BatchInput(item.path, key))
    return out


def content_hash(path: Path) -> str:
    """sha256 of a file, or of a folder's files (relative names and contents, sorted)."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with file.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def model_hash(detector: str, model: str | Path | None) -> str:
    """What identifies the analysis: ``classical``, or ``onnx:`` and the model file's sha256.

    Raises:
        UsguideError: the model file is missing.
    """
    if detector == "classical":
        return "classical"
    from usguide.paths import default_model_path

    path = Path(model) if model else default_model_path()
    if not path.is_file():
        raise UsguideError(f"model file {path} not found — give --model PATH")
    return f"{detector}:{content_hash(path)}"
