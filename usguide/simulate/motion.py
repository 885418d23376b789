"""Tissue and probe motion: hand jitter, breathing-like compression and probe slide, applied by
warping the clip's one speckle field (so speckle moves with the tissue) and moving the needle alike.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from usguide.simulate.needle import NeedlePose
from usguide.simulate.probe import ProbeGeometry


def _smooth_noise(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    chunk = 600 * (n // 600 + 1)  # fixed length: the first frames do not depend on the clip length
    raw = rng.standard_normal((1, chunk)).astype(np.float32)
    out = cv2.GaussianBlur(raw, (0, 0), sigma)[0]
    return (out / (out.std() + 1e-6))[:n]


class Motion:
    """Per-frame lateral shift (beams) and axial scale of the tissue relative to the probe."""

    def __init__(
        self,
        rng: np.random.Generator,
        n_frames: int,
        fps: float,
        geometry: ProbeGeometry,
        pad: int,
        strength: float,
    ) -> None:
        t = np.arange(n_frames) / fps
        jitter_mm = float(rng.uniform(0.05, 0.25)) * _smooth_noise(rng, n_frames, fps * 0.15)
        period = float(rng.uniform(3.0, 5.5))
        phase = float(rng.uniform(0, 2 * np.pi))
        breath = np.sin(2 * np.pi * t / period + phase)
        slide_speed = float(rng.uniform(-1.0, 1.0)) if rng.random() < 0.4 else 0.0  # mm/s
        lateral_mm = jitter_mm + 0.3 * breath * float(rng.uniform(0, 1)) + slide_speed * t
        self.geometry, self.pad = geometry, pad
        mid = geometry.depth_mm * 0.5
        if geometry.kind == "linear":
            self.beam_mm = geometry.mm_per_px
        else:
            self.beam_mm = (
                (geometry.radius_mm + mid) * 2 * geometry.half_angle / (geometry.n_beams - 1)
            )
        self.dx = np.clip(strength * lateral_mm / self.beam_mm, -0.9 * pad, 0.9 * pad)
        self.scale = 1.0 + strength * float(rng.uniform(0.003, 0.02)) * breath

    def warp(self, envelope: np.ndarray, index: int) -> np.ndarray:
        """The tissue as the probe sees it in frame ``index`` (a new float32 beam-space array)."""
        geo = self.geometry
        matrix = np.array(
            [[1.0, 0.0, self.pad + self.dx[index]], [0.0, self.scale[index], 0.0]], np.float64
        )
        return cv2.warpAffine(
            envelope,
            matrix,
            (geo.n_beams, geo.n_samples),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REFLECT,
        )

    def move_needle(self, pose: NeedlePose, index: int) -> NeedlePose:
        """The needle moves with the tissue it is in."""
        shift = float(self.dx[index]) * self.beam_mm
        if self.geometry.kind == "linear":
            pose.origin = pose.origin - np.array([shift, 0.0])
            return pose
        dtheta = -shift / (self.geometry.radius_mm + self.geometry.depth_mm * 0.5)
        c, s = math.cos(dtheta), math.sin(dtheta)
        apex = np.array([0.0, -self.geometry.radius_mm])
        rot = np.array([[c, s], [-s, c]])
        pose.origin = apex + rot @ (pose.origin - apex)
        pose.direction = rot @ pose.direction
        return pose
