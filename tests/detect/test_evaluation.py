"""The localised hit, the obvious-needle defects, off-needle tracks and the strata, on hand-built
labels and detections with known answers; counts, rates, errors and pooling; truth files with a
source elsewhere, and a bad one."""

import json
import math

import pytest

from usguide.detect.evaluation import (
    FALSE_TRACK_FRAMES,
    ClipTruth,
    FrameTruth,
    combine,
    load_truth,
    score_clip,
)
from usguide.detect.evaluation_table import format_operating_curves, format_strata
from usguide.detect.strata import OBVIOUS, format_stratum_table, frame_strata
from usguide.errors import UsguideError
from usguide.types import Needle, Point, Roi


def label(tip=(100.0, 0.0), entry=(0.0, 0.0), angle=0.0, contrast=None, **extra):
    return FrameTruth(True, True, Point(*tip), Point(*entry), angle, contrast, **extra)


def free(**extra):
    return FrameTruth(False, False, None, None, None, **extra)


def rotated(tip, degrees, length=100.0):
    """A detection ending at ``tip`` whose line is turned by ``degrees`` from the x axis."""
    rad = math.radians(degrees)
    entry = (tip[0] - length * math.cos(rad), tip[1] - length * math.sin(rad))
    return Needle(Point(*tip), Point(*entry), 0.9, abs(degrees))


def one(needle, frame, **truth):
    return score_clip([needle], ClipTruth(name="c", frames=[frame], **truth))


def test_line_within_10_degrees_is_a_hit_beyond_is_not():
    at_9 = one(rotated((100, 0), 9.0), label(), mm_per_px=0.1)
    at_11 = one(rotated((100, 0), 11.0), label(), mm_per_px=0.1)
    assert at_9.localised_hits == 1 and at_9.localised_recall == 1.0
    assert at_11.localised_hits == 0 and at_11.localised_recall == 0.0
    # The 3-mm recall does not look at the line: both tips are exact.
    assert at_9.true_positives == at_11.true_positives == 1
    # The line is judged by direction: a mirrored needle (same probe-face angle) is wrong.
    mirrored = one(rotated((100, 0), 180 - 30.0), label(tip=(100, 0), entry=(13.4, -50), angle=30))
    assert mirrored.localised_hits == 0


def test_tip_within_5_mm_is_a_hit_beyond_is_not():
    near = one(rotated((149, 0), 0.0), label(), mm_per_px=0.1)  # 4.9 mm beyond the tip
    far = one(rotated((151, 0), 0.0), label(), mm_per_px=0.1)  # 5.1 mm
    assert near.localised_hits == 1 and far.localised_hits == 0
    assert near.tip_errors_mm == pytest.approx([4.9]) and far.tip_errors_mm == pytest.approx([5.1])


def test_without_a_scale_the_tip_tolerance_is_5_percent_of_the_region_diagonal():
    region = Roi(0, 0, 300, 400)  # diagonal 500 px: 25 px
    near = one(rotated((124, 0), 0.0), label(), roi=region)
    far = one(rotated((126, 0), 0.0), label(), roi=region)
    assert near.localised_hits == 1 and far.localised_hits == 0
    sized = one(rotated((126, 0), 0.0), label(), size=(600, 800))  # no region: the frame's
    assert sized.localised_hits == 1


def test_obvious_needle_misses_are_listed():
    obvious = label(tip=(200, 0), contrast=3.5)  # 20 mm at 0.1 mm/px
    faint = label(tip=(200, 0), contrast=2.9)
    short = label(tip=(90, 0), contrast=5.0)  # 9 mm
    truth = ClipTruth(name="c", mm_per_px=0.1, frames=[obvious, obvious, faint, short, obvious])
    wrong_line = rotated((200, 0), 30.0)
    score = score_clip([None, wrong_line, None, None, rotated((200, 0), 1.0)], truth)
    assert score.obvious_misses == [("c", 0), ("c", 1)]
    assert score.by_stratum[OBVIOUS].visible == 3 and score.obvious_recall == pytest.approx(1 / 3)
    summary = score.summary()
    assert summary["obvious_frames"] == 3
    assert summary["obvious_misses"] == [{"clip": "c", "frame": 0}, {"clip": "c", "frame": 1}]


