"""Tests for ``usguide simulate`` (clip folders and truth.json) and the SimulatorSource."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from usguide.cli import main
from usguide.errors import UsguideError
from usguide.sources import simulator as source_mod
from usguide.sources.base import FrameSource
from usguide.sources.simulator import SimulatorSource
from usguide.types import SourceState

FRAME_KEYS = {"frame", "visible", "needle_present", "tip", "entry", "angle_deg", "contrast"}
FRAME_KEYS |= {"gauge", "medium", "geometry", "needle_style"}  # the clip's strata, in every frame


def _run(tmp_path: Path, *extra: str) -> Path:
    out = tmp_path / "sim"
    argv = ["simulate", "--out", str(out), "--clips", "2", "--seed", "3", "--frames", "6"]
    assert main(argv + ["--size", "160x120", *extra]) == 0
    return out


def test_simulate_writes_clips_in_the_truth_format(tmp_path: Path, capsys) -> None:
    out = _run(tmp_path, "--variant", "linear")
    assert sorted(p.name for p in out.iterdir()) == ["clip_0000", "clip_0001"]
    truth = json.loads((out / "clip_0000" / "truth.json").read_text())
    assert truth["format"] == "usguide-sim-truth" and truth["version"] == 1
    assert truth["seed"] == 3 and truth["variant"] == "linear" and truth["probe"] == "linear"
    assert truth["fps"] == 30.0 and (truth["width"], truth["height"]) == (160, 120)
    assert truth["roi"] == [0, 0, 160, 120]
    image_height = truth["image_box"][3]  # the image may be shorter than the frame (margins)
    assert truth["mm_per_px"] == pytest.approx(truth["depth_mm"] / image_height, rel=1e-4)
    assert [f["frame"] for f in truth["frames"]] == list(range(6))
    for frame in truth["frames"]:
        assert set(frame) == FRAME_KEYS
        if frame["visible"]:
            assert len(frame["tip"]) == 2 and len(frame["entry"]) == 2
            assert 0 <= frame["angle_deg"] <= 90
            assert frame["contrast"] >= 1.5  # visible means at least 1.5x the tissue echo
        else:
            assert frame["tip"] is None and frame["entry"] is None and frame["angle_deg"] is None
            assert frame["contrast"] is None
    assert json.loads((out / "clip_0001" / "truth.json").read_text())["seed"] == 4
    capture = cv2.VideoCapture(str(out / "clip_0000" / "video.mkv"))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image)
    assert len(frames) == 6 and frames[0].shape[:2] == (120, 160)
    assert "clip 2/2" in capsys.readouterr().err


def test_simulate_is_deterministic_and_lossless(tmp_path: Path) -> None:
    from usguide.simulate import SimConfig, simulate_clip

    out = _run(tmp_path, "--variant", "no_needle")
    capture = cv2.VideoCapture(str(out / "clip_0001" / "video.mkv"))
    ok, image = capture.read()
    assert ok
    expected = next(simulate_clip(SimConfig(seed=4, variant="no_needle", width=160, height=120)))
    assert np.array_equal(image[..., 0], expected.image)
    again = json.loads(
        (
            _run(tmp_path / "again", "--variant", "no_needle") / "clip_0001" / "truth.json"
        ).read_text()
    )
    assert again == json.loads((out / "clip_0001" / "truth.json").read_text())
    assert not any(f["needle_present"] for f in again["frames"])


@pytest.mark.parametrize(
    "argv",
    [
        ["simulate", "--out", "X", "--variant", "sector"],
        ["simulate", "--out", "X", "--size", "big"],
        ["simulate", "--out", "X", "--clips", "0"],
        ["simulate", "--out", "X", "--size", "10x10"],
        ["simulate"],
    ],
)
def test_bad_options_exit_2(tmp_path: Path, argv: list[str], capsys) -> None:
    argv = [str(tmp_path / a) if a == "X" else a for a in argv]
    try:
        code = main(argv)
    except SystemExit as exc:  # refused by the option parser (--clips 0)
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("usguide: error:") and err.count("\n") == 1


def test_source_is_live_with_calibration_and_truth(monkeypatch) -> None:
    monkeypatch.setattr(source_mod, "CLIP_FRAMES", 3)
    source = SimulatorSource("linear", seed=2, width=160, height=120, realtime=False, loop=False)
    assert isinstance(source, FrameSource)
    with source:
        info = source.info
        assert info.live and info.kind == "simulator" and info.frame_count is None
        assert (info.width, info.height) == (160, 120)
        frames = [source.read() for _ in range(3)]
        assert [f.index for f in frames] == [0, 1, 2]
        assert all(f.calibration.mm_per_px == source.last_truth.mm_per_px for f in frames)
        assert frames[0].calibration.roi == source.last_truth.roi
        assert frames[1].t_capture_ns > frames[0].t_capture_ns
        assert source.read() is None and source.state == SourceState.ENDED


def test_source_loops_into_new_clips(monkeypatch) -> None:
    monkeypatch.setattr(source_mod, "CLIP_FRAMES", 2)
    source = SimulatorSource("no_needle", seed=0, width=160, height=120, realtime=False, loop=True)
    source.open()
    images = [source.read().image for _ in range(5)]
    source.close()
    assert all(image is not None for image in images)
    assert source.state == SourceState.ENDED


def test_source_rejects_unknown_variant() -> None:
    with pytest.raises(UsguideError):
        SimulatorSource("phased")


def test_demo_writes_a_session_with_truth(tmp_path: Path, monkeypatch) -> None:
    import dataclasses

    from usguide.simulate import export
    from usguide.sources.recording import RecordingSource

    small = dataclasses.replace(export.DEMO_CONFIG, n_frames=6, width=160, height=120)
    monkeypatch.setattr(export, "DEMO_CONFIG", small)
    out = tmp_path / "demo"
    assert main(["simulate", "--demo", str(out)]) == 0
    truth = json.loads((out / "truth.json").read_text())
    assert truth["format"] == "usguide-sim-truth" and len(truth["frames"]) == 6
    meta = json.loads((out / "meta.json").read_text())
    assert meta["complete"] and meta["frame_count"] == 6
    assert meta["calibration"]["mm_per_px"] == pytest.approx(truth["mm_per_px"], rel=1e-4)
    with RecordingSource(out) as recording:
        assert recording.info.frame_count == 6


def test_bundled_demo_is_small_and_labelled() -> None:
    from usguide.paths import demo_recording_path

    demo = demo_recording_path()
    if not (demo / "truth.json").exists():
        pytest.skip("the bundled demo has not been generated (usguide simulate --demo)")
    total = sum(p.stat().st_size for p in demo.iterdir() if p.is_file())
    assert total <= 6_000_000
    truth = json.loads((demo / "truth.json").read_text())
    meta = json.loads((demo / "meta.json").read_text())
    assert len(truth["frames"]) == meta["frame_count"] >= 180
    assert sum(f["visible"] for f in truth["frames"]) > 0.8 * len(truth["frames"])
