"""Tissue model: skin, fat, fibrillar muscle, fascia, bone, vessels/cysts and tendons as maps of
echogenicity, specular (coherent) reflectors and excess attenuation, evaluated at physical points.

All functions take mm coordinate arrays (x lateral, z depth) so the same anatomy is sampled on any
probe geometry's beam grid.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np


@dataclass
class Blob:
    """A round hypoechoic structure (vessel or cyst): centre and radii in mm."""

    x: float
    z: float
    rx: float
    rz: float
    echo: float  # interior echogenicity (fluid ~0.02)
    wall: float  # specular wall brightness


@dataclass
class Anatomy:
    """Random layout of one clip's tissue (all lengths mm)."""

    skin: float
    fat_bottom: float
    fascia: list[tuple[float, float, float, float]]  # (z at x=0, slope, wave amplitude, brightness)
    bone: tuple[float, float, float, float] | None  # (z at x=0, slope, curvature, brightness)
    blobs: list[Blob] = field(default_factory=list)
    tendon: tuple[float, float, float, float] | None = None  # (x, z, half length, half thickness)
    fibre_angle: float = 0.1
    fat_echo: float = 0.35
    muscle_echo: float = 0.8
    fibrillar: float = 0.3  # strength of the muscle fibre striation
    streaks: float = 0.8  # connective-tissue streak brightness
    patchiness: float = 0.5  # log-amplitude spread of lobular brightness
    skin_echo: float = 1.3
    fascia_mm: float = 0.25  # fascia thickness (Gaussian sigma)
    texture: str = "standard"  # standard | striated | coarse_fat (the last two: held out)
    texture_scale: float = 1.0  # size of the texture's features relative to the standard model
    marbling: float = 0.0  # bright intramuscular fat flecks (ex vivo meat)


def bone_floor(anatomy: Anatomy) -> Callable[[float], float] | None:
    """Depth of the bone surface at lateral position x (mm), or None without bone."""
    if anatomy.bone is None:
        return None
    z0, slope, curv, _ = anatomy.bone
    return lambda x: z0 + slope * x + curv * x * x


@dataclass
class TissueMaps:
    """Per-sample tissue properties on a beam grid."""

    echo: np.ndarray  # float32 mean backscatter amplitude (soft tissue ~ 1)
    specular: np.ndarray  # float32 coherent reflector amplitude
    atten: np.ndarray  # float32 excess attenuation per mm (amplitude, > 0 shadows, < 0 enhances)


def random_anatomy(
    rng: np.random.Generator, depth_mm: float, half_width_mm: float, target: tuple | None
) -> Anatomy:
    """Draws a plausible layered anatomy for an imaging depth; ``target`` puts a blob there."""
    skin = float(rng.uniform(1.0, 2.2))
    fat_bottom = skin + float(rng.uniform(0.08, 0.25)) * depth_mm
    fascia = [(fat_bottom, float(rng.uniform(-0.12, 0.12)), float(rng.uniform(0, 0.8)), 1.0)]
    for _ in range(int(rng.integers(1, 3))):
        z = float(rng.uniform(fat_bottom + 4, depth_mm * 0.95))
        # Deep fascia is often oblique: a long bright straight line, the needle's look-alike.
        slope = (
            float(rng.uniform(-0.6, 0.6)) if rng.random() < 0.5 else float(rng.uniform(-0.15, 0.15))
        )
        fascia.append((z, slope, float(rng.uniform(0, 0.6)), rng.uniform(0.7, 1.4)))
    bone = None
    if rng.random() < 0.4:
        z = float(rng.uniform(0.55, 0.85)) * depth_mm
        slope, curv = float(rng.uniform(-0.3, 0.3)), float(rng.uniform(-0.004, 0.004))
        if target is not None:  # the target lies above the bone, not in its shadow
            z = max(
                z, target[1] + 0.15 * depth_mm + 4.0 - slope * target[0] - curv * target[0] ** 2
            )
        bone = (z, slope, curv, 1.0)
    blobs: list[Blob] = []
    for _ in range(int(rng.integers(0, 3))):
        r = float(rng.uniform(1.5, 0.12 * depth_mm + 1.5))
        x, z = (
            float(rng.uniform(-half_width_mm, half_width_mm)),
            float(rng.uniform(fat_bottom, 0.8 * depth_mm)),
        )
        if any(math.hypot(x - b.x, z - b.z) < r * 1.6 + b.rx for b in blobs):
            continue  # no overlapping vessels
        blobs.append(
            Blob(
                x,
                z,
                r * float(rng.uniform(0.9, 1.5)),
                r,
                float(rng.uniform(0.0, 0.15)),
                float(rng.uniform(0.8, 2.2)),
            )
        )
    if target is not None:
        r = float(np.clip(0.08 * depth_mm, 2.0, 6.0))
        blobs.append(Blob(target[0], target[1], r * 1.3, r, 0.02, 1.8))
    tendon = None
    if rng.random() < 0.3:
        tendon = (
            float(rng.uniform(-half_width_mm, half_width_mm) * 0.6),
            float(rng.uniform(fat_bottom + 2, 0.6 * depth_mm)),
            float(rng.uniform(8, 25)),
            float(rng.uniform(1.0, 3.0)),
        )
    return Anatomy(
        skin,
        fat_bottom,
        fascia,
        bone,
        blobs,
        tendon,
        float(rng.uniform(-0.35, 0.35)),
        float(rng.uniform(0.25, 0.5)),
        float(rng.uniform(0.6, 1.0)),
        float(rng.uniform(0.1, 0.5)),
        float(rng.uniform(0.3, 1.5)),
        float(rng.uniform(0.35, 1.0)),
        float(rng.uniform(0.7, 1.6)),
        float(rng.uniform(0.12, 0.4)),
    )