def test_strata_of_a_frame():
    tags = {"gauge": "18", "needle_style": "double_wall", "geometry": "convex", "medium": "water"}
    names = frame_strata(label(tip=(200, 0), angle=5.0, contrast=3.2), tags, 0.1)
    assert names == [
        "all frames",
        OBVIOUS,
        "angle 0-10°",
        "contrast >=3x",
        "visible >=10 mm",
        "gauge 18G",
        "needle double_wall",
        "geometry convex",
        "medium water",
    ]
    bins = [frame_strata(label(angle=a), {}, None)[1] for a in (9.99, 10.0, 30.0, 50.0, 80.0)]
    assert bins == ["angle 0-10°", "angle 10-30°", "angle 30-50°", "angle 50-80°", "angle 80-90°"]


def test_per_stratum_counts_with_clip_and_frame_tags():
    truth = ClipTruth(
        name="c",
        mm_per_px=0.1,
        tags={"medium": "phantom", "geometry": "linear", "style": "heldout"},
        frames=[
            label(angle=20.0),
            label(angle=20.0, tags={"medium": "water"}),  # a frame's own value wins
            label(angle=60.0),
            free(),
            free(),
        ],
    )
    predictions = [rotated((100, 0), 0.0), None, rotated((140, 0), 0.0), None, rotated((5, 5), 0.0)]
    by = score_clip(predictions, truth).summary()["strata"]
    assert by["angle 10-30°"] == {
        "visible_frames": 2,
        "recall": 0.5,
        "localised_recall": 0.5,
        "needle_free_frames": 0,
        "false_positive_rate": None,
    }
    # 4 mm beyond the tip: not a 3-mm true positive, but a localised hit.
    assert by["angle 50-80°"]["recall"] == 0.0 and by["angle 50-80°"]["localised_recall"] == 1.0
    assert by["medium phantom"]["visible_frames"] == 2 and by["medium water"]["visible_frames"] == 1
    # Needle-free frames count in the scene strata (geometry, medium, style), not in angle ones.
    assert by["geometry linear"]["needle_free_frames"] == 2
    assert by["style heldout"]["false_positive_rate"] == 0.5
    assert by["all frames"]["visible_frames"] == 3 and by["all frames"]["needle_free_frames"] == 2
    assert list(by)[:2] == ["all frames", "angle 10-30°"]


def test_off_needle_tracks():
    frames = FALSE_TRACK_FRAMES + 2 + FALSE_TRACK_FRAMES - 1
    truth = ClipTruth(name="c", mm_per_px=0.1, frames=[free() for _ in range(frames)])
    stray = rotated((50, 50), 20.0)
    run_long = [stray] * FALSE_TRACK_FRAMES
    predictions = [*run_long, None, None, *([stray] * (FALSE_TRACK_FRAMES - 1))]
    score = score_clip(predictions, truth)
    assert score.false_tracks == [("c", 0, FALSE_TRACK_FRAMES - 1)]
    assert score.summary()["off_needle_track_frames"] == FALSE_TRACK_FRAMES
    # On the needle with the tip short along the shaft: a miss, but not a distractor track.
    on_shaft = ClipTruth(name="s", mm_per_px=0.1, frames=[label(tip=(200, 0))] * 12)
    short = score_clip([rotated((120, 0), 1.0)] * 12, on_shaft)
    assert short.localised_hits == 0 and short.false_tracks == []
    # On a line 30 degrees off the labelled one: a distractor.
    off = score_clip([rotated((200, 0), 30.0)] * 12, on_shaft)
    assert off.false_tracks == [("s", 0, 11)]


