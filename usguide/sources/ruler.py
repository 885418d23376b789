"""Reads the scale (mm per pixel) off a scanner's depth ruler in a screen capture.

Scanners draw a vertical depth scale along one edge of the image (inside it or just outside): dots
or ticks, with larger marks every centimetre by the common convention and smaller ones between.
The marks are found as small bright features (a top-hat), grouped into a column, split into major
and minor marks by size, and fitted to one evenly spaced grid with sub-pixel centroids; a column
whose marks do not sit on one grid is not a ruler. A ruler whose marks are all alike cannot say
whether they are 1 cm or 5 mm apart: then only a depth typed by the user decides, never a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from usguide.types import Roi

_TOPHAT_MIN = 45.0  # grey levels a mark stands above its surroundings
_MARK_MAX = 0.02  # largest dot radius, as a share of the frame's smaller side
_BAND_INSIDE = 0.12  # share of the region's width searched inside each edge
_BAND_OUTSIDE = 0.12  # share of the frame's width searched outside each edge
_MARKS_MIN = 4  # fewer marks in a column could be chance
_MAJOR_RATIO = 1.3  # a major mark is at least this much larger than the next size class
_SUBDIVISIONS = (1, 2, 4, 5, 10)  # minor marks per centimetre, as scanners draw them
_GRID_TOL = 0.12  # share of the finest spacing a mark may miss its grid slot by
_GRID_TOL_PX = 1.2  # ... but never less than this many pixels (rounded drawing, compression)
_INLIERS_MIN = 0.8  # share of a column's marks that must sit on the grid
_DEPTH_RANGE_MM = (5.0, 400.0)  # depths a scanner shows
_UNITS_MM = (10.0, 5.0, 2.0, 1.0)  # spacings of a ruler whose marks are all alike
DEPTH_AGREEMENT = 0.05  # ruler and typed depth that differ by more than this are reported


@dataclass(frozen=True)
class RulerScale:
    """A depth ruler read off the screen.

    Attributes:
        mm_per_px: the scale (square pixels assumed).
        side: "left" or "right" edge of the image region.
        x: the ruler's column, full-frame pixels.
        marks: marks on the fitted grid; major_marks: of those, the centimetre marks.
        step_mm: spacing of the finest marks.
        residual_px: RMS distance of the marks from the fitted grid.
        first_y: y of the first centimetre mark, full-frame pixels.
    """

    mm_per_px: float
    side: str
    x: float
    marks: int
    major_marks: int
    step_mm: float
    residual_px: float
    first_y: float

    def to_json(self) -> dict:
        return {
            "mm_per_px": round(self.mm_per_px, 6),
            "side": self.side,
            "x": round(self.x, 1),
            "marks": self.marks,
            "major_marks": self.major_marks,
            "step_mm": self.step_mm,
            "residual_px": round(self.residual_px, 3),
        }


@dataclass(frozen=True)
class RulerReading:
    """The outcome of ``read_ruler``: a scale, or None with the reason in ``message``."""

    scale: RulerScale | None
    message: str


@dataclass(frozen=True)
class _Mark:
    x0: float
    x1: float
    cx: float
    cy: float
    size: float  # a dot's diameter, a tick's length
    kind: str  # "dot" or "tick"


def read_ruler(
    frames: np.ndarray | Sequence[np.ndarray],
    roi: Roi | None = None,
    depth_mm: float | None = None,
) -> RulerReading:
    """Finds a vertical depth ruler beside (or over the edge of) the image region.

    Args:
        frames: one frame or a few frames of a screen capture (grey or BGR, uint8).
        roi: the image region; the whole frame when None.
        depth_mm: the depth the user typed, if any: it decides a ruler of alike marks (1 cm or
            5 mm apart?) and is compared with the ruler's depth otherwise (see ``check_depth``).

    Returns:
        The scale and a note, or no scale and why (no ruler, ambiguous, irregular).
    """
    images = [frames] if isinstance(frames, np.ndarray) else list(frames)
    if not images:
        return RulerReading(None, "no frames to read a depth ruler in")
    height, width = images[0].shape[:2]
    roi = roi or Roi(0, 0, width, height)
    grey = np.mean([_grey(image) for image in images[:8]], axis=0)
    found: list[RulerScale] = []
    reasons: list[str] = []
    for side in ("left", "right"):
        x0, x1 = _band(side, roi, width)
        # The ruler spans the image's depth: marks far above or below it are text or menus.
        reach = 0.03 * height
        marks = [
            m
            for m in _marks(grey, x0, x1, height)
            if roi.y - reach <= m.cy <= roi.y + roi.h + reach
        ]
        for group in _columns(marks):
            scale, reason = _fit(group, side, roi.h, depth_mm)
            if scale is not None:
                found.append(scale)
            elif reason:
                reasons.append(reason)
    if not found:
        why = reasons[0] if reasons else "no evenly spaced depth marks beside the image"
        return RulerReading(None, f"scale unknown: {why} — type the depth or mm/px")
    found.sort(key=lambda s: -s.marks)
    best = found[0]
    for other in found[1:]:
        if abs(other.mm_per_px / best.mm_per_px - 1.0) > 0.02:
            return RulerReading(
                None,
                f"scale unknown: two rulers disagree ({best.mm_per_px:.5f} and "
                f"{other.mm_per_px:.5f} mm/px) — type the depth or mm/px",
            )
    note = f"depth ruler on the {best.side}: {best.marks} marks, {best.major_marks} per cm"
    return RulerReading(best, note)


def check_depth(mm_per_px: float, region_h: int, depth_mm: float) -> str | None:
    """Compares a ruler's scale with a depth the user typed; a message when they disagree."""
    ruler_depth = mm_per_px * region_h
    if abs(ruler_depth / depth_mm - 1.0) <= DEPTH_AGREEMENT:
        return None
    return (
        f"the depth ruler gives {ruler_depth:.1f} mm for the image region's height but "
        f"{depth_mm:g} mm was typed — check the depth (or the image region)"
    )


