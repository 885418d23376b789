"""``usguide label``: options, bad input as one line and exit 2, frame access, resuming a case."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from usguide.cli import main
from usguide.commands.label import FrameCache, source_field
from usguide.gui.label_model import KeyFrame, LabelState
from usguide.sources.factory import make_source
from usguide.types import Point


@pytest.fixture
def folder(tmp_path) -> Path:  # noqa: ANN001
    """Eight 64x48 grey frames whose value is 20 x their index."""
    path = tmp_path / "frames"
    path.mkdir()
    for index in range(8):
        cv2.imwrite(str(path / f"f{index:03d}.png"), np.full((48, 64), 20 * index, np.uint8))
    return path


def one_line_error(capsys, argv: list[str]) -> str:  # noqa: ANN001
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("usguide: error: ") and err.count("\n") == 1
    return err


def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, folder):  # noqa: ANN001
    out = str(tmp_path / "case")
    assert "input not found" in one_line_error(capsys, ["label", "missing.mp4", "--out", out])
    assert "bad --roi" in one_line_error(capsys, ["label", str(folder), "--out", out, "--roi", "1"])
    err = one_line_error(capsys, ["label", str(folder), "--out", out, "--roi", "0,0,100,100"])
    assert "does not fit" in err
    assert "live source" in one_line_error(capsys, ["label", "sim", "--out", out])
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert "is a file" in one_line_error(capsys, ["label", str(folder), "--out", str(blocker)])
    # offscreen in the tests: there is no display to click on
    assert "needs a display" in one_line_error(capsys, ["label", str(folder), "--out", out])
    with pytest.raises(SystemExit) as exc:
        main(["label", str(folder)])  # --out missing
    assert exc.value.code == 2


def test_a_case_that_is_not_hand_labels_is_refused(capsys, tmp_path, folder):  # noqa: ANN001
    case = tmp_path / "case"
    case.mkdir()
    (case / "truth.json").write_text(json.dumps({"format": "usguide-sim-truth", "frames": []}))
    shot = str(tmp_path / "shot.png")
    err = one_line_error(capsys, ["label", str(folder), "--out", str(case), "--screenshot", shot])
    assert "not written by usguide label" in err
    other = LabelState(8, 100, 100, 30.0)
    other.save(case / "truth.json")
    err = one_line_error(capsys, ["label", str(folder), "--out", str(case), "--screenshot", shot])
    assert "100x100" in err


def test_screenshot_opens_and_resumes_a_case(capsys, tmp_path, folder):  # noqa: ANN001
    case = tmp_path / "labels" / "case"
    state = LabelState(8, 64, 48, 30.0, mm_per_px=0.5)
    state.set_key(KeyFrame(1, True, entry=Point(63, 5), tip=Point(30, 20)))
    state.set_key(KeyFrame(5, True, entry=Point(63, 9), tip=Point(20, 30)))
    state.save(case / "truth.json")
    shot = tmp_path / "shot.png"
    argv = ["label", str(folder), "--out", str(case), "--screenshot", str(shot), "--depth-mm", "12"]
    assert main(argv) == 0
    assert "2 key frames, 8 frames" in capsys.readouterr().out
    image = cv2.imread(str(shot))
    assert image is not None and image.shape[0] > 100
    # the labels are kept; the scale given on the command line replaces the saved one
    data = json.loads((case / "truth.json").read_text())
    assert data["mm_per_px"] == 0.25 and len(data["frames"]) == 5
    assert data["source"] == "../../frames"


def test_frame_cache_gives_any_frame_by_index(folder):  # noqa: ANN001
    source = make_source(str(folder))
    with source:
        first = source.read()
        frames = FrameCache(source, first, size=3)
        assert len(frames) == 8
        for index in (5, 6, 2, 7, 0, 3, 3):
            assert frames[index][0, 0] == 20 * index
        assert len(frames._cache) == 3
        with pytest.raises(IndexError):
            frames[8]


def test_source_field_is_relative_to_the_case_folder(tmp_path, folder):  # noqa: ANN001
    case = tmp_path / "labels" / "case"
    assert source_field(str(folder), case) == "../../frames"
    assert source_field("demo", case) == "demo"
