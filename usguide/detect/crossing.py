"""Rejects fitted "needles" that run across the whole imaged area or along its border.

A needle's tip ends in tissue. Fascia, container walls, the probe-surface line and stripes of
muscle fibres cross the image from one side of the imaged area (the fan or the screen's image, not
its black margins) to the other. A fit whose both ends sit on that border, with nothing of the
image left beyond either end, is such a layer, whatever the shaft map says. A fit lying along the
border (a fan's side, where tissue meets black) or outside the imaged area (a screen's text bar) is
the image's edge or its furniture: a needle crosses into the tissue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from usguide.detect.imaged import inside_area, lit_hull, run_to_edge
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
        edge_band: width of the band inside the imaged area's border, as a fraction of the
            region's diagonal, in which a fit counts as lying along the border.
        edge_share: a fit with at least this share of its length outside the imaged area, or
            (when steep) in that band, is dropped (above 1: never).
        edge_min_angle_deg: fits at least this steep (from horizontal) count along the border.
        edge_parallel_deg: ... and only when within about this angle of it.
    """

    enabled: bool = True
    max_reach: float = 0.05
    min_reach_px: float = 6.0
    mask_scale: float = 0.25
    edge_band: float = 0.03
    edge_share: float = 0.85
    edge_min_angle_deg: float = 30.0
    edge_parallel_deg: float = 10.0


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
    sx, sy, entry, tip, span = _on_mask(fit, mask, region_size)
    if span < max(sx, sy):
        return False
    direction = (tip - entry) / span
    beyond_tip = run_to_edge(mask, tip, direction, sx, sy)
    beyond_entry = run_to_edge(mask, entry, -direction, sx, sy)
    chord = span + beyond_tip + beyond_entry
    limit = max(config.max_reach * chord, config.min_reach_px)
    return beyond_tip <= limit and beyond_entry <= limit


def hugs_border(
    fit: ShaftFit, mask: np.ndarray, region_size: tuple[int, int], config: CrossingConfig
) -> bool:
    """True when most of ``fit`` lies outside the imaged area, or steep along its border.

    Only steep fits count along the border: a fan's or a linear image's sides run along the beams,
    and a needle along a beam sends no echo back, while a shallow needle just under the skin line
    (the top border) is the brightest needle there is.

    Args:
        fit: the fitted shaft, in region pixels.
        mask: ``imaged_area`` of the region.
        region_size: (width, height) of the region, to scale region pixels to the mask.
        config: the band, the share and the steepness.
    """
    if config.edge_share > 1.0:
        return False
    sx, sy, entry, tip, span = _on_mask(fit, mask, region_size)
    if span < max(sx, sy):
        return False
    points = entry + np.linspace(0.0, 1.0, 24)[:, None] * (tip - entry)
    if float(np.mean(~inside_area(mask, points[:, 0], points[:, 1], sx, sy))) >= config.edge_share:
        return True  # outside the imaged area: a screen's furniture, not tissue
    dx, dy = np.abs(tip - entry)
    if np.degrees(np.arctan2(dy, dx)) < config.edge_min_angle_deg:
        return False
    # Near the border: the imaged area ends within the band on either side, across the fit (a
    # few lookups per point instead of a distance transform of the whole mask). The band is also
    # at most the fit's length times tan(edge_parallel_deg), so that only a fit parallel to the
    # border counts: a steep needle entering at a linear image's side runs near it for a while.
    band = min(
        config.edge_band * float(np.hypot(*region_size)),
        span * math.tan(math.radians(config.edge_parallel_deg)),
    )
    if band < 1.5 * max(sx, sy):
        return False  # too short to tell its course from the border's at the mask's resolution
    normal = np.array([-(tip - entry)[1], (tip - entry)[0]]) / span
    offsets = np.array([-band, -band / 2, band / 2, band])[:, None, None] * normal
    shifted = (points + offsets).reshape(-1, 2)
    across = inside_area(mask, shifted[:, 0], shifted[:, 1], sx, sy).reshape(len(offsets), -1)
    return float(np.mean(~across.all(axis=0))) >= config.edge_share


def _on_mask(
    fit: ShaftFit, mask: np.ndarray, region_size: tuple[int, int]
) -> tuple[float, float, np.ndarray, np.ndarray, float]:
    """Region pixels per mask pixel (x, y), the fit's entry and tip as arrays, and its length."""
    sx = region_size[0] / mask.shape[1]
    sy = region_size[1] / mask.shape[0]
    entry, tip = np.array(fit.entry, float), np.array(fit.tip, float)
    return sx, sy, entry, tip, float(np.hypot(*(tip - entry)))
