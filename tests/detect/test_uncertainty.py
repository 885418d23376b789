"""Clip-bootstrap intervals: exact where clips agree, wide where they do not, fixed, in the CLI."""

from __future__ import annotations

import pytest

from usguide.detect.evaluation import ClipScore
from usguide.detect.uncertainty import (
    clip_groups,
    format_intervals,
    free_interval,
    hit_interval,
    interval_report,
)


def clip(name, visible, hits, free=0, free_detections=0, group="heldout", detector="onnx"):
    return ClipScore(
        name=name,
        detector=detector,
        visible_frames=visible,
        localised_hits=hits,
        needle_free_frames=free,
        needle_free_detections=free_detections,
        group=group,
    )


def test_clips_that_agree_give_a_point_interval():
    interval = hit_interval([clip(f"c{i}", 30, 15) for i in range(6)])
    assert (interval.value, interval.low, interval.high, interval.clips) == (0.5, 0.5, 0.5, 6)


def test_clips_that_disagree_give_a_wide_interval_around_the_pooled_value():
    scores = [clip("all", 30, 30), clip("none", 30, 0), clip("half", 30, 15), clip("most", 30, 27)]
    interval = hit_interval(scores)
    assert interval.value == pytest.approx(72 / 120)
    assert interval.low < 0.35 and interval.high > 0.85  # four clips say little
    assert interval.low <= interval.value <= interval.high
    assert hit_interval(scores) == interval  # seeded: the same scores, the same interval


def test_frames_are_weighted_and_empty_clips_left_out():
    scores = [clip("long", 90, 90), clip("short", 10, 0), clip("free", 0, 0, 30, 3)]
    assert hit_interval(scores).value == pytest.approx(0.9) and hit_interval(scores).clips == 2
    free = free_interval(scores)
    assert free.value == pytest.approx(0.1) and free.clips == 1
    assert hit_interval([clip("free", 0, 0, 30, 0)]) is None


def test_groups_per_set_and_detector_and_the_report():
    rows = [
        clip("h1", 30, 30),
        clip("h2", 30, 0),
        clip("g1", 30, 10, group="generalisation"),
        clip("g1", 30, 20, group="generalisation", detector="classical"),
    ]
    groups = clip_groups(rows, ["onnx", "classical"], by_set=True)
    assert [(g.group, g.detector, len(g.scores)) for g in groups] == [
        ("heldout", "onnx", 2),
        ("heldout", "classical", 0),
        ("generalisation", "onnx", 1),
        ("generalisation", "classical", 1),
    ]
    overall = clip_groups(rows, ["onnx"], by_set=False)
    assert overall[0].label == "overall (onnx)" and len(overall[0].scores) == 3
    text = format_intervals(groups).splitlines()
    assert text[1].startswith("heldout (onnx)") and "50% [0-100%] of 2 clips" in text[1]
    assert "localised hits -" in text[2]  # no clips: nothing to say
    report = interval_report(groups)
    assert report["generalisation"]["classical"]["localised_hits"]["value"] == 0.6667
    assert report["heldout"]["onnx"]["needle_free_fp"] is None