def _grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return image.astype(np.float32)


def _band(side: str, roi: Roi, width: int) -> tuple[int, int]:
    inside, outside = int(_BAND_INSIDE * roi.w), int(_BAND_OUTSIDE * width)
    if side == "left":
        return max(0, roi.x - outside), roi.x + inside
    return roi.x + roi.w - inside, min(width, roi.x + roi.w + outside)


def _marks(grey: np.ndarray, x0: int, x1: int, height: int) -> list[_Mark]:
    """Small bright marks (dots, short horizontal ticks) in columns ``[x0, x1)``."""
    radius = max(3, round(_MARK_MAX * min(grey.shape)))
    pad = radius + 1
    lo, hi = max(0, x0 - pad), min(grey.shape[1], x1 + pad)
    crop = grey[:, lo:hi]
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    tophat = crop - cv2.morphologyEx(crop, cv2.MORPH_OPEN, disc)
    mask = (tophat > _TOPHAT_MIN).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count < 2:
        return []
    # Sub-pixel centroids, weighted by how far each pixel stands above its surroundings.
    weight = np.where(mask > 0, tophat, 0.0).ravel()
    ys, xs = np.indices(crop.shape)
    flat = labels.ravel()
    total = np.bincount(flat, weights=weight, minlength=count)
    cy = np.bincount(flat, weights=weight * ys.ravel(), minlength=count) / np.maximum(total, 1e-9)
    cx = np.bincount(flat, weights=weight * xs.ravel(), minlength=count) / np.maximum(total, 1e-9)
    marks = []
    tick_max = max(6, round(0.06 * grey.shape[1]))
    for k in range(1, count):
        bx, by, bw, bh, area = (int(v) for v in stats[k])
        if by == 0 or by + bh >= height:
            continue  # cut by the frame's edge: its centre is off
        if not x0 <= lo + cx[k] < x1:
            continue
        dot = (
            min(bw, bh) >= 2
            and max(bw, bh) <= 2 * radius + 1
            and max(bw, bh) <= 1.6 * min(bw, bh)
            and area >= 0.5 * bw * bh
        )
        tick = bh <= 4 and 3 <= bw <= tick_max and bw >= 2 * bh
        if not (dot or tick):
            continue
        size = float(np.sqrt(area * 4 / np.pi)) if dot else float(bw)
        marks.append(
            _Mark(lo + bx, lo + bx + bw, lo + cx[k], cy[k], size, "dot" if dot else "tick")
        )
    return marks


def _columns(marks: list[_Mark]) -> list[list[_Mark]]:
    """Marks of one kind in one column, largest groups first: dots share their centre, ticks
    one of their ends (ticks of different lengths start at the image's edge)."""
    groups: list[list[_Mark]] = []
    for kind, keys in (
        ("dot", (lambda m: m.cx,)),
        ("tick", (lambda m: m.x0, lambda m: m.x1)),
    ):
        same = [m for m in marks if m.kind == kind]
        for key in keys:
            values = np.array([key(m) for m in same])
            taken = np.zeros(len(same), bool)
            while len(same) and not taken.all():
                counts = [
                    int(np.sum((np.abs(values - v) <= 2.0) & ~taken)) if not taken[i] else 0
                    for i, v in enumerate(values)
                ]
                best = int(np.argmax(counts))
                if counts[best] < _MARKS_MIN:
                    break
                member = (np.abs(values - values[best]) <= 2.0) & ~taken
                taken |= member
                groups.append([m for m, keep in zip(same, member, strict=True) if keep])
    groups.sort(key=len, reverse=True)
    return groups


