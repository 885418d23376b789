"""The one pacer: releases frames at the times they carry (divided by a speed) on the monotonic
clock. Used by recorded sources (``realtime``), the replay controller and the benchmark's paced
source."""

from __future__ import annotations

import time
from collections.abc import Callable

# ``interrupted(timeout_s) -> bool`` waits up to ``timeout_s`` and says whether to stop waiting
# (a command arrived, the source closed).
Interrupt = Callable[[float], bool]


class Pacer:
    """Sleeps so that frames come out at the speed they were recorded (times ``speed``).

    The first frame after ``reset()`` fixes the origin and is due at once; each later frame is due
    when its time (relative to that first frame, divided by ``speed``) has elapsed on
    ``time.perf_counter_ns()``. With ``realtime=False`` it never sleeps.

    Args:
        realtime: pace at all.
        speed: playback speed (2.0: twice as fast).
        resync_late_ms: a frame already later than this is delivered at once and restarts the
            clock from itself (a live source drops, it does not burst); None: late frames catch up.
    """

    def __init__(
        self, realtime: bool = True, *, speed: float = 1.0, resync_late_ms: float | None = None
    ) -> None:
        self.realtime = realtime
        self.speed = speed
        self.resync_late_ms = resync_late_ms
        self._origin_ns: int | None = None
        self._origin_ms = 0.0

    def reset(self) -> None:
        """Forgets the origin (after a seek or a loop) so the next frame is delivered at once."""
        self._origin_ns = None

    @property
    def started(self) -> bool:
        """True once a frame has fixed the origin (and no ``reset`` since)."""
        return self._origin_ns is not None

    def start(self, time_ms: float, now_ns: int | None = None) -> None:
        """Fixes the origin: the frame with time ``time_ms`` is due at ``now_ns`` (default: now)."""
        self._origin_ns = time.perf_counter_ns() if now_ns is None else now_ns
        self._origin_ms = time_ms

    def media_ms(self, now_ns: int) -> float:
        """The frame time that is due at ``now_ns`` (the origin's when not started)."""
        if self._origin_ns is None:
            return self._origin_ms
        return self._origin_ms + (now_ns - self._origin_ns) / 1e6 * self.speed

    def due_ns(self, time_ms: float) -> int | None:
        """When the frame with time ``time_ms`` is due, or None when it is due now (it fixed the
        origin, or it was so late that the clock restarted from it)."""
        now = time.perf_counter_ns()
        if self._origin_ns is None:
            self.start(time_ms, now)
            return None
        due_ns = self._origin_ns + int((time_ms - self._origin_ms) / self.speed * 1e6)
        if self.resync_late_ms is not None and now > due_ns + self.resync_late_ms * 1e6:
            self.start(time_ms, now)
            return None
        return due_ns

    def wait(
        self, time_ms: float, interrupted: Interrupt | None = None, slice_s: float = 0.05
    ) -> bool:
        """Blocks until the frame with time ``time_ms`` is due; False when ``interrupted``."""
        if not self.realtime:
            return True
        return sleep_until(self.due_ns(time_ms), interrupted, slice_s)


def sleep_until(
    due_ns: int | None, interrupted: Interrupt | None = None, slice_s: float = 0.05
) -> bool:
    """Sleeps until ``perf_counter_ns()`` reaches ``due_ns`` (None: returns at once).

    Without ``interrupted`` it sleeps in one go; with it, in slices of at most ``slice_s``, asking
    ``interrupted`` after each whether to give up (then returns False).
    """
    if due_ns is None:
        return True
    if interrupted is None:
        remaining_ns = due_ns - time.perf_counter_ns()
        if remaining_ns > 0:
            time.sleep(remaining_ns / 1e9)
        return True
    while True:
        remaining = (due_ns - time.perf_counter_ns()) / 1e9
        if remaining <= 0:
            return True
        if interrupted(min(remaining, slice_s)):
            return False
