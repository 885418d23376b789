"""Where the bundled model(s) and demo recording live: in the installed package or the repository.

A wheel or sdist install carries them as package resources under ``usguide/_data/`` (copied
there at build time by ``setup.py`` from the repository's top-level ``models/`` and
``recordings/demo/``, which stay the only copy in git). An editable install or a plain checkout
uses the repository's files directly.
``USGUIDE_MODEL`` overrides the default model and ``USGUIDE_DEMO`` the demo recording folder.
Files the tools write (a trained model) go into the repository only in a checkout (``output_path``).
"""

from __future__ import annotations

import os
import subprocess
from importlib import resources
from pathlib import Path

# The repository root when usguide runs from a checkout (editable install); in a wheel install
# this is site-packages, where nothing of usguide's but the package lives.
REPO_ROOT = Path(__file__).resolve().parents[1]

# Folder inside the package that setup.py fills at build time; keep the two names in step.
BUNDLED_DIR = "_data"

MODEL_FILE = "models/needle.onnx"
DEMO_FOLDER = "recordings/demo"


def bundled_path(relative: str, *, package_root: Path | None = None) -> Path:
    """A bundled file or folder, given as its path in the repository (``models/needle.onnx``).

    Looks in the installed package first (``importlib.resources``), then in the repository.

    Args:
        relative: path relative to the repository root, with forward slashes.
        package_root: the package folder to look in (default: usguide's, from importlib.resources).

    Returns:
        The first location that exists; when none does, where it should be: the repository's path
        in a checkout, else the package's (so a "not found" message names the right place).
    """
    packaged = _packaged(relative, package_root)
    if packaged is not None and packaged.exists():
        return packaged
    in_repo = REPO_ROOT / relative
    if in_repo.exists() or (REPO_ROOT / "pyproject.toml").exists() or packaged is None:
        return in_repo
    return packaged


def in_checkout() -> bool:
    """True when usguide runs from the repository (editable install or plain checkout), False in
    a wheel install, where ``REPO_ROOT`` is site-packages."""
    return (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "usguide").is_dir()


def output_path(relative: str) -> Path:
    """Where a tool writes a file by default, given as its path in the repository
    (``models/needle.onnx``).

    A checkout writes into the repository, beside the files it replaces; a wheel install never
    writes into site-packages: there the file goes into the current folder (``needle.onnx``),
    a relative path, so messages and ``--help`` name it as the user would.
    """
    return REPO_ROOT / relative if in_checkout() else Path(Path(relative).name)


def _packaged(relative: str, package_root: Path | None) -> Path | None:
    root = package_root if package_root is not None else resources.files("usguide")
    resource = root.joinpath(BUNDLED_DIR, *relative.split("/"))
    # Installed wheels are plain folders; a zipped package (zipimport) cannot hand out file paths.
    return resource if isinstance(resource, Path) else None


def default_model_path() -> Path:
    """The model used when ``--model`` is not given (``USGUIDE_MODEL`` overrides it)."""
    override = os.environ.get("USGUIDE_MODEL")
    return Path(override) if override else bundled_path(MODEL_FILE)


def demo_recording_path() -> Path:
    """The bundled demo session used when no source is given (``USGUIDE_DEMO`` overrides it)."""
    override = os.environ.get("USGUIDE_DEMO")
    return Path(override) if override else bundled_path(DEMO_FOLDER)


def git_commit() -> str:
    """``git rev-parse HEAD`` of the repository, or "unknown" outside a checkout."""
    if not in_checkout():  # site-packages may lie inside another project's git checkout
        return "unknown"
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"
