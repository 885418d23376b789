"""Replay control for trainers: play/pause, step, exact seek, speed 0.25x-4x, loop.

``ReplayController`` is itself a ``FrameSource``: the pipeline's capture thread reads it while the
GUI thread calls the controls. Controls only record a request under a lock; ``read()`` carries it
out, so the wrapped source is only ever touched from the reading thread.
"""

from __future__ import annotations

import threading
import time

from usguide.errors import UsguideError
from usguide.sources.base import FrameSource
from usguide.sources.pacing import Pacer, sleep_until
from usguide.types import Frame, SourceInfo, SourceState

MIN_SPEED, MAX_SPEED = 0.25, 4.0
_PAUSED_WAIT_S = 0.01  # how long read() waits for a command while paused
_PACE_SLICE_S = 0.02  # longest single sleep while pacing, so commands act promptly


class ReplayController(FrameSource):
    """Wraps a seekable recorded source (recording, video, DICOM, image folder) with playback
    controls.

    ``position`` is the index of the frame handed out last (-1 before the first). Frames come out
    paced by their ``source_ms`` divided by ``speed``, stamped with a fresh ``t_capture_ns`` when
    handed out. At the end it loops, or pauses on the last frame (so a trainer can step back).

    Args:
        source: a seekable source opened without its own pacing (``realtime=False``) and without
            loop.
        playing: start playing (True) or paused on the first frame (False).
        speed: 0.25 .. 4.
        loop: start again at the first frame after the last.
    """

    def __init__(
        self, source: FrameSource, *, playing: bool = True, speed: float = 1.0, loop: bool = False
    ) -> None:
        self._inner = source
        self._lock = threading.Lock()
        self._playing = playing
        self._pacer = Pacer(True, speed=_check_speed(speed))  # guarded by _lock
        self.loop = loop
        self._position = -1
        self._next = 0  # index the wrapped source delivers on its next read()
        self._request: int | None = 0 if not playing else None  # a frame to show once (seek/step)
        self._held: Frame | None = None  # read but not yet due (pacing interrupted by pause)
        self._closed = threading.Event()

    # -- controls (any thread) ----------------------------------------------------------------
    def play(self) -> None:
        with self._lock:
            self._playing = True
            self._pacer.reset()

    def pause(self) -> None:
        with self._lock:
            self._playing = False

    def toggle(self) -> None:
        with self._lock:
            self._playing = not self._playing
            self._pacer.reset()

    def step_forward(self) -> None:
        """Pauses and shows the next frame (the first one after the last when looping)."""
        with self._lock:
            self._playing = False
            target = self._position + 1
            if target >= self.frame_count:
                target = 0 if self.loop else self.frame_count - 1
            self._request = target

    def step_back(self) -> None:
        """Pauses and shows the previous frame (stays on the first one)."""
        with self._lock:
            self._playing = False
            self._request = max(0, self._position - 1)

    def seek(self, index: int) -> None:
        """Shows frame ``index`` exactly next (clamped to the recording); playing goes on from
        there."""
        with self._lock:
            self._request = min(max(0, int(index)), self.frame_count - 1)
            self._pacer.reset()

    @property
    def speed(self) -> float:
        return self._pacer.speed

    @speed.setter
    def speed(self, value: float) -> None:
        with self._lock:
            self._pacer.speed = _check_speed(value)
            self._pacer.reset()  # the new speed counts from the next frame

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def position(self) -> int:
        return self._position

    @property
    def frame_count(self) -> int:
        count = self._inner.info.frame_count
        return int(count) if count else 0

    @property
    def delivering(self) -> bool:
        """Whether frames are expected now (the pipeline's stall watch ignores a paused replay)."""
        return self._playing or self._request is not None

    # -- FrameSource --------------------------------------------------------------------------
    @property
    def info(self) -> SourceInfo:
        return self._inner.info

    @property
    def state(self) -> SourceState:
        return SourceState.CONNECTED

    @property
    def seekable(self) -> bool:
        return True

    def open(self) -> None:
        self._inner.open()
        if not self._inner.seekable or not self.frame_count:
            self._inner.close()
            raise UsguideError(
                f"{self._inner.info.name} cannot be replayed: it is live or has no frame count — "
                "replay a recording, video, DICOM or image folder"
            )
        self._closed.clear()

    def close(self) -> None:
        self._closed.set()
        self._inner.close()

    def read(self) -> Frame | None:
        with self._lock:
            request, self._request = self._request, None
            playing = self._playing
        if request is not None:
            self._held = None
            frame = self._fetch(request)
            with self._lock:
                if frame is None:
                    self._pacer.reset()
                else:
                    self._pacer.start(frame.source_ms)
            return self._hand_out(frame)
        if not playing:
            self._closed.wait(_PAUSED_WAIT_S)
            return None
        frame = self._held or self._fetch_next()
        self._held = None
        if frame is None:
            return None
        if not self._wait_due(frame):
            self._held = frame  # paused or sought meanwhile: keep it for when play resumes
            return None
        return self._hand_out(frame)

    # -- internals (reading thread) -----------------------------------------------------------
    def _fetch(self, index: int) -> Frame | None:
        if index != self._next:
            self._inner.seek(index)
            self._next = index
        frame = self._inner.read()
        if frame is not None:
            self._next = frame.index + 1
        return frame

    def _fetch_next(self) -> Frame | None:
        at_end = self._position + 1 >= self.frame_count or self._next >= self.frame_count
        frame = None if at_end else self._fetch(self._position + 1)
        if frame is not None:
            return frame
        # The end, or only undecodable (skipped, counted) frames after the last one shown: without
        # this, a clip ending in a damaged frame would stall instead of looping or pausing.
        if not self.loop:
            with self._lock:
                self._playing = False
            return None
        with self._lock:
            self._pacer.reset()
        return self._fetch(0)

    def _wait_due(self, frame: Frame) -> bool:
        """Sleeps until the frame is due at the current speed; False when a command interrupted."""
        with self._lock:
            due_ns = self._pacer.due_ns(frame.source_ms)  # None: the first frame, due now
        return sleep_until(due_ns, self._interrupted, _PACE_SLICE_S)

    def _interrupted(self, timeout_s: float) -> bool:
        """Waits up to ``timeout_s``; True when closed, paused, sought or re-timed meanwhile."""
        if self._closed.wait(timeout_s):
            return True
        with self._lock:
            return not self._playing or self._request is not None or not self._pacer.started

    def _hand_out(self, frame: Frame | None) -> Frame | None:
        if frame is None:
            return None
        frame.t_capture_ns = time.perf_counter_ns()
        self._position = frame.index
        return frame


def _check_speed(speed: float) -> float:
    speed = float(speed)
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise UsguideError(
            f"replay speed {speed:g} is out of range — use {MIN_SPEED:g} to {MAX_SPEED:g}"
        )
    return speed
