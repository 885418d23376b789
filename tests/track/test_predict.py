"""Moving the tracked tip forward in time (lowest-latency display): ``NeedleTracker.predict_to``
and ``predict_needle``, bounded, and worth it on a simulated moving needle."""

from __future__ import annotations

import math

import numpy as np
import pytest

from usguide.track.tracker import PREDICT_MAX_MS, NeedleTracker, predict_needle
from usguide.types import Needle, Point

FPS = 60.0
FRAME_NS = int(1e9 / FPS)


def insertion(n_frames: int, seed: int) -> np.ndarray:
    """True tip positions (px) of a needle advanced by hand: speed varies smoothly (10-60 mm/s at
    ~10 px/mm), with pauses, along a 30 degree path."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_frames) / FPS
    phase = rng.uniform(0, 2 * np.pi)
    speed = np.clip(350.0 + 300.0 * np.sin(2 * np.pi * 0.4 * t + phase), 0.0, None)  # px/s
    along = np.cumsum(speed) / FPS
    angle = math.radians(30)
    return np.stack([100 + along * math.cos(angle), 80 + along * math.sin(angle)], axis=1)


def detections(truth: np.ndarray, seed: int, noise_px: float = 1.5) -> list[Needle]:
    rng = np.random.default_rng(seed + 1)
    out = []
    for x, y in truth + rng.normal(0, noise_px, truth.shape):
        out.append(Needle(Point(x, y), Point(x - 130, y - 75), 0.9, 30.0))
    return out


def tip_errors(seed: int, lag_frames: int) -> tuple[float, float]:
    """Mean tip error at the shown frame (``lag_frames`` newer than the analysed one), without and
    with prediction."""
    truth = insertion(240, seed)
    tracker = NeedleTracker()
    plain, predicted = [], []
    for index, detection in enumerate(detections(truth, seed)):
        needle = tracker.update(detection, index * FRAME_NS)
        shown = index + lag_frames
        if needle is None or index < 20 or shown >= len(truth):
            continue
        moved = predict_needle(needle, lag_frames * 1000.0 / FPS)
        assert moved is not None
        plain.append(math.dist(needle.tip, truth[shown]))
        predicted.append(math.dist(moved.tip, truth[shown]))
    return float(np.mean(plain)), float(np.mean(predicted))


@pytest.mark.parametrize("lag_frames", [2, 3, 5])
def test_prediction_halves_the_tip_error_at_the_shown_frame(lag_frames):
    results = [tip_errors(seed, lag_frames) for seed in range(5)]
    plain = np.mean([r[0] for r in results])
    predicted = np.mean([r[1] for r in results])
    assert predicted <= 0.5 * plain, (plain, predicted)


def test_predict_to_matches_the_velocity_and_leaves_the_track_alone():
    tracker = NeedleTracker()
    for index in range(30):  # 300 px/s to the right
        tracker.update(
            Needle(Point(100 + 5 * index, 200), Point(0, 200), 0.9, 0.0), index * FRAME_NS
        )
    last_ns = 29 * FRAME_NS
    now = tracker.update(Needle(Point(250, 200), Point(0, 200), 0.9, 0.0), last_ns + FRAME_NS)
    ahead = tracker.predict_to(last_ns + FRAME_NS + 50_000_000)  # 50 ms later
    assert ahead is not None and not ahead.predicted
    assert ahead.tip.x - now.tip.x == pytest.approx(0.05 * now.velocity.x)
    assert ahead.tip.x - now.tip.x == pytest.approx(15.0, abs=1.5)
    assert ahead.entry.x - now.entry.x == pytest.approx(ahead.tip.x - now.tip.x)
    again = tracker.predict_to(last_ns + FRAME_NS)  # not ahead: nothing to predict
    assert again is None
    assert tracker.update(None, last_ns + 2 * FRAME_NS).predicted  # the track was not moved on


def test_no_prediction_beyond_the_limit_or_while_coasting():
    tracker = NeedleTracker()
    for index in range(10):
        tracker.update(
            Needle(Point(100 + 5 * index, 200), Point(0, 200), 0.9, 0.0), index * FRAME_NS
        )
    last = 9 * FRAME_NS
    assert tracker.predict_to(last + int((PREDICT_MAX_MS + 5) * 1e6)) is None
    assert tracker.predict_to(last + int(PREDICT_MAX_MS * 1e6)) is not None
    coasting = tracker.update(None, last + FRAME_NS)
    assert coasting.predicted and coasting.velocity is None
    assert tracker.predict_to(last + 2 * FRAME_NS) is None
    assert predict_needle(coasting, 20.0) is None
    unmeasured = Needle(Point(1, 2), Point(0, 0), 0.9, 10.0)  # e.g. a recorded needle
    assert predict_needle(unmeasured, 20.0) is None
