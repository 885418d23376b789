"""Running metrics: the session's metrics, one result at a time, agree with the offline ones."""

from __future__ import annotations

import numpy as np
import pytest

from tests.review import synthetic as syn
from usguide.review.metrics import compute_metrics
from usguide.review.running import RunningMetrics
from usguide.types import Frame, FrameResult, Needle, Point, Timings, Trajectory


def _results(track) -> list[FrameResult]:
    out = []
    image = np.zeros((8, 8), np.uint8)
    for i in range(len(track)):
        frame = Frame(image, i, 10**12 + i * 33_333_333, 1000.0 * track.t_s[i], track.calibration)
        needle = trajectory = None
        if track.present[i]:
            tip, entry = Point(*track.tip_px[i]), Point(*track.entry_px[i])
            needle = Needle(tip, entry, 0.9, float(track.angle_deg[i]), not track.measured[i])
            trajectory = Trajectory(tip, tip, (1.0, 0.0), Point(*track.target_px[i]))
        out.append(FrameResult(frame, needle, trajectory, Timings(frame.t_capture_ns)))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_running_values_follow_the_offline_metrics(seed: int) -> None:
    track = syn.synthetic_track(seed)
    offline = compute_metrics(track)
    running = RunningMetrics()
    for result in _results(track):
        running.add(result)
    values = running.snapshot()
    assert values.redirections == offline.redirections == 1
    assert values.lost_episodes == offline.lost_episodes == 1
    assert values.elapsed_s == pytest.approx(offline.duration_s)
    assert values.visible_fraction == pytest.approx(offline.visible_fraction, abs=0.02)
    assert values.needle_in_image_s == pytest.approx(offline.needle_in_image_s, abs=0.05)
    assert values.path_length_mm == pytest.approx(offline.path_length_mm, rel=0.1)
    assert values.max_depth_mm == pytest.approx(offline.max_depth_mm, abs=0.5)
    assert values.time_to_target_s == pytest.approx(offline.time_to_target_s, abs=0.2)
    assert values.closest_approach_mm == pytest.approx(offline.closest_approach_mm, abs=0.3)


def test_a_seek_back_starts_afresh() -> None:
    results = _results(syn.synthetic_track())
    running = RunningMetrics()
    for result in results:
        running.add(result)
    assert running.snapshot().redirections == 1
    for result in results[:60]:  # the replay looped: 2 s in, before the withdrawal
        running.add(result)
    values = running.snapshot()
    assert values.redirections == 0 and values.elapsed_s == pytest.approx(59 / 30)
    empty = RunningMetrics().snapshot()
    assert empty.visible_fraction is None and empty.path_length_mm is None
