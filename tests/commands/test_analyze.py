"""``usguide analyze``: output schema, one line per frame, full-frame coordinates with a region,
the sidecar, media time and target, plain progress when redirected, exit codes."""

import json
import math
import subprocess
import sys

import cv2
import numpy as np
import pytest

from usguide.cli import main

ROI = (40, 30, 240, 180)  # x, y, w, h inside a 320x240 frame
START, END = (30, 20), (200, 130)  # line in region pixels: entry upper left, tip deeper right
FRAMES = 6


@pytest.fixture
def line_video(tmp_path):
    path = tmp_path / "line.mkv"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), 30.0, (320, 240))
    assert writer.isOpened()
    rng = np.random.default_rng(0)
    x, y, w, h = ROI
    for index in range(FRAMES):
        frame = np.zeros((240, 320, 3), np.uint8)
        frame[:, :] = (0, 80, 0)  # coloured surround (a UI) outside the image region
        region = cv2.GaussianBlur(rng.rayleigh(25, (h, w)).astype(np.float32), (0, 0), 1.0)
        # The needle advances (the classical detector ignores lines that never move) and reaches
        # END in the last frame.
        reach = 0.6 + 0.4 * index / (FRAMES - 1)
        tip = tuple(round(a + reach * (b - a)) for a, b in zip(START, END, strict=True))
        cv2.line(region, START, tip, 180, 3)
        frame[y : y + h, x : x + w] = np.clip(region, 0, 255).astype(np.uint8)[:, :, None]
        writer.write(frame)
    writer.release()
    return path


def run_analyze(args):
    return main(["analyze", *map(str, args)])


def test_schema_and_full_frame_coordinates(line_video, tmp_path, capsys):
    out = tmp_path / "result.jsonl"
    roi_text = ",".join(map(str, ROI))
    code = run_analyze(
        [line_video, "--out", out, "--roi", roi_text, "--mm-per-px", 0.1, "--detector", "classical"]
    )
    assert code == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["frame"] for line in lines] == list(range(FRAMES))
    for line in lines:
        assert set(line) >= {"frame", "needle", "latency_ms"}
        assert set(line["latency_ms"]) >= {"preprocess", "inference", "postprocess", "tracking"}
    # The tracker confirms the needle after three frames.
    assert lines[0]["needle"] is None
    last = lines[-1]
    needle = last["needle"]
    assert set(needle) == {"tip", "entry", "confidence", "angle_deg", "predicted"}
    tip_full = (END[0] + ROI[0], END[1] + ROI[1])
    assert math.dist(needle["tip"], tip_full) < 10
    assert needle["angle_deg"] == pytest.approx(math.degrees(math.atan2(110, 170)), abs=3)
    assert needle["predicted"] is False
    assert last["mm_per_px"] == 0.1
    assert last["tip_mm"] == pytest.approx([END[0] * 0.1, END[1] * 0.1], abs=1.0)
    assert "frames" in capsys.readouterr().err


