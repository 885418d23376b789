"""``PacedSource``: an inner source's frames released like a live probe's, for the benchmark.

Paced at F fps on a fixed clock (``Pacer``), or released when a gate allows (as fast as the
pipeline takes them); renumbered and stamped on release, so decoding never counts as latency.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from usguide.errors import UsguideError
from usguide.sources.base import FrameSource, WrappedSource
from usguide.sources.pacing import Pacer
from usguide.types import Frame

_SLICE_S = 0.05  # longest single sleep, so a close acts promptly


class PacedSource(WrappedSource):
    """Releases an inner source's frames at ``fps`` (or when ``gate`` allows), with fresh
    timestamps.

    The frame is read (decoded) before waiting, so decoding never counts as latency. Released frames
    are renumbered 0, 1, 2, ... (a looped file repeats its own indices) and stamped ``t_capture_ns``
    on release, ``source_ms`` on the release clock. A frame that falls more than one interval
    behind (slow decode) restarts the clock instead of bursting.
    """

    def __init__(
        self,
        inner: FrameSource,
        fps: float | None = None,
        gate: Callable[[float], bool] | None = None,
    ) -> None:
        if fps is not None and fps <= 0:
            raise UsguideError(f"--fps {fps:g} must be positive")
        super().__init__(inner)
        self.fps, self.gate = fps, gate
        self.released = 0
        self._pacer = Pacer(bool(fps), resync_late_ms=1000.0 / fps if fps else None)
        self._closed = False

    def open(self) -> None:
        self.inner.open()
        self._closed = False

    def close(self) -> None:
        self._closed = True
        self.inner.close()

    def read(self) -> Frame | None:
        frame = self.inner.read()
        if frame is None:
            return None
        if self.fps:
            self._pacer.wait(self.released * 1000.0 / self.fps, self._sleep_slice, _SLICE_S)
        elif self.gate is not None:
            while not self._closed and not self.gate(0.05):
                pass
        now = time.perf_counter_ns()
        if not self._pacer.started:
            self._pacer.start(0.0, now)
        frame.t_capture_ns = now
        frame.source_ms = self._pacer.media_ms(now)
        frame.index = self.released
        self.released += 1
        return frame

    def _sleep_slice(self, timeout_s: float) -> bool:
        time.sleep(timeout_s)
        return self._closed
