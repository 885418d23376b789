"""Paces recorded frames at their recorded speed (or not at all) using the monotonic clock."""

from __future__ import annotations

import time


class Pacer:
    """Sleeps so that frames come out at the speed they were recorded.

    The first frame after ``reset()`` fixes the origin; each later frame waits until its source time
    (relative to that first frame) has elapsed on ``time.perf_counter_ns()``. With
    ``realtime=False`` it never sleeps.
    """

    def __init__(self, realtime: bool) -> None:
        self.realtime = realtime
        self._origin_ns: int | None = None
        self._origin_ms = 0.0

    def reset(self) -> None:
        """Forgets the origin (after a seek or a loop) so the next frame is delivered at once."""
        self._origin_ns = None

    def wait(self, source_ms: float) -> None:
        """Blocks until the frame with this source time is due."""
        if not self.realtime:
            return
        now = time.perf_counter_ns()
        if self._origin_ns is None:
            self._origin_ns, self._origin_ms = now, source_ms
            return
        due_ns = self._origin_ns + int((source_ms - self._origin_ms) * 1e6)
        if due_ns > now:
            time.sleep((due_ns - now) / 1e9)
