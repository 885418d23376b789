"""Backgrounds for painted needles: real needle-free crops, phantoms, water baths and convex fans.

Drawn at model-input size from the Generator given, so a seeded training run repeats; used by
:mod:`usguide.training.composite`.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from usguide.detect.model_input import Placement, letterbox, letterbox_placement
from usguide.simulate.real_frames import random_crop


@functools.lru_cache(maxsize=4)
def grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    return ys, xs


def real_background(frames: list[np.ndarray], size: int, rng: np.random.Generator) -> np.ndarray:
    """A random crop of a real frame, letterboxed into a size x size canvas."""
    crop = random_crop(frames, rng, (0.35, 1.0), (0.6, 1.4))
    crop_h, crop_w = crop.shape
    fitted = letterbox_placement(crop_w, crop_h, size, multiple=1)
    placement = Placement(fitted.content_w, fitted.content_h, size, size, fitted.scale)
    return letterbox(crop, placement)


def phantom_background(size: int, rng: np.random.Generator) -> np.ndarray:
    """A gel/agar/PVA phantom or a water bath: uniform speckle, container walls, surface line."""
    grain = rng.uniform(1.0, 3.5)
    speckle = rng.rayleigh(1.0, (size, size)).astype(np.float32)
    speckle = cv2.GaussianBlur(speckle, (0, 0), sigmaX=grain * rng.uniform(1.0, 2.0), sigmaY=grain)
    speckle /= max(1e-6, float(speckle.mean()))
    level = rng.uniform(30, 120)
    canvas = speckle * level
    water = rng.random() < 0.3
    if water:
        canvas *= rng.uniform(0.02, 0.12)
    elif rng.random() < 0.6:  # a container: speckle inside, dark water outside, bright walls
        outline = _container_outline(size, rng)
        inside = np.zeros((size, size), np.float32)
        cv2.fillPoly(inside, [outline], 1.0)
        canvas = canvas * (inside + (1 - inside) * rng.uniform(0.02, 0.15))
        wall = np.zeros_like(canvas)
        cv2.polylines(wall, [outline], True, 1.0, int(rng.integers(1, 4)))
        canvas += wall * rng.uniform(60, 200)
    if rng.random() < 0.6:  # probe-surface / coupling line along the top
        top = int(rng.integers(0, max(2, size // 20)))
        thickness = int(rng.integers(1, 5))
        canvas[top : top + thickness] += rng.uniform(80, 220)
    canvas *= np.linspace(1.0, rng.uniform(0.5, 1.1), size, dtype=np.float32)[:, None]
    return np.clip(canvas, 0, 255).astype(np.uint8)


def _container_outline(size: int, rng: np.random.Generator) -> np.ndarray:
    """A phantom container's walls and floor as a polygon (int32 (4, 2)), often tilted: the probe
    is rarely square to the box, and a straight steep wall must stay "not a needle"."""
    tilt = math.tan(math.radians(rng.uniform(-20, 20) if rng.random() < 0.6 else 0.0))
    left = rng.uniform(-0.3, 0.3) * size
    right = size - rng.uniform(-0.3, 0.3) * size
    bottom = rng.uniform(0.6, 1.3) * size
    centre_x, centre_y = (left + right) / 2, bottom / 2
    top = -10.0 - size  # the open top stays above the image, however the box is turned
    turned = [
        (x - (y - centre_y) * tilt, y + (x - centre_x) * tilt)  # small rotation about the centre
        for x, y in [(left, top), (right, top), (right, bottom), (left, bottom)]
    ]
    return np.round(np.array(turned)).astype(np.int32)


def fan_mask(size: int, rng: np.random.Generator) -> np.ndarray:
    """A convex-probe sector of random opening, apex and radius (True inside)."""
    opening = math.radians(rng.uniform(30, 100))
    apex_y = -rng.uniform(0.05, 0.8) * size
    apex_x = size / 2 + rng.uniform(-0.1, 0.1) * size
    inner = -apex_y + rng.uniform(0.0, 0.1) * size
    outer = inner + rng.uniform(0.7, 1.1) * size
    ys, xs = grid(size)
    radius = np.hypot(xs - apex_x, ys - apex_y)
    angle = np.arctan2(xs - apex_x, ys - apex_y)
    return (np.abs(angle) <= opening / 2) & (radius >= inner) & (radius <= outer)
