"""The imaged area of a region (the fan or screen image, not its margins) and runs to its edge.

Shared by the classical detector (which keeps its ridge search inside the area and erases lines that
cross it) and the border-to-border check on every fit (``detect/crossing.py``).
"""

from __future__ import annotations

import cv2
import numpy as np


def lit_hull(lit: np.ndarray, water_fraction: float) -> np.ndarray:
    """Mask (uint8 0/1) of the convex hull of the ``lit`` (bool) pixels.

    Fans and screen images are convex, so water or anechoic gel inside them, black themselves, stay
    inside the hull. When nothing is lit, or the hull covers less than ``water_fraction`` of the
    image (a few bright lines on black: a water bath), all of it is imaged.
    """
    mask = np.zeros(lit.shape[:2], np.uint8)
    rows = np.flatnonzero(lit.any(axis=1))
    if rows.size == 0:  # nothing lit: no margin to tell from the image
        mask[:] = 1
        return mask
    # Each row's first and last lit pixel span the hull of all of them, at a fraction of the cost.
    first = np.argmax(lit[rows], axis=1)
    last = lit.shape[1] - 1 - np.argmax(lit[rows, ::-1], axis=1)
    points = np.concatenate([np.stack([first, rows], 1), np.stack([last, rows], 1)])
    cv2.fillConvexPoly(mask, cv2.convexHull(points.astype(np.int32)), 1)
    if mask.mean() < water_fraction:
        mask[:] = 1
    return mask


def run_to_edge(
    valid: np.ndarray, point: np.ndarray, direction: np.ndarray, sx: float, sy: float
) -> float:
    """Region pixels from ``point`` along ``direction`` until the imaged area ``valid`` ends.

    Args:
        valid: the imaged area at reduced resolution (non-zero inside).
        point: start, in region pixels.
        direction: unit vector, in region pixels.
        sx, sy: region pixels per ``valid`` pixel along x and y.
    """
    height, width = valid.shape
    step = max(sx, sy)
    distances = step * np.arange(1, (width + height) * 2)
    xs = point[0] + distances * direction[0]
    ys = point[1] + distances * direction[1]
    outside = ~inside_area(valid, xs, ys, sx, sy)
    first = int(np.argmax(outside)) if outside.any() else len(distances)
    return float(first * step)


def inside_area(
    valid: np.ndarray, xs: np.ndarray, ys: np.ndarray, sx: float, sy: float
) -> np.ndarray:
    """Which region-pixel points (``xs``, ``ys``) fall inside the imaged area ``valid`` (reduced
    resolution, ``sx``, ``sy`` region pixels per pixel); beyond the region is outside."""
    cols = np.round((xs + 0.5) / sx - 0.5).astype(int)
    rows = np.round((ys + 0.5) / sy - 0.5).astype(int)
    within = (cols >= 0) & (cols < valid.shape[1]) & (rows >= 0) & (rows < valid.shape[0])
    result = np.zeros(len(xs), bool)
    result[within] = valid[rows[within], cols[within]] > 0
    return result
