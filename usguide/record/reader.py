"""Reads a session folder (also one cut off by a crash): frames, timestamps, recorded results.

A session holds ``min(decodable video frames, complete timestamp rows)`` frames; meta.json's
``frame_count`` is a hint only. ``usguide.sources.recording.RecordingSource`` replays a session
as a ``FrameSource``.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from usguide.checks import load_json
from usguide.defaults import FALLBACK_FPS
from usguide.errors import UsguideError
from usguide.record.format import (
    FORMAT_VERSION,
    FRAMES_COLUMNS,
    FRAMES_FILE,
    META_FILE,
    RESULTS_FILE,
)
from usguide.record.meta_check import check_meta
from usguide.types import Calibration, Roi

log = logging.getLogger(__name__)
_GRAB_FORWARD_MAX = 30  # forward jumps up to this many frames decode through instead of seeking


class SessionReader:
    """Random and sequential access to a recorded session's frames, timestamps and results.

    Attributes:
        path: the session folder.
        meta: meta.json as a dict.
        frame_count: usable frames (complete timestamp rows that also decode).
        source_index, t_capture_ns (int64, ``time.perf_counter_ns()`` at capture), source_ms
            (float64): per-frame arrays of length ``frame_count``.
        results: recorded per-frame results by frame index (frames without a result are absent).

    Raises:
        UsguideError: not a folder, no or invalid meta.json, unknown format version, corrupt video.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise UsguideError(
                f"{self.path} is not a session folder; give a folder made by usguide record"
            )
        self.meta = _read_meta(self.path)
        video = self.meta.get("video") or {}
        self._grey = video.get("pixel_format") == "gray"
        self._video_path = self.path / str(video.get("file") or "video.mkv")
        index, source_index, t_ns, source_ms, ignored = _read_frames_csv(self.path / FRAMES_FILE)
        self.rows_ignored = ignored  # valid-looking rows after a damaged one, not used
        self._cap: cv2.VideoCapture | None = None
        self._next = 0  # index of the frame the capture decodes next
        rows = len(t_ns)
        decodable = self._count_decodable(rows) if rows else 0
        self.frame_count = min(rows, decodable)
        self.index = index[: self.frame_count]
        self.source_index = source_index[: self.frame_count]
        self.t_capture_ns = t_ns[: self.frame_count]
        self.source_ms = source_ms[: self.frame_count]
        self.results: dict[int, Any] = _read_results(self.path / RESULTS_FILE, self.frame_count)
        self._size = self._decoded_size() if self.frame_count else (0, 0)
        self._check_region()

    # ------------------------------------------------------------------------------------- meta
    @property
    def complete(self) -> bool:
        """True when the writer closed the session normally (False after a crash)."""
        return bool(self.meta.get("complete"))

    @property
    def calibration(self) -> Calibration:
        cal = self.meta.get("calibration") or {}
        roi = cal.get("roi")
        return Calibration(
            mm_per_px=cal.get("mm_per_px"), roi=Roi(*(int(v) for v in roi)) if roi else None
        )

    @property
    def fps(self) -> float:
        video = self.meta.get("video") or {}
        return float(video.get("fps") or (self.meta.get("source") or {}).get("fps") or FALLBACK_FPS)

    @property
    def width(self) -> int:
        """The width of the decoded frames (not what meta.json claims)."""
        return self._size[0]

    @property
    def height(self) -> int:
        """The height of the decoded frames (not what meta.json claims)."""
        return self._size[1]

    def result(self, index: int) -> Any:
        """The recorded result of frame ``index``, or None."""
        return self.results.get(index)

    # ----------------------------------------------------------------------------------- frames
    def frame(self, index: int) -> np.ndarray:
        """The image of frame ``index`` (random access): HxW uint8 grey or HxWx3 BGR."""
        self.seek(index)
        return self.read_next()

    def seek(self, index: int) -> None:
        """Positions the decoder so ``read_next()`` returns frame ``index`` exactly."""
        self.check_index(index)
        if index == self._next:
            return
        if self._next < index <= self._next + _GRAB_FORWARD_MAX:
            self._grab(index - self._next)
        elif self.complete:
            # FFV1 and MJPEG are intra-only with constant-rate timestamps: position seeks are exact.
            cap = self._capture()
            cap.set(cv2.CAP_PROP_POS_FRAMES, index)
            self._next = index
        else:
            # A crashed file has no index (cues): decode forward from the start.
            self._reopen()
            if self._grab(index) != index:
                raise UsguideError(f"cannot decode up to frame {index} of {self._video_path}")

    def check_index(self, index: int) -> None:
        """Raises UsguideError when ``index`` is not a frame of the session."""
        if not 0 <= index < self.frame_count:
            raise UsguideError(
                f"frame {index} is outside the session (0..{self.frame_count - 1}) in {self.path}"
            )

    def read_next(self) -> np.ndarray:
        """Decodes the next frame in sequence."""
        if self._next >= self.frame_count:
            raise UsguideError(f"read past the end of the session ({self.frame_count} frames)")
        ok, image = self._capture().read()
        if not ok or image is None:
            raise UsguideError(
                f"cannot decode frame {self._next} of {self._video_path}: corrupt video"
            )
        self._next += 1
        if self._grey and image.ndim == 3:
            image = np.ascontiguousarray(image[:, :, 0])  # stored B=G=R (or gray decoded as BGR)
        return image

    def close(self) -> None:
        """Releases the video. Idempotent."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __enter__(self) -> SessionReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -------------------------------------------------------------------------------- internals
    def _decoded_size(self) -> tuple[int, int]:
        """(width, height) of frame 0 as decoded; leaves the decoder at frame 0."""
        image = self.frame(0)
        self._reopen()
        return int(image.shape[1]), int(image.shape[0])

    def _check_region(self) -> None:
        roi = (self.meta.get("calibration") or {}).get("roi")
        width, height = self._size
        if roi and self.frame_count and (roi[0] + roi[2] > width or roi[1] + roi[3] > height):
            raise UsguideError(
                f"{self.path / META_FILE}: calibration.roi {roi} lies outside the {width}x{height}"
                " frames of the video; the session is damaged (give --roi to override)"
            )

    def _capture(self) -> cv2.VideoCapture:
        if self._cap is None:
            self._reopen()
        assert self._cap is not None
        return self._cap

    def _reopen(self) -> None:
        self.close()
        if not self._video_path.is_file():
            raise UsguideError(f"{self._video_path} is missing; the session is incomplete")
        cap = cv2.VideoCapture(str(self._video_path), cv2.CAP_FFMPEG)
        if not cap.isOpened():
            raise UsguideError(f"cannot open {self._video_path}: corrupt or unsupported video")
        self._cap = cap
        self._next = 0

    def _grab(self, count: int) -> int:
        cap = self._capture()
        done = 0
        for _ in range(count):
            if not cap.grab():
                break
            done += 1
        self._next += done
        return done

    def _count_decodable(self, rows: int) -> int:
        """Frames the video really holds, up to ``rows``; cheap for complete sessions."""
        if self.complete and self.meta.get("frame_count") == rows:
            try:
                self._seek_position(rows - 1)
                ok = self._capture().grab()
            except UsguideError:
                ok = False
            if ok:
                self._reopen()
                return rows
        self._reopen()
        count = self._grab(rows)
        if count == 0:
            raise UsguideError(f"{self._video_path} holds no decodable frame: corrupt video")
        self._reopen()
        return count

    def _seek_position(self, index: int) -> None:
        """Seeks by position without range checks (used while counting frames)."""
        cap = self._capture()
        cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        self._next = index


def _read_meta(folder: Path) -> dict:
    path = folder / META_FILE
    if not path.is_file():
        raise UsguideError(
            f"{folder} is not a usguide session (no {META_FILE}); give a session folder"
        )
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UsguideError(
            f"{path} is unreadable ({exc.strerror}); the session is damaged"
        ) from None
    meta = load_json(text, str(path))
    if not isinstance(meta, dict):
        raise UsguideError(f"{path} is not a JSON object; the session is damaged")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise UsguideError(
            f"{folder} has session format_version {version!r}; this usguide reads version "
            f"{FORMAT_VERSION}: update usguide"
        )
    check_meta(meta, path)
    return meta


def _read_frames_csv(
    path: Path,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Parses frames.csv up to its last complete, valid row (a crash can cut the last one).

    Returns the four columns and how many complete rows after a damaged one were ignored (a
    warning is logged: a session is never cut short without a word).
    """
    ignored = 0
    index: list[int] = []
    source_index: list[int] = []
    t_ns: list[int] = []
    source_ms: list[float] = []
    if path.is_file():
        with open(path, encoding="utf-8", errors="replace") as handle:
            header = handle.readline().strip().split(",")
            if header[: len(FRAMES_COLUMNS)] != list(FRAMES_COLUMNS):
                raise UsguideError(
                    f"{path} has unexpected columns {header}; the session is damaged"
                )
            for line in handle:
                if not line.endswith("\n"):
                    break  # partial last row
                row = _frames_row(line)
                if row is None or row[0] != len(index) or (t_ns and row[2] <= t_ns[-1]):
                    # Damaged or out of sequence: keep what precedes it, count what follows.
                    ignored = 1 + sum(1 for rest in handle if rest.endswith("\n"))
                    log.warning(
                        "%s: row %d is damaged; using the %d frames before it and ignoring %d "
                        "rows after it",
                        path,
                        len(index) + 1,
                        len(index),
                        ignored,
                    )
                    break
                index.append(row[0])
                source_index.append(row[1])
                t_ns.append(row[2])
                source_ms.append(row[3])
    return (
        np.asarray(index, dtype=np.int64),
        np.asarray(source_index, dtype=np.int64),
        np.asarray(t_ns, dtype=np.int64),
        np.asarray(source_ms, dtype=np.float64),
        ignored,
    )


def _frames_row(line: str) -> tuple[int, int, int, float] | None:
    """One frames.csv row, or None when it is not four numbers (finite, within int64)."""
    parts = line.rstrip("\n").split(",")
    try:
        row = (int(parts[0]), int(parts[1]), int(parts[2]), float(parts[3]))
    except (ValueError, IndexError):
        return None
    if not math.isfinite(row[3]) or any(abs(v) >= 2**63 for v in row[:3]) or row[0] < 0:
        return None
    return row


def _read_results(path: Path, frame_count: int) -> dict[int, Any]:
    results: dict[int, Any] = {}
    if not path.is_file():
        return results
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.endswith("\n"):
                break
            try:
                record = load_json(line, str(path))
                index = int(record["index"])
            except (UsguideError, ValueError, KeyError, TypeError, OverflowError):
                continue  # a damaged line loses that frame's result only
            if 0 <= index < frame_count:
                results[index] = record.get("result")
    return results
