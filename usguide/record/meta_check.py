"""Checks a session's meta.json against the format before the reader uses any of it: types,
ranges, finite numbers, and a video file name that stays inside the session folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from usguide.checks import (
    MAX_FPS,
    MAX_FRAME_SIDE,
    MAX_MM_PER_PX,
    MIN_MM_PER_PX,
    check_number,
)
from usguide.errors import UsguideError
from usguide.record.format import CODECS

VIDEO_FILES = frozenset(codec.file_name for codec in CODECS.values())
_PIXEL_FORMATS = (None, "gray", "bgr")


def check_meta(meta: dict, path: Path) -> None:
    """Raises UsguideError naming the first field of ``meta`` that breaks the format.

    Only the fields a reader relies on are checked; unknown keys are left alone (newer writers
    may add some without a version bump as long as they change no meaning).

    Args:
        meta: the parsed meta.json (a dict).
        path: the meta.json file, for the message.
    """
    where = str(path)
    video = _section(meta, "video", where)
    name = video.get("file", "video.mkv")
    if not isinstance(name, str) or name not in VIDEO_FILES:
        # Only the names the writer uses: a path ("../../x") would read outside the session.
        raise UsguideError(
            f"{where}: video.file is {str(name)[:60]!r}, not one of "
            f"{', '.join(sorted(VIDEO_FILES))}; the session is damaged"
        )
    if video.get("pixel_format") not in _PIXEL_FORMATS:
        raise UsguideError(f"{where}: video.pixel_format must be gray, bgr or null; damaged")
    for key in ("width", "height"):
        _optional(video, key, f"{where}: video.{key}", 0, MAX_FRAME_SIDE, integer=True)
    _optional(video, "fps", f"{where}: video.fps", 0.0, MAX_FPS, open_low=True)
    source = _section(meta, "source", where)
    _optional(source, "fps", f"{where}: source.fps", 0.0, MAX_FPS)
    calibration = _section(meta, "calibration", where)
    _optional(
        calibration, "mm_per_px", f"{where}: calibration.mm_per_px", MIN_MM_PER_PX, MAX_MM_PER_PX
    )
    roi = calibration.get("roi")
    if roi is not None:
        if not isinstance(roi, list) or len(roi) != 4:
            raise UsguideError(
                f"{where}: calibration.roi must be [x, y, w, h] or null; the session is damaged"
            )
        for i, value in enumerate(roi):
            low = 1 if i >= 2 else 0
            _checked(value, f"{where}: calibration.roi[{i}]", low, MAX_FRAME_SIDE, integer=True)
    if not isinstance(meta.get("complete", False), bool):
        raise UsguideError(f"{where}: complete must be true or false; the session is damaged")
    _optional(meta, "frame_count", f"{where}: frame_count", 0, 2**62, integer=True)


def _section(meta: dict, key: str, where: str) -> dict:
    value = meta.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UsguideError(f"{where}: {key} must be an object; the session is damaged")
    return value


def _optional(section: dict, key: str, what: str, low: float, high: float, **kwargs: Any) -> None:
    value = section.get(key)
    if value is not None:
        _checked(value, what, low, high, **kwargs)


def _checked(value: Any, what: str, low: float, high: float, **kwargs: Any) -> None:
    if isinstance(value, str):  # a number in quotes is a type error in JSON written by usguide
        raise UsguideError(f"{what} is {value[:40]!r}, not a number; the session is damaged")
    try:
        check_number(value, what, low=low, high=high, **kwargs)
    except UsguideError as exc:
        raise UsguideError(f"{exc}; the session is damaged") from None
