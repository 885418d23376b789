"""The insertion metrics while a session runs (live or replay): updated per result in constant
time, with the definitions of ``usguide.review.metrics`` made causal (the tip is smoothed over the
last 0.2 s instead of a centred window), so the display never recomputes the whole session.

``add`` runs on the pipeline's worker thread; ``snapshot`` is what the display formats. A source
whose time or frame index goes backwards (a replay seeking back or looping, another source) starts
afresh.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

from usguide.review.metrics import (
    LOST_GAP_S,
    REDIRECT_READVANCE_MM,
    REDIRECT_WITHDRAW_MM,
    SMOOTH_S,
    TARGET_HIT_MM,
)
from usguide.types import FrameResult


@dataclass(frozen=True)
class RunningValues:
    """The running metrics at one moment (None: not known yet, or no scale / no target)."""

    elapsed_s: float
    needle_in_image_s: float
    visible_fraction: float | None
    lost_episodes: int
    redirections: int
    path_length_mm: float | None
    max_depth_mm: float | None
    time_to_target_s: float | None
    closest_approach_mm: float | None


class RunningMetrics:
    """Accumulates the metrics of the results seen so far (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forgets everything (a new source, a seek back)."""
        with self._lock:
            self._t0: float | None = None
            self._t_last: float | None = None
            self._index = -1
            self._in_image = 0.0
            self._first_seen: float | None = None
            self._last_seen: float | None = None
            self._seen_s = 0.0
            self._prev_present = self._prev_measured = False
            self._lost = 0
            self._recent: deque[tuple[float, float, float, float, float]] = deque()
            self._smooth: tuple[float, float] | None = None
            self._path_px = 0.0
            self._depth_along = 0.0
            self._peak = self._valley = 0.0
            self._withdrawing = False
            self._redirections = 0
            self._max_depth: float | None = None
            self._hit_at: float | None = None
            self._closest: float | None = None
            self._scale: float | None = None

    def add(self, result: FrameResult) -> None:
        """Takes one result (worker thread): O(1) work, a few arithmetic operations."""
        frame = result.frame
        t = frame.source_ms / 1000.0 if math.isfinite(frame.source_ms) else frame.t_capture_ns / 1e9
        if self._t_last is not None and (t < self._t_last or frame.index < self._index):
            self.reset()
        self._index = frame.index
        with self._lock:
            self._add(result, t)

    def _add(self, result: FrameResult, t: float) -> None:
        if self._t0 is None:
            self._t0 = t
        dt = t - self._t_last if self._t_last is not None else 0.0
        self._t_last = t
        needle = result.needle
        self._scale = result.frame.calibration.mm_per_px
        if self._prev_measured:
            self._seen_s += dt  # a frame stands until the next one (as in metrics)
        if self._prev_present:
            self._in_image += dt
        self._prev_present = needle is not None
        self._prev_measured = needle is not None and not needle.predicted
        if not self._prev_measured:
            return
        if self._last_seen is not None and t - self._last_seen > LOST_GAP_S:
            self._lost += 1
        if self._first_seen is None:
            self._first_seen = t
        self._last_seen = t
        self._measure(result, t)

    def _measure(self, result: FrameResult, t: float) -> None:
        needle = result.needle
        assert needle is not None
        self._recent.append((t, needle.tip.x, needle.tip.y, needle.entry.x, needle.entry.y))
        while self._recent and self._recent[0][0] < t - SMOOTH_S:
            self._recent.popleft()
        n = len(self._recent)
        tip = (sum(r[1] for r in self._recent) / n, sum(r[2] for r in self._recent) / n)
        entry = (sum(r[3] for r in self._recent) / n, sum(r[4] for r in self._recent) / n)
        scale = self._scale
        if self._smooth is not None:
            step = (tip[0] - self._smooth[0], tip[1] - self._smooth[1])
            self._path_px += math.hypot(*step)
            axis = (tip[0] - entry[0], tip[1] - entry[1])
            norm = math.hypot(*axis)
            if norm > 1e-9 and scale:
                self._advance((step[0] * axis[0] + step[1] * axis[1]) / norm * scale)
        self._smooth = tip
        if scale:
            roi = result.frame.calibration.roi
            depth = (tip[1] - (roi.y if roi is not None else 0)) * scale
            self._max_depth = depth if self._max_depth is None else max(self._max_depth, depth)
            target = result.trajectory.target if result.trajectory is not None else None
            if target is not None:
                distance = math.hypot(tip[0] - target.x, tip[1] - target.y) * scale
                if self._closest is None or distance < self._closest:
                    self._closest = distance
                if self._hit_at is None and distance <= TARGET_HIT_MM:
                    self._hit_at = t

    def _advance(self, step_mm: float) -> None:
        """The redirection rule of ``metrics.count_redirections``, one sample at a time."""
        self._depth_along += step_mm
        value = self._depth_along
        if not self._withdrawing:
            self._peak = max(self._peak, value)
            if self._peak - value >= REDIRECT_WITHDRAW_MM:
                self._withdrawing, self._valley = True, value
        else:
            self._valley = min(self._valley, value)
            if value - self._valley >= REDIRECT_READVANCE_MM:
                self._redirections += 1
                self._withdrawing, self._peak = False, value

    def snapshot(self) -> RunningValues:
        """The values now (any thread)."""
        with self._lock:
            scale = self._scale
            inserted = self._last_seen - self._first_seen if self._first_seen is not None else None
            visible = None
            if inserted is not None:
                visible = self._seen_s / inserted if inserted > 0 else 1.0
            return RunningValues(
                elapsed_s=(self._t_last - self._t0) if self._t0 is not None else 0.0,
                needle_in_image_s=self._in_image,
                visible_fraction=visible,
                lost_episodes=self._lost,
                redirections=self._redirections,
                path_length_mm=self._path_px * scale if scale and self._smooth else None,
                max_depth_mm=self._max_depth,
                time_to_target_s=(self._hit_at - self._first_seen)
                if self._hit_at is not None and self._first_seen is not None
                else None,
                closest_approach_mm=self._closest,
            )
