"""GUI-thread cost per painted frame and display rate.

A painted frame costs its update (setting image and overlay items) plus the render passes of the
image view that follow it; both are added up here (wall time, ``perf_counter_ns``). The GUI
thread's CPU time from one painted frame to the next (``thread_time_ns``: everything it did,
other widgets' repaints and timers included) is kept too: other processes barely disturb it.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from usguide.pipeline.stats import sorted_percentile

WINDOW = 600


@dataclass(frozen=True)
class PaintSummary:
    """GUI-thread ms per painted frame (p50/p95/p99/max) and painted frames per second."""

    frames: int
    display_fps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    cpu_p50_ms: float = 0.0
    cpu_p95_ms: float = 0.0

    def to_json(self) -> dict:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in self.__dict__.items()}


class PaintStats:
    """Collects per-frame GUI-thread time; the first ``warmup`` frames are left out."""

    def __init__(self, warmup: int = 10) -> None:
        self.warmup = warmup
        self.frames = 0
        self._costs_ns: deque[int] = deque(maxlen=WINDOW)
        self._times_ns: deque[int] = deque(maxlen=WINDOW)
        self._pending_ns: int | None = None
        self._cpu_costs_ns: deque[int] = deque(maxlen=WINDOW)
        self._cpu_mark_ns: int | None = None

    def add_update(
        self, cost_ns: int, now_ns: int | None = None, cpu_ns: int | None = None
    ) -> None:
        """One frame was painted (items updated); its render passes follow via ``add_render``.

        ``cpu_ns``: the GUI thread's CPU clock now (default ``thread_time_ns``); the CPU spent
        since the previous painted frame is that frame's CPU cost."""
        self._flush()
        self.frames += 1
        self._times_ns.append(time.perf_counter_ns() if now_ns is None else now_ns)
        self._pending_ns = cost_ns if self.frames > self.warmup else None
        cpu = time.thread_time_ns() if cpu_ns is None else cpu_ns
        if self._cpu_mark_ns is not None and self.frames > self.warmup + 1:
            self._cpu_costs_ns.append(cpu - self._cpu_mark_ns)
        self._cpu_mark_ns = cpu

    def add_render(self, cost_ns: int) -> None:
        if self._pending_ns is not None:
            self._pending_ns += cost_ns

    def _flush(self) -> None:
        if self._pending_ns is not None:
            self._costs_ns.append(self._pending_ns)
            self._pending_ns = None

    def display_fps(self, now_ns: int | None = None) -> float:
        """Painted frames per second over the last two seconds."""
        now = time.perf_counter_ns() if now_ns is None else now_ns
        recent = [t for t in self._times_ns if now - t <= 2_000_000_000]
        if len(recent) < 2:
            return 0.0
        return (
            (len(recent) - 1) / ((recent[-1] - recent[0]) / 1e9) if recent[-1] > recent[0] else 0.0
        )

    def summary(self) -> PaintSummary:
        self._flush()
        costs = np.asarray(self._costs_ns, dtype=np.float64) / 1e6
        if costs.size == 0:
            return PaintSummary(self.frames, self.display_fps(), 0.0, 0.0, 0.0, 0.0)
        costs.sort()  # polled several times a second: percentiles of sorted values are cheap
        p50, p95, p99 = (sorted_percentile(costs, q) for q in (50.0, 95.0, 99.0))
        cpu = np.sort(np.asarray(self._cpu_costs_ns, dtype=np.float64) / 1e6)
        cpu_p50, cpu_p95 = (sorted_percentile(cpu, q) if cpu.size else 0.0 for q in (50.0, 95.0))
        return PaintSummary(
            self.frames,
            self.display_fps(),
            float(p50),
            float(p95),
            float(p99),
            float(costs[-1]),
            float(cpu_p50),
            float(cpu_p95),
        )

    def reset(self) -> None:
        """Forgets the costs so far (a benchmark's warm-up); frame counts and rates stay."""
        self._flush()
        self._costs_ns.clear()
        self._cpu_costs_ns.clear()
