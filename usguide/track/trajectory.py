"""Trajectory geometry: the shaft extended past the tip to the region edge; distances to a target.

Pure functions on full-frame pixels, built on ``usguide.geometry``.
"""

from __future__ import annotations

import math

from usguide.geometry import foot_along, line_offset, ray_to_region_edge, unit_direction
from usguide.types import Needle, Point, Roi, Trajectory


def needle_direction(needle: Needle) -> tuple[float, float]:
    """Unit vector entry → tip; from the angle (pointing down and right) when the two coincide."""
    direction = unit_direction(needle.entry, needle.tip)
    if direction is not None:
        return direction
    angle = math.radians(needle.angle_deg)
    return math.cos(angle), math.sin(angle)


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
        miss = line_offset(target, needle.tip, direction)
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
