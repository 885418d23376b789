"""Detection metrics against labelled clips (``truth.json`` from the simulator): recall, precision,
false positives on needle-free frames, tip and angle errors, tip/entry swaps, speed.

Rules (documented in ``usguide evaluate --help``):
- a detection on a frame where the needle is visible is a true positive when its tip lies within the
  tolerance of the true tip (``tolerance_mm``, or ``tolerance_px`` when the clip has no scale);
  otherwise it is a false positive (and the frame a miss);
- a detection on a frame where the needle is not visible is a false positive;
- recall = true positives / visible frames; precision = true positives / detections;
- false-positive rate = detections / frames without a needle (``needle_present`` false);
- tip and angle errors and swaps are measured on every detection on a visible frame;
- a swap is a detection whose tip is nearer the true entry than the true tip.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from usguide.errors import UsguideError
from usguide.types import Needle, Point, Roi

TRUTH_FORMAT = "usguide-sim-truth"
DEFAULT_TOLERANCE_MM = 3.0  # "target hit" in Perk Tutor; near clinicians' 2.7 mm acceptable error
DEFAULT_TOLERANCE_PX = 20.0  # used only for clips without a scale


@dataclass(frozen=True)
class FrameTruth:
    """The labels of one frame (full-frame pixels)."""

    visible: bool
    needle_present: bool
    tip: Point | None
    entry: Point | None
    angle_deg: float | None
    contrast: float | None = None  # shaft / tissue echo ratio over the visible shaft (simulator)


@dataclass
class ClipTruth:
    """The labels of one clip."""

    name: str
    frames: list[FrameTruth]
    mm_per_px: float | None = None
    roi: Roi | None = None
    fps: float | None = None


def _point(value: object) -> Point | None:
    return None if value is None else Point(float(value[0]), float(value[1]))


def load_truth(path: str | Path) -> ClipTruth:
    """Reads a ``truth.json``.

    Raises:
        UsguideError: when the file is missing or not a usguide truth file.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != TRUTH_FORMAT:
            raise ValueError(f"format is {data.get('format')!r}, expected {TRUTH_FORMAT!r}")
        frames = [
            FrameTruth(
                visible=bool(item["visible"]),
                needle_present=bool(item.get("needle_present", item["visible"])),
                tip=_point(item.get("tip")),
                entry=_point(item.get("entry")),
                angle_deg=None if item.get("angle_deg") is None else float(item["angle_deg"]),
                contrast=None if item.get("contrast") is None else float(item["contrast"]),
            )
            for item in sorted(data["frames"], key=lambda item: int(item["frame"]))
        ]
        roi = data.get("roi")
        return ClipTruth(
            name=path.parent.name,
            frames=frames,
            mm_per_px=None if data.get("mm_per_px") is None else float(data["mm_per_px"]),
            roi=None if roi is None else Roi(*(int(v) for v in roi)),
            fps=None if data.get("fps") is None else float(data["fps"]),
        )
    except FileNotFoundError:
        raise UsguideError(f"no truth file at {path} — give a folder of labelled clips") from None
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise UsguideError(
            f"bad truth file {path}: {exc} — regenerate it with usguide simulate"
        ) from None


# Recall is also reported per stratum of visible needles, to show what limits it.
CONTRAST_BINS = ((2.0, "contrast <2x"), (3.0, "contrast 2-3x"), (math.inf, "contrast >=3x"))
LENGTH_BINS_MM = ((5.0, "visible <5 mm"), (10.0, "visible 5-10 mm"), (math.inf, "visible >=10 mm"))
STRATA = tuple(name for _, name in CONTRAST_BINS + LENGTH_BINS_MM)


def strata_of(label: FrameTruth, mm_per_px: float | None) -> list[str]:
    """The strata a visible frame belongs to (one per known property: contrast, visible length)."""
    names = []
    if label.contrast is not None:
        names.append(next(name for top, name in CONTRAST_BINS if label.contrast < top))
    if mm_per_px and label.tip is not None and label.entry is not None:
        length_mm = math.dist(label.tip, label.entry) * mm_per_px
        names.append(next(name for top, name in LENGTH_BINS_MM if length_mm < top))
    return names


@dataclass
class ClipScore:
    """Counts and error samples of one detector on one clip (or several, see ``combine``)."""

    name: str
    detector: str
    frames: int = 0
    visible_frames: int = 0
    detections: int = 0
    true_positives: int = 0
    false_positives: int = 0
    needle_free_frames: int = 0
    needle_free_detections: int = 0
    swaps: int = 0
    tip_errors_px: list[float] = field(default_factory=list)
    tip_errors_mm: list[float] = field(default_factory=list)
    angle_errors_deg: list[float] = field(default_factory=list)
    seconds: float = 0.0
    strata: dict[str, list[int]] = field(default_factory=dict)  # name -> [visible, found]

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.visible_frames if self.visible_frames else None

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.detections if self.detections else None

    @property
    def false_positive_rate(self) -> float | None:
        """Detections per needle-free frame."""
        if not self.needle_free_frames:
            return None
        return self.needle_free_detections / self.needle_free_frames

    @property
    def fps(self) -> float | None:
        return self.frames / self.seconds if self.seconds > 0 else None

    def summary(self) -> dict:
        """Plain figures for the JSON report and the printed table."""
        return {
            "clip": self.name,
            "detector": self.detector,
            "frames": self.frames,
            "visible_frames": self.visible_frames,
            "detections": self.detections,
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "recall": _round(self.recall),
            "precision": _round(self.precision),
            "needle_free_frames": self.needle_free_frames,
            "false_positive_rate": _round(self.false_positive_rate),
            "tip_error_px": _stats(self.tip_errors_px),
            "tip_error_mm": _stats(self.tip_errors_mm),
            "angle_error_deg": _stats(self.angle_errors_deg),
            "swaps": self.swaps,
            "fps": _round(self.fps, 1),
            "recall_by": {
                name: {
                    "visible_frames": self.strata[name][0],
                    "recall": _round(self.strata[name][1] / self.strata[name][0]),
                }
                for name in STRATA
                if name in self.strata  # a stratum exists once it has a visible frame
            },
        }


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def _stats(values: Sequence[float]) -> dict:
    """Median and 90th percentile (None when there are no samples)."""
    if not values:
        return {"median": None, "p90": None, "n": 0}
    array = np.asarray(values, dtype=np.float64)
    return {
        "median": round(float(np.median(array)), 3),
        "p90": round(float(np.percentile(array, 90)), 3),
        "n": int(array.size),
    }