def _texture(rng: np.random.Generator, shape: tuple[int, int], sx: float, sz: float) -> np.ndarray:
    """Zero-mean unit-variance noise blurred anisotropically (sigmas in grid cells), periodic (the
    blur is done in the Fourier domain) so wrapped lookups have no seams."""
    noise = rng.standard_normal(shape, dtype=np.float32)
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    transfer = np.exp(-2.0 * np.pi**2 * ((fx * sx) ** 2 + (fy * sz) ** 2))
    tex = np.fft.irfft2(np.fft.rfft2(noise) * transfer, s=shape).astype(np.float32)
    return (tex - tex.mean()) / (tex.std() + 1e-6)


def _sample(tex: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Bilinear lookup of ``tex`` at grid coordinates (u col, v row), wrapping around."""
    h, w = tex.shape
    u = np.mod(u, w).astype(np.float32)  # remap's border modes do not wrap far negatives
    v = np.mod(v, h).astype(np.float32)
    return cv2.remap(tex, u, v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)


def _ridge(dist: np.ndarray, width: float) -> np.ndarray:
    out = np.zeros(dist.shape, np.float32)
    near = np.abs(dist) < 4 * width  # exp only where it matters
    out[near] = np.exp(-0.5 * (dist[near] / width) ** 2)
    return out


def tissue_maps(
    anatomy: Anatomy, x: np.ndarray, z: np.ndarray, rng: np.random.Generator, mm_per_px: float
) -> TissueMaps:
    """Evaluates the anatomy at points (x, z) in mm; returns float32 maps of the same shape."""
    a = anatomy
    cell = 0.16 * a.texture_scale  # mm per texture cell
    tex_shape = (384, 768)
    line_w = max(0.5 * mm_per_px, 0.08)
    fat_tex = _texture(rng, tex_shape, 19.0, 9.0)
    fib_tex = _texture(rng, tex_shape, 30.0, 0.6)
    lob_tex = _texture(rng, tex_shape, 3.0, 2.2)
    ca, sa = np.cos(a.fibre_angle), np.sin(a.fibre_angle)
    u = (x * ca + z * sa) / cell
    v = (-x * sa + z * ca) / cell

    echo = np.full(x.shape, a.muscle_echo, np.float32)
    fibres = _sample(fib_tex, u, v)
    echo *= np.clip(1.0 + a.fibrillar * fibres, 0.15, None)
    # Perimysium / connective tissue: short curvy bright streaks roughly along the fibres
    # (zero crossings of an anisotropic texture), and darker and brighter lobules.
    streak_field = _sample(fat_tex, u * 2.5, v * 5.0)
    echo += (
        a.streaks
        * np.exp(-0.5 * (streak_field / 0.07) ** 2)
        * (_sample(lob_tex, u * 0.3, v * 0.3) > -0.2)
    )
    echo *= np.exp(a.patchiness * _sample(lob_tex, u * 0.45, v * 0.6) - 0.5 * a.patchiness**2)
    if a.marbling > 0.0:
        flecks = _sample(lob_tex, u * 1.7 + 50.0, v * 1.1)
        echo += a.marbling * np.clip(flecks - 1.0, 0.0, 1.0)
    if a.texture == "striated":
        # Held out: regular parallel striation (pennate muscle), not a random fibre texture.
        period = 6.0 + 4.0 * (a.fibrillar / 0.5)  # cells
        bands = np.cos(np.pi * (v + 1.5 * _sample(fat_tex, u * 0.2, v * 0.2)) / period) ** 6
        echo = a.muscle_echo * (0.45 + 2.2 * bands) * np.clip(1.0 + 0.3 * fibres, 0.2, None)
    fat = z < a.fat_bottom + 0.6 * np.sin(x / 9.0)
    lobules = a.fat_echo * np.clip(0.8 + 0.5 * _sample(lob_tex, x / cell, z / cell), 0.2, None)
    echo = np.where(fat, lobules, echo)
    # Septa: contour lines of a horizontally stretched texture (mostly near-horizontal, specular).
    septa = np.abs(_sample(fat_tex, x / cell * 0.8, z / cell * 2.5)) < 0.07
    if a.texture == "coarse_fat":
        # Held out: large dark fat lobules outlined by bright septa, anywhere in the picture.
        lobe = _sample(lob_tex, x / cell * 0.5, z / cell * 0.7)
        fat = fat | (lobe > 0.2)
        echo = np.where(fat, a.fat_echo * 0.5 * np.clip(1.0 + 0.2 * fibres, 0.3, None), echo)
        septa = np.abs(lobe - 0.2) < 0.06
    echo = np.where(fat & septa, echo + 0.9, echo)
    skin = z < a.skin
    echo = np.where(skin, a.skin_echo, echo)
    echo = np.where(z < 0, 0.0, echo)

    specular = np.zeros(x.shape, np.float32)
    atten = np.zeros(x.shape, np.float32)
    specular += 1.2 * _ridge(z - 0.15, line_w)  # skin entry echo
    for z0, slope, wave, bright in a.fascia:
        zl = z0 + slope * x + wave * np.sin(x / 7.0 + z0)
        beading = np.clip(0.7 + 0.5 * _sample(lob_tex, x / cell, z0 / cell + 0 * z), 0.1, None)
        # Fascia: a thick bright band (a coherent top surface plus brighter, denser tissue).
        specular += (bright * 1.6) * beading * _ridge(z - zl, line_w * 1.5)
        echo += (bright * 2.0) * beading * _ridge(z - zl - a.fascia_mm, a.fascia_mm)
    if a.tendon is not None:
        tx, tz, half_len, half_th = a.tendon
        inside = ((x - tx) / half_len) ** 2 + ((z - tz) / half_th) ** 2 < 1.0
        tendon_tex = np.clip(1.0 + 0.7 * _sample(fib_tex, x / cell, z / cell * 3.0), 0.2, None)
        echo = np.where(inside, 1.8 * tendon_tex, echo)
    for blob in a.blobs:
        rr = np.sqrt(((x - blob.x) / blob.rx) ** 2 + ((z - blob.z) / blob.rz) ** 2)
        inside = rr < 1.0
        echo = np.where(inside, blob.echo, echo)
        # A lumen holds fluid: no fascia crosses it (a bright line there looks like a needle).
        specular = np.where(inside, 0.0, specular)
        # Bright walls where the beam hits them nearly perpendicularly (top and bottom).
        face = np.clip(np.abs(z - blob.z) / blob.rz, 0, 1) ** 2
        specular += blob.wall * face * _ridge((rr - 1.0) * blob.rz, line_w * 1.5)
        atten = np.where(inside, -0.1, atten)  # fluid attenuates less: posterior enhancement
    if a.bone is not None:
        z0, slope, curv, bright = a.bone
        zb = z0 + slope * x + curv * x**2
        specular += (bright * 5.0) * _ridge(z - zb, line_w * 2.0)
        below = z > zb + 0.4
        atten = np.where(below, 1.5, atten)
        echo = np.where(below, echo * 0.3, echo)
    return TissueMaps(echo.astype(np.float32), specular, atten.astype(np.float32))
