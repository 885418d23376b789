"""Strata of labelled frames for ``usguide evaluate``: which strata a frame belongs to (angle,
contrast, visible length, the "obvious needle", gauge, needle look, geometry, medium, style) and
their table.

A stratum exists in a report only when some frame carries the label it needs, so a truth file
without, say, ``medium`` simply has no medium rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from usguide.detect.truth import FrameTruth

ALL = "all frames"
OBVIOUS = "obvious needle"  # contrast >= 3x and >= 10 mm visible: a miss there is a defect
OBVIOUS_CONTRAST = 3.0
OBVIOUS_LENGTH_MM = 10.0
ANGLE_BINS = (
    (10.0, "angle 0-10°"),
    (30.0, "angle 10-30°"),
    (50.0, "angle 30-50°"),
    (80.0, "angle 50-80°"),
    (math.inf, "angle 80-90°"),
)
CONTRAST_BINS = ((2.0, "contrast <2x"), (3.0, "contrast 2-3x"), (math.inf, "contrast >=3x"))
LENGTH_BINS_MM = ((5.0, "visible <5 mm"), (10.0, "visible 5-10 mm"), (math.inf, "visible >=10 mm"))
STRATA = tuple(name for _, name in CONTRAST_BINS + LENGTH_BINS_MM)  # the historic "recall_by"
# Tag strata, in report order: (tag keys tried in turn, row prefix). Scene tags also count
# needle-free frames (false positives per geometry, medium, style); needle tags do not.
# "needle" is the needle's look (faint, plain, saturated, double_wall, beaded); "style" is the
# simulator's range set (train, heldout); "set" (the suite's sets) is reported as columns instead.
NEEDLE_TAGS = ((("gauge",), "gauge"), (("needle_style",), "needle"))
SCENE_TAGS = ((("geometry",), "geometry"), (("medium",), "medium"), (("style",), "style"))
_ORDER = (
    [ALL, OBVIOUS]
    + [name for _, name in ANGLE_BINS + CONTRAST_BINS + LENGTH_BINS_MM]
    + [prefix for _, prefix in NEEDLE_TAGS + SCENE_TAGS]
)


def visible_length_mm(label: FrameTruth, mm_per_px: float | None) -> float | None:
    """Length of the labelled visible shaft in mm (None without a scale or both ends)."""
    if not mm_per_px or label.tip is None or label.entry is None:
        return None
    return math.dist(label.tip, label.entry) * mm_per_px


def strata_of(label: FrameTruth, mm_per_px: float | None) -> list[str]:
    """The contrast and visible-length strata of a visible frame (the historic ``recall_by``)."""
    names = []
    if label.contrast is not None:
        names.append(next(name for top, name in CONTRAST_BINS if label.contrast < top))
    length = visible_length_mm(label, mm_per_px)
    if length is not None:
        names.append(next(name for top, name in LENGTH_BINS_MM if length < top))
    return names


def is_obvious(label: FrameTruth, mm_per_px: float | None) -> bool:
    """A visible needle at least 3x brighter than its tissue with at least 10 mm visible."""
    length = visible_length_mm(label, mm_per_px)
    return (
        label.visible
        and label.contrast is not None
        and label.contrast >= OBVIOUS_CONTRAST
        and length is not None
        and length >= OBVIOUS_LENGTH_MM
    )


def _tag_strata(tags: Mapping[str, str], families: Sequence) -> list[str]:
    names = []
    for keys, prefix in families:
        value = next((tags[key] for key in keys if tags.get(key)), None)
        if value is not None:
            suffix = "G" if prefix == "gauge" and value.isdigit() else ""
            names.append(f"{prefix} {value}{suffix}")
    return names


def frame_strata(label: FrameTruth, tags: Mapping[str, str], mm_per_px: float | None) -> list[str]:
    """Every stratum of a visible frame (``ALL`` first); ``scene_strata`` gives needle-free ones."""
    names = [ALL]
    if is_obvious(label, mm_per_px):
        names.append(OBVIOUS)
    if label.angle_deg is not None:
        angle = abs(label.angle_deg)
        names.append(next(name for top, name in ANGLE_BINS if angle < top))
    names.extend(strata_of(label, mm_per_px))
    return names + _tag_strata(tags, NEEDLE_TAGS + SCENE_TAGS)


def scene_strata(tags: Mapping[str, str]) -> list[str]:
    """The strata a needle-free frame counts in (``ALL`` and its scene tags)."""
    return [ALL, *_tag_strata(tags, SCENE_TAGS)]


def sort_key(name: str) -> tuple[int, str]:
    """Report order: all, obvious, angle, contrast, length bins, then tags by family and value."""
    if name in _ORDER:
        return _ORDER.index(name), ""
    prefix, _, value = name.partition(" ")
    rank = _ORDER.index(prefix) if prefix in _ORDER else len(_ORDER)
    return rank, value.rjust(8) if value[:1].isdigit() else value


@dataclass
class StratumCounts:
    """Counts of one stratum: visible frames, 3-mm hits, localised hits; needle-free frames and
    detections on them."""

    visible: int = 0
    found: int = 0
    localised: int = 0
    free: int = 0
    free_detections: int = 0

    def add(self, other: StratumCounts) -> None:
        self.visible += other.visible
        self.found += other.found
        self.localised += other.localised
        self.free += other.free
        self.free_detections += other.free_detections

    def summary(self) -> dict:
        return {
            "visible_frames": self.visible,
            "recall": _ratio(self.found, self.visible),
            "localised_recall": _ratio(self.localised, self.visible),
            "needle_free_frames": self.free,
            "false_positive_rate": _ratio(self.free_detections, self.free),
        }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _pct(part: int, whole: int) -> str:
    return "-" if not whole else f"{100 * part / whole:.1f}%"


def format_stratum_table(columns: Sequence[tuple[str, Mapping[str, StratumCounts]]]) -> str:
    """Per-stratum figures side by side, one column group per (title, counts).

    Each group: visible frames, localised-hit rate (the issue's hit: line within 10°, tip within
    5 mm), 3-mm recall (the historic one), needle-free frames and the false-positive rate on them.
    """
    names = sorted({name for _, counts in columns for name in counts}, key=sort_key)
    if not names:
        return ""
    width = 36  # one column group: 7 + 7 + 6 + 6 + 6 characters and 4 spaces
    top = f"{'':<22}" + "".join(f" | {title[:width]:^{width}}" for title, _ in columns)
    sub = f"{'stratum':<22}" + (
        f" | {'visible':>7} {'loc-hit':>7} {'3mm':>6} {'free':>6} {'FP':>6}" * len(columns)
    )
    lines = [top, sub, "-" * len(sub)]
    for name in names:
        cells = []
        for _, counts in columns:
            row = counts.get(name)
            if row is None:
                cells.append(f" | {'':{width}}")
                continue
            cells.append(
                f" | {row.visible:>7} {_pct(row.localised, row.visible):>7} "
                f"{_pct(row.found, row.visible):>6} {row.free:>6} "
                f"{_pct(row.free_detections, row.free):>6}"
            )
        lines.append(f"{name[:22]:<22}" + "".join(cells))
    return "\n".join(lines)
