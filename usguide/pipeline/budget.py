"""Latency budget: marks each frame within/over budget, derives the state, degrades and recovers.

Policy (all numbers are ``BudgetPolicy`` fields; defaults in brackets):

* Each result's capture-to-result latency is compared with the budget [50 ms]; over-budget frames
  are counted.
* The recent window is the last ``window`` [30] measured frames. The state is, first match wins:
  - ``signal_lost``: the source reports ``LOST`` or ``RECONNECTING``;
  - ``stalled``: no result for more than ``stall_ms`` [1000 ms] while the source should be
    delivering (connected and not paused);
  - ``over_budget``: at least ``over_fraction`` [50 %] of the recent window is over budget
    (sustained);
  - ``warning``: the window's p95 exceeds ``warn_fraction`` [80 %] of the budget, or at least
    ``warn_overs`` [3] frames of the window are over budget;
  - ``ok`` otherwise. Nothing but ``signal_lost``/``stalled`` is judged before ``min_frames`` [10]
    frames.
* Degradation: after ``degrade_after`` [30] consecutive results in ``over_budget`` the detector's
  input is scaled down one level (``scales`` [1.0, 0.75, 0.5], relative to the detector's own
  ``input_scale`` when it was attached, e.g. 0.5 -> 0.375 -> 0.25; a detector whose scale is None
  (automatic) or absent is never touched) through ``detector.input_scale``, and the window is
  cleared so the next decision sees only frames at the new scale. The message then reads
  ``"degraded: detector input 75 %"``.
* Recovery: after ``recover_after`` [150] consecutive results with the window's p95 below
  ``recover_fraction`` [50 %] of the budget, the scale goes back up one level (and the window is
  cleared). The long recovery delay against the short degradation delay is the hysteresis that stops
  oscillation.
"""

from __future__ import annotations

import enum
import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from usguide.defaults import BUDGET_MS, FALLBACK_FPS
from usguide.detect.base import Detector
from usguide.types import SourceState


class PipelineState(str, enum.Enum):
    """What the display shows about the pipeline's health."""

    OK = "ok"
    WARNING = "warning"
    OVER_BUDGET = "over_budget"
    SIGNAL_LOST = "signal_lost"
    STALLED = "stalled"


def stale_after_ms(budget_ms: float, fps: float | None) -> float:
    """How old a frame may be before it counts as stale: the budget plus one frame interval.

    The display's banner and the OpenIGTLink ``stale`` status both use it (``fps`` None or 0: the
    fallback frame rate).
    """
    rate = fps if fps is not None and fps > 0 else FALLBACK_FPS
    return budget_ms + 1000.0 / rate


@dataclass
class BudgetPolicy:
    """The numbers of the budget policy (see the module docstring)."""

    budget_ms: float = BUDGET_MS
    window: int = 30
    min_frames: int = 10
    warn_fraction: float = 0.8
    warn_overs: int = 3
    over_fraction: float = 0.5
    degrade_after: int = 30
    recover_fraction: float = 0.5
    recover_after: int = 150
    stall_ms: float = 1000.0
    scales: tuple[float, ...] = (1.0, 0.75, 0.5)


