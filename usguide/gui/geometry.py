"""Overlay geometry on top of ``usguide.geometry``: path end, tip-to-target readout.

Kept free of Qt so it can be tested on numbers alone. All points are full-frame pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

from usguide.geometry import foot_along, line_offset, ray_to_region_edge, unit_direction
from usguide.types import Needle, Point, Roi


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


def direction(needle: Needle) -> tuple[float, float] | None:
    """Unit vector from entry to tip, or None for a degenerate (zero-length) shaft."""
    return unit_direction(needle.entry, needle.tip)


def path_end(needle: Needle, region: Roi) -> Point | None:
    """Where the projected path from the tip leaves the image region (None: degenerate shaft)."""
    unit = direction(needle)
    return None if unit is None else ray_to_region_edge(needle.tip, unit, region)


def target_readout(needle: Needle, target: Point, mm_per_px: float | None) -> TargetReadout | None:
    """Distance along the path from the tip to the target's foot, and the lateral miss."""
    unit = direction(needle)
    if unit is None:
        return None
    along = foot_along(target, needle.tip, unit)
    miss = line_offset(target, needle.tip, unit)
    if mm_per_px is None:
        return TargetReadout(along, miss, None, None)
    return TargetReadout(along, miss, along * mm_per_px, miss * mm_per_px)
