"""Evaluation metrics on hand-made predictions with known answers; `usguide evaluate` end to end."""

import json
import math

import cv2
import numpy as np
import pytest

from usguide.cli import main
from usguide.detect.evaluation import (
    ClipTruth,
    FrameTruth,
    combine,
    format_strata,
    load_truth,
    score_clip,
)
from usguide.errors import UsguideError
from usguide.types import Needle, Point


def needle(tip, entry=(0.0, 0.0), angle=45.0):
    return Needle(Point(*tip), Point(*entry), 0.9, angle)


def frame(visible, present, tip=None, entry=None, angle=None):
    return FrameTruth(visible, present, tip and Point(*tip), entry and Point(*entry), angle)


TRUTH = ClipTruth(
    name="hand",
    mm_per_px=0.1,
    frames=[
        frame(False, False),  # no needle, nothing detected: true negative
        frame(False, False),  # no needle, detection: false positive on a needle-free frame
        frame(True, True, (100, 100), (0, 0), 45.0),  # hit within 3 mm
        frame(True, True, (100, 100), (0, 0), 45.0),  # missed
        frame(True, True, (100, 100), (0, 0), 45.0),  # swapped: tip found near the entry
        frame(False, True),  # present but out of plane: a detection is a false positive
    ],
)
PREDICTIONS = [
    None,
    needle((50, 50)),
    needle((102, 100), angle=41.0),
    None,
    needle((10, 5), entry=(100, 100), angle=43.0),
    needle((60, 60)),
]


def test_counts_and_rates():
    score = score_clip(PREDICTIONS, TRUTH, detector="hand", seconds=0.5)
    assert (score.frames, score.visible_frames, score.detections) == (6, 3, 4)
    assert (score.true_positives, score.false_positives) == (1, 3)
    assert score.recall == pytest.approx(1 / 3)
    assert score.precision == pytest.approx(1 / 4)
    assert score.needle_free_frames == 2
    assert score.false_positive_rate == pytest.approx(0.5)
    assert score.swaps == 1
    assert score.fps == pytest.approx(12.0)


def test_errors_px_mm_and_angle():
    score = score_clip(PREDICTIONS, TRUTH)
    far = math.dist((10, 5), (100, 100))
    assert score.tip_errors_px == pytest.approx([2.0, far])
    assert score.tip_errors_mm == pytest.approx([0.2, far * 0.1])
    assert score.angle_errors_deg == pytest.approx([4.0, 2.0])
    summary = score.summary()
    assert summary["tip_error_px"]["median"] == pytest.approx((2 + far) / 2, abs=1e-3)
    assert summary["angle_error_deg"]["p90"] == pytest.approx(3.8, abs=1e-3)


def test_pixel_tolerance_without_scale():
    truth = ClipTruth(name="px", frames=TRUTH.frames, mm_per_px=None)
    score = score_clip(PREDICTIONS, truth, tolerance_px=1.0)
    assert score.true_positives == 0 and score.tip_errors_mm == []


def test_combine_pools_clips():
    one = score_clip(PREDICTIONS, TRUTH, seconds=0.5)
    total = combine([one, one])
    assert total.frames == 12 and total.true_positives == 2 and len(total.tip_errors_px) == 4
    assert total.recall == pytest.approx(1 / 3)


def test_recall_by_contrast_and_visible_length():
    """Each visible frame counts in its contrast and visible-length stratum (0.1 mm per px)."""
    faint_short = FrameTruth(True, True, Point(40, 0), Point(0, 0), 0.0, contrast=1.7)  # 4 mm
    bright_long = FrameTruth(True, True, Point(200, 0), Point(0, 0), 0.0, contrast=4.0)  # 20 mm
    middle = FrameTruth(True, True, Point(80, 0), Point(0, 0), 0.0, contrast=2.5)  # 8 mm
    truth = ClipTruth(name="strata", mm_per_px=0.1, frames=[faint_short, bright_long, middle] * 2)
    predictions = [None, needle((201, 0)), needle((80, 1))] + [needle((40, 0)), None, None]
    score = score_clip(predictions, truth)
    assert score.strata == {
        "contrast <2x": [2, 1],
        "visible <5 mm": [2, 1],
        "contrast >=3x": [2, 1],
        "visible >=10 mm": [2, 1],
        "contrast 2-3x": [2, 1],
        "visible 5-10 mm": [2, 1],
    }
    by = combine([score, score]).summary()["recall_by"]
    assert list(by) == [
        "contrast <2x",
        "contrast 2-3x",
        "contrast >=3x",
        "visible <5 mm",
        "visible 5-10 mm",
        "visible >=10 mm",
    ]
    assert by["contrast <2x"] == {"visible_frames": 4, "recall": 0.5}
    assert "50% of 4" in format_strata([combine([score, score])])


