"""Under overload, prefer the next frame to one that has already waited long in the slot.

With newest-frame-wins alone, a worker that frees up takes a frame that has waited anywhere between
zero and one frame interval. Waiting briefly for the next frame when the waiting one is already old
caps that wait at a fraction of an interval, trading a little throughput for latency.
"""

from __future__ import annotations


class FreshnessPolicy:
    """Estimates the source's frame interval and says when waiting for the next frame pays.

    Args:
        fraction: a waiting frame older than this fraction of the frame interval is swapped for
            the next one when that is due sooner; 0 or None turns the policy off.
    """

    def __init__(self, fraction: float | None = 0.5) -> None:
        self.fraction = fraction
        self.reset()

    def reset(self) -> None:
        """Forgets the frame interval (a new source)."""
        self.interval_ns: float | None = None
        self._last_capture_ns: int | None = None

    def note_capture(self, t_capture_ns: int) -> None:
        """Feeds one capture time (called by the capture thread, in order)."""
        last, self._last_capture_ns = self._last_capture_ns, t_capture_ns
        if last is None or t_capture_ns <= last:
            return
        interval = float(t_capture_ns - last)
        smoothed = self.interval_ns
        self.interval_ns = interval if smoothed is None else 0.9 * smoothed + 0.1 * interval

    def wait_s(self, t_capture_ns: int, now_ns: int) -> float | None:
        """How long to wait for a fresher frame than one captured at ``t_capture_ns``, or None to
        process it now (fresh enough, or the next frame is already late: never wait on a stalled
        source)."""
        interval = self.interval_ns
        if not self.fraction or interval is None:
            return None
        age = now_ns - t_capture_ns
        if age <= self.fraction * interval or age >= interval:
            return None
        return (interval - age) / 1e9
