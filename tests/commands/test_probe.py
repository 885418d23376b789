"""``usguide probe``: one JSON object per input, --detect-roi, one-line errors with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from pydicom.data import get_testdata_file

from usguide.cli import main


def probe_json(capsys, *argv) -> dict:
    assert main(["probe", *argv]) == 0
    out = capsys.readouterr().out.strip()
    assert "\n" not in out
    return json.loads(out)


def test_probe_dicom(capsys):
    result = probe_json(capsys, get_testdata_file("OBXXXX1A.dcm"))
    assert result["kind"] == "dicom" and result["name"] == "OBXXXX1A.dcm"
    assert (result["width"], result["height"], result["frame_count"], result["live"]) == (
        800,
        600,
        1,
        False,
    )
    assert abs(result["mm_per_px"] - 0.2623) < 0.0005
    assert result["roi"] == [120, 60, 680, 458]
    assert result["scale_source"] == "dicom"


def test_probe_video_with_overrides(capsys, tmp_path):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 20, (160, 120))
    for i in range(6):
        writer.write(np.full((120, 160, 3), i * 30, np.uint8))
    writer.release()
    result = probe_json(capsys, str(path), "--roi", "10,10,100,80", "--mm-per-px", "0.25")
    assert result == {
        "kind": "video",
        "name": "clip.avi",
        "width": 160,
        "height": 120,
        "fps": 20.0,
        "frame_count": 6,
        "live": False,
        "mm_per_px": 0.25,
        "scale_source": "user",
        "roi": [10, 10, 100, 80],
    }


def test_probe_detect_roi(capsys, tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "screens"
    folder.mkdir()
    for i in range(4):
        screen = np.full((360, 480), 15, np.uint8)
        cv2.putText(screen, "GAIN 50  DEPTH 4cm", (10, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 220, 1)
        speckle = np.clip(rng.rayleigh(1.0, (250, 300)) * 60, 0, 255).astype(np.uint8)
        screen[60:310, 100:400] = speckle
        cv2.imwrite(str(folder / f"{i:03d}.png"), screen)
    result = probe_json(capsys, str(folder), "--detect-roi")
    assert result["roi"] is None
    found = result["roi_detected"]
    assert all(abs(a - b) <= 4 for a, b in zip(found, [100, 60, 300, 250], strict=False))
    # No depth ruler on this screen: the scale stays unknown, and says why.
    assert result["ruler"] is None and result["mm_per_px"] is None
    assert result["scale_source"] == "unknown"
    assert result["ruler_message"].startswith("scale unknown")


def test_probe_reads_the_real_clip_ruler(capsys, real_clip):
    result = probe_json(capsys, str(real_clip), "--detect-roi")
    assert result["scale_source"] == "ruler"
    assert result["mm_per_px"] == pytest.approx(0.035383, rel=0.02)
    typed = probe_json(capsys, str(real_clip), "--detect-roi", "--depth-mm", "40")
    assert typed["scale_source"] == "user"
    assert "check the depth" in typed["scale_warning"]


def run_cli(*argv):
    return subprocess.run(
        [sys.executable, "-m", "usguide", "probe", *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_line_error(proc, fragment):
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("usguide: error: ") and fragment in last


def test_errors_through_the_cli(tmp_path):
    assert_one_line_error(run_cli(str(tmp_path / "missing.mp4")), "input not found")
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x01junk" * 5000)
    proc = run_cli(str(garbage))
    assert_one_line_error(proc, "corrupt")
    assert len(proc.stderr.strip().splitlines()) == 1  # no FFmpeg/OpenCV chatter either
    assert_one_line_error(run_cli("/dev/video9"), "no capture device at /dev/video9")


@pytest.mark.parametrize(
    "options,fragment",
    [
        (["--roi", "700,0,200,100"], "does not fit"),
        (["--roi", "1,2"], "bad --roi"),
        (["--mm-per-px", "-1"], "argument --mm-per-px: the value is '-1'"),
        (["--depth-mm", "0"], "argument --depth-mm: the value is '0'"),
    ],
)
def test_option_errors_in_process(capsys, options, fragment):
    try:
        code = main(["probe", get_testdata_file("OBXXXX1A.dcm"), *options])
    except SystemExit as exc:  # refused by the option parser
        code = exc.code
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and fragment in captured.err


def test_non_image_dicom_and_truncated_video(capsys, tmp_path):
    assert main(["probe", get_testdata_file("rtplan.dcm")]) == 2
    assert "has no pixel data" in capsys.readouterr().err
    truncated = tmp_path / "cut.avi"
    truncated.write_bytes(b"RIFF" + bytes(2000))
    assert main(["probe", str(truncated)]) == 2
    assert "corrupt" in capsys.readouterr().err


def test_bad_roi_in_process(capsys):
    assert main(["probe", get_testdata_file("OBXXXX1A.dcm"), "--roi", "a,b,c,d"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad --roi" in err
