"""The localised hit's geometry (issue 14): the angle between a detected and a labelled shaft line,
the tip tolerance, and whether a detection lies off the labelled needle.
"""

from __future__ import annotations

import math

from usguide.detect.truth import ClipTruth, FrameTruth
from usguide.types import Needle, Point

DEFAULT_TOLERANCE_PX = 20.0  # the last resort when a clip has neither a scale nor a frame size
HIT_ANGLE_DEG = 10.0  # localised hit: the right line ...
HIT_TIP_MM = 5.0  # ... and the tip within 5 mm,
HIT_TIP_DIAGONAL = 0.05  # or 5 % of the image region's diagonal without a scale


def angle_error_deg(detected: float, truth: float) -> float:
    """Absolute difference of two probe-face angles (both 0..90)."""
    return abs(float(detected) - float(truth))


def line_angle_error_deg(needle: Needle, label: FrameTruth) -> float | None:
    """Angle between the detected shaft line and the labelled one (0..90), or None when unknown.

    Uses the lines' directions (entry to tip), so a needle mirrored about the vertical is wrong;
    falls back to the probe-face angles when the label has no usable entry and tip.
    """
    if label.tip is not None and label.entry is not None and math.dist(label.tip, label.entry) >= 2:
        truth = math.atan2(label.tip.y - label.entry.y, label.tip.x - label.entry.x)
        found = math.atan2(needle.tip.y - needle.entry.y, needle.tip.x - needle.entry.x)
        difference = math.degrees(abs(truth - found)) % 180.0
        return min(difference, 180.0 - difference)
    if label.angle_deg is not None:
        return angle_error_deg(needle.angle_deg, label.angle_deg)
    return None


def hit_tolerance_px(truth: ClipTruth, tolerance_px: float = DEFAULT_TOLERANCE_PX) -> float:
    """The localised hit's tip tolerance in pixels: 5 mm, else 5 % of the region's diagonal."""
    if truth.mm_per_px:
        return HIT_TIP_MM / truth.mm_per_px
    diagonal = truth.region_diagonal_px()
    return HIT_TIP_DIAGONAL * diagonal if diagonal else tolerance_px


def _segment_distance(point: Point, start: Point, end: Point) -> float:
    dx, dy = end.x - start.x, end.y - start.y
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else ((point.x - start.x) * dx + (point.y - start.y) * dy) / length2
    t = min(1.0, max(0.0, t))
    return math.hypot(point.x - (start.x + t * dx), point.y - (start.y + t * dy))


def off_needle(needle: Needle, label: FrameTruth, tolerance: float) -> bool:
    """Whether a detection lies away from the labelled needle (on nothing, or on a distractor).

    A frame with a needle present but no labelled shaft (out of plane) is not counted: the tracker
    may rightly hold on to a needle that drops out for a moment.
    """
    if label.tip is None or label.entry is None:
        return not label.needle_present
    angle = line_angle_error_deg(needle, label)
    return (angle is not None and angle > HIT_ANGLE_DEG) or _segment_distance(
        needle.tip, label.entry, label.tip
    ) > tolerance