def _fit(
    group: list[_Mark], side: str, region_h: int, depth_mm: float | None
) -> tuple[RulerScale | None, str]:
    """Fits one column's marks to an evenly spaced grid; (scale, "") or (None, reason)."""
    group = sorted(group, key=lambda m: m.cy)
    ys = np.array([m.cy for m in group])
    sizes = np.array([m.size for m in group])
    major = _major(sizes)
    gaps = np.diff(ys)
    if gaps.size == 0 or np.median(gaps) < 3:
        return None, ""
    fine = float(np.median(gaps))
    if major is None:  # all marks alike: 1 cm, 5 mm, 2 mm or 1 mm apart?
        if depth_mm is None:
            return None, (
                f"{len(group)} alike marks every {fine:.1f} px: cannot tell whether they are "
                "1 cm or 5 mm apart"
            )
        per_mm = [unit / fine * region_h / depth_mm for unit in _UNITS_MM]
        unit = _UNITS_MM[int(np.argmin([abs(np.log(r)) for r in per_mm]))]
        return _grid(ys, np.ones(len(ys), bool), fine, 1, unit / 10.0, group, side, region_h)
    if major.sum() < 2:
        return None, "fewer than two centimetre marks"
    origin, period = _major_grid(ys[major])
    subdivisions = period / fine
    n = min(_SUBDIVISIONS, key=lambda s: abs(s - subdivisions))
    if abs(subdivisions - n) > 0.2 * n:
        return None, f"marks every {fine:.1f} px do not divide the {period:.1f} px centimetre"
    return _grid(ys, major, period / n, n, 1.0, group, side, region_h, origin)


def _major_grid(majors: np.ndarray) -> tuple[float, float]:
    """Origin and period of the grid that most major marks sit on (a stray large blob, e.g. a
    dot of text in the column, is outvoted): each gap between neighbours is tried as the period."""
    best = (-1, 0.0, float(majors[0]), float(np.median(np.diff(majors))))
    for period in np.diff(majors):
        if period < 3:
            continue
        tol = max(_GRID_TOL_PX, _GRID_TOL * period / 2)
        for origin in majors:
            offset = (majors - origin) / period
            error = np.abs(offset - np.round(offset)) * period
            inliers = int(np.sum(error <= tol))
            score = (inliers, -float(np.sum(np.minimum(error, tol))), float(origin), float(period))
            if score[:2] > best[:2]:
                best = score
    return best[2], best[3]


def _major(sizes: np.ndarray) -> np.ndarray | None:
    """Which marks belong to the largest size class (None when all are alike)."""
    order = np.sort(sizes)
    ratios = order[1:] / np.maximum(order[:-1], 1e-6)
    splits = np.flatnonzero(ratios >= _MAJOR_RATIO)
    if splits.size == 0:
        return None
    threshold = order[splits[-1] + 1]
    return sizes >= threshold


def _grid(
    ys: np.ndarray,
    major: np.ndarray,
    step: float,
    per_major: int,
    major_cm: float,
    group: list[_Mark],
    side: str,
    region_h: int,
    origin: float | None = None,
) -> tuple[RulerScale | None, str]:
    """Least-squares grid ``y = origin + k * step`` through the marks; majors every ``per_major``
    steps, ``major_cm`` centimetres apart."""
    origin = float(ys[major][0]) if origin is None else origin
    tol = max(_GRID_TOL_PX, _GRID_TOL * step)
    slots = np.round((ys - origin) / step)
    inlier = np.abs(ys - origin - slots * step) <= tol
    for _ in range(3):  # refit on the inliers, then re-assign slots with the refined grid
        if inlier.sum() < 2:
            break
        slope, origin = np.polyfit(slots[inlier], ys[inlier], 1)
        step = float(slope)
        slots = np.round((ys - origin) / step)
        inlier = np.abs(ys - origin - slots * step) <= tol
    on_major = inlier & major & (np.mod(slots, per_major) == 0)
    # A major mark off its slot, or a minor one on a major slot: not this kind of ruler.
    wrong = inlier & (major != (np.mod(slots, per_major) == 0)) if per_major > 1 else ~inlier
    if wrong.sum() > 0.2 * len(ys) or inlier.sum() < _INLIERS_MIN * len(ys):
        return None, f"{len(ys)} marks in a column are not evenly spaced"
    if on_major.sum() < 3 and not (on_major.sum() >= 2 and inlier.sum() >= 5):
        return None, "too few marks on one grid"
    mm_per_px = major_cm * 10.0 / (step * per_major)
    depth = mm_per_px * region_h
    if not _DEPTH_RANGE_MM[0] <= depth <= _DEPTH_RANGE_MM[1]:
        return None, f"marks would make the image {depth:.0f} mm deep"
    residual = ys[inlier] - origin - slots[inlier] * step
    xs = np.array([m.cx for m in group])[inlier]
    return (
        RulerScale(
            mm_per_px=float(mm_per_px),
            side=side,
            x=float(np.median(xs)),
            marks=int(inlier.sum()),
            major_marks=int(on_major.sum()),
            step_mm=round(major_cm * 10.0 / per_major, 3),
            residual_px=float(np.sqrt(np.mean(residual**2))),
            first_y=float(ys[on_major][0]) if on_major.any() else float(ys[inlier][0]),
        ),
        "",
    )
