"""Video files (mp4, avi, mkv, mov): container timestamps, pacing, loop, frame-exact seek."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from usguide.defaults import FALLBACK_FPS
from usguide.errors import UsguideError
from usguide.sources.convert import to_frame_image
from usguide.sources.indexed import IndexedSource
from usguide.types import SourceInfo

log = logging.getLogger(__name__)

# FFmpeg's own messages ("moov atom not found", ...) would add lines to the one-line errors users
# see; usguide reports decoding problems itself. Read by OpenCV when its FFmpeg backend starts.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


@contextlib.contextmanager
def quiet_opencv() -> Iterator[None]:
    """Silences OpenCV's warnings (e.g. a failed open) while probing a file; restores the level."""
    previous = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(previous)


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Sends what native code writes to file descriptor 2 to /dev/null for a moment (OpenCV's
    built-in AVI reader prints parse errors with fprintf, past its log level)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


# How far before the target a positioned seek aims; where it lands is verified by PTS.
_SEEK_BACKOFF_FRAMES = 2
# Failed grabs in a row that still count as damaged packets inside the file (decoding goes on
# after them) rather than its end: a corrupt packet is skipped and counted, never a silent end.
_MAX_BAD_PACKETS = 16


def playback_decode_threads(cpu_count: int | None = None) -> int:
    """FFmpeg decoding threads for playback: 1 on machines with 4 cores or fewer, else 0 (FFmpeg's
    choice).

    A multi-threaded decoder takes every core in bursts, right when inference needs them. On the
    2-core development machine, playing a 640x480 FFV1 file through the pipeline with one decoding
    thread gave overhead p95 1.3-1.4 ms flat out and capture-to-result p99 21 ms at 120 fps,
    against 1.7-2.0 and 24-26 ms with FFmpeg's two.
    """
    cores = cpu_count if cpu_count is not None else (os.cpu_count() or 1)
    return 1 if cores <= 4 else 0


