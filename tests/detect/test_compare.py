"""Two reports compared clip by clip: paired differences per set, old reports, refusals, CLI."""

from __future__ import annotations

import json

import pytest

from usguide.cli import main
from usguide.detect.compare import format_differences, load_report, paired_differences
from usguide.errors import UsguideError


def entry(name, hits, visible=30, free=0, free_hits=0, group="heldout"):
    return {
        "clip": name,
        "detector": "onnx",
        "set": group,
        "localised_hits": hits,
        "visible_frames": visible,
        "needle_free_frames": free,
        "needle_free_detections": free_hits,
    }


def report(*entries):
    return {"clips": list(entries)}


def test_a_model_better_on_every_clip_is_better_for_sure():
    old = report(*(entry(f"c{i}", 10 + i) for i in range(8)))
    new = report(*(entry(f"c{i}", 13 + i) for i in range(8)))
    (hits,) = paired_differences(old, new)  # no needle-free frames: no FP line
    assert hits.metric == "localised hits" and hits.clips == 8
    assert hits.delta == pytest.approx(24 / 240)
    assert hits.low > 0.05 and hits.high < 0.15  # shared difficulty cancels: a narrow interval
    assert "  *" in format_differences([hits], "old", "new")


def test_equal_reports_differ_by_nothing_and_sets_stay_apart():
    clips = [entry("h", 20), entry("g", 5, group="generalisation"), entry("f", 0, 0, 30, 3)]
    differences = paired_differences(report(*clips), report(*clips))
    assert {(d.group, d.metric) for d in differences} == {
        ("heldout", "localised hits"),
        ("heldout", "needle-free FP"),
        ("generalisation", "localised hits"),
    }
    assert all(d.delta == 0 and d.low == 0 and d.high == 0 for d in differences)
    assert "  *" not in format_differences(differences, "a", "b")


def test_reports_written_before_sets_and_detection_counts_still_compare():
    old = {
        "clips": [
            {
                "clip": "c",
                "detector": "onnx",
                "localised_hits": 3,
                "visible_frames": 30,
                "needle_free_frames": 10,
                "false_positive_rate": 0.3,
            }
        ]
    }
    new = report(entry("c", 6, free=10, free_hits=0, group=""))
    by_metric = {d.metric: d for d in paired_differences(old, new)}
    assert by_metric["localised hits"].group == "all"
    assert by_metric["needle-free FP"].value_a == pytest.approx(0.3)
    assert by_metric["needle-free FP"].delta == pytest.approx(-0.3)


def test_reports_that_cannot_be_compared_say_why(tmp_path):
    with pytest.raises(UsguideError, match="share no clip"):
        paired_differences(report(entry("a", 1)), report(entry("b", 1)))
    with pytest.raises(UsguideError, match="not found"):
        load_report(tmp_path / "gone.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(UsguideError, match="cannot read report"):
        load_report(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(UsguideError, match="not an usguide evaluate --json report"):
        load_report(tmp_path / "list.json")


def test_cli_compares_two_files_and_exits_2_on_a_missing_one(tmp_path, capsys):
    first, second = tmp_path / "v5b.json", tmp_path / "v14.json"
    first.write_text(json.dumps(report(entry("c1", 10), entry("c2", 20))))
    second.write_text(json.dumps(report(entry("c1", 12), entry("c2", 21))))
    assert main(["evaluate", "--compare", str(first), str(second)]) == 0
    out = capsys.readouterr().out
    assert "v5b" in out and "v14" in out and "+5.0" in out  # (33 - 30) of 60 frames
    assert main(["evaluate", "--compare", str(first), str(tmp_path / "gone.json")]) == 2
    assert "not found" in capsys.readouterr().err
