"""Latency statistics on synthetic timings: exact percentiles, warm-up excluded, counters."""

import numpy as np
import pytest

from usguide.pipeline.stats import (
    END_TO_END,
    OVERHEAD,
    QUEUE_WAIT,
    LatencySummary,
    StatsCollector,
    sorted_percentile,
)
from usguide.types import StageSpan, Timings

MS = 1_000_000


def _timings(start_ns: int, total_ms: int, inference_ms: int) -> Timings:
    """A frame captured at start_ns: 1 ms wait, inference, then result at start + total."""
    inf_start = start_ns + 1 * MS
    return Timings(
        t_capture_ns=start_ns,
        stages={"inference": StageSpan(inf_start, inf_start + inference_ms * MS)},
        t_result_ns=start_ns + total_ms * MS,
    )


def test_percentiles_exact_on_1_to_100():
    summary = LatencySummary.of(list(range(1, 101)))
    assert (summary.count, summary.p50, summary.p95, summary.p99, summary.max) == (
        100,
        50.5,
        pytest.approx(95.05),
        pytest.approx(99.01),
        100.0,
    )
    assert summary.mean == 50.5
    assert LatencySummary.of([]).count == 0


def test_warmup_excluded_and_series_exact():
    stats = StatsCollector(warmup_frames=5, window=50)
    for i in range(5):  # warm-up frames with huge latencies must not appear anywhere
        stats.record_capture(i * 10 * MS)
        stats.record_result(_timings(i * 10 * MS, 1000, 900))
    for k in range(1, 101):
        t0 = (100 + k) * 10 * MS
        stats.record_capture(t0)
        stats.record_result(_timings(t0, k + 10, k))
    snap = stats.snapshot()
    assert snap.frames_processed == 105 and snap.frames_captured == 105
    inference = snap.stages["inference"].run
    assert (inference.p50, inference.max, inference.count) == (50.5, 100.0, 100)
    assert inference.p95 == pytest.approx(95.05) and inference.p99 == pytest.approx(99.01)
    e2e = snap.latency[END_TO_END].run
    assert (e2e.p50, e2e.max) == (60.5, 110.0)
    assert snap.latency[OVERHEAD].run.max == 10.0 and snap.latency[OVERHEAD].run.p50 == 10.0
    assert snap.latency[QUEUE_WAIT].run.p99 == pytest.approx(1.0)
    window = snap.stages["inference"].window  # the last 50 frames: 51..100
    assert (window.count, window.p50, window.max) == (50, 75.5, 100.0)
    # captures every 10 ms; results every 11 ms (latency grows by 1 ms per frame)
    assert snap.processed_fps == pytest.approx(1000 / 11)
    assert snap.capture_fps == pytest.approx(100.0)


def test_drops_display_and_json():
    stats = StatsCollector(warmup_frames=0)
    stats.record_drop(3)
    timings = _timings(0, 20, 10)
    stats.record_result(timings)
    timings.t_display_ns = 25 * MS
    stats.record_display(timings)
    snap = stats.snapshot()
    assert snap.frames_dropped == 3 and snap.frames_displayed == 1
    assert snap.latency["capture_to_display"].run.p50 == 25.0
    data = snap.to_json()
    assert data["latency"][END_TO_END]["run"]["p99"] == 20.0
    assert data["stages"]["inference"]["window"]["count"] == 1


def test_run_series_bounded_by_reservoir():
    stats = StatsCollector(warmup_frames=0, window=10, run_cap=50)
    for k in range(1000):
        stats.record_result(_timings(k * MS, 5 + (k == 500) * 100, 1))
    run = stats.snapshot().latency[END_TO_END].run
    assert run.count == 1000 and run.max == 105.0  # exact even though only 50 samples are kept
    assert len(stats._latency[END_TO_END].run) == 50


def test_window_only_snapshot_skips_run_percentiles():
    stats = StatsCollector(warmup_frames=0, window=10)
    for k in range(1, 101):
        stats.record_capture(k * 10 * MS)
        stats.record_result(_timings(k * 10 * MS, k + 10, k))
    snap = stats.snapshot(whole_run=False)
    run = snap.stages["inference"].run
    assert (run.count, run.max, run.mean, run.p50) == (100, 100.0, 50.5, 0.0)
    window = snap.stages["inference"].window  # 91..100, exact
    assert (window.count, window.p50, window.max) == (10, 95.5, 100.0)
    assert stats.snapshot().stages["inference"].run.p50 == 50.5


def test_sorted_percentile_matches_numpy():
    rng = np.random.default_rng(3)
    for size in (1, 2, 5, 300, 2001):
        values = rng.random(size) * 40.0
        ordered = np.sort(values)
        for q in (0.0, 50.0, 95.0, 99.0, 100.0):
            assert sorted_percentile(ordered, q) == pytest.approx(np.percentile(values, q))
