"""How bright a painted needle's echo is along its shaft: gentle ripple, or a patchy echo that
breaks into bright and dim stretches, with a bright bevel at the tip sometimes.
"""

from __future__ import annotations

import cv2
import numpy as np

PATCHY_P = 0.35  # share of painted shafts whose echo breaks up along their length
PATCH_MM = (0.6, 5.0)  # length of each bright or dim stretch
DIM_LEVEL = (0.12, 0.5)  # a dim stretch's brightness relative to the bright ones


def patchy_profile(length_px: float, mm_per_px: float, rng: np.random.Generator) -> np.ndarray:
    """Brightness per pixel along a shaft of ``length_px``: irregular bright and dim stretches.

    Real shafts seldom echo evenly: parts leave the thin imaging plane, the beam meets the shaft
    off its specular angle, and echogenic coatings or dimples make the echo irregular. Stretches
    are aperiodic (unlike the generalisation suite's held-out beaded needle) and dim ones are
    shorter, so about two thirds of the shaft stays bright and the label over the whole shaft
    stays honest.
    """
    size = int(np.ceil(length_px)) + 2
    profile = np.empty(size, np.float32)
    position, bright = 0, bool(rng.random() < 0.7)
    while position < size:
        stretch_mm = rng.uniform(*PATCH_MM) * (1.0 if bright else 0.6)
        stretch = max(1, int(round(stretch_mm / mm_per_px)))
        level = rng.uniform(0.85, 1.6) if bright else rng.uniform(*DIM_LEVEL)
        profile[position : position + stretch] = level
        position += stretch
        bright = not bright
    return cv2.GaussianBlur(profile[None, :], (0, 0), 0.8)[0]


def shaft_texture(
    along: np.ndarray, length: float, mm_per_px: float, rng: np.random.Generator
) -> np.ndarray:
    """Brightness factor for every pixel, given its distance ``along`` the shaft from the entry.

    Args:
        along: per-pixel distance along the shaft's axis from the entry, in pixels.
        length: the shaft's visible length in pixels.
        mm_per_px: the canvas scale.
        rng: the sample's generator.
    """
    texture = 1.0 + rng.uniform(0.0, 0.4) * np.sin(along / rng.uniform(2, 8) + rng.uniform(0, 6))
    if rng.random() < PATCHY_P:
        profile = patchy_profile(length, mm_per_px, rng)
        index = np.clip(along, 0, len(profile) - 1).astype(np.int32)
        texture = texture * profile[index]
    if rng.random() < 0.3:  # a bright bevel at the tip
        texture = texture + rng.uniform(0.5, 1.5) * np.exp(-(((along - length) / 3.0) ** 2))
    return texture