def test_no_strata_without_contrast_or_scale():
    truth = ClipTruth(name="plain", mm_per_px=None, frames=TRUTH.frames)
    score = score_clip(PREDICTIONS, truth)
    assert score.strata == {} and score.summary()["recall_by"] == {}
    assert format_strata([score]) == ""


def test_bad_truth_file(tmp_path):
    (tmp_path / "truth.json").write_text('{"format": "other"}')
    with pytest.raises(UsguideError):
        load_truth(tmp_path / "truth.json")


def write_clip(folder, frames=8, visible_from=2):
    """A 160x120 clip, bright line entry (20,15) -> tip (120,75) from frame ``visible_from``."""
    folder.mkdir(parents=True)
    writer = cv2.VideoWriter(
        str(folder / "video.mkv"), cv2.VideoWriter_fourcc(*"FFV1"), 30.0, (160, 120)
    )
    rng = np.random.default_rng(0)
    labels = []
    for index in range(frames):
        image = cv2.GaussianBlur(rng.rayleigh(25, (120, 160)).astype(np.float32), (0, 0), 1.0)
        visible = index >= visible_from
        if visible:
            cv2.line(image, (20, 15), (120, 75), 190, 3)
        writer.write(cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR))
        labels.append(
            {
                "frame": index,
                "visible": visible,
                "needle_present": visible,
                "tip": [120, 75] if visible else None,
                "entry": [20, 15] if visible else None,
                "angle_deg": round(math.degrees(math.atan2(60, 100)), 2) if visible else None,
            }
        )
    writer.release()
    truth = {
        "format": "usguide-sim-truth",
        "version": 1,
        "seed": 0,
        "variant": "linear",
        "probe": "linear",
        "fps": 30.0,
        "width": 160,
        "height": 120,
        "mm_per_px": 0.2,
        "roi": [0, 0, 160, 120],
        "depth_mm": 24.0,
        "frames": labels,
    }
    (folder / "truth.json").write_text(json.dumps(truth))


def test_evaluate_cli_classical(tmp_path, capsys):
    write_clip(tmp_path / "cases" / "clip_0000")
    report, plot = tmp_path / "report.json", tmp_path / "report.png"
    code = main(
        [
            "evaluate",
            str(tmp_path / "cases"),
            "--detector",
            "classical",
            "--json",
            str(report),
            "--plot",
            str(plot),
        ]
    )
    assert code == 0
    table = capsys.readouterr().out
    assert "clip_0000" in table and "overall" in table and "classical" in table
    data = json.loads(report.read_text())
    overall = data["overall"]["classical"]
    assert overall["frames"] == 8 and overall["visible_frames"] == 6
    assert overall["needle_free_frames"] == 2
    # Tracking confirms the needle on the third visible frame: 4 of 6 visible frames found.
    assert overall["recall"] == pytest.approx(4 / 6, abs=1e-3)
    assert overall["precision"] == pytest.approx(1.0)
    assert overall["false_positive_rate"] == 0.0
    assert overall["tip_error_mm"]["median"] < 1.5
    assert overall["swaps"] == 0
    image = cv2.imread(str(plot))
    assert image is not None and image.shape[1] > 600


def test_evaluate_without_clips_is_an_error(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path), "--detector", "classical"]) == 2
    assert "no labelled clips" in capsys.readouterr().err
