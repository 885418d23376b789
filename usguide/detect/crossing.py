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
    """Mask (uint8 0/1, at ``scale`` of the region's size) of the imaged area.

    The area is the convex hull of everything above black: fans and screen images are convex,
    and water or anechoic gel, black themselves, stay inside it.
    """
    step = max(1, round(1.0 / scale))
    # Every step-th pixel, then a 3x3 mean against lone noise: a tenth of the cost of INTER_AREA.
    small = cv2.blur(np.ascontiguousarray(region[::step, ::step]), (3, 3))
    lit = small > LIT_LEVEL
    mask = np.zeros(small.shape[:2], np.uint8)
    rows = np.flatnonzero(lit.any(axis=1))
    if rows.size == 0:  # nothing lit: no margin to tell from the image
        mask[:] = 1
        return mask
    # Each row's first and last lit pixel span the hull of all of them, at a fraction of the cost.
    first = np.argmax(lit[rows], axis=1)
    last = lit.shape[1] - 1 - np.argmax(lit[rows, ::-1], axis=1)
    points = np.concatenate([np.stack([first, rows], 1), np.stack([last, rows], 1)]).astype(
        np.int32
    )
    cv2.fillConvexPoly(mask, cv2.convexHull(points), 1)
    if mask.mean() < WATER_FRACTION:
        mask[:] = 1
    return mask


def _reach(mask: np.ndarray, start: np.ndarray, direction: np.ndarray) -> float:
    """Mask pixels from ``start`` along ``direction`` until the imaged area ends."""
    height, width = mask.shape
    distances = np.arange(1, 2 * (width + height), dtype=np.float64)
    cols = np.round(start[0] + distances * direction[0]).astype(int)
    rows = np.round(start[1] + distances * direction[1]).astype(int)
    outside = (cols < 0) | (cols >= width) | (rows < 0) | (rows >= height)
    inside = ~outside
    outside[inside] = mask[rows[inside], cols[inside]] == 0
    return float(np.argmax(outside)) if outside.any() else float(distances.size)


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
    scale_x = mask.shape[1] / region_size[0]
    scale_y = mask.shape[0] / region_size[1]
    tip = np.array([fit.tip[0] * scale_x, fit.tip[1] * scale_y])
    entry = np.array([fit.entry[0] * scale_x, fit.entry[1] * scale_y])
    span = float(np.hypot(*(tip - entry)))
    if span < 1.0:
        return False
    direction = (tip - entry) / span
    beyond_tip = _reach(mask, tip, direction)
    beyond_entry = _reach(mask, entry, -direction)
    chord = span + beyond_tip + beyond_entry
    limit = max(config.max_reach * chord, config.min_reach_px * min(scale_x, scale_y))
    return beyond_tip <= limit and beyond_entry <= limit
