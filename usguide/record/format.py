"""Session folder layout shared by the writer and the reader: file names, columns, versions, codecs.

The format itself is described for humans in ``FORMAT.md`` next to this module.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_VERSION = 2
# Version 1 (one video file, rows listed when handed to the encoder) is still read, as one segment.
READABLE_VERSIONS = (1, 2)
META_FILE = "meta.json"
FRAMES_FILE = "frames.csv"
RESULTS_FILE = "results.jsonl"
PROCEDURE_LOG_FILE = "procedure_log.jsonl"  # append-only edits of the procedure record
FRAMES_COLUMNS_V1 = ("index", "source_index", "t_capture_ns", "source_ms")
FRAMES_COLUMNS = FRAMES_COLUMNS_V1 + ("segment", "segment_index")
DEFAULT_SEGMENT_S = 1.0  # a segment is closed (and its frames listed) at least this often


@dataclass(frozen=True)
class Codec:
    """How one ``--codec`` choice is written with ``cv2.VideoWriter``."""

    name: str
    fourcc: str
    file_name: str
    lossless: bool
    grey_native: bool  # False: grey frames are stored as BGR (B=G=R) and converted back on read


CODECS: dict[str, Codec] = {
    # FFV1 in Matroska is intra-only and lossless for bgr0 and gray (checked bit-exact in tests).
    "ffv1": Codec("ffv1", "FFV1", "video.mkv", lossless=True, grey_native=True),
    # OpenCV's built-in MJPEG writer is the only one honouring a quality setting; it writes AVI
    # and garbles single-channel input, so grey goes in as BGR.
    "mjpg": Codec("mjpg", "MJPG", "video.avi", lossless=False, grey_native=False),
}

# Every file a session may contain: ``--overwrite`` removes these and nothing else.
SESSION_FILES = (META_FILE, FRAMES_FILE, RESULTS_FILE, PROCEDURE_LOG_FILE) + tuple(
    c.file_name for c in CODECS.values()
)
_SEGMENT_NAME = re.compile(r"video-\d{6}\.(mkv|avi)")


def segment_file(video_file: str, segment: int) -> str:
    """The name of video segment ``segment`` (version 2): ``video.mkv`` -> ``video-000003.mkv``."""
    stem, _, ext = video_file.rpartition(".")
    return f"{stem}-{segment:06d}.{ext}"


def is_session_file(name: str) -> bool:
    """True for the names a session's files may have (``--overwrite`` removes only these)."""
    return name in SESSION_FILES or _SEGMENT_NAME.fullmatch(name) is not None


def json_default(value: Any) -> Any:
    """``json.dumps`` fallback: numpy scalars and arrays become plain numbers and lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return repr(value)


def write_json_atomic(path: Path, data: dict) -> None:
    """Writes ``data`` to ``path`` through a temporary file so a crash never leaves half a file."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, default=json_default)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a full disk leaves the old file, never a stray temporary
        raise