def test_unwritable_out_is_one_line_error(line_video, tmp_path, capsys):
    code = run_analyze(
        [line_video, "--out", tmp_path / "missing" / "r.jsonl", "--detector", "classical"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("usguide: error:") and err.count("\n") == 1


def test_bad_model_path_exit_2_one_line(line_video, tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "usguide",
            "analyze",
            str(line_video),
            "--out",
            str(tmp_path / "r.jsonl"),
            "--model",
            str(tmp_path / "nope.onnx"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("usguide: error:")


def test_sidecar_media_time_and_target(line_video, tmp_path):
    out = tmp_path / "result.jsonl"
    roi_text = ",".join(map(str, ROI))
    target = (END[0] + ROI[0] + 20, END[1] + ROI[1] + 10)  # beyond the tip, off the line
    code = run_analyze(
        [line_video, "--out", out, "--roi", roi_text, "--mm-per-px", 0.1]
        + ["--detector", "classical", "--target", f"{target[0]},{target[1]}", "-q"]
    )
    assert code == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == FRAMES  # still exactly one object per frame, in order
    # Matroska keeps times in whole milliseconds.
    times = [line["time_s"] for line in lines]
    assert times == pytest.approx([i / 30 for i in range(FRAMES)], abs=1e-3)
    trajectory = lines[-1]["trajectory"]
    assert trajectory["target"] == list(map(float, target))
    # The target lies 10 px (x) and 20 px (y) from the tip: along the shaft about 2 mm, off it
    # about 1 mm at 0.1 mm/px (the line runs at atan(110/170) = 33 degrees).
    assert trajectory["along_mm"] == pytest.approx(2.2, abs=0.6)
    assert abs(trajectory["miss_mm"]) == pytest.approx(0.3, abs=0.6)

    meta = json.loads((tmp_path / "result.meta.json").read_text())
    assert meta["format"] == "usguide-analyze" and meta["format_version"] == 1
    assert meta["model"] == {"detector": "classical"}
    assert meta["source"]["name"] == "line.mkv" and meta["source"]["kind"] == "video"
    assert meta["calibration"] == {"mm_per_px": 0.1, "scale_source": "user", "roi": list(ROI)}
    assert meta["target"] == list(map(float, target))
    assert meta["frames"] == FRAMES and meta["frames_skipped"] == 0
    assert meta["partial"] is False and meta["tracking"] is True


def test_sidecar_names_the_model_and_hides_a_dicom_name(tmp_path):
    from usguide.analysis.analyzer import FrameAnalyzer
    from usguide.commands.analyze import _Run, meta_path, sidecar
    from usguide.detect.classical import ClassicalDetector
    from usguide.types import SourceInfo

    class Model:
        name = "onnx"
        path = tmp_path / "models" / "needle.onnx"
        model_hash = "0123456789ab"
        metadata = {"usguide.format": "usguide-needle-v1", "usguide.model_version": "4"}

    info = SourceInfo("DOE_JOHN_1961.dcm", "dicom", 640, 480, 20.0, False, 12)
    analyzer = FrameAnalyzer(ClassicalDetector())
    meta = sidecar(info, Model(), analyzer, _Run(), tracking=True, skipped=2, lost=False)
    assert "DOE" not in json.dumps(meta)
    assert meta["model"] == {
        "detector": "onnx",
        "file": "needle.onnx",
        "format": "usguide-needle-v1",
        "version": "4",
        "written_by": None,
        "sha256": "0123456789ab",
    }
    assert meta["partial"] is True and meta["frames_skipped"] == 2
    assert meta_path(tmp_path / "a.jsonl").name == "a.meta.json"
    assert meta_path(tmp_path / "a.out").name == "a.out.meta.json"


def test_target_outside_the_frame_is_exit_2(line_video, tmp_path, capsys):
    code = run_analyze(
        [line_video, "--out", tmp_path / "r.jsonl", "--detector", "classical"]
        + ["--target", "320,10"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "outside the 320x240 frame" in err


def test_redirected_stderr_has_plain_lines(line_video, tmp_path):
    log = tmp_path / "log"
    with log.open("w") as stderr:
        proc = subprocess.run(
            [sys.executable, "-m", "usguide", "analyze", str(line_video)]
            + ["--out", str(tmp_path / "r.jsonl"), "--detector", "classical"],
            stderr=stderr,
            timeout=60,
        )
    assert proc.returncode == 0
    text = log.read_text()
    assert "\r" not in text
    lines = text.splitlines()
    assert lines and all(line.startswith(("analyze: ", "usguide: ")) for line in lines)
    assert lines[-1].startswith(f"analyze: {FRAMES} frames, needle in ")


def test_lost_device_is_runtime_failure_exit_1(line_video, tmp_path, monkeypatch, capsys):
    import dataclasses

    from usguide.sources import factory
    from usguide.sources.base import WrappedSource
    from usguide.types import SourceState

    class DiesAfterThree(WrappedSource):
        """A live device whose signal goes after three frames."""

        reads = 0

        @property
        def info(self):
            return dataclasses.replace(self.inner.info, live=True, name="device:0")

        @property
        def state(self):
            return SourceState.LOST if self.reads > 3 else SourceState.CONNECTED

        def read(self):
            self.reads += 1
            return self.inner.read() if self.reads <= 3 else None

    real = factory.source_from_args
    monkeypatch.setattr(factory, "source_from_args", lambda *a: DiesAfterThree(real(*a)))
    out = tmp_path / "r.jsonl"
    assert run_analyze([line_video, "--out", out, "--detector", "classical", "-q"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "device:0 was lost after 3 frames" in err
    assert len(out.read_text().splitlines()) == 3
    meta = json.loads((tmp_path / "r.meta.json").read_text())
    assert meta["partial"] is True and meta["source_lost"] is True and meta["frames"] == 3
