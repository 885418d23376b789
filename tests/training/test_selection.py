"""Choosing the epoch on labelled clips: the same figures as ``usguide evaluate``; bad folders."""

from __future__ import annotations

import json

import pytest

from tests.commands.test_evaluate import write_clip
from usguide.cli import main
from usguide.paths import REPO_ROOT
from usguide.training.selection import CaseSelector, SelectionScore

MODEL = REPO_ROOT / "models" / "needle.onnx"


def test_selection_scores_what_evaluate_reports(tmp_path, capsys):
    cases = tmp_path / "cases"
    write_clip(cases / "clip_0000", frames=10, visible_from=4)
    report = tmp_path / "report.json"
    args = ["evaluate", str(cases), "--detector", "onnx", "--model", str(MODEL)]
    assert main([*args, "--json", str(report), "-q"]) == 0
    overall = json.loads(report.read_text())["overall"]["onnx"]
    chosen = CaseSelector(cases, threads=1).score(MODEL)
    assert chosen.frames == 10
    assert chosen.localised == pytest.approx(overall["localised_hits"] / overall["visible_frames"])
    assert overall["needle_free_frames"] == 4
    assert chosen.false_positive == pytest.approx(overall["needle_free_detections"] / 4)
    assert chosen.as_dict()["value"] == pytest.approx(chosen.value, abs=1e-4)


def test_selection_value_and_missing_parts():
    assert SelectionScore(0.8, 0.1, 50).value == pytest.approx(0.7)
    assert SelectionScore(None, 0.25, 10).value == pytest.approx(-0.25)  # needle-free clips only
    assert SelectionScore(0.5, None, 10).value == pytest.approx(0.5)


def test_a_folder_without_clips_fails_before_training(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    args = ["train", "--select-cases", str(tmp_path / "empty"), "--out", str(tmp_path / "m.onnx")]
    pytest.importorskip("torch")
    assert main([*args, "--clips", "1", "--epochs", "1", "--cache-dir", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "no labelled clips" in err and err.count("\n") == 1
    assert not (tmp_path / "c").exists()  # nothing simulated
