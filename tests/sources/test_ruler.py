"""Depth-ruler calibration on simulated scanner screens of every ruler style (exact scale known)
and on the real Clarius clip (a colleague measured 282.6 px per cm: 0.035383 mm/px)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from usguide.simulate.screen import RULER_STYLES, Screen
from usguide.sources.roi_detect import detect_roi
from usguide.sources.ruler import check_depth, read_ruler
from usguide.types import Calibration

SIZES = ((1024, 768), (1280, 720), (800, 600))
REAL_MM_PER_PX = 0.035383


def speckle(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    grains = cv2.GaussianBlur(rng.rayleigh(1.0, (height, width)).astype(np.float32), (0, 0), 1.0)
    depth = np.linspace(1.0, 0.4, height, dtype=np.float32)[:, None]
    return np.clip(grains * 70 * depth, 0, 255).astype(np.uint8)


def screen_frames(style: str | None, size, depth_mm: float, layout: str = "train", seed: int = 0):
    rng = np.random.default_rng(seed)
    screen = Screen(size, "linear", rng, layout=layout)
    if style != "none":
        screen.draw_ruler(depth_mm, style)
    frames = [screen.compose(speckle(rng, screen.roi.h, screen.roi.w), i, 30.0) for i in range(3)]
    return screen, frames


@pytest.mark.parametrize("style", [s for s in RULER_STYLES if s != "dots_alike"])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("depth_mm", [25.0, 70.0])
def test_every_ruler_style_within_one_percent(style, size, depth_mm):
    screen, frames = screen_frames(style, size, depth_mm, seed=int(depth_mm) + size[0])
    reading = read_ruler(frames, screen.roi)
    assert reading.scale is not None, reading.message
    assert reading.scale.mm_per_px == pytest.approx(screen.ruler_mm_per_px, rel=0.01)
    assert reading.scale.major_marks >= 2


@pytest.mark.parametrize("size", SIZES[:2])
def test_held_out_screen_with_its_tick_ruler(size):
    screen, frames = screen_frames(None, size, 45.0, layout="heldout", seed=3)
    reading = read_ruler(frames, screen.roi)
    assert reading.scale is not None, reading.message
    assert reading.scale.side == "left"
    assert reading.scale.mm_per_px == pytest.approx(screen.ruler_mm_per_px, rel=0.01)


def test_with_the_detected_region():
    screen, frames = screen_frames("dots", (1024, 768), 40.0, seed=5)
    reading = read_ruler(frames, detect_roi(frames))
    assert reading.scale is not None, reading.message
    assert reading.scale.mm_per_px == pytest.approx(screen.ruler_mm_per_px, rel=0.01)


def test_alike_marks_need_the_typed_depth():
    screen, frames = screen_frames("dots_alike", (1024, 768), 60.0, seed=7)
    alone = read_ruler(frames, screen.roi)
    assert alone.scale is None
    assert "1 cm or 5 mm" in alone.message
    typed = read_ruler(frames, screen.roi, depth_mm=58.0)  # roughly right: picks 1 cm
    assert typed.scale is not None
    assert typed.scale.mm_per_px == pytest.approx(screen.ruler_mm_per_px, rel=0.01)


@pytest.mark.parametrize("size", SIZES)
def test_no_ruler_is_unknown(size):
    screen, frames = screen_frames("none", size, 40.0, seed=11)
    reading = read_ruler(frames, screen.roi)
    assert reading.scale is None
    assert reading.message.startswith("scale unknown")


def test_plain_speckle_is_unknown():
    rng = np.random.default_rng(2)
    assert read_ruler(speckle(rng, 480, 640)).scale is None


def test_irregular_marks_are_not_a_ruler():
    screen, frames = screen_frames("none", (1024, 768), 40.0, seed=13)
    roi = screen.roi
    x = roi.x + roi.w + 8
    rng = np.random.default_rng(0)
    ys = np.sort(rng.uniform(roi.y + 5, roi.y + roi.h - 5, 9))
    for frame in frames:
        for k, y in enumerate(ys):
            cv2.circle(frame, (x, int(y)), 4 if k % 3 == 0 else 1, (230, 230, 230), -1)
    assert read_ruler(frames, roi).scale is None


def test_depth_cross_check():
    assert check_depth(0.05, 600, 30.0) is None
    message = check_depth(0.05, 600, 40.0)
    assert message is not None and "30.0 mm" in message


def test_calibration_says_where_the_scale_came_from():
    assert Calibration().scale_from == "unknown"
    assert Calibration(mm_per_px=0.1).scale_from == "source"
    assert Calibration(mm_per_px=0.1, scale_source="ruler").scale_from == "ruler"
    assert Calibration(scale_source="ruler").scale_from == "unknown"


def test_real_clip_ruler(real_clip):  # noqa: ANN001
    capture = cv2.VideoCapture(str(real_clip))
    frames = [capture.read()[1] for _ in range(8)]
    capture.release()
    reading = read_ruler(frames, detect_roi(frames))
    assert reading.scale is not None, reading.message
    assert reading.scale.mm_per_px == pytest.approx(REAL_MM_PER_PX, rel=0.01)
    assert reading.scale.side == "right"
    assert reading.scale.step_mm == 2.0
