"""Where the shaft echo ends: the tip moved along the fitted line to the end of the visible shaft.

The detector's maps are coarse (an image region of 1000 px becomes a 128 px map), and a faint far
end of the shaft fades out of them early or late. The image itself is sharp: along the fitted line
the shaft is brighter than the tissue beside it until the tip, where it falls to the tissue level.
This stage reads that profile in the full-resolution region and puts the tip where the echo has
fallen most of the way to the tissue (the rule a sonographer's hand label follows), within a short
window around the detector's tip. It never moves the line, only the tip along it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np

from usguide.detect.postprocess import ShaftFit
from usguide.types import Point


@dataclass(frozen=True)
class TipRefineConfig:
    """Tuning of the tip refinement (distances in image-region pixels unless said otherwise).

    Attributes:
        window_fraction: how far the tip may move, as a fraction of the shaft length ...
        max_window_px: ... at most this far ...
        min_window_px: ... and at least this far (both ways along the line).
        fall_fraction: the tip is where the echo above the tissue has fallen below this fraction
            of the shaft's own level (0.4: fallen 60 % of the way to the tissue).
        max_gap_px: a dip along the shaft shorter than this does not end it (speckle, drop-out).
        min_contrast: the shaft must stand this many grey levels above its tissue, or the
            detector's tip is kept (nothing to read the end from).
        enabled: False keeps the detector's tip.
    """

    window_fraction: float = 0.25
    max_window_px: float = 120.0
    min_window_px: float = 24.0
    fall_fraction: float = 0.4
    max_gap_px: float = 12.0
    min_contrast: float = 8.0
    enabled: bool = True


def _contrast(
    region: np.ndarray, entry: np.ndarray, unit: np.ndarray, along: np.ndarray, half_width: float
) -> np.ndarray:
    """Shaft echo (brightest of a few lines across the shaft) above the tissue level beside it,
    per position along the line; NaN where the samples leave the region."""
    normal = np.array([-unit[1], unit[0]])
    core = np.linspace(-half_width, half_width, 5)
    near, far = 2 * half_width + 3, 4 * half_width + 6
    side = np.concatenate([np.linspace(-far, -near, 4), np.linspace(near, far, 4)])
    offsets = np.concatenate([core, side])
    points = entry[None, None, :] + along[:, None, None] * unit + offsets[None, :, None] * normal
    map_x = points[..., 0].astype(np.float32)
    map_y = points[..., 1].astype(np.float32)
    samples = cv2.remap(
        region, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    ).astype(np.float32)
    inside = (
        (map_x >= 0)
        & (map_x <= region.shape[1] - 1)
        & (map_y >= 0)
        & (map_y <= region.shape[0] - 1)
    )
    # A position counts only where the shaft and the tissue on both sides lie inside the region
    # (no NaN arithmetic: numpy's warnings about it would need a thread-unsafe filter per frame).
    valid = inside.all(axis=1)
    shaft = samples[:, : len(core)].max(axis=1)
    tissue = np.sort(samples[:, len(core) :], axis=1)[:, 3:5].mean(axis=1)  # median of the 8
    return np.where(valid, shaft - tissue, np.nan)


def refine_tip(
    region: np.ndarray, fit: ShaftFit, config: TipRefineConfig | None = None
) -> ShaftFit:
    """The fit with its tip moved to where the shaft echo ends (the same fit when unsure).

    Args:
        region: the grey uint8 image region the fit is in (full resolution).
        fit: the shaft fit (image-region pixels).
        config: tuning; default ``TipRefineConfig()``.
    """
    config = config or TipRefineConfig()
    entry = np.array([fit.entry.x, fit.entry.y], np.float64)
    tip = np.array([fit.tip.x, fit.tip.y], np.float64)
    length = float(np.linalg.norm(tip - entry))
    if not config.enabled or length < 8.0:
        return fit
    unit = (tip - entry) / length
    window = float(
        np.clip(length * config.window_fraction, config.min_window_px, config.max_window_px)
    )
    start = max(0.0, length - window)
    along = np.arange(start * 0.5, length + window, 1.0)  # from half-way up the shaft
    # The echo's thickness grows with the region's resolution: about 1 px per 250 px of region.
    half_width = max(1.5, max(region.shape) / 250.0)
    contrast = _contrast(region, entry, unit, along, half_width)
    valid = ~np.isnan(contrast)
    if valid.sum() < 10:
        return fit
    smooth = np.convolve(np.where(valid, contrast, 0.0), np.ones(7) / 7, mode="same")
    body = (along >= start * 0.5) & (along <= start) & valid
    if body.sum() < 5:
        body = (along <= length) & valid
    if not body.any():  # e.g. a short fit along the region's edge: no tissue beside its shaft
        return fit
    level = float(np.median(smooth[body]))
    if not math.isfinite(level) or level < config.min_contrast:
        return fit
    above = smooth >= config.fall_fraction * level
    end = _walk_end(above, along, config.max_gap_px)
    if end is None:
        return fit
    end = float(np.clip(end, length - window, length + window))
    new_tip = entry + end * unit
    return replace(fit, tip=Point(float(new_tip[0]), float(new_tip[1])), length_px=float(end))


def _walk_end(above: np.ndarray, along: np.ndarray, max_gap: float) -> float | None:
    """Walking out from the confident part of the shaft: the last 'above' before a longer gap."""
    hits = np.flatnonzero(above)
    if hits.size == 0:
        return None
    # Samples are 1 px apart: a jump of more than max_gap + 1 between hits is a gap that ends it.
    breaks = np.flatnonzero(np.diff(hits) > max_gap + 1)
    last = hits[breaks[0]] if breaks.size else hits[-1]
    return float(along[last])
