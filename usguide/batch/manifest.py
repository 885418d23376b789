"""The batch's manifest (``DIR/manifest.json``): per input its hashes, status and timings.

Every file a batch writes goes through ``write_atomic`` (a temporary file in the same folder,
then a rename), so a crash leaves the old file or the new one, never half of one. An input is
done only when the manifest says so for the same input hash and model hash and its output exists
(and, when reports are asked for, its metrics and report too).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from usguide.errors import UsguideError

MANIFEST_NAME = "manifest.json"
TEMP_PREFIX = ".tmp-"
DONE, FAILED = "done", "failed"


@dataclass
class Entry:
    """One input's line in the manifest."""

    key: str
    input: str
    output: str | None
    input_hash: str | None
    model_hash: str
    usguide_version: str
    status: str  # "done" or "failed"
    reason: str | None = None
    frames: int = 0
    needle_frames: int = 0
    predicted_frames: int = 0
    mean_confidence: float | None = None
    segments: int = 0
    analysis_s: float = 0.0
    wall_s: float = 0.0
    finished_at: str = ""
    metrics: str | None = None  # with --report: the metrics JSON, the HTML report (relative)
    report: str | None = None
    metric_values: dict | None = None  # the metrics themselves (the summary's columns)


class Manifest:
    """The manifest of the batch folder ``out_dir``, read at start and rewritten atomically."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.path = out_dir / MANIFEST_NAME
        self.entries: dict[str, Entry] = {}
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self.entries = {item["key"]: Entry(**item) for item in data["inputs"]}
            except (ValueError, KeyError, TypeError) as exc:
                raise UsguideError(
                    f"{self.path} is not a usguide batch manifest ({exc}) — "
                    "choose another --out or delete it"
                ) from None

    def is_done(self, key: str, input_hash: str, model_hash: str, *, report: bool = False) -> bool:
        """True when ``key`` was done with the same input and model and its output exists (with
        ``report``: its metrics and report as well)."""
        entry = self.entries.get(key)
        if entry is None:
            return False
        outputs = [entry.output] + ([entry.metrics, entry.report] if report else [])
        return (
            entry.status == DONE
            and entry.input_hash == input_hash
            and entry.model_hash == model_hash
            and all(path is not None and (self.out_dir / path).is_file() for path in outputs)
        )

    def record(self, entry: Entry) -> None:
        """Adds or replaces an input's entry and saves the manifest."""
        self.entries[entry.key] = entry
        self.save()

    def save(self) -> None:
        data = {"format": "usguide-batch", "version": 1}
        data["inputs"] = [asdict(entry) for entry in self.entries.values()]
        write_atomic(self.path, lambda out: json.dump(data, out, indent=1))


def write_atomic(path: Path, write: Callable[[IO[str]], object]) -> None:
    """Writes a text file through ``write(handle)`` into a temporary file, then renames it."""
    write_atomic_path(path, lambda temp: _write_text(temp, write))


def write_atomic_path(path: Path, write: Callable[[Path], object]) -> None:
    """Like ``write_atomic`` for writers that take a path (Parquet)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=path.suffix, dir=path.parent)
    os.close(handle)
    temp = Path(temp_name)
    try:
        write(temp)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _write_text(path: Path, write: Callable[[IO[str]], object]) -> None:
    with path.open("w", encoding="utf-8") as out:
        write(out)
        out.flush()
        os.fsync(out.fileno())
