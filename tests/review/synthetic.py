"""A synthetic needle track with known answers, shared by the review tests."""

from __future__ import annotations

import math

import numpy as np

from usguide.review.track import NeedleTrack, empty_track
from usguide.types import Calibration, Roi

FPS = 30.0
MM_PER_PX = 0.1
ANGLE_DEG = 30.0
ENTRY = (0.0, 20.0)  # px, on the region's left edge
# Insertion length (mm) keyframes: in at 1 s, advance, withdraw 6 mm, re-advance, a 1 mm wobble.
KEYS_T = [1.0, 3.0, 4.0, 6.0, 7.5, 7.75, 8.0, 10.0]
KEYS_L = [0.0, 20.0, 14.0, 30.0, 30.0, 29.0, 30.0, 30.0]
TRUE_PATH_MM = 20 + 6 + 16 + 1 + 1
LOST = (6.2, 7.0)  # the tracker predicts: one lost episode of 0.8 s
SHORT_GAP = (8.5, 8.8)  # shorter than 0.5 s: not an episode
TARGET_L_MM, TARGET_OFFSET_MM = 29.0, 1.0  # 1 mm beside the shaft's line, 29 mm in


def length_mm(t: np.ndarray) -> np.ndarray:
    return np.interp(t, KEYS_T, KEYS_L)


def direction() -> np.ndarray:
    a = math.radians(ANGLE_DEG)
    return np.array([math.cos(a), math.sin(a)])


def target_px() -> tuple[float, float]:
    d = direction()
    normal = np.array([-d[1], d[0]])
    p = np.array(ENTRY) + (TARGET_L_MM * d + TARGET_OFFSET_MM * normal) / MM_PER_PX
    return float(p[0]), float(p[1])


def synthetic_track(seed: int = 0, noise_px: float = 0.3, with_target: bool = True) -> NeedleTrack:
    rng = np.random.default_rng(seed)
    t = np.arange(int(10.0 * FPS)) / FPS
    track = empty_track(t, Calibration(MM_PER_PX, Roi(0, 0, 400, 300)))
    inside = t >= KEYS_T[0]
    tips = np.array(ENTRY) + (length_mm(t) / MM_PER_PX)[:, None] * direction()[None, :]
    tips = tips + rng.normal(0, noise_px, tips.shape)
    track.tip_px[inside] = tips[inside]
    track.entry_px[inside] = ENTRY
    track.angle_deg[inside] = ANGLE_DEG + rng.normal(0, 0.5, int(inside.sum()))
    track.present[inside] = True
    track.measured[inside] = True
    for start, end in (LOST, SHORT_GAP):
        track.measured[(t > start) & (t < end)] = False
    if with_target:
        track.target_px[:] = target_px()
    track.latency_ms[:] = np.arange(len(t)) % 10 + 20.0
    return track


def first_time(condition: np.ndarray) -> float:
    t = np.arange(int(10.0 * FPS)) / FPS
    return float(t[np.argmax(condition)])
