"""``usguide run --screenshot`` end to end, and the display's Qt-free helpers.

The helpers are the overlay geometry and the GUI-thread paint timing.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from usguide.gui.paint_stats import PaintStats
from usguide.track.trajectory import path_end, target_readout
from usguide.types import Needle, Point, Roi


def test_run_screenshot_writes_png(tmp_path):  # noqa: ANN001
    out = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    command = [sys.executable, "-m", "usguide", "run", "--source", "sim", "--detector", "classical"]
    done = subprocess.run(
        [*command, "--depth-mm", "40", "--screenshot", str(out), "--frames", "5"],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_bad_source_is_one_line_error(tmp_path):  # noqa: ANN001
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "usguide",
            "run",
            "--source",
            str(tmp_path / "nope.mp4"),
            "--screenshot",
            str(tmp_path / "x.png"),
            "--frames",
            "2",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "usguide: error: input not found" in done.stderr
    assert "Traceback" not in done.stderr


def test_target_readout_along_and_miss():
    needle = Needle(tip=Point(100, 100), entry=Point(0, 100), confidence=1.0, angle_deg=0.0)
    readout = target_readout(needle, Point(150, 130), mm_per_px=0.2)
    assert readout.along_mm == pytest.approx(10.0)
    assert readout.miss_mm == pytest.approx(6.0)
    assert not readout.on_target(2.0)
    assert target_readout(needle, Point(150, 105), 0.2).on_target(2.0)
    assert not target_readout(needle, Point(50, 100), 0.2).on_target(2.0)  # behind the tip
    unscaled = target_readout(needle, Point(150, 130), None)
    assert unscaled.along_mm is None and unscaled.miss_px == pytest.approx(30.0)


def test_path_end_reaches_region_edge():
    needle = Needle(tip=Point(100, 100), entry=Point(50, 50), confidence=1.0, angle_deg=45.0)
    end = path_end(needle, Roi(0, 0, 300, 200))
    assert end.y == pytest.approx(199.0, abs=1.0) and end.x == pytest.approx(end.y)


def test_paint_stats_adds_render_to_update_and_skips_warmup():
    stats = PaintStats(warmup=1)
    stats.add_update(5_000_000, now_ns=0)  # warm-up: not counted
    stats.add_update(2_000_000, now_ns=100_000_000)
    stats.add_render(1_000_000)
    stats.add_update(4_000_000, now_ns=200_000_000)
    summary = stats.summary()
    assert summary.frames == 3
    assert summary.max_ms == pytest.approx(4.0) and summary.p50_ms == pytest.approx(3.5)
    assert stats.display_fps(now_ns=200_000_000) == pytest.approx(10.0)


def test_paint_stats_cpu_per_frame_is_the_gui_thread_time_between_painted_frames():
    stats = PaintStats(warmup=1)
    for cpu_ms in (0, 100, 103, 109, 110):  # warm-up, its next frame, then 3 costed frames
        stats.add_update(1_000_000, now_ns=cpu_ms * 1_000_000, cpu_ns=cpu_ms * 1_000_000)
    summary = stats.summary()
    assert summary.cpu_p50_ms == pytest.approx(3.0) and summary.cpu_p95_ms == pytest.approx(5.7)
    stats.reset()
    assert stats.summary().p95_ms == 0.0 and stats.frames == 5