def angle_error_deg(detected: float, truth: float) -> float:
    """Absolute difference of two probe-face angles (both 0..90)."""
    return abs(float(detected) - float(truth))


def score_clip(
    predictions: Sequence[Needle | None],
    truth: ClipTruth,
    *,
    detector: str = "",
    tolerance_mm: float = DEFAULT_TOLERANCE_MM,
    tolerance_px: float = DEFAULT_TOLERANCE_PX,
    seconds: float = 0.0,
) -> ClipScore:
    """Scores one clip's per-frame predictions (full-frame pixels) against its labels.

    ``predictions`` and ``truth.frames`` are matched by position; the shorter length is scored.
    """
    scale = truth.mm_per_px
    tolerance = tolerance_mm / scale if scale else tolerance_px
    score = ClipScore(name=truth.name, detector=detector, seconds=seconds)
    for needle, label in zip(predictions, truth.frames, strict=False):
        score.frames += 1
        if not label.needle_present:
            score.needle_free_frames += 1
            score.needle_free_detections += needle is not None
        visible = label.visible and label.tip is not None
        score.visible_frames += visible
        strata = strata_of(label, scale) if visible else []
        for name in strata:
            score.strata.setdefault(name, [0, 0])[0] += 1
        if needle is None:
            continue
        score.detections += 1
        if not visible:
            score.false_positives += 1
            continue
        error = math.dist(needle.tip, label.tip)
        score.tip_errors_px.append(error)
        if scale:
            score.tip_errors_mm.append(error * scale)
        if label.angle_deg is not None:
            score.angle_errors_deg.append(angle_error_deg(needle.angle_deg, label.angle_deg))
        if label.entry is not None and math.dist(needle.tip, label.entry) < error:
            score.swaps += 1
        if error <= tolerance:
            score.true_positives += 1
            for name in strata:
                score.strata[name][1] += 1
        else:
            score.false_positives += 1
    return score


def combine(scores: Sequence[ClipScore], name: str = "overall") -> ClipScore:
    """Pools several clips' scores of one detector (counts summed, error samples concatenated)."""
    total = ClipScore(name=name, detector=scores[0].detector if scores else "")
    for score in scores:
        for attr in (
            "frames",
            "visible_frames",
            "detections",
            "true_positives",
            "false_positives",
            "needle_free_frames",
            "needle_free_detections",
            "swaps",
            "seconds",
        ):
            setattr(total, attr, getattr(total, attr) + getattr(score, attr))
        total.tip_errors_px.extend(score.tip_errors_px)
        total.tip_errors_mm.extend(score.tip_errors_mm)
        total.angle_errors_deg.extend(score.angle_errors_deg)
        for name, (visible, found) in score.strata.items():
            counts = total.strata.setdefault(name, [0, 0])
            counts[0] += visible
            counts[1] += found
    return total


def format_strata(rows: Sequence[ClipScore]) -> str:
    """Recall per stratum of visible needles (contrast, visible length), one line per detector."""
    names = [name for name in STRATA if any(name in row.strata for row in rows)]
    if not names:
        return ""
    header = f"{'recall by':<27} " + " ".join(f"{name:>15}" for name in names)
    lines = [header, "-" * len(header)]
    for row in rows:
        cells = []
        for name in names:
            visible, found = row.strata.get(name, [0, 0])
            cells.append(f"{_pct(found / visible if visible else None)} of {visible}".rjust(15))
        lines.append(f"{(row.name + ' ' + row.detector)[:27]:<27} " + " ".join(cells))
    return "\n".join(lines)


def format_table(rows: Sequence[ClipScore]) -> str:
    """A fixed-width text table, one row per (clip, detector)."""
    header = (
        f"{'clip':<16} {'detector':<10} {'frames':>6} {'recall':>7} {'prec':>6} {'FP/free':>7} "
        f"{'tip med':>8} {'tip p90':>8} {'ang med':>7} {'ang p90':>7} {'swaps':>5} {'fps':>6}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        tips = row.tip_errors_mm or row.tip_errors_px
        unit = "mm" if row.tip_errors_mm else "px"
        tip = _stats(tips)
        angle = _stats(row.angle_errors_deg)
        lines.append(
            f"{row.name[:16]:<16} {row.detector[:10]:<10} {row.frames:>6} {_pct(row.recall):>7} "
            f"{_pct(row.precision):>6} {_pct(row.false_positive_rate):>7} "
            f"{_num(tip['median'], unit):>8} {_num(tip['p90'], unit):>8} "
            f"{_num(angle['median'], '°'):>7} {_num(angle['p90'], '°'):>7} {row.swaps:>5} "
            f"{_num(row.fps, ''):>6}"
        )
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _num(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:.1f}{unit}"
