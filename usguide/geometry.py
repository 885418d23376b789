"""Plain 2-D geometry shared by detection, tracking and the display: angles, unit directions,
rays to a region's edge, point-to-line offsets.

The ground floor of the package (it imports only ``usguide.types``). Pure functions on floats.
"""

from __future__ import annotations

import math

from usguide.types import Point, Roi

Direction = tuple[float, float]  # a unit vector (dx, dy), x to the right, y down


def probe_angle_deg(dx: float, dy: float) -> float:
    """Angle of a direction relative to the probe face (horizontal), 0..90 degrees."""
    return math.degrees(math.atan2(abs(dy), abs(dx))) if (dx or dy) else 0.0


def unit_direction(start: Point, end: Point) -> Direction | None:
    """Unit vector from ``start`` to ``end``, or None when the points coincide."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    norm = math.hypot(dx, dy)
    if norm < 1e-9:
        return None
    return dx / norm, dy / norm


def foot_along(point: Point, origin: Point, direction: Direction) -> float:
    """Signed distance along unit ``direction`` from ``origin`` to the foot of ``point``."""
    return (point[0] - origin[0]) * direction[0] + (point[1] - origin[1]) * direction[1]


def line_offset(point: Point, origin: Point, direction: Direction) -> float:
    """Perpendicular distance from ``point`` to the line through ``origin`` along unit
    ``direction`` (how far a target lies beside a needle's path: its "miss")."""
    return abs((point[0] - origin[0]) * direction[1] - (point[1] - origin[1]) * direction[0])


def point_line_distance(point: Point, line_a: Point, line_b: Point) -> float:
    """Perpendicular distance from ``point`` to the line through ``line_a`` and ``line_b``."""
    direction = unit_direction(line_a, line_b)
    if direction is None:
        return math.hypot(point[0] - line_a[0], point[1] - line_a[1])
    return line_offset(point, line_a, direction)


def distance_to_edge(
    origin: Point, direction: Direction, left: float, top: float, right: float, bottom: float
) -> float | None:
    """Distance along ``direction`` from ``origin`` to the nearest border of the box
    [left, right] x [top, bottom] that the ray crosses; None for a zero direction.

    The result is negative when the origin lies beyond that border (callers decide what that
    means: a point outside the box).
    """
    limits = []
    dx, dy = direction
    if dx > 1e-12:
        limits.append((right - origin[0]) / dx)
    elif dx < -1e-12:
        limits.append((left - origin[0]) / dx)
    if dy > 1e-12:
        limits.append((bottom - origin[1]) / dy)
    elif dy < -1e-12:
        limits.append((top - origin[1]) / dy)
    return min(limits) if limits else None


def ray_to_region_edge(origin: Point, direction: Direction, roi: Roi) -> Point:
    """Where the ray from ``origin`` along ``direction`` leaves the region ``roi``.

    The region spans [x, x + w - 1] x [y, y + h - 1]; an origin outside it is returned as is.
    """
    left, top = float(roi.x), float(roi.y)
    right, bottom = float(roi.x + roi.w - 1), float(roi.y + roi.h - 1)
    if not (left - 1e-6 <= origin[0] <= right + 1e-6 and top - 1e-6 <= origin[1] <= bottom + 1e-6):
        return Point(*origin)
    distance = distance_to_edge(origin, direction, left, top, right, bottom)
    if distance is None:
        return Point(*origin)
    distance = max(0.0, distance)
    return Point(origin[0] + distance * direction[0], origin[1] + distance * direction[1])
