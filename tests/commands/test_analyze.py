"""``usguide analyze``: output schema, one line per frame, full-frame coordinates with a region."""

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
