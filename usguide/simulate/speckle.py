"""Speckle: random complex scatterers weighted by tissue echogenicity, convolved with a
depth-dependent point-spread function (narrow axially, wider laterally away from the focus),
envelope-detected, then shadowed/enhanced by cumulative attenuation along each beam. Computed once
per clip and warped for motion.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from usguide.simulate.probe import ProbeGeometry
from usguide.simulate.tissue import TissueMaps


@dataclass(frozen=True)
class Psf:
    """Point-spread function sizes (Gaussian sigmas, mm)."""

    axial: float
    lateral_focus: float
    focus_mm: float
    rayleigh_mm: float


def random_psf(rng: np.random.Generator, geometry: ProbeGeometry) -> Psf:
    """Linear probes are high frequency (finer speckle) than convex ones."""
    base = 1.0 if geometry.kind == "linear" else 1.6
    axial = base * float(rng.uniform(0.09, 0.2))
    lateral = base * float(rng.uniform(0.18, 0.4))
    focus = float(rng.uniform(0.35, 0.65)) * geometry.depth_mm
    return Psf(axial, lateral, focus, float(rng.uniform(0.25, 0.45)) * geometry.depth_mm)


def _gauss(sigma: float) -> np.ndarray:
    sigma = max(sigma, 0.35)
    half = int(np.ceil(3.0 * sigma))
    t = np.arange(-half, half + 1, dtype=np.float32)
    kernel = np.exp(-0.5 * (t / sigma) ** 2)
    return (kernel / np.sqrt((kernel**2).sum())).astype(np.float32)


def beam_spacing_mm(geometry: ProbeGeometry, z_mm: float) -> float:
    if geometry.kind == "linear":
        return geometry.mm_per_px
    return (geometry.radius_mm + z_mm) * 2 * geometry.half_angle / (geometry.n_beams - 1)


def speckle_envelope(
    maps: TissueMaps, geometry: ProbeGeometry, psf: Psf, rng: np.random.Generator
) -> np.ndarray:
    """float32 envelope on the padded beam grid of ``maps`` (soft tissue amplitude ~ 1)."""
    shape = maps.echo.shape
    s = geometry.mm_per_px
    amp = maps.echo
    real = rng.standard_normal(shape, dtype=np.float32) * amp
    imag = rng.standard_normal(shape, dtype=np.float32) * amp
    ax = _gauss(psf.axial / s)
    depths = np.array([0.1, psf.focus_mm / geometry.depth_mm, 0.95]) * geometry.depth_mm
    rows = (np.arange(shape[0]) + 0.5) * s
    fields = []
    for z in depths:
        widen = np.sqrt(1.0 + ((z - psf.focus_mm) / psf.rayleigh_mm) ** 2)
        lat = _gauss(psf.lateral_focus * widen / beam_spacing_mm(geometry, z))
        # Coherent reflectors: scale so a flat line of amplitude a peaks near a after the PSF.
        spec = maps.specular / (float(lat.sum()) * float(ax.max()))
        re = cv2.sepFilter2D(real + spec, -1, lat, ax, borderType=cv2.BORDER_REFLECT)
        im = cv2.sepFilter2D(imag, -1, lat, ax, borderType=cv2.BORDER_REFLECT)
        fields.append(cv2.magnitude(re, im))
    weights = [np.interp(rows, depths, np.eye(3)[k]).astype(np.float32) for k in range(3)]
    env = sum(w[:, None] * f for w, f in zip(weights, fields, strict=True))
    return (env * transmission(maps, geometry)).astype(np.float32)


def transmission(maps: TissueMaps, geometry: ProbeGeometry) -> np.ndarray:
    """Amplitude reaching each sample relative to soft tissue (shadow < 1, enhancement > 1)."""
    return np.exp(-np.cumsum(maps.atten, axis=0) * geometry.mm_per_px).astype(np.float32)
