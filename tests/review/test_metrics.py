"""Insertion metrics on synthetic tracks whose answers are known, and on a written session."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests.review import synthetic as syn
from usguide.errors import UsguideError
from usguide.record.writer import SessionWriter
from usguide.review.metrics import (
    DEFINITIONS,
    SessionMetrics,
    compute_metrics,
    count_redirections,
    insertion_depth,
    lost_gaps,
    session_metrics,
    smooth_positions,
)
from usguide.review.track import track_from_results
from usguide.types import Calibration, Frame, Point, Roi, SourceInfo


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_known_answers(seed: int) -> None:
    m = compute_metrics(syn.synthetic_track(seed))
    t = np.arange(300) / syn.FPS
    assert m.frames == 300
    assert m.duration_s == pytest.approx(299 / 30)
    assert m.needle_in_image_s == pytest.approx(9.0, abs=0.05)
    assert m.redirections == 1  # the 6 mm withdrawal; the 1 mm wobble is not one
    assert m.lost_episodes == 1 and m.lost_s == pytest.approx(0.8, abs=0.07)
    inserted = 9.0
    lost = (syn.LOST[1] - syn.LOST[0]) + (syn.SHORT_GAP[1] - syn.SHORT_GAP[0])
    assert m.visible_fraction == pytest.approx(1 - lost / inserted, abs=0.02)
    assert m.path_length_mm == pytest.approx(syn.TRUE_PATH_MM, rel=0.1)
    assert m.max_depth_mm == pytest.approx(2.0 + 30 * math.sin(math.radians(30)), abs=0.3)
    assert m.angle_median_deg == pytest.approx(30.0, abs=0.2)
    assert 0 < m.angle_spread_deg < 1.5
    # Within 3 mm of a target 29 mm in and 1 mm aside: from 14 mm, 8 mm/s, at L = 29 - sqrt(8).
    reach = syn.length_mm(t) >= syn.TARGET_L_MM - math.sqrt(3**2 - 1)
    expected = syn.first_time(reach & (t > 4)) - 1.0
    assert m.time_to_target_s == pytest.approx(expected, abs=0.1)
    assert m.target_hit is True
    assert m.closest_approach_mm == pytest.approx(1.0, abs=0.15)
    assert m.final_miss_mm == pytest.approx(1.0, abs=0.1)
    assert m.path_inefficiency == pytest.approx(syn.TRUE_PATH_MM / 30.0, rel=0.1)
    assert m.latency_p50_ms == pytest.approx(24.5, abs=0.5) and m.latency_max_ms == 29.0
    assert set(m.to_json()) == set(DEFINITIONS) | {"frames"}


def test_no_scale_no_target_no_needle() -> None:
    track = syn.synthetic_track(with_target=False)
    track.calibration = Calibration(None, None)
    m = compute_metrics(track)
    assert m.path_length_mm is None and m.max_depth_mm is None and m.redirections == 0
    assert m.time_to_target_s is None and m.target_hit is None
    assert m.visible_fraction is not None  # time-based metrics need no scale
    # A target given by hand, without a scale: still no distances.
    assert compute_metrics(track, Point(10, 10)).closest_approach_mm is None
    empty = syn.synthetic_track()
    empty.present[:] = empty.measured[:] = False
    m = compute_metrics(empty)
    assert m.visible_fraction is None and m.needle_in_image_s == 0 and m.inserted_s == 0


def test_target_never_reached() -> None:
    m = compute_metrics(syn.synthetic_track(), target=Point(390.0, 10.0))
    assert m.target_hit is False and m.time_to_target_s is None
    assert m.closest_approach_mm > 3.0


def test_redirection_hysteresis() -> None:
    assert count_redirections(np.array([0, 5, 3, 6.0])) == (1, [2])
    assert count_redirections(np.array([0, 5, 3.5, 6.0]))[0] == 0  # 1.5 mm back: not one
    assert count_redirections(np.array([0, 10, 2.0]))[0] == 0  # pulled out: no re-advance
    assert count_redirections(np.array([0, 10, 5, 5.5, 9, 4, 8]))[0] == 2
    rng = np.random.default_rng(0)
    assert count_redirections(np.linspace(0, 30, 300) + rng.normal(0, 0.2, 300))[0] == 0


def test_insertion_depth_ignores_sideways_motion() -> None:
    tips = np.array([[10.0, 0], [12, 0], [12, 3], [9, 3]])
    entries = np.array([[0.0, 0], [0, 0], [0, 3], [0, 3]])
    assert insertion_depth(tips, entries).tolist() == [0.0, 2.0, 2.0, -1.0]


def test_smoothing_keeps_straight_lines_and_ends() -> None:
    t = np.arange(50) / 30.0
    line = np.stack([t * 10, t * 5], axis=1)
    assert np.allclose(smooth_positions(line, t), line)


def test_lost_gaps() -> None:
    t = np.arange(10) * 0.2
    measured = np.array([1, 1, 0, 0, 1, 1, 0, 1, 0, 0], bool)
    assert lost_gaps(t, measured) == [(pytest.approx(0.2), pytest.approx(0.8))]


def _result(tip, predicted=False, target=None) -> dict:
    data = {"frame": 0, "needle": None, "latency_ms": {"total": 12.0}}
    if tip is not None:
        data["needle"] = {"tip": tip, "entry": [0.0, 20.0], "confidence": 0.9,
                          "angle_deg": 30.0, "predicted": predicted}  # fmt: skip
        data["trajectory"] = {"end": [100, 100], "target": target, "along_mm": 1, "miss_mm": 1}
    return data


def test_track_from_results() -> None:
    results = {0: _result(None), 1: _result([10, 25]), 2: _result([11, 26], predicted=True),
               3: _result([12, 27], target=[50, 50]), 7: None}  # fmt: skip
    track = track_from_results(results, np.arange(5) * 33_000_000 + 10**12, Calibration(0.1))
    assert track.t_s.tolist() == pytest.approx([0, 0.033, 0.066, 0.099, 0.132])
    assert track.present.tolist() == [False, True, True, True, False]
    assert track.measured.tolist() == [False, True, False, True, False]
    assert track.target_px[3].tolist() == [50, 50] and np.isnan(track.target_px[1]).all()
    assert track.latency_ms[0] == 12.0 and np.isnan(track.latency_ms[4])


def _write_session(folder: Path, results: list[dict | None]) -> Path:
    info = SourceInfo("synthetic", "simulator", 64, 48, 30.0, False, len(results))
    calibration = Calibration(0.1, Roi(0, 0, 64, 48))
    with SessionWriter(folder, info, calibration, queue_size=len(results) + 1) as writer:
        for i, result in enumerate(results):
            image = np.full((48, 64), i % 256, np.uint8)
            frame = Frame(image, i, 10**12 + i * 33_333_333, i * 33.3, calibration)
            assert writer.write(frame, result)
    return folder


def test_session_metrics_from_recorded_results(tmp_path: Path) -> None:
    track = syn.synthetic_track()
    results = []
    for i in range(len(track)):
        tip = track.tip_px[i].tolist() if track.present[i] else None
        results.append(_result(tip, predicted=not track.measured[i],
                               target=list(syn.target_px())))  # fmt: skip
    folder = _write_session(tmp_path / "s", results)
    m = session_metrics(folder)
    assert isinstance(m, SessionMetrics)
    assert m.redirections == 1 and m.lost_episodes == 1 and m.target_hit is True
    assert m.path_length_mm == pytest.approx(syn.TRUE_PATH_MM, rel=0.1)
    with pytest.raises(UsguideError, match="not a usguide session"):
        session_metrics(tmp_path)
