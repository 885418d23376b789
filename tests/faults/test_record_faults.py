"""Faults while writing: SIGTERM and SIGKILL during ``usguide record`` (every frame frames.csv
lists decodes), and a full disk (``RLIMIT_FSIZE``: writes past it fail with EFBIG, as on a full
disk) for record, analyze and simulate."""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from usguide.record.reader import SessionReader

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 120  # generous on a loaded machine; past it the command hangs


@pytest.fixture(scope="module")
def slow_clip(tmp_path_factory) -> Path:
    """300 small frames: with --realtime a recording of it lasts 10 s, long enough to kill."""
    path = tmp_path_factory.mktemp("clip") / "clip.mkv"
    writer = cv2.VideoWriter(
        str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"FFV1"), 30.0, (64, 48)
    )
    rng = np.random.default_rng(5)
    for _ in range(300):
        writer.write(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    writer.release()
    return path


def _rows(session: Path) -> int:
    path = session / "frames.csv"
    if not path.is_file():
        return 0
    return max(
        0, sum(1 for line in path.read_text().splitlines(keepends=True) if line.endswith("\n")) - 1
    )


def _record_then(
    signum: int, clip: Path, out: Path, codec: str, delay_s: float = 0.0
) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "usguide",
            "record",
            "--source",
            str(clip),
            "--realtime",
            "--out",
            str(out),
            "--codec",
            codec,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + TIMEOUT_S
    while _rows(out) < 40 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    time.sleep(delay_s)  # a different moment in the segment each run
    assert process.poll() is None, process.communicate()
    process.send_signal(signum)
    process.wait(timeout=TIMEOUT_S)
    return process


def _decodes_every_frame(out: Path) -> int:
    with SessionReader(out) as reader:
        assert reader.rows_ignored == 0
        for _ in range(reader.frame_count):
            assert reader.read_next().shape[:2] == (48, 64)
        return reader.frame_count


def _lost_after(signum: int, clip: Path, out: Path, codec: str, delay_s: float) -> int:
    """Records, sends ``signum`` and returns how many listed frames do not decode (0 expected)."""
    process = _record_then(signum, clip, out, codec, delay_s)
    _, stderr = process.communicate()
    assert "Traceback" not in stderr, stderr
    listed = _rows(out)
    assert listed >= 40
    if signum == signal.SIGTERM:
        assert process.returncode == 0, stderr
        assert json.loads((out / "meta.json").read_text())["complete"] is True
    return listed - _decodes_every_frame(out)


@pytest.mark.parametrize("codec", ["ffv1", "mjpg"])
def test_sigterm_finishes_the_recording_cleanly(slow_clip, tmp_path, codec) -> None:
    out = tmp_path / "session"
    process = _record_then(signal.SIGTERM, slow_clip, out, codec)
    stdout, stderr = process.communicate()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and "stopped by Ctrl-C or a signal" in stdout
    meta = json.loads((out / "meta.json").read_text())
    assert meta["complete"] is True and meta["frame_count"] == _rows(out) >= 40
    assert not (out / "meta.json.tmp").exists()
    assert _decodes_every_frame(out) == _rows(out)  # every listed frame is in the video


@pytest.mark.parametrize("codec", ["ffv1", "mjpg"])
def test_sigkill_loses_no_listed_frame(slow_clip, tmp_path, codec) -> None:
    assert _lost_after(signal.SIGKILL, slow_clip, tmp_path / "session", codec, 0.0) == 0


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["kill", "term"])
@pytest.mark.parametrize("codec", ["ffv1", "mjpg"])
def test_ten_signals_lose_no_listed_frame(slow_clip, tmp_path, codec, signum) -> None:
    """Ten recordings per codec and signal, each stopped at another moment (seeded)."""
    delays = random.Random(20).sample(range(0, 1000, 37), 10)
    lost = [
        _lost_after(signum, slow_clip, tmp_path / f"s{run}", codec, delay_ms / 1000)
        for run, delay_ms in enumerate(delays)
    ]
    assert lost == [0] * 10


def _limit_file_size(limit: int):  # noqa: ANN202
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize("command", ["analyze", "simulate"])
def test_full_disk_is_one_line(slow_clip, tmp_path, command) -> None:
    if command == "analyze":
        argv = [
            "analyze",
            str(slow_clip),
            "--out",
            str(tmp_path / "r.jsonl"),
            "--quiet",
            "--detector",
            "classical",
        ]
    else:
        argv = ["simulate", "--out", str(tmp_path / "clips"), "--frames", "20"]
    done = subprocess.run(
        [sys.executable, "-B", "-m", "usguide", *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        preexec_fn=_limit_file_size(4000),
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert len(lines) == 1 and lines[0].startswith("usguide: error: cannot write"), lines


@pytest.fixture(scope="module")
def filling_clip(tmp_path_factory) -> Path:
    """120 flat frames (tiny once encoded), then 180 of noise: with 30-frame segments the first
    four segments fit under the test's file-size limit and the fifth does not."""
    path = tmp_path_factory.mktemp("filling") / "clip.mkv"
    writer = cv2.VideoWriter(
        str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"FFV1"), 30.0, (64, 48)
    )
    rng = np.random.default_rng(6)
    for i in range(300):
        flat = np.full((48, 64, 3), 40 + i % 100, np.uint8)
        writer.write(flat if i < 120 else rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    writer.release()
    return path


@pytest.mark.parametrize("codec", ["ffv1", "mjpg"])
def test_disk_full_while_recording(filling_clip, tmp_path, codec) -> None:
    """A video segment hits the size limit mid-recording (OpenCV's MJPEG writer reports nothing):
    one line, exit 2, the error in meta.json, no stray temporary or broken segment, and every
    frame frames.csv lists decodes."""
    out = tmp_path / "session"
    done = subprocess.run(
        [
            sys.executable,
            "-B",
            "-m",
            "usguide",
            "record",
            "--source",
            str(filling_clip),
            "--out",
            str(out),
            "--codec",
            codec,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        preexec_fn=_limit_file_size(100_000),
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert len(lines) == 1 and "recording stopped" in lines[0] and "disk full" in lines[0], lines
    meta = json.loads((out / "meta.json").read_text())
    assert meta["complete"] is True and "disk full" in meta["error"]
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith("video-")) == [
        "frames.csv",
        "meta.json",
    ]
    assert len(list(out.glob("video-*"))) == 4  # the failed segment is removed
    assert _rows(out) == 120 == meta["frame_count"]
    with SessionReader(out) as reader:
        assert reader.frame_count == 120 and reader.rows_ignored == 0
        for _ in range(120):
            reader.read_next()
