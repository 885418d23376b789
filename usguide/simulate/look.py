"""How a needle looks (fixed per clip): diameter by gauge, echo strength and specular lobe,
reverberations, comet tail, shadow, bevel, double wall, bloom, along-shaft texture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

# Outer diameter in mm by gauge (ISO 9626, regular wall).
GAUGE_MM = {
    14: 2.11,
    15: 1.83,
    16: 1.65,
    17: 1.47,
    18: 1.27,
    19: 1.07,
    20: 0.91,
    21: 0.82,
    22: 0.72,
    23: 0.64,
    24: 0.57,
    25: 0.51,
    26: 0.46,
    27: 0.41,
}


@dataclass
class NeedleLook:
    """How the needle appears (fixed per clip)."""

    diameter: float
    gain: float
    spec_sigma: float  # radians: specular lobe width
    floor: float  # diffuse fraction seen at steep angles
    reverb_ratio: float
    reverb_count: int
    tail: float
    shadow: float
    tip_gain: float
    elev_sigma: float  # elevational beam half-width, mm
    texture: np.ndarray  # along-shaft brightness modulation, one value per 0.1 mm
    style: str = "plain"
    back_wall: float = 0.0  # double wall: back-wall echo relative to the front wall (0: one line)
    bloom: float = 0.0  # a wide low skirt around the shaft echo (pulse ringing, PSF tails)
    bloom_mm: float = 0.4  # its axial sigma
    tail_len: float = 1.5  # comet-tail decay length, in reverberation spacings
    tail_mm: float = 0.0  # when > 0: the comet tail's decay length in mm instead


def random_look(
    rng: np.random.Generator,
    gauge: int,
    gain: float,
    style: str = "plain",
    extra: np.random.Generator | None = None,
) -> NeedleLook:
    """Draws the needle's appearance; ``extra`` draws the breadth choices (reverberations, comet
    tail, shadow or bevel on or off; wall echo, bloom) so ``rng``'s draws stay as they were."""
    extra = extra if extra is not None else np.random.default_rng(int(rng.integers(0, 2**31)))
    diameter = GAUGE_MM.get(gauge, 0.8)
    tip_gain = float(rng.choice([1.0, 1.7, 0.35], p=[0.5, 0.3, 0.2]))
    texture = cv2.GaussianBlur(rng.standard_normal((1, 4000)).astype(np.float32), (0, 0), 6.0)
    texture = np.clip(1.0 + 0.35 * texture[0] / (texture.std() + 1e-6), 0.35, 1.8)
    look = NeedleLook(
        diameter=diameter,
        gain=gain,
        spec_sigma=math.radians(rng.uniform(14.0, 24.0)),
        floor=float(rng.uniform(0.12, 0.3)),
        reverb_ratio=float(rng.uniform(0.25, 0.6)) * (1.15 if diameter > 1.0 else 1.0),
        reverb_count=int(rng.integers(1, 7)),
        tail=float(rng.uniform(0.02, 0.12)),
        shadow=float(rng.uniform(0.1, 0.45)),
        tip_gain=tip_gain,
        elev_sigma=float(rng.uniform(0.5, 1.0)),
        texture=texture,
        style=style,
    )
    # With and without each artefact; a bright bevel sometimes.
    no_reverb, no_tail, no_shadow, bevel = extra.random(4) < (0.25, 0.3, 0.2, 0.15)
    look.reverb_count = 0 if no_reverb else look.reverb_count
    look.tail = 0.0 if no_tail else look.tail
    look.shadow = 0.0 if no_shadow else look.shadow
    look.tip_gain = float(extra.uniform(2.2, 3.5)) if bevel else look.tip_gain
    look.bloom = float(extra.uniform(0.015, 0.05))
    look.bloom_mm = float(extra.uniform(0.25, 0.6))
    back_wall = float(extra.uniform(0.5, 0.95))
    if style == "saturated":
        look.bloom = float(extra.uniform(0.04, 0.12))
        look.shadow = max(look.shadow, float(extra.uniform(0.3, 0.6)))
    elif style == "double_wall":
        look.back_wall = back_wall
        look.reverb_count = max(look.reverb_count, int(extra.integers(1, 5)))
        look.reverb_ratio = float(extra.uniform(0.3, 0.6))
    elif style == "beaded":
        # Held out: a shaft of bright beads (a textured / echogenic-coated needle) with a long
        # comet tail, unlike any training needle.
        pitch = float(extra.uniform(0.8, 1.6))  # mm between beads
        s = np.arange(4000) * 0.1
        beads = np.cos(np.pi * s / pitch) ** 8
        look.texture = (0.25 + 1.9 * beads).astype(np.float32)
        look.tail = float(extra.uniform(0.08, 0.16))
        look.tail_mm = float(extra.uniform(2.0, 4.5))
        look.reverb_count = 0
    return look
