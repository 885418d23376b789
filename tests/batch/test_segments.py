"""Frame ranges: the plan, and stitched ranges with a warm-up equal to one pass (as in analyze)."""

import json

import pytest

from usguide.analysis.analyzer import FrameAnalyzer
from usguide.batch.segments import (
    WARMUP_FRAMES,
    Segment,
    SegmentResult,
    analyze_segment,
    plan_segments,
    stitch,
)
from usguide.commands.analyze import result_line
from usguide.detect.factory import make_detector
from usguide.simulate.export import write_clips
from usguide.sources.factory import make_source


def test_short_or_unknown_inputs_are_one_range():
    assert plan_segments(None, 100, 30) == [Segment(0, None, 0)]
    assert plan_segments(149, 100, 30) == [Segment(0, None, 0)]


def test_ranges_end_at_the_input_end_and_start_a_warm_up_early():
    assert plan_segments(250, 100, 30) == [
        Segment(0, 100, 0),
        Segment(100, 200, 70),
        Segment(200, None, 170),
    ]
    # A remainder under half a range joins the range before it.
    assert plan_segments(240, 100, 30) == [Segment(0, 100, 0), Segment(100, None, 70)]
    assert plan_segments(250, 100, 0)[1] == Segment(100, 200, 100)


def test_stitch_keeps_order_counts_and_first_error():
    first = SegmentResult(lines=["a"], frames=1, found=1, confidence_sum=0.5)
    second = SegmentResult(lines=["b", "c"], frames=2, error="broken")
    whole = stitch([first, second, SegmentResult(error="later")])
    assert whole.lines == ["a", "b", "c"] and whole.frames == 3 and whole.found == 1
    assert whole.error == "broken"


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    """70 frames: a seam at frame 35 with a full 30-frame warm-up before it."""
    root = tmp_path_factory.mktemp("long")
    return write_clips(root, 1, 11, "linear", 70, (320, 240))[0] / "video.mkv"


def _analyze(path, segments):
    detector = make_detector("onnx", threads=1)
    lines = []
    for segment in segments:
        with make_source(str(path)) as source:
            part = analyze_segment(source, FrameAnalyzer(detector), segment, result_line)
        lines += [json.loads(text) for text in part.lines]
    return [(line["frame"], line["needle"]) for line in lines]


def test_seam_with_warm_up_equals_one_pass(long_clip):
    whole = _analyze(long_clip, [Segment(0, None, 0)])
    assert [frame for frame, _ in whole] == list(range(70))
    assert sum(needle is not None for _, needle in whole[35:]) > 10  # the seam has a track
    segments = plan_segments(70, 35, WARMUP_FRAMES)
    assert segments == [Segment(0, 35, 0), Segment(35, None, 5)]
    assert _analyze(long_clip, segments) == whole  # the documented 0 seam frames that differ
    # Without a warm-up the tracker starts afresh at the seam: the frames after it differ.
    cold = _analyze(long_clip, plan_segments(70, 35, 0))
    assert [frame for frame, _ in cold] == list(range(70)) and cold[:35] == whole[:35]
    assert cold[35:] != whole[35:]
