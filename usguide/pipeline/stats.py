"""Latency statistics: per stage and end to end, recent window and whole run, warm-up excluded.

Percentiles use linear interpolation between closest ranks (``numpy.percentile``'s default), so a
run of 1..100 ms gives p50 50.5, p95 95.05, p99 99.01, max 100. The whole-run series keep every
sample up to ``run_cap`` values each, then a uniform reservoir of that size (max and mean stay
exact), so memory stays bounded during a long soak.
"""

from __future__ import annotations

import random
import threading
import time
from array import array
from collections import deque
from dataclasses import asdict, dataclass, field

import numpy as np

from usguide.defaults import WARMUP_FRAMES
from usguide.types import Timings

END_TO_END = "capture_to_result"  # capture -> result ready
OVERHEAD = "overhead"  # capture_to_result minus inference: everything that is not the model
# capture -> first stage start (time spent waiting in the newest-frame slot)
QUEUE_WAIT = "queue_wait"
DISPLAY = "capture_to_display"  # capture -> drawn on screen (``Pipeline.mark_displayed``)
INFERENCE = "inference"
DEFAULT_WINDOW = 300
DEFAULT_RUN_CAP = 20_000


@dataclass
class LatencySummary:
    """Percentiles of one series in ms; all zero when ``count`` is 0."""

    count: int = 0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    max: float = 0.0
    mean: float = 0.0

    @classmethod
    def of(cls, values: np.ndarray | list[float], *, count: int | None = None) -> LatencySummary:
        data = np.asarray(values, dtype=np.float64)
        if data.size == 0:
            return cls()
        ordered = np.sort(data)
        return cls(
            count=int(data.size if count is None else count),
            p50=sorted_percentile(ordered, 50.0),
            p95=sorted_percentile(ordered, 95.0),
            p99=sorted_percentile(ordered, 99.0),
            max=float(ordered[-1]),
            mean=float(data.mean()),
        )

    def to_json(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def sorted_percentile(ordered: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` (linear interpolation) of already sorted values: a tenth of
    its cost on a window of a few hundred samples (the display polls these several times a
    second, on the GUI thread)."""
    position = (ordered.size - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, ordered.size - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


@dataclass
class SeriesStats:
    """One series over the recent window and over the whole run (warm-up excluded)."""

    window: LatencySummary = field(default_factory=LatencySummary)
    run: LatencySummary = field(default_factory=LatencySummary)

    def to_json(self) -> dict:
        return {"window": self.window.to_json(), "run": self.run.to_json()}


@dataclass
class PipelineStats:
    """A snapshot of the pipeline's counters and latencies (plain data, safe to keep).

    Attributes:
        frames_captured / frames_processed / frames_dropped / frames_displayed: counters since
            start.
        warmup_frames: how many first processed frames are excluded from the latencies.
        capture_fps / processed_fps: whole-run throughput after warm-up; ``*_window`` over the
            window.
        stages: per stage name (``preprocess``, ``inference``, ...).
        latency: ``capture_to_result``, ``overhead``, ``queue_wait`` and ``capture_to_display``.
        state / message / input_scale / frames_over_budget: filled by the pipeline from its budget
            monitor.
    """

    frames_captured: int = 0
    frames_processed: int = 0
    frames_dropped: int = 0
    frames_displayed: int = 0
    warmup_frames: int = 0
    capture_fps: float = 0.0
    processed_fps: float = 0.0
    capture_fps_window: float = 0.0
    processed_fps_window: float = 0.0
    stages: dict[str, SeriesStats] = field(default_factory=dict)
    latency: dict[str, SeriesStats] = field(default_factory=dict)
    state: str = "ok"
    message: str = ""
    input_scale: float = 1.0
    frames_over_budget: int = 0
    budget_ms: float = 0.0

    @property
    def end_to_end(self) -> SeriesStats:
        return self.latency.get(END_TO_END, SeriesStats())

    def to_json(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if k not in ("stages", "latency")}
        for key in ("capture_fps", "processed_fps", "capture_fps_window", "processed_fps_window"):
            out[key] = round(out[key], 3)
        out["stages"] = {name: s.to_json() for name, s in self.stages.items()}
        out["latency"] = {name: s.to_json() for name, s in self.latency.items()}
        return out


class _Series:
    """Samples of one latency series: a sliding window and a bounded whole-run store."""

    def __init__(self, window: int, run_cap: int, rng: random.Random) -> None:
        self.window: deque[float] = deque(maxlen=window)
        self.run = array("d")
        self.count = 0
        self.total = 0.0
        self.max = float("-inf")
        self._cap = run_cap
        self._rng = rng

    def add(self, value: float) -> None:
        self.window.append(value)
        self.count += 1
        self.total += value
        self.max = max(self.max, value)
        if len(self.run) < self._cap:
            self.run.append(value)
        else:  # reservoir sampling (Algorithm R): every sample kept with equal probability
            slot = self._rng.randrange(self.count)
            if slot < self._cap:
                self.run[slot] = value

    def copy(self, whole_run: bool) -> _SeriesCopy:
        """The samples as plain arrays (cheap), so percentiles are computed outside the lock."""
        run = np.array(self.run, dtype=np.float64) if whole_run else np.empty(0)
        return _SeriesCopy(
            np.array(self.window, dtype=np.float64), run, self.count, self.total, self.max
        )


@dataclass
class _SeriesCopy:
    window: np.ndarray
    run: np.ndarray
    count: int
    total: float
    max: float

    def summary(self) -> SeriesStats:
        """Window and run percentiles; without run samples the run has count, max and mean only."""
        run = LatencySummary.of(self.run, count=self.count) if self.run.size else LatencySummary()
        if self.count:
            run.count, run.max, run.mean = self.count, self.max, self.total / self.count
        return SeriesStats(window=LatencySummary.of(self.window), run=run)


class StatsCollector:
    """Accumulates counters and latencies from the pipeline's threads (thread-safe).

    Args:
        warmup_frames: the first N processed (and displayed) frames are left out of every latency
            series and of the throughput.
        window: the recent window size in frames.
        run_cap: samples kept exactly per whole-run series before reservoir sampling.
    """

    def __init__(
        self,
        warmup_frames: int = WARMUP_FRAMES,
        window: int = DEFAULT_WINDOW,
        run_cap: int = DEFAULT_RUN_CAP,
    ) -> None:
        self.warmup_frames = max(0, int(warmup_frames))
        self.window = max(1, int(window))
        self._run_cap = max(1, int(run_cap))
        self._lock = threading.Lock()
        self._rng = random.Random(0)
        self.reset()

    def reset(self) -> None:
        """Forgets everything (a new source)."""
        with self._lock:
            self._captured = 0
            self._processed = 0
            self._dropped = 0
            self._displayed = 0
            self._stages: dict[str, _Series] = {}
            self._latency: dict[str, _Series] = {}
            self._capture_times: deque[int] = deque(maxlen=self.window)
            self._result_times: deque[int] = deque(maxlen=self.window)
            self._first_capture_ns: int | None = None
            self._last_capture_ns: int | None = None
            self._counted_captures = 0
            self._first_result_ns: int | None = None
            self._last_result_ns: int | None = None
            self._counted_results = 0

    # -- recording ----------------------------------------------------------------------------
    def record_capture(self, t_capture_ns: int | None = None) -> None:
        """Counts one captured frame (its capture time feeds the capture rate)."""
        now = time.perf_counter_ns() if t_capture_ns is None else t_capture_ns
        with self._lock:
            self._captured += 1
            if self._captured <= self.warmup_frames:
                return
            self._capture_times.append(now)
            if self._first_capture_ns is None:
                self._first_capture_ns = now
            self._last_capture_ns = now
            self._counted_captures += 1

    def record_drop(self, count: int = 1) -> None:
        """Counts frames overwritten before the worker took them."""
        with self._lock:
            self._dropped += count

    def record_result(self, timings: Timings) -> bool:
        """Counts one processed frame and, after warm-up, adds its latencies.

        Returns: True when the frame was measured (past warm-up and with a result time).
        """
        with self._lock:
            self._processed += 1
            if self._processed <= self.warmup_frames or timings.t_result_ns is None:
                return False
            for name, span in timings.stages.items():
                self._series(self._stages, name).add(span.ms)
            total = (timings.t_result_ns - timings.t_capture_ns) / 1e6
            inference = timings.stages.get(INFERENCE)
            self._series(self._latency, END_TO_END).add(total)
            self._series(self._latency, OVERHEAD).add(total - (inference.ms if inference else 0.0))
            if timings.stages:
                first_start = min(span.start_ns for span in timings.stages.values())
                self._series(self._latency, QUEUE_WAIT).add(
                    (first_start - timings.t_capture_ns) / 1e6
                )
            now = timings.t_result_ns
            self._result_times.append(now)
            if self._first_result_ns is None:
                self._first_result_ns = now
            self._last_result_ns = now
            self._counted_results += 1
            return True

    def record_display(self, timings: Timings) -> None:
        """Adds one capture-to-display latency (after the display's own warm-up)."""
        with self._lock:
            self._displayed += 1
            if self._displayed <= self.warmup_frames or timings.t_display_ns is None:
                return
            value = (timings.t_display_ns - timings.t_capture_ns) / 1e6
            self._series(self._latency, DISPLAY).add(value)

    # -- reading ------------------------------------------------------------------------------
    @property
    def frames_captured(self) -> int:
        return self._captured

    @property
    def frames_processed(self) -> int:
        return self._processed

    @property
    def frames_dropped(self) -> int:
        return self._dropped

    def snapshot(self, whole_run: bool = True) -> PipelineStats:
        """A consistent copy of everything, as plain data.

        The samples are copied under the lock and summarised after it is released: a long run holds
        up to ``run_cap`` samples per series, and the pipeline's threads must not wait on the
        percentiles. ``whole_run=False`` (a display refreshing its numbers several times a second)
        skips the whole-run percentiles; those runs then carry count, max and mean only.
        """
        with self._lock:
            stages = {name: s.copy(whole_run) for name, s in self._stages.items()}
            latency = {name: s.copy(whole_run) for name, s in self._latency.items()}
            snapshot = PipelineStats(
                frames_captured=self._captured,
                frames_processed=self._processed,
                frames_dropped=self._dropped,
                frames_displayed=self._displayed,
                warmup_frames=self.warmup_frames,
                capture_fps=_rate(
                    self._counted_captures, self._first_capture_ns, self._last_capture_ns
                ),
                processed_fps=_rate(
                    self._counted_results, self._first_result_ns, self._last_result_ns
                ),
                capture_fps_window=_window_rate(self._capture_times),
                processed_fps_window=_window_rate(self._result_times),
            )
        snapshot.stages = {name: s.summary() for name, s in stages.items()}
        snapshot.latency = {name: s.summary() for name, s in latency.items()}
        return snapshot

    def _series(self, table: dict[str, _Series], name: str) -> _Series:
        series = table.get(name)
        if series is None:
            series = table[name] = _Series(self.window, self._run_cap, self._rng)
        return series


def _rate(count: int, first_ns: int | None, last_ns: int | None) -> float:
    """Events per second between the first and last counted event (count - 1 intervals)."""
    if count < 2 or first_ns is None or last_ns is None or last_ns <= first_ns:
        return 0.0
    return (count - 1) / ((last_ns - first_ns) / 1e9)


def _window_rate(times: deque[int]) -> float:
    if len(times) < 2:
        return 0.0
    return _rate(len(times), times[0], times[-1])
