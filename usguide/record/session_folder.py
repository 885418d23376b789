"""The session folder before and during a recording: made ready for a new session (an earlier
session's files removed only when asked), and checked for free disk space.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from usguide.errors import UsguideError
from usguide.record.format import is_session_file


def prepare_folder(path: Path, overwrite: bool) -> None:
    """Creates ``path`` (empty, or with an earlier session's files removed when ``overwrite``)
    and checks that it is writable.

    Raises:
        UsguideError: ``path`` is a file, holds files (other than a session's, or without
            ``overwrite``), or cannot be written.
    """
    try:
        if path.exists() and not path.is_dir():
            raise UsguideError(f"{path} is a file, not a folder; choose a new --out")
        if path.is_dir() and any(path.iterdir()):
            if not overwrite:
                raise UsguideError(f"{path} exists; choose a new --out or pass --overwrite")
            others = sorted(p.name for p in path.iterdir() if not is_session_file(p.name))
            if others:
                raise UsguideError(
                    f"{path} holds files that are not part of a session "
                    f"({', '.join(others[:3])}); choose a new --out"
                )
            for old in path.iterdir():
                old.unlink()  # only a session's files are left here (checked above)
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".usguide-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsguideError(
            f"cannot write a session to {path}: {exc.strerror or exc}; choose another --out"
        ) from None


def check_disk(path: Path, min_free_bytes: int) -> None:
    """Raises ``UsguideError`` when the disk holding ``path`` has less than ``min_free_bytes``
    free."""
    free = shutil.disk_usage(path).free
    if free < min_free_bytes:
        raise UsguideError(
            f"only {free / 2**20:.0f} MB free at {path} "
            f"(need {min_free_bytes / 2**20:.0f} MB); "
            "free some space or choose another --out"
        )