def test_sparse_labels_score_only_labelled_frames():
    truth = ClipTruth(
        name="hand",
        mm_per_px=0.1,
        frames=[label(frame=2), free(frame=5)],
    )
    predictions = [rotated((0, 90), 0.0)] * 2 + [rotated((100, 0), 0.0)] + [None] * 5
    score = score_clip(predictions, truth)
    assert (score.frames, score.visible_frames, score.localised_hits) == (2, 1, 1)
    assert score.needle_free_frames == 1 and score.needle_free_detections == 0


def test_combine_pools_strata_misses_and_groups():
    truth = ClipTruth(
        name="c", mm_per_px=0.1, tags={"set": "heldout"}, frames=[label(tip=(200, 0), contrast=4)]
    )
    one_score = score_clip([None], truth)
    total = combine([one_score, one_score])
    assert total.group == "heldout" and total.obvious_misses == [("c", 0), ("c", 0)]
    assert total.by_stratum[OBVIOUS].visible == 2 and total.localised_recall == 0.0
    table = format_stratum_table([("heldout (onnx)", total.by_stratum), ("x", {})])
    assert "heldout (onnx)" in table and "obvious needle" in table and "0.0%" in table


def test_truth_with_a_source_elsewhere(tmp_path):
    case = tmp_path / "labels" / "real"
    case.mkdir(parents=True)
    data = {
        "format": "usguide-sim-truth",
        "version": 1,
        "source": "../../clips/real.mp4",
        "width": 1080,
        "height": 860,
        "mm_per_px": 0.0349,
        "roi": [0, 0, 1030, 860],
        "medium": "in_vivo",
        "frames": [
            {"frame": 7, "visible": False, "tip": None, "entry": None},
            {"frame": 3, "visible": True, "tip": [5, 6], "entry": [1, 2], "gauge": 21},
        ],
    }
    (case / "truth.json").write_text(json.dumps(data))
    truth = load_truth(case / "truth.json")
    assert truth.source == case / "../../clips/real.mp4"
    assert truth.size == (1080, 860) and truth.tags == {"medium": "in_vivo"}
    assert [f.frame for f in truth.frames] == [3, 7] and truth.frames[0].tags == {"gauge": "21"}
    assert truth.frames[0].angle_deg is None and not truth.frames[1].needle_present
    data["source"] = str(tmp_path / "abs.mp4")
    (case / "truth.json").write_text(json.dumps(data))
    assert load_truth(case / "truth.json").source == tmp_path / "abs.mp4"


# Counts, rates and errors on hand-made predictions with known answers.


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


def test_operating_curve_hides_needles_below_a_confidence_floor():
    def at(tip, confidence):
        return Needle(Point(*tip), Point(tip[0] - 100.0, tip[1]), confidence, 0.0)

    frames = [label(), label(), label(), free(), free()]
    # A confident hit, a doubtful hit, a miss; a doubtful and a confident false positive.
    predictions = [at((100, 0), 0.9), at((100, 0), 0.25), None, at((5, 5), 0.15), at((5, 5), 0.75)]
    pooled = combine(
        [score_clip(predictions, ClipTruth(name="c", frames=frames, mm_per_px=0.1))] * 2
    )
    assert pooled.localised_recall == pytest.approx(2 / 3)
    curve = {point["min_confidence"]: point for point in pooled.operating_curve()}
    assert curve[0.0]["localised_recall"] == pytest.approx(pooled.localised_recall, abs=1e-4)
    assert curve[0.0]["false_positive_rate"] == pytest.approx(pooled.false_positive_rate)
    assert curve[0.2]["localised_recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert curve[0.2]["false_positive_rate"] == pytest.approx(0.5)
    assert curve[0.3]["localised_recall"] == pytest.approx(1 / 3, abs=1e-4)
    assert curve[0.8]["localised_recall"] == pytest.approx(1 / 3, abs=1e-4)
    assert curve[0.8]["false_positive_rate"] == 0.0
    assert pooled.summary()["operating_curve"][0]["min_confidence"] == 0.0
    table = format_operating_curves([pooled])
    assert "overall" in table and "67%/100%" in table and "33%/0%" in table
