"""Reads a session folder (also one cut off by a crash): frames, timestamps, recorded results.

A session holds the frames frames.csv lists whose video segment is whole (format 2), or
``min(decodable video frames, complete timestamp rows)`` (format 1, one video file); meta.json's
``frame_count`` is a hint only. ``usguide.sources.recording.RecordingSource`` replays a session
as a ``FrameSource``.
"""

from __future__ import annotations

import bisect
import logging
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from usguide.checks import load_json
from usguide.defaults import FALLBACK_FPS
from usguide.errors import UsguideError
from usguide.record.format import (
    FORMAT_VERSION,
    FRAMES_FILE,
    META_FILE,
    READABLE_VERSIONS,
    RESULTS_FILE,
    segment_file,
)
from usguide.record.frames_index import read_frames_csv
from usguide.record.meta_check import check_meta
from usguide.record.segments import container_complete
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
        self.version = int(self.meta["format_version"])
        video = self.meta.get("video") or {}
        self._grey = video.get("pixel_format") == "gray"
        self._video_file = str(video.get("file") or "video.mkv")
        frames = read_frames_csv(self.path / FRAMES_FILE, self.version)
        self._cap: cv2.VideoCapture | None = None
        self._seg = -1  # the segment the capture has open
        self._next = 0  # index of the frame the capture decodes next
        # First frame of each segment (format 1: one segment), then the frames each holds.
        changes = np.flatnonzero(np.diff(frames.segment)) + 1 if len(frames) else []
        self._starts = [0, *(int(i) for i in changes)] if len(frames) else [0]
        self.frame_count = len(frames)
        frames.cut(self._usable(len(frames)) if len(frames) else 0)
        self._starts = [start for start in self._starts if start < max(len(frames), 1)]
        self.rows_ignored = frames.ignored  # listed frames the session cannot use
        self.frame_count = len(frames)
        self.index, self.source_index = frames.index, frames.source_index
        self.t_capture_ns, self.source_ms = frames.t_capture_ns, frames.source_ms
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
        seg = bisect.bisect_right(self._starts, index) - 1
        if self._cap is not None and seg == self._seg:
            if index == self._next:
                return
            if self._next < index <= self._next + _GRAB_FORWARD_MAX:
                self._grab(index - self._next)
                return
        self._open_segment(seg)
        start = self._starts[seg]
        if index == start:
            return
        if self.complete or self.version > 1:
            # FFV1 and MJPEG are intra-only with constant-rate timestamps, and a listed segment is
            # a closed file: position seeks are exact.
            self._capture().set(cv2.CAP_PROP_POS_FRAMES, index - start)
            self._next = index
        elif self._grab(index) != index:
            # A crashed format-1 file has no index (cues): decode forward from the start.
            raise UsguideError(f"cannot decode up to frame {index} of {self._segment_path(0)}")

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
        if self._cap is None or self._next >= self._end(self._seg):
            self.seek(self._next)  # opens the segment holding it
        ok, image = self._capture().read()
        if not ok or image is None:
            raise UsguideError(
                f"cannot decode frame {self._next} of {self._segment_path(self._seg)}: "
                "corrupt video"
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
            self._seg = -1

    def __enter__(self) -> SessionReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -------------------------------------------------------------------------------- internals
    def _decoded_size(self) -> tuple[int, int]:
        """(width, height) of frame 0 as decoded; leaves the decoder at frame 0."""
        image = self.frame(0)
        self._open_segment(0)
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
            self._open_segment(max(self._seg, 0))
        assert self._cap is not None
        return self._cap

    def _segment_path(self, seg: int) -> Path:
        if self.version == 1:
            return self.path / self._video_file
        return self.path / segment_file(self._video_file, seg)

    def _end(self, seg: int) -> int:
        """One past the last frame of segment ``seg``."""
        return self._starts[seg + 1] if seg + 1 < len(self._starts) else self.frame_count

    def _open_segment(self, seg: int) -> None:
        """Opens segment ``seg`` at its first frame."""
        self.close()
        path = self._segment_path(seg)
        if not path.is_file():
            raise UsguideError(f"{path} is missing; the session is incomplete")
        cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        if not cap.isOpened():
            raise UsguideError(f"cannot open {path}: corrupt or unsupported video")
        self._cap, self._seg, self._next = cap, seg, self._starts[seg]

    def _grab(self, count: int) -> int:
        cap = self._capture()
        done = 0
        for _ in range(count):
            if not cap.grab():
                break
            done += 1
        self._next += done
        return done

    def _usable(self, rows: int) -> int:
        """Listed frames the video really holds: up to the first segment that is missing or not
        whole (format 2), or the frames that decode (format 1); cheap for complete files."""
        if self.version == 1:
            whole = self.complete and self.meta.get("frame_count") == rows
            last = len(self._starts) - 1
        else:
            codec = "mjpg" if self._video_file.endswith(".avi") else "ffv1"
            last = 0
            while last < len(self._starts) and _whole(self._segment_path(last), codec):
                last += 1
            last -= 1
            if last < 0:
                self._open_segment(0)  # says whether it is missing or corrupt
                raise UsguideError(f"{self._segment_path(0)} is not a whole video: corrupt video")
            if last + 1 < len(self._starts):
                log.warning(
                    "%s: video segment %s is missing or damaged; using the %d frames before it",
                    self.path,
                    self._segment_path(last + 1).name,
                    self._starts[last + 1],
                )
            whole = True
        start, end = self._starts[last], self._end(last)
        self._open_segment(last)
        if whole and end - start > 1:
            self._capture().set(cv2.CAP_PROP_POS_FRAMES, end - 1 - start)
            self._next = end - 1
        if whole and self._grab(1) == 1:
            count = end
        else:
            self._open_segment(last)
            count = start + self._grab(end - start)
        if count == 0:
            raise UsguideError(f"{self._segment_path(0)} holds no decodable frame: corrupt video")
        self.close()
        return count


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
    if (
        not isinstance(version, int)
        or isinstance(version, bool)
        or version not in READABLE_VERSIONS
    ):
        raise UsguideError(
            f"{folder} has session format_version {version!r}; this usguide reads versions "
            f"1..{FORMAT_VERSION}: update usguide"
        )
    check_meta(meta, path)
    return meta


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


def _whole(path: Path, codec: str) -> bool:
    """True when a listed segment file exists and is whole (its header's size is the file's)."""
    try:
        return path.is_file() and container_complete(path, codec)
    except OSError:
        return False