class BudgetMonitor:
    """Watches capture-to-result latencies against the budget and steers ``detector.input_scale``.

    Thread-safe: the worker calls ``observe``/``tick``, the GUI reads ``state``/``message``.

    Args:
        budget_ms: the capture-to-result budget (overrides ``policy.budget_ms``).
        detector: the detector whose ``input_scale`` is steered; None (or a detector whose scale
            is None) disables degradation, the state is still reported.
        policy: the thresholds.
    """

    def __init__(
        self,
        budget_ms: float | None = None,
        *,
        detector: Detector | None = None,
        policy: BudgetPolicy | None = None,
    ) -> None:
        self.policy = policy or BudgetPolicy()
        if budget_ms is not None:
            self.policy.budget_ms = float(budget_ms)
        if self.policy.budget_ms <= 0:
            raise ValueError("budget_ms must be positive")
        self._lock = threading.Lock()
        self._detector = detector
        self._base_scale = self._read_base_scale()
        self._level = 0
        self.frames_within = 0
        self.frames_over = 0
        self._window: deque[float] = deque(maxlen=self.policy.window)
        self._latency_state = PipelineState.OK
        self._over_streak = 0
        self._recover_streak = 0
        self._last_result_ns: int | None = None
        self._source_state = SourceState.CONNECTED
        self._expecting = True
        self._state = PipelineState.OK
        self._apply_scale()

    # -- inputs -------------------------------------------------------------------------------
    @property
    def budget_ms(self) -> float:
        return self.policy.budget_ms

    def set_detector(self, detector: Detector | None) -> None:
        """Steers another detector from now on (the current scale level is applied to it)."""
        with self._lock:
            self._detector = detector
            self._base_scale = self._read_base_scale()
            self._apply_scale()

    def observe(self, latency_ms: float, now_ns: int | None = None) -> bool:
        """Adds one result's capture-to-result latency; returns True when it is within budget."""
        now = time.perf_counter_ns() if now_ns is None else now_ns
        policy = self.policy
        with self._lock:
            within = latency_ms <= policy.budget_ms
            if within:
                self.frames_within += 1
            else:
                self.frames_over += 1
            self._last_result_ns = now
            self._window.append(latency_ms)
            self._latency_state = self._judge_window()
            p95 = self._window_p95()
            if self._latency_state is PipelineState.OVER_BUDGET:
                self._over_streak += 1
            else:
                self._over_streak = 0
            if (
                len(self._window) >= policy.min_frames
                and p95 < policy.recover_fraction * policy.budget_ms
            ):
                self._recover_streak += 1
            else:
                self._recover_streak = 0
            can_degrade = self._can_scale() and self._level < len(policy.scales) - 1
            if self._over_streak >= policy.degrade_after and can_degrade:
                self._change_level(+1)
            elif self._recover_streak >= policy.recover_after and self._level > 0:
                self._change_level(-1)
            self._update(now)
            return within

    def tick(
        self,
        now_ns: int | None = None,
        source_state: SourceState | None = None,
        expecting: bool = True,
    ) -> PipelineState:
        """Re-evaluates the state without a new result (source state, stall); returns the state.

        Args:
            now_ns: the current ``perf_counter_ns``.
            source_state: the source's connection state (None: unchanged).
            expecting: whether the source should be delivering frames now (False when paused or
                ended).
        """
        now = time.perf_counter_ns() if now_ns is None else now_ns
        with self._lock:
            if source_state is not None:
                self._source_state = source_state
            if not expecting and self._expecting:
                self._last_result_ns = None  # the stall clock restarts when delivery resumes
            self._expecting = expecting
            if expecting and self._last_result_ns is None:
                self._last_result_ns = now
            self._update(now)
            return self._state

    def heartbeat(self, now_ns: int | None = None) -> None:
        """Notes a result that is not measured (warm-up), so it still counts against a stall."""
        with self._lock:
            self._last_result_ns = time.perf_counter_ns() if now_ns is None else now_ns
            self._update(self._last_result_ns)

    def reset(self) -> None:
        """Forgets the latency history (new source); keeps the current degradation level."""
        with self._lock:
            self._window.clear()
            self._latency_state = PipelineState.OK
            self._over_streak = self._recover_streak = 0
            self._last_result_ns = None
            self._update(time.perf_counter_ns())

    # -- outputs ------------------------------------------------------------------------------
    @property
    def state(self) -> PipelineState:
        return self._state

    @property
    def input_scale(self) -> float:
        """The degradation factor now (1.0: full input), relative to the detector's base scale."""
        return self.policy.scales[self._level]

    @property
    def degraded(self) -> bool:
        return self._level > 0

    @property
    def message(self) -> str:
        """One line for the status bar, e.g. ``"over budget: p95 62.0 ms > 50 ms; degraded: detector
        input 75 %"``; empty when all is well."""
        with self._lock:
            parts = []
            state = self._state
            if state is PipelineState.SIGNAL_LOST:
                parts.append(f"signal lost ({self._source_state.value})")
            elif state is PipelineState.STALLED:
                parts.append(f"stalled: no result for more than {self.policy.stall_ms:.0f} ms")
            elif state in (PipelineState.OVER_BUDGET, PipelineState.WARNING):
                label = "over budget" if state is PipelineState.OVER_BUDGET else "warning"
                p95 = self._window_p95()
                parts.append(f"{label}: p95 {p95:.1f} ms of {self.policy.budget_ms:g} ms budget")
            if self._level > 0:
                parts.append(f"degraded: detector input {round(self.input_scale * 100)} %")
            return "; ".join(parts)

    # -- internals (lock held) ----------------------------------------------------------------
    def _window_p95(self) -> float:
        if not self._window:
            return 0.0
        return float(np.percentile(np.fromiter(self._window, dtype=np.float64), 95.0))

    def _judge_window(self) -> PipelineState:
        policy = self.policy
        if len(self._window) < policy.min_frames:
            return PipelineState.OK
        overs = sum(1 for value in self._window if value > policy.budget_ms)
        if overs >= policy.over_fraction * len(self._window):
            return PipelineState.OVER_BUDGET
        if (
            overs >= policy.warn_overs
            or self._window_p95() > policy.warn_fraction * policy.budget_ms
        ):
            return PipelineState.WARNING
        return PipelineState.OK

    def _update(self, now: int) -> None:
        if self._source_state in (SourceState.LOST, SourceState.RECONNECTING):
            self._state = PipelineState.SIGNAL_LOST
        elif (
            self._expecting
            and self._source_state is SourceState.CONNECTED
            and self._last_result_ns is not None
            and (now - self._last_result_ns) / 1e6 > self.policy.stall_ms
        ):
            self._state = PipelineState.STALLED
        else:
            self._state = self._latency_state

    def _change_level(self, step: int) -> None:
        self._level += step
        self._apply_scale()
        self._window.clear()
        self._latency_state = PipelineState.OK
        self._over_streak = self._recover_streak = 0

    def _can_scale(self) -> bool:
        return self._detector is not None and self._base_scale is not None

    def _read_base_scale(self) -> float | None:
        """The detector's own scale; None (never touched) when it has none or it is automatic
        (None)."""
        value = None if self._detector is None else self._detector.input_scale
        return float(value) if isinstance(value, (int, float)) and value > 0 else None

    def _apply_scale(self) -> None:
        if self._can_scale():
            try:
                self._detector.input_scale = self._base_scale * self.input_scale
            except (AttributeError, TypeError, ValueError):
                # a detector that cannot scale keeps its input; the state still says over budget
                pass