class VideoSource(IndexedSource):
    """Plays a video file frame by frame.

    On ``open()`` one fast ``grab()`` pass counts the frames exactly and records each frame's
    presentation time (``CAP_PROP_POS_MSEC``), because ``CAP_PROP_FRAME_COUNT`` and ``CAP_PROP_FPS``
    can be wrong and ``CAP_PROP_POS_FRAMES`` seeking is not frame-accurate with B-frames. ``seek``
    uses that index to verify where the decoder really is and decodes forward to the exact frame.

    Args:
        path: the video file.
        realtime: deliver frames at their recorded times (variable frame rate respected).
        loop: start again from the first frame at the end.
        fps: used only when the container has no usable timestamps.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        realtime: bool = False,
        loop: bool = False,
        fps: float | None = None,
    ) -> None:
        super().__init__(realtime=realtime, loop=loop)
        self.path = Path(path)
        self._fps_override = fps
        self._capture: cv2.VideoCapture | None = None
        self._pts_ms: list[float] = []
        self._cursor = 0  # index of the frame the capture decodes next
        self._bad_packets = 0  # packets the index pass could not decode (skipped)

    # -- IndexedSource ---------------------------------------------------------------------------
    def _open(self) -> SourceInfo:
        if not self.path.exists():
            raise UsguideError(f"video file not found: {self.path} — check the path")
        if not self.path.is_file():
            raise UsguideError(f"{self.path} is not a file — give a video file")
        self._pts_ms = self._build_index()
        if not self._pts_ms:
            raise UsguideError(
                f"cannot decode {self.path}: the file is corrupt, truncated or not a video — "
                "re-export it as mp4/avi/mkv"
            )
        self._capture = self._open_capture(playback_decode_threads())
        ok, image = self._capture.read()
        if not ok or image is None:
            self._release()
            raise UsguideError(
                f"cannot decode the first frame of {self.path} — the file is corrupt"
            )
        height, width = image.shape[:2]
        self._reopen()
        return SourceInfo(
            name=self.path.name,
            kind="video",
            width=int(width),
            height=int(height),
            fps=self._estimate_fps(),
            live=False,
            frame_count=len(self._pts_ms),
        )

    def _decode(self, index: int) -> np.ndarray | None:
        assert self._capture is not None
        if index != self._cursor:
            self._position(index)
        if not self._grab_next(self._capture):
            # The index pass saw this frame, so a failure now means the file changed or broke.
            return None
        ok, image = self._capture.retrieve()
        if not ok or image is None:
            return None
        self._cursor += 1
        return to_frame_image(image)

    @property
    def skipped(self) -> int:
        """Damaged packets in the file that decoding stepped over (frames lost to them)."""
        return self._bad_packets

    def _source_ms(self, index: int) -> float:
        return self._pts_ms[index]

    def _position(self, index: int) -> None:
        if index == self._cursor:
            return
        if not self._positioned_seek(index):
            # Fallback that is always exact: decode from the start.
            self._reopen()
            self._skip_to(index)

    def _release(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    # -- internals ---------------------------------------------------------------------------
    def _open_capture(self, threads: int = 0) -> cv2.VideoCapture:
        """Opens the file; ``threads`` > 0 sets FFmpeg's decoding threads (the index pass keeps
        FFmpeg's choice: it runs before playback, when every core is free)."""
        params = [cv2.CAP_PROP_N_THREADS, threads] if threads > 0 else []
        with quiet_opencv():
            capture = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG, params)
            if not capture.isOpened():
                with quiet_stderr():  # OpenCV's own AVI reader prints parse errors there
                    capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            raise UsguideError(
                f"cannot open {self.path}: the file is corrupt, truncated or not a video — "
                "re-export it as mp4/avi/mkv"
            )
        return capture

    def _build_index(self) -> list[float]:
        capture = self._open_capture()
        times: list[float] = []
        self._bad_packets = 0
        failed = 0  # failed grabs since the last good one
        try:
            while failed <= _MAX_BAD_PACKETS:
                if capture.grab():
                    self._bad_packets += failed
                    failed = 0
                    times.append(float(capture.get(cv2.CAP_PROP_POS_MSEC)))
                else:
                    failed += 1  # at the end of the file these never turn into skips
        finally:
            capture.release()
        if self._bad_packets:
            log.warning(
                "%s: %d damaged packet(s) skipped; %d frames decode",
                self.path.name,
                self._bad_packets,
                len(times),
            )
        if len(times) > 1 and not _strictly_increasing(times):
            # No usable container timestamps: fall back to a constant rate.
            fps = self._fps_override or FALLBACK_FPS
            log.warning("%s has no usable timestamps; assuming %.3g fps", self.path.name, fps)
            times = [i * 1000.0 / fps for i in range(len(times))]
        return times

    def _estimate_fps(self) -> float:
        if len(self._pts_ms) < 2:
            return float(self._fps_override or FALLBACK_FPS)
        span = self._pts_ms[-1] - self._pts_ms[0]
        return (len(self._pts_ms) - 1) * 1000.0 / span if span > 0 else FALLBACK_FPS

    def _reopen(self) -> None:
        if self._capture is not None:
            self._capture.release()
        self._capture = self._open_capture(playback_decode_threads())
        self._cursor = 0

    def _grab_next(self, capture: cv2.VideoCapture) -> bool:
        """Grabs the next decodable frame, stepping over damaged packets as the index pass did."""
        if not self._bad_packets:
            return bool(capture.grab())
        return any(capture.grab() for _ in range(_MAX_BAD_PACKETS + 1))

    def _skip_to(self, index: int) -> None:
        assert self._capture is not None
        while self._cursor < index:
            if not self._grab_next(self._capture):
                raise UsguideError(
                    f"{self.path.name} ended before frame {index} — file is truncated"
                )
            self._cursor += 1

    def _positioned_seek(self, index: int) -> bool:
        """Seeks with the container, checks by PTS where the decoder landed. False: not exact."""
        assert self._capture is not None
        if index == 0:
            return False  # reopening is exact and cheap
        if self._cursor < index <= self._cursor + 8:
            self._skip_to(index)  # close ahead: decoding forward is exact and cheap
            return True
        backoff = _SEEK_BACKOFF_FRAMES
        for _ in range(4):
            start = max(0, index - backoff)
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, start)
            if not self._capture.grab():
                return False
            landed = self._index_of(float(self._capture.get(cv2.CAP_PROP_POS_MSEC)))
            if landed is not None and landed < index:
                self._cursor = landed + 1
                self._skip_to(index)
                return True
            if start == 0:
                return False
            backoff *= 4  # landed past the target (or unknown): aim earlier
        return False

    def _index_of(self, pts_ms: float) -> int | None:
        # Timestamps are unique and increasing (checked when indexing), so a nearest match within
        # a fraction of a frame interval identifies the frame.
        times = np.asarray(self._pts_ms)
        nearest = int(np.argmin(np.abs(times - pts_ms)))
        tolerance = 0.25 * (1000.0 / max(self._estimate_fps(), 1e-3))
        return nearest if abs(times[nearest] - pts_ms) <= tolerance else None


def _strictly_increasing(values: list[float]) -> bool:
    return all(b > a for a, b in zip(values, values[1:], strict=False))
