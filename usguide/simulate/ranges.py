"""What the simulator draws from: the training ranges and the held-out ranges (``style="heldout"``),
kept apart so a generalisation suite only shows settings training never saw (README.md has the
table).
"""

from __future__ import annotations

import numpy as np

Spans = tuple[tuple[float, float], ...]

# Probabilities of the drawn categories (training and held-out alike unless said otherwise).
MEDIUM_P = {"in_vivo": 0.5, "ex_vivo": 0.2, "phantom": 0.2, "water": 0.1}
NEEDLE_STYLE_P = {"faint": 0.15, "plain": 0.4, "saturated": 0.25, "double_wall": 0.2}
HELDOUT_NEEDLE_STYLE_P = 0.5  # held-out clips: "beaded" this often, else a training style
DOUBLE_WALL_MAX_GAUGE = 19  # thinner needles show one line (walls closer than the pulse)
INSIDE_ENTRY_P = 0.25  # the shaft enters the plane inside the image (out-of-plane entry)
SURFACE_LINE_P = {"in_vivo": 0.25, "ex_vivo": 0.7, "phantom": 0.7, "water": 0.8}
# Shaft echo relative to soft tissue (log-uniform), per needle style.
NEEDLE_GAIN = {
    "faint": (1.6, 3.5),
    "plain": (3.0, 16.0),
    "saturated": (40.0, 300.0),
    "double_wall": (10.0, 150.0),
    "beaded": (4.0, 60.0),
}
LINEAR_DEPTH_MM = (15.0, 60.0)
CONVEX_DEPTH_MM = (30.0, 100.0)

# Geometry: training vs held-out.
FAN_DEG: dict[str, Spans] = {"train": ((30.0, 100.0),), "heldout": ((16.0, 26.0), (110.0, 150.0))}
RADIUS_MM: dict[str, Spans] = {"train": ((10.0, 80.0),), "heldout": ((4.0, 8.0), (95.0, 140.0))}
HELDOUT_SECTOR_RADIUS_MM = (4.0, 8.0)  # with a held-out opening above 90 degrees
HELDOUT_NARROW_RADIUS_MM = (95.0, 140.0)  # with one below 30 degrees
# A linear image narrower or wider than the region (footprint / depth), black margins around it.
LINEAR_ASPECT: dict[str, Spans] = {
    "train": ((0.5, 2.5),),
    "heldout": ((0.25, 0.45), (3.0, 4.5)),
}
LINEAR_ASPECT_P = {"train": 0.35, "heldout": 0.6}
MARGINS_P = 0.2  # extra black margins around the image (each side 0..MARGIN_MAX of the region)
MARGIN_MAX = 0.1
# Tissue texture scale (1 = the in vivo model's own scale); held out: other patterns altogether.
TEXTURE_SCALE: dict[str, Spans] = {"train": ((0.7, 1.4),), "heldout": ((2.6, 4.0),)}
HELDOUT_TEXTURES = ("striated", "coarse_fat")
HELDOUT_TEXTURE_P = 0.7
SCREEN_SIZES = {"train": ((1024, 768), (1280, 720)), "heldout": ((1366, 768), (800, 600))}


def held_out_radius(rng: np.random.Generator, fan_deg: float) -> float:
    """A held-out probe radius that makes a real probe with a held-out fan opening."""
    span = HELDOUT_SECTOR_RADIUS_MM if fan_deg > 90.0 else HELDOUT_NARROW_RADIUS_MM
    return float(rng.uniform(*span))


def draw_span(rng: np.random.Generator, spans: Spans) -> float:
    """A uniform draw from the union of the spans (each span weighted by its width)."""
    widths = np.array([hi - lo for lo, hi in spans], float) + 1e-9
    lo, hi = spans[int(rng.choice(len(spans), p=widths / widths.sum()))]
    return float(rng.uniform(lo, hi))


def draw_choice(rng: np.random.Generator, probabilities: dict[str, float]) -> str:
    names = list(probabilities)
    p = np.array([probabilities[n] for n in names], float)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def log_uniform(rng: np.random.Generator, span: tuple[float, float]) -> float:
    return float(np.exp(rng.uniform(np.log(span[0]), np.log(span[1]))))
