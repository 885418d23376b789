"""Trajectory geometry: the shaft extended past the tip to the region edge; distances to a target.

Pure functions on full-frame pixels; the display reuses the helpers to draw and to measure.
"""

from __future__ import annotations

import math

from usguide.types import Needle, Point, Roi, Trajectory


def unit_direction(start: Point, end: Point) -> tuple[float, float] | None:
    """Unit vector from ``start`` to ``end``, or None when the points coincide."""
    dx, dy = end.x - start.x, end.y - start.y
    norm = math.hypot(dx, dy)
    if norm < 1e-9:
        return None
    return dx / norm, dy / norm


def needle_direction(needle: Needle) -> tuple[float, float]:
    """Unit vector entry → tip; from the angle (pointing down and right) when the two coincide."""
    direction = unit_direction(needle.entry, needle.tip)
    if direction is not None:
        return direction
    angle = math.radians(needle.angle_deg)
    return math.cos(angle), math.sin(angle)


def point_line_distance(point: Point, line_a: Point, line_b: Point) -> float:
    """Perpendicular distance from ``point`` to the line through ``line_a`` and ``line_b``."""
    direction = unit_direction(line_a, line_b)
    if direction is None:
        return math.hypot(point.x - line_a.x, point.y - line_a.y)
    return abs((point.x - line_a.x) * direction[1] - (point.y - line_a.y) * direction[0])


def foot_along(point: Point, origin: Point, direction: tuple[float, float]) -> float:
    """Signed distance along unit ``direction`` from ``origin`` to the foot of ``point``."""
    return (point.x - origin.x) * direction[0] + (point.y - origin.y) * direction[1]


def ray_to_region_edge(origin: Point, direction: tuple[float, float], roi: Roi) -> Point:
    """Where the ray from ``origin`` along ``direction`` leaves the region ``roi``.

    The region spans [x, x + w - 1] x [y, y + h - 1]; an origin outside it is returned as is.
    """
    left, top = float(roi.x), float(roi.y)
    right, bottom = float(roi.x + roi.w - 1), float(roi.y + roi.h - 1)
    if not (left - 1e-6 <= origin.x <= right + 1e-6 and top - 1e-6 <= origin.y <= bottom + 1e-6):
        return origin
    limits = []
    dx, dy = direction
    if dx > 1e-12:
        limits.append((right - origin.x) / dx)
    elif dx < -1e-12:
        limits.append((left - origin.x) / dx)
    if dy > 1e-12:
        limits.append((bottom - origin.y) / dy)
    elif dy < -1e-12:
        limits.append((top - origin.y) / dy)
    if not limits:
        return origin
    distance = max(0.0, min(limits))
    return Point(origin.x + distance * dx, origin.y + distance * dy)


def project_trajectory(
    needle: Needle, roi: Roi, mm_per_px: float | None, target: Point | None = None
) -> Trajectory:
    """The needle's projected path from the tip to the region edge, and where it passes the target.

    Args:
        needle: the needle in full-frame pixels.
        roi: the image region in full-frame pixels.
        mm_per_px: scale; None leaves the distances None.
        target: a point in full-frame pixels, or None.

    Returns:
        A ``Trajectory``. ``along_mm`` is the distance from the tip to the target's foot on the
        trajectory (negative: the target is behind the tip), ``miss_mm`` the perpendicular distance.
    """
    direction = needle_direction(needle)
    end = ray_to_region_edge(needle.tip, direction, roi)
    along_mm = miss_mm = None
    if target is not None and mm_per_px is not None:
        along = foot_along(target, needle.tip, direction)
        miss = abs(
            (target.x - needle.tip.x) * direction[1] - (target.y - needle.tip.y) * direction[0]
        )
        along_mm = along * mm_per_px
        miss_mm = miss * mm_per_px
    return Trajectory(
        tip=needle.tip,
        end=end,
        direction=direction,
        target=target,
        along_mm=along_mm,
        miss_mm=miss_mm,
    )
