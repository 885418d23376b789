"""Budget states on scripted latencies: ok -> warning -> over_budget -> degrade -> recover."""

from usguide.pipeline.budget import BudgetMonitor, BudgetPolicy, PipelineState
from usguide.types import SourceState

MS = 1_000_000


class FakeDetector:
    name = "fake"
    input_scale = 1.0


def _feed(monitor: BudgetMonitor, values, start_ns: int = 0) -> int:
    now = start_ns
    for value in values:
        now += 10 * MS
        monitor.observe(value, now)
    return now


def test_transitions_degrade_and_recover():
    detector = FakeDetector()
    policy = BudgetPolicy(window=20, min_frames=10, degrade_after=5, recover_after=20)
    monitor = BudgetMonitor(50.0, detector=detector, policy=policy)
    now = _feed(monitor, [10.0] * 20)
    assert monitor.state is PipelineState.OK and monitor.message == ""
    now = _feed(monitor, [60.0] * 3, now)  # three overs in the window
    assert monitor.state is PipelineState.WARNING
    assert monitor.frames_over == 3 and monitor.frames_within == 20
    now = _feed(monitor, [60.0] * 6, now)  # 9 of 20 over: still warning
    assert monitor.state is PipelineState.WARNING and detector.input_scale == 1.0
    now = _feed(monitor, [60.0], now)  # 10 of 20: sustained
    assert monitor.state is PipelineState.OVER_BUDGET
    assert "over budget" in monitor.message
    now = _feed(monitor, [60.0] * 4, now)  # 5 consecutive over-budget results -> degrade
    assert detector.input_scale == 0.75 and monitor.degraded
    assert "degraded: detector input 75 %" in monitor.message
    assert monitor.state is PipelineState.OK  # window cleared: judged afresh at the new scale
    now = _feed(monitor, [60.0] * 15, now)
    assert detector.input_scale == 0.5
    now = _feed(monitor, [60.0] * 40, now)
    assert detector.input_scale == 0.5  # no level below the last
    # well under budget: 20 good results after the window judges
    now = _feed(monitor, [10.0] * 30, now)
    assert detector.input_scale == 0.5 or detector.input_scale == 0.75
    now = _feed(monitor, [10.0] * 60, now)
    assert detector.input_scale == 1.0 and not monitor.degraded
    assert monitor.state is PipelineState.OK and monitor.message == ""


def test_warning_from_p95_near_budget():
    monitor = BudgetMonitor(50.0, policy=BudgetPolicy(window=20, min_frames=10))
    _feed(monitor, [45.0] * 20)  # p95 45 > 80 % of 50, no over
    assert monitor.state is PipelineState.WARNING and monitor.frames_over == 0


def test_no_degradation_without_a_scalable_detector():
    monitor = BudgetMonitor(50.0, policy=BudgetPolicy(window=10, min_frames=10, degrade_after=3))
    _feed(monitor, [80.0] * 30)
    assert monitor.state is PipelineState.OVER_BUDGET and not monitor.degraded
    assert "degraded" not in monitor.message


def test_signal_lost_and_stalled():
    monitor = BudgetMonitor(50.0, policy=BudgetPolicy(stall_ms=500))
    now = _feed(monitor, [10.0] * 12)
    assert monitor.tick(now + 100 * MS, SourceState.LOST) is PipelineState.SIGNAL_LOST
    assert "signal lost" in monitor.message
    assert monitor.tick(now + 200 * MS, SourceState.RECONNECTING) is PipelineState.SIGNAL_LOST
    assert monitor.tick(now + 300 * MS, SourceState.CONNECTED) is PipelineState.OK
    assert monitor.tick(now + 600 * MS, SourceState.CONNECTED) is PipelineState.STALLED
    assert "stalled" in monitor.message
    # a paused replay or an ended file is not a stall
    assert monitor.tick(now + 700 * MS, SourceState.CONNECTED, expecting=False) is PipelineState.OK
    assert monitor.tick(now + 900 * MS, SourceState.ENDED) is PipelineState.OK
    monitor.observe(10.0, now + 1000 * MS)
    assert monitor.tick(now + 1100 * MS, SourceState.CONNECTED) is PipelineState.OK


def test_stalled_when_no_frames_ever():
    monitor = BudgetMonitor(50.0, policy=BudgetPolicy(stall_ms=100))
    assert monitor.tick(0, SourceState.CONNECTED) is PipelineState.OK
    assert monitor.tick(150 * MS, SourceState.CONNECTED) is PipelineState.STALLED


def test_scale_is_relative_to_the_detectors_own():
    detector = FakeDetector()
    detector.input_scale = 0.5  # e.g. the classical detector's default
    policy = BudgetPolicy(window=10, min_frames=10, degrade_after=1)
    monitor = BudgetMonitor(50.0, detector=detector, policy=policy)
    assert detector.input_scale == 0.5
    _feed(monitor, [80.0] * 10)
    assert detector.input_scale == 0.375 and monitor.input_scale == 0.75


def test_automatic_scale_is_left_alone():
    detector = FakeDetector()
    detector.input_scale = None  # e.g. the classical detector's automatic size
    policy = BudgetPolicy(window=10, min_frames=10, degrade_after=1)
    monitor = BudgetMonitor(50.0, detector=detector, policy=policy)
    _feed(monitor, [80.0] * 20)
    assert detector.input_scale is None and not monitor.degraded
