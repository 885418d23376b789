"""Rejects fitted "needles" that run across the whole imaged area, border to border.

A needle's tip ends in tissue. Fascia, container walls, the probe-surface line and stripes of
muscle fibres cross the image from one side of the imaged area (the fan or the screen's image, not
its black margins) to the other. A fit whose both ends sit on that border, with nothing of the
image left beyond either end, is such a layer, whatever the shaft map says.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from usguide.detect.imaged import lit_hull, run_to_edge
from usguide.detect.postprocess import ShaftFit

# Above black: grey levels at or below this are margins, water or anechoic gel.
LIT_LEVEL = 3
# Below this share of the region inside the hull of its lit pixels the region is a water bath
# (a few bright lines on black): all of it is imaged.
WATER_FRACTION = 0.05


@dataclass(frozen=True)
class CrossingConfig:
    """When a fit counts as running across the imaged area.

    Attributes:
        enabled: False keeps every fit.
        max_reach: largest stretch of imaged area beyond *each* end, as a fraction of the
            chord of the imaged area along the fit's line, for the fit to count as crossing.
        min_reach_px: the same stretch in region pixels below which an end always counts as
            on the border (the border's own blur and the hull's rounding).
        mask_scale: the imaged area is found at about this fraction of the region's size (speed).
    """

    enabled: bool = True
    max_reach: float = 0.05
    min_reach_px: float = 6.0
    mask_scale: float = 0.25


def imaged_area(region: np.ndarray, scale: float = 0.25) -> np.ndarray:
    """Mask (uint8 0/1, at about ``scale`` of the region's size) of the imaged area (lit_hull)."""
    step = max(1, round(1.0 / scale))
    # Every step-th pixel, then a 3x3 mean against lone noise: a tenth of the cost of INTER_AREA.
    small = cv2.blur(np.ascontiguousarray(region[::step, ::step]), (3, 3))
    return lit_hull(small > LIT_LEVEL, WATER_FRACTION)


def crosses_imaged_area(
    fit: ShaftFit, mask: np.ndarray, region_size: tuple[int, int], config: CrossingConfig
) -> bool:
    """True when ``fit`` runs from border to border of the imaged area ``mask``.

    Args:
        fit: the fitted shaft, in region pixels.
        mask: ``imaged_area`` of the region.
        region_size: (width, height) of the region, to scale region pixels to the mask.
        config: the thresholds.
    """
    sx = region_size[0] / mask.shape[1]  # region pixels per mask pixel
    sy = region_size[1] / mask.shape[0]
    tip, entry = np.array(fit.tip, float), np.array(fit.entry, float)
    span = float(np.hypot(*(tip - entry)))
    if span < max(sx, sy):
        return False
    direction = (tip - entry) / span
    beyond_tip = run_to_edge(mask, tip, direction, sx, sy)
    beyond_entry = run_to_edge(mask, entry, -direction, sx, sy)
    chord = span + beyond_tip + beyond_entry
    limit = max(config.max_reach * chord, config.min_reach_px)
    return beyond_tip <= limit and beyond_entry <= limit
