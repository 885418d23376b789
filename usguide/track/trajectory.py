"""Trajectory geometry: the shaft extended past the tip to the region edge; distances to a target.

Pure functions on full-frame pixels, built on ``usguide.geometry``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from usguide.geometry import Direction, foot_along, line_offset, ray_to_region_edge, unit_direction
from usguide.types import Needle, Point, Roi, Trajectory


@dataclass(frozen=True)
class TargetReadout:
    """Where a target lies relative to the projected path.

    Attributes:
        along_px: tip to the target's foot on the path, in pixels (negative: behind the tip).
        miss_px: perpendicular distance from the target to the path line, in pixels.
        along_mm / miss_mm: the same in mm, or None when the scale is unknown.
    """

    along_px: float
    miss_px: float
    along_mm: float | None
    miss_mm: float | None

    def on_target(self, threshold_mm: float) -> bool:
        """True when the path ahead of the tip passes within ``threshold_mm`` of the target."""
        if self.miss_mm is None or self.along_mm is None:
            return False
        return self.miss_mm <= threshold_mm and self.along_mm >= -threshold_mm


def readout(
    tip: Point, direction: Direction, target: Point, mm_per_px: float | None
) -> TargetReadout:
    """The target's distance along the path from ``tip`` (unit ``direction``) and its miss."""
    along = foot_along(target, tip, direction)
    miss = line_offset(target, tip, direction)
    if mm_per_px is None:
        return TargetReadout(along, miss, None, None)
    return TargetReadout(along, miss, along * mm_per_px, miss * mm_per_px)


def target_readout(needle: Needle, target: Point, mm_per_px: float | None) -> TargetReadout | None:
    """``readout`` along the shaft's own direction; None for a zero-length shaft."""
    direction = unit_direction(needle.entry, needle.tip)
    return None if direction is None else readout(needle.tip, direction, target, mm_per_px)


def path_end(needle: Needle, region: Roi) -> Point | None:
    """Where the path from the tip along the shaft leaves ``region`` (None: zero-length shaft)."""
    direction = unit_direction(needle.entry, needle.tip)
    return None if direction is None else ray_to_region_edge(needle.tip, direction, region)


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
        distances = readout(needle.tip, direction, target, mm_per_px)
        along_mm, miss_mm = distances.along_mm, distances.miss_mm
    return Trajectory(
        tip=needle.tip,
        end=end,
        direction=direction,
        target=target,
        along_mm=along_mm,
        miss_mm=miss_mm,
    )
