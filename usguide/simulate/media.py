"""Media besides in vivo tissue: ex vivo meat, gel/agar/PVA phantoms in a container and water
baths, plus the bright probe-surface (coupling) line, as the same echo/specular/attenuation maps as
``tissue.py``. Container walls and floors are straight bright lines that span the region (the
distractors a needle must be told from: a needle ends at a tip in the medium).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from usguide.simulate.tissue import (
    Anatomy,
    Blob,
    TissueMaps,
    _ridge,
    _sample,
    _texture,
    random_anatomy,
    tissue_maps,
)


@dataclass
class Container:
    """Where the medium is: a block or a piece below ``top`` and above the floor, between walls;
    water (or clear gel) everywhere else. Lengths in mm."""

    top: float = 0.0  # upper surface of the medium (0: the probe rests on it)
    top_echo: float = 0.0  # specular brightness of that surface
    floor: float | None = None  # container floor depth at x = 0 (None: below the image)
    floor_slope: float = 0.0
    floor_echo: float = 4.0
    walls: list[tuple[float, float, float]] = field(default_factory=list)  # (x at z=0, dx/dz, side)
    wall_echo: float = 2.0
    wall_mm: float = 1.0  # wall thickness (plastic container)
    water_echo: float = 0.015  # backscatter of the water / clear gel around the medium


def random_container(rng: np.random.Generator, medium: str, depth: float, half: float) -> Container:
    """A container or water layer for an ex vivo piece, a phantom block or a water bath."""
    box = Container(water_echo=float(np.exp(rng.uniform(np.log(0.004), np.log(0.04)))))
    if medium in ("ex_vivo", "phantom") and rng.random() < 0.4:
        box.top = float(rng.uniform(0.04, 0.25)) * depth  # a water/gel standoff above the medium
        box.top_echo = float(rng.uniform(0.6, 2.5))
    floor_p = {"ex_vivo": 0.45, "phantom": 0.55, "water": 0.7}.get(medium, 0.0)
    if rng.random() < floor_p:
        box.floor = float(rng.uniform(max(0.55, box.top / depth + 0.3), 1.05)) * depth
        box.floor_slope = float(rng.uniform(-0.2, 0.2)) if rng.random() < 0.4 else 0.0
        box.floor_echo = float(rng.uniform(2.0, 7.0))
    if medium == "phantom" and rng.random() < 0.45:
        for _ in range(1 + int(rng.random() < 0.3)):
            side = 1.0 if rng.random() < 0.5 else -1.0
            x0 = side * float(rng.uniform(0.35, 0.95)) * half
            box.walls.append((x0, float(rng.uniform(-0.35, 0.35)), side))
        box.wall_echo = float(rng.uniform(1.0, 3.5))
        box.wall_mm = float(rng.uniform(0.5, 2.5))
    return box


def exvivo_anatomy(
    rng: np.random.Generator, depth: float, half: float, target: tuple | None
) -> Anatomy:
    """A piece of meat: strongly fibrous muscle with bright connective tissue and fat flecks, an
    optional fat cap; no skin layer under the probe, no bone or vessels."""
    base = random_anatomy(rng, depth, half, target)
    cap = rng.random() < 0.35
    skin = float(rng.uniform(0.8, 2.0)) if cap and rng.random() < 0.5 else 0.0
    fascia = [f for f in base.fascia[1:] if rng.random() < 0.6]
    return replace(
        base,
        skin=skin,
        fat_bottom=skin + (float(rng.uniform(0.08, 0.3)) * depth if cap else -1.0),
        fascia=fascia,
        bone=None,
        blobs=[b for b in base.blobs if target is not None and b.x == target[0]],
        tendon=None,
        fibrillar=float(rng.uniform(0.45, 0.9)),
        streaks=float(rng.uniform(1.2, 2.6)),
        patchiness=float(rng.uniform(0.5, 1.1)),
        muscle_echo=float(rng.uniform(0.7, 1.3)),
        marbling=float(rng.uniform(0.5, 2.5)) if rng.random() < 0.7 else 0.0,
        fibre_angle=float(rng.uniform(-0.6, 0.6)),
    )


@dataclass
class Phantom:
    """A homogeneous phantom: uniform speckle of ``level``, a few inclusions."""

    level: float
    variation: float
    blobs: list[Blob]
    atten: float


def random_phantom(
    rng: np.random.Generator, depth: float, half: float, target: tuple | None
) -> Phantom:
    blobs = []
    for _ in range(int(rng.integers(0, 3))):
        r = float(rng.uniform(1.5, 0.1 * depth + 1.5))
        x, z = float(rng.uniform(-half, half)), float(rng.uniform(0.3, 0.8)) * depth
        bright = rng.random() < 0.3
        blobs.append(Blob(x, z, r, r, 2.0 if bright else 0.02, float(rng.uniform(0.3, 1.5))))
    if target is not None:
        r = float(np.clip(0.08 * depth, 2.0, 6.0))
        blobs.append(Blob(target[0], target[1], r, r, 0.02, 1.2))
    return Phantom(
        level=float(rng.uniform(0.5, 1.3)),
        variation=float(rng.uniform(0.0, 0.12)),
        blobs=blobs,
        atten=float(rng.uniform(-0.01, 0.02)),
    )


def phantom_maps(
    phantom: Phantom, x: np.ndarray, z: np.ndarray, rng: np.random.Generator, mm_per_px: float
) -> TissueMaps:
    """Uniform speckle (a faint low-frequency variation), round inclusions with their walls."""
    line_w = max(0.5 * mm_per_px, 0.08)
    slow = _texture(rng, (96, 192), 6.0, 6.0)
    echo = phantom.level * np.clip(
        1.0 + phantom.variation * _sample(slow, x / 0.8, z / 0.8), 0.3, None
    )
    specular = np.zeros(x.shape, np.float32)
    atten = np.full(x.shape, phantom.atten, np.float32)
    for blob in phantom.blobs:
        rr = np.sqrt(((x - blob.x) / blob.rx) ** 2 + ((z - blob.z) / blob.rz) ** 2)
        inside = rr < 1.0
        echo = np.where(inside, blob.echo * phantom.level, echo)
        face = np.clip(np.abs(z - blob.z) / blob.rz, 0, 1) ** 2
        specular += blob.wall * face * _ridge((rr - 1.0) * blob.rz, line_w * 1.5)
        if blob.echo < 0.5:
            atten = np.where(inside, -0.08, atten)
    return TissueMaps(echo.astype(np.float32), specular, atten.astype(np.float32))


def contain(
    maps: TissueMaps, box: Container, x: np.ndarray, z: np.ndarray, mm_per_px: float
) -> TissueMaps:
    """Water outside the container (dark), its straight bright surfaces, floor and walls."""
    line_w = max(0.5 * mm_per_px, 0.08)
    echo, specular, atten = maps.echo.copy(), maps.specular.copy(), maps.atten.copy()
    outside = z < box.top
    for x0, slope, side in box.walls:
        xw = x0 + slope * z
        outside |= side * (x - xw) > 0
        # A side wall is almost parallel to the beams: a thick, moderately bright band.
        dist = np.abs(x - xw) * math.cos(math.atan(slope))
        band = _ridge(dist, box.wall_mm / 2.0)
        echo = echo * (1.0 - band) + box.wall_echo * band * (
            0.4 + 0.6 * abs(math.sin(math.atan(slope)))
        )
        specular += 0.5 * box.wall_echo * _ridge(dist - box.wall_mm / 2.0, line_w * 1.5)
    echo = np.where(outside, box.water_echo, echo)
    specular = np.where(outside, 0.0, specular)
    atten = np.where(outside, 0.0, atten)
    if box.top > 0.0:
        specular += box.top_echo * _ridge(z - box.top, line_w * 1.5)
    if box.floor is not None:
        zf = box.floor + box.floor_slope * x
        specular += box.floor_echo * _ridge(z - zf, line_w * 2.0)
        # The plastic floor rings: fainter copies below it, then little gets through.
        for k in range(1, 4):
            specular += box.floor_echo * 0.35**k * _ridge(z - zf - k * box.wall_mm, line_w * 2.0)
        below = z > zf + 0.3
        echo = np.where(below, box.water_echo, echo)
        atten = np.where(below, 0.6, atten)
    return TissueMaps(
        echo.astype(np.float32), specular.astype(np.float32), atten.astype(np.float32)
    )


def water_maps(x: np.ndarray, rng: np.random.Generator) -> TissueMaps:
    """A water bath: almost no backscatter (a few floating particles)."""
    echo = np.zeros(x.shape, np.float32)
    if rng.random() < 0.5:
        specks = rng.random(x.shape) < 0.0004
        echo[specks] = float(rng.uniform(1.0, 4.0))
    return TissueMaps(echo, np.zeros(x.shape, np.float32), np.zeros(x.shape, np.float32))


def add_surface_line(
    specular: np.ndarray, rng: np.random.Generator, mm_per_px: float, heavy: bool
) -> None:
    """The probe-surface / coupling line along the top of every beam (beam space, in place), with
    its reverberations: a bright straight line that spans the region (never a needle)."""
    rows = (np.arange(specular.shape[0], dtype=np.float32) + 0.5) * mm_per_px
    z0 = float(rng.uniform(0.1, 0.6))
    width = max(float(rng.uniform(0.08, 0.3)), 0.5 * mm_per_px)
    strength = float(rng.uniform(1.5, 5.0)) * (1.5 if heavy else 1.0)
    spacing = float(rng.uniform(0.4, 1.2))
    ratio = float(rng.uniform(0.15, 0.45))
    profile = strength * _ridge(rows - z0, width)
    for k in range(1, int(rng.integers(0, 4)) + 1):
        profile += strength * ratio**k * _ridge(rows - z0 - k * spacing, width)
    specular += profile[:, None]


def medium_maps(
    medium: str,
    build: dict,
    x: np.ndarray,
    z: np.ndarray,
    rng: np.random.Generator,
    mm_per_px: float,
) -> TissueMaps:
    """Maps of any medium; ``build`` holds what ``random_medium`` drew."""
    if medium == "in_vivo":
        return tissue_maps(build["anatomy"], x, z, rng, mm_per_px)
    if medium == "ex_vivo":
        maps = tissue_maps(build["anatomy"], x, z, rng, mm_per_px)
    elif medium == "phantom":
        maps = phantom_maps(build["phantom"], x, z, rng, mm_per_px)
    else:
        maps = water_maps(x, rng)
    return contain(maps, build["container"], x, z, mm_per_px)


def random_medium(
    rng: np.random.Generator,
    medium: str,
    depth: float,
    half: float,
    target: tuple | None,
    texture: str = "standard",
    texture_scale: float = 1.0,
) -> dict:
    """Draws what a medium needs: in vivo/ex vivo ``anatomy``, ``phantom``, ``container``."""
    build: dict = {}
    if medium == "in_vivo":
        build["anatomy"] = random_anatomy(rng, depth, half, target)
    elif medium == "ex_vivo":
        build["anatomy"] = exvivo_anatomy(rng, depth, half, target)
    elif medium == "phantom":
        build["phantom"] = random_phantom(rng, depth, half, target)
    if "anatomy" in build:
        build["anatomy"] = replace(build["anatomy"], texture=texture, texture_scale=texture_scale)
    if medium != "in_vivo":
        build["container"] = random_container(rng, medium, depth, half)
        if target is not None and build["container"].floor is not None:
            build["container"].floor = max(build["container"].floor, target[1] + 8.0)
    return build
