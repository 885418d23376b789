"""Tracker behaviour on scripted sequences: hysteresis, gating, coasting, low confidence, reset."""

import numpy as np
import pytest

from usguide.track.tracker import NeedleTracker, TrackerConfig, _TipFilter
from usguide.types import Needle, Point

FRAME_NS = 33_333_333


def det(tip_x, tip_y=200.0, confidence=0.9, length=150.0):
    # A needle at 45 degrees going down-right whose tip is at (tip_x, tip_y).
    step = length / 2**0.5
    return Needle(Point(tip_x, tip_y), Point(tip_x - step, tip_y - step), confidence, 45.0)


def feed(tracker, detections, start=0):
    return [tracker.update(d, (start + i) * FRAME_NS) for i, d in enumerate(detections)]


def test_appears_after_k_confident_frames():
    out = feed(NeedleTracker(TrackerConfig(appear_after=3)), [det(300 + i) for i in range(5)])
    assert out[0] is None and out[1] is None
    assert all(n is not None and not n.predicted for n in out[2:])
    assert out[4].tip.x == pytest.approx(304, abs=1.5)
    assert out[4].angle_deg == pytest.approx(45, abs=1)
    assert out[4].entry.x == pytest.approx(304 - 150 / 2**0.5, abs=3)


def test_no_flicker_on_single_misses():
    sequence = [det(300 + i) if i % 4 != 3 else None for i in range(24)]
    out = feed(NeedleTracker(), sequence)
    shown = [n is not None for n in out[2:]]
    assert all(shown)  # single misses coast; presence never drops
    assert [out[i].predicted for i in range(3, 24, 4)] == [True] * 6


def test_coasting_marked_predicted_and_stops_after_n():
    cfg = TrackerConfig(coast_frames=4, disappear_after=8, coast_ms=1000)
    tracker = NeedleTracker(cfg)
    # Needle moving 2 px per frame to the right, then fading.
    out = feed(tracker, [det(300 + 2 * i) for i in range(10)] + [None] * 10)
    coasting = out[10:]
    assert all(n is not None and n.predicted for n in coasting[:4])
    assert coasting[3].tip.x > out[9].tip.x + 4  # constant velocity keeps it moving
    assert coasting[0].confidence > coasting[3].confidence
    assert all(n is None for n in coasting[4:])
    assert not tracker.present  # dropped after disappear_after misses


def test_coasting_limited_by_time():
    cfg = TrackerConfig(coast_frames=50, coast_ms=100, disappear_after=60)
    out = feed(NeedleTracker(cfg), [det(300)] * 5 + [None] * 6)
    assert [n is not None for n in out[5:]] == [True, True, True, False, False, False]


def test_gating_rejects_a_jump():
    tracker = NeedleTracker()
    feed(tracker, [det(300)] * 6)
    jumped = tracker.update(det(100, 400), 6 * FRAME_NS)  # a fascia line far away, one frame
    assert jumped is not None and jumped.predicted
    assert jumped.tip.x == pytest.approx(300, abs=2)
    back = tracker.update(det(301), 7 * FRAME_NS)
    assert back is not None and not back.predicted and back.tip.x == pytest.approx(300.5, abs=2)


def test_consistent_jump_is_reacquired():
    cfg = TrackerConfig(reacquire_after=4)
    tracker = NeedleTracker(cfg)
    feed(tracker, [det(300)] * 6)
    out = feed(tracker, [det(100, 400)] * 4, start=6)
    assert out[-1] is not None and not out[-1].predicted
    assert out[-1].tip.x == pytest.approx(100, abs=1)


def test_low_confidence_gives_no_needle():
    out = feed(NeedleTracker(), [det(300, confidence=0.2)] * 10)
    assert all(n is None for n in out)


def test_confidence_hysteresis_keeps_present_track():
    out = feed(NeedleTracker(), [det(300)] * 5 + [det(300, confidence=0.3)] * 5)
    assert all(n is not None and not n.predicted for n in out[2:])


def test_reset_forgets():
    tracker = NeedleTracker()
    feed(tracker, [det(300)] * 5)
    tracker.reset()
    assert not tracker.present
    assert tracker.update(det(300), 10 * FRAME_NS) is None


def reference_kalman(measurements, dts, cfg):
    """The textbook 4-state (x, y, vx, vy) constant-velocity Kalman filter, with matrices."""
    state = np.array([*measurements[0], 0.0, 0.0])
    cov = np.diag([cfg.tip_measure_px**2] * 2 + [200.0**2] * 2)
    h = np.eye(2, 4)
    r = np.eye(2) * cfg.tip_measure_px**2
    q = cfg.tip_accel_px**2
    for z, dt in zip(measurements[1:], dts, strict=True):
        f = np.eye(4)
        f[0, 2] = f[1, 3] = dt
        g = np.array([[dt**2 / 2, 0], [0, dt**2 / 2], [dt, 0], [0, dt]])
        state = f @ state
        cov = f @ cov @ f.T + g @ g.T * q
        gain = cov @ h.T @ np.linalg.inv(h @ cov @ h.T + r)
        state = state + gain @ (np.asarray(z) - h @ state)
        cov = (np.eye(4) - gain @ h) @ cov
    return state


def test_tip_filter_equals_the_four_state_kalman_filter():
    cfg = TrackerConfig()
    rng = np.random.default_rng(5)
    dts = list(rng.uniform(0.02, 0.05, 29))
    times = np.concatenate([[0.0], np.cumsum(dts)])
    # A tip moving at (90, 30) px/s, measured with 2 px noise at irregular intervals.
    measurements = [
        (100 + 90 * t + rng.normal(0, 2), 80 + 30 * t + rng.normal(0, 2)) for t in times
    ]
    tip_filter = _TipFilter(Point(*measurements[0]), cfg)
    for z, dt in zip(measurements[1:], dts, strict=True):
        tip_filter.predict(dt)
        tip_filter.update(Point(*z))
    expected = reference_kalman(measurements, dts, cfg)
    actual = [tip_filter.x, tip_filter.y, tip_filter.vx, tip_filter.vy]
    assert actual == pytest.approx(expected.tolist(), abs=1e-9)
    assert (tip_filter.vx, tip_filter.vy) == pytest.approx((90, 30), abs=25)  # it learnt the motion
