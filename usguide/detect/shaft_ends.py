"""Which end of a fitted shaft is the tip, where exactly the tip lies, and where the needle enters.

The tip heatmap decides when it has a peak near the shaft; otherwise the geometry does (a needle
goes into the tissue). All coordinates are image-region pixels, as in ``postprocess``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from usguide.detect.base import NeedleMaps
from usguide.geometry import distance_to_edge, unit_direction
from usguide.types import Point


@dataclass(frozen=True)
class TipSearch:
    """How the tip heatmap is searched (``PostprocessConfig`` fills this from its own fields).

    Attributes:
        threshold: minimum tip-heatmap peak for the tip map to decide the direction.
        search_px: how far from the line (perpendicular) a tip peak may lie.
        margin_px: how far beyond either end of the visible shaft the tip may lie.
    """

    threshold: float = 0.3
    search_px: float = 12.0
    margin_px: float = 60.0


def orient_shaft(
    end_a: Point,
    end_b: Point,
    maps: NeedleMaps,
    sx: float,
    sy: float,
    width: float,
    height: float,
    search: TipSearch,
) -> tuple[Point, Point, bool]:
    """Decides which end is the tip. Returns (tip, entry, tip_from_map)."""
    if maps.tip is not None:
        peak = tip_peak_near(maps.tip, end_a, end_b, sx, sy, search)
        if peak is not None:
            # The tip is the end nearer the peak; its position along the line comes from the peak
            # (the tip may lie beyond the visible shaft), across the line from the fit.
            dx, dy = end_b[0] - end_a[0], end_b[1] - end_a[1]
            length = math.hypot(dx, dy)
            unit_x, unit_y = dx / length, dy / length
            t_peak = (peak[0] - end_a[0]) * unit_x + (peak[1] - end_a[1]) * unit_y
            tip = Point(end_a[0] + t_peak * unit_x, end_a[1] + t_peak * unit_y)
            return (tip, end_b, True) if abs(t_peak) < abs(t_peak - length) else (tip, end_a, True)
    # No tip map: the needle goes into the tissue, so the deeper end is the tip. Nearly horizontal
    # shafts: the end nearer a side edge of the region is the entry.
    if abs(end_a[1] - end_b[1]) > 0.09 * abs(end_a[0] - end_b[0]):
        return (end_a, end_b, False) if end_a[1] > end_b[1] else (end_b, end_a, False)
    edge_a = min(end_a[0], width - 1 - end_a[0])
    edge_b = min(end_b[0], width - 1 - end_b[0])
    return (end_b, end_a, False) if edge_a < edge_b else (end_a, end_b, False)


def tip_peak_near(
    tip_map: np.ndarray,
    end_a: Point,
    end_b: Point,
    sx: float,
    sy: float,
    search: TipSearch,
) -> Point | None:
    """Sub-pixel position (region px) of the strongest tip response near the shaft line, or None."""
    tip_map = np.asarray(tip_map, dtype=np.float32)
    # Only the map around the segment can hold its tip: search that window, not the whole map.
    reach = search.margin_px + search.search_px + max(sx, sy)
    c0 = max(0, int((min(end_a[0], end_b[0]) - reach) / sx))
    c1 = min(tip_map.shape[1], int((max(end_a[0], end_b[0]) + reach) / sx) + 2)
    r0 = max(0, int((min(end_a[1], end_b[1]) - reach) / sy))
    r1 = min(tip_map.shape[0], int((max(end_a[1], end_b[1]) + reach) / sy) + 2)
    window = tip_map[r0:r1, c0:c1]
    index = np.flatnonzero(window >= search.threshold)
    if index.size == 0:
        return None
    rows, cols = np.divmod(index, window.shape[1])
    values = window[rows, cols]
    dx, dy = end_b[0] - end_a[0], end_b[1] - end_a[1]
    length = math.hypot(dx, dy)
    unit_x, unit_y = dx / length, dy / length
    # Offsets from end_a, in region pixels, of each candidate's map-pixel centre.
    off_x = cols * sx + ((c0 + 0.5) * sx - 0.5 - end_a[0])
    off_y = rows * sy + ((r0 + 0.5) * sy - 0.5 - end_a[1])
    across = np.abs(off_x * unit_y - off_y * unit_x)
    along = off_x * unit_x + off_y * unit_y
    margin = search.margin_px  # the tip may lie a little beyond the visible shaft
    near = (
        (across <= search.search_px + max(sx, sy)) & (along >= -margin) & (along <= length + margin)
    )
    # The first strongest candidate near the line (argmax keeps the first of equal values).
    best = int(np.argmax(np.where(near, values, -1.0)))
    if not near[best]:
        return None
    row, col = int(rows[best]) + r0, int(cols[best]) + c0
    # Weighted centroid in a 3x3 window for sub-pixel accuracy (a few values: plain Python).
    top, left = max(0, row - 1), max(0, col - 1)
    patch = tip_map[top : row + 2, left : col + 2].tolist()
    total = sum(map(sum, patch))
    u = sum(value * (left + j) for line in patch for j, value in enumerate(line)) / total
    v = sum(sum(line) * (top + i) for i, line in enumerate(patch)) / total
    return Point((u + 0.5) * sx - 0.5, (v + 0.5) * sy - 0.5)


def snap_entry(
    entry: Point,
    tip: Point,
    width: float,
    height: float,
    snap_px: float,
) -> Point:
    """Extends the shaft from the visible start back to the region edge when the edge is close."""
    direction = unit_direction(tip, entry)
    if direction is None:
        return entry
    dx, dy = direction
    distance = distance_to_edge(entry, direction, 0.0, 0.0, width - 1, height - 1)
    if distance is not None and 0 <= distance <= snap_px:
        return Point(entry[0] + distance * dx, entry[1] + distance * dy)
    return entry
