"""Probe geometry: linear (rectangle) and convex (fan) beams, millimetres per pixel, scan
conversion.

Physical coordinates are millimetres: x lateral (0 at the image centre line), z depth below the skin
at the probe's centre. Image pixel (x, y) has its centre at x_mm = (x + 0.5 - W/2) * s,
z_mm = (y + 0.5) * s with s = mm_per_px = depth_mm / H for both geometries (for the convex probe the
depth is measured along the central beam; the fan's bottom centre touches the image bottom).

Beam space is (n_samples rows = H, n_beams columns): sample r of beam b lies at
origin_b + (r + 0.5) * s * direction_b, where origin_b is on the probe face.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class ProbeGeometry:
    """Exact imaging geometry of one simulated clip."""

    kind: str  # "linear" | "convex"
    width: int
    height: int
    depth_mm: float
    radius_mm: float = 0.0  # convex: radius of the probe face
    half_angle: float = 0.0  # convex: half the fan angle, radians

    @property
    def mm_per_px(self) -> float:
        return self.depth_mm / self.height

    @property
    def n_beams(self) -> int:
        if self.kind == "linear":
            return self.width
        arc = 2.0 * self.half_angle * (self.radius_mm + 0.6 * self.depth_mm) / self.mm_per_px
        return int(min(self.width, max(32, math.ceil(arc))))

    @property
    def n_samples(self) -> int:
        return self.height

    def beams(self) -> tuple[np.ndarray, np.ndarray]:
        """Origins (nb, 2) on the probe face and unit directions (nb, 2), in mm (x, z)."""
        nb, s = self.n_beams, self.mm_per_px
        if self.kind == "linear":
            x = (np.arange(nb) + 0.5 - nb / 2.0) * s
            origins = np.stack([x, np.zeros(nb)], axis=1)
            dirs = np.tile(np.array([[0.0, 1.0]]), (nb, 1))
            return origins, dirs
        theta = self.beam_angles()
        dirs = np.stack([np.sin(theta), np.cos(theta)], axis=1)
        apex = np.array([0.0, -self.radius_mm])
        return apex + self.radius_mm * dirs, dirs

    def beam_angles(self) -> np.ndarray:
        """Convex: the angle of each beam from the vertical, radians."""
        return np.linspace(-self.half_angle, self.half_angle, self.n_beams)

    def padded_grid(self, pad: int) -> tuple[np.ndarray, np.ndarray]:
        """Physical (x, z) mm of every sample of a beam space padded by ``pad`` beams on each side
        and ``pad`` samples below: shape (n_samples + pad, n_beams + 2 * pad)."""
        nb, s = self.n_beams, self.mm_per_px
        idx = np.arange(-pad, nb + pad, dtype=np.float64)
        rng = (np.arange(self.n_samples + pad) + 0.5) * s
        if self.kind == "linear":
            x = (idx + 0.5 - nb / 2.0) * s
            return np.broadcast_to(x, (rng.size, x.size)).copy(), np.broadcast_to(
                rng[:, None], (rng.size, x.size)
            ).copy()
        step = 2 * self.half_angle / (nb - 1)
        theta = -self.half_angle + idx * step
        rho = self.radius_mm + rng[:, None]
        return rho * np.sin(theta)[None, :], rho * np.cos(theta)[None, :] - self.radius_mm

    def mm_to_px(self, x_mm: np.ndarray | float, z_mm: np.ndarray | float) -> tuple:
        """Physical mm to image pixel coordinates (within the simulated image, not the screen)."""
        s = self.mm_per_px
        return np.asarray(x_mm) / s + self.width / 2.0 - 0.5, np.asarray(z_mm) / s - 0.5

    def px_to_mm(self, x_px: np.ndarray | float, y_px: np.ndarray | float) -> tuple:
        s = self.mm_per_px
        return (np.asarray(x_px) + 0.5 - self.width / 2.0) * s, (np.asarray(y_px) + 0.5) * s

    def image_to_beam_maps(self) -> tuple[np.ndarray, np.ndarray]:
        """For each image pixel, its (beam, sample) position: maps for cv2.remap beam -> image."""
        xs, zs = self.px_to_mm(np.arange(self.width, dtype=np.float64), np.arange(self.height))
        x, z = np.meshgrid(xs, zs)
        if self.kind == "linear":
            return (
                np.broadcast_to(np.arange(self.width, dtype=np.float32), (self.height, self.width)),
                np.broadcast_to(np.arange(self.height, dtype=np.float32)[:, None], x.shape),
            )
        rho = np.hypot(x, z + self.radius_mm)
        theta = np.arctan2(x, z + self.radius_mm)
        beam = (theta + self.half_angle) / (2 * self.half_angle) * (self.n_beams - 1)
        sample = (rho - self.radius_mm) / self.mm_per_px - 0.5
        outside = (np.abs(theta) > self.half_angle) | (sample < -0.5) | (sample > self.height - 0.5)
        beam[outside] = -10.0
        sample[outside] = -10.0
        return beam.astype(np.float32), sample.astype(np.float32)

    def fan_mask(self) -> np.ndarray:
        """bool HxW: pixels inside the imaged region (all True for linear)."""
        if self.kind == "linear":
            return np.ones((self.height, self.width), bool)
        beam, _ = self.image_to_beam_maps()
        return beam > -5.0


def make_geometry(
    kind: str,
    width: int,
    height: int,
    depth_mm: float,
    rng: np.random.Generator,
    fan_deg: float | None = None,
    radius_mm: float | None = None,
) -> ProbeGeometry:
    """Builds the geometry; the convex radius and fan angle are drawn (or given) and fitted to the
    image width."""
    radius = float(rng.uniform(35.0, 60.0))
    if kind == "linear":
        return ProbeGeometry("linear", width, height, depth_mm)
    half_draw = math.radians(rng.uniform(26.0, 36.0))
    radius = radius if radius_mm is None else float(radius_mm)
    half = half_draw if fan_deg is None else math.radians(fan_deg / 2.0)
    s = depth_mm / height
    fit = math.asin(min(1.0, 0.5 * width * s / (radius + depth_mm)))
    return ProbeGeometry("convex", width, height, depth_mm, radius, min(half, fit * 0.98))


def fan_aspect(fan_deg: float, radius_mm: float, depth_mm: float) -> float:
    """Width / height of a convex fan's bounding box (it spans the depth vertically)."""
    half = math.radians(min(fan_deg, 178.0) / 2.0)
    return 2.0 * (radius_mm + depth_mm) * math.sin(half) / depth_mm


class ScanConverter:
    """Turns a beam-space float image into the image (identity for linear; fan remap for convex)."""

    def __init__(self, geometry: ProbeGeometry) -> None:
        self.geometry = geometry
        self.identity = geometry.kind == "linear"
        if not self.identity:
            mx, my = geometry.image_to_beam_maps()
            self.map1, self.map2 = cv2.convertMaps(mx, my, cv2.CV_16SC2)

    def to_image(self, beam_img: np.ndarray, nearest: bool = False) -> np.ndarray:
        if self.identity:
            return beam_img
        interp = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
        return cv2.remap(beam_img, self.map1, self.map2, interp, borderMode=cv2.BORDER_CONSTANT)
