"""Detection metrics against labelled clips (``truth.json``): recall, precision, the localised hit,
false positives on needle-free frames, off-needle tracks, tip and angle errors, swaps, speed, and
all of them per stratum (``usguide.detect.strata``).

Rules (documented in ``usguide evaluate --help``):
- a detection on a frame where the needle is visible is a true positive when its tip lies within the
  tolerance of the true tip (``tolerance_mm``, or ``tolerance_px`` when the clip has no scale);
  otherwise it is a false positive (and the frame a miss);
- a *localised hit* (issue 14's yardstick) is a detection on a visible frame whose shaft line lies
  within 10° of the labelled one and whose tip lies within 5 mm of the labelled tip (5 % of the
  image region's diagonal when the clip has no scale); localised recall = hits / visible frames;
- an "obvious" needle (contrast >= 3x, >= 10 mm visible) without a localised hit is a defect: those
  frames are listed;
- a detection on a frame where the needle is not visible is a false positive;
- recall = true positives / visible frames; precision = true positives / detections;
- false-positive rate = detections / frames without a needle (``needle_present`` false);
- an off-needle track is a run of at least ``FALSE_TRACK_FRAMES`` consecutive frames whose reported
  needle lies off the labelled one (no needle there, or its line more than 10° away or its tip more
  than the hit tolerance from the labelled shaft): the tracker holding on to a distractor;
- tip and angle errors and swaps are measured on every detection on a visible frame;
- a swap is a detection whose tip is nearer the true entry than the true tip;
- frames without a label (hand labels are sparse) are not scored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from usguide.detect.hits import (
    HIT_ANGLE_DEG,
    angle_error_deg,
    hit_tolerance_px,
    line_angle_error_deg,
    off_needle,
)
from usguide.detect.strata import (
    ALL,
    CONTRAST_BINS,
    LENGTH_BINS_MM,
    OBVIOUS,
    STRATA,
    StratumCounts,
    frame_strata,
    scene_strata,
    sort_key,
    strata_of,
)
from usguide.detect.truth import TRUTH_FORMAT, ClipTruth, FrameTruth, load_truth
from usguide.types import Needle

__all__ = [  # the truth and strata names stay importable from here
    "CONTRAST_BINS",
    "LENGTH_BINS_MM",
    "HIT_ANGLE_DEG",
    "STRATA",
    "TRUTH_FORMAT",
    "ClipScore",
    "ClipTruth",
    "angle_error_deg",
    "hit_tolerance_px",
    "line_angle_error_deg",
    "FrameOutcome",
    "FrameTruth",
    "combine",
    "error_stats",
    "load_truth",
    "score_clip",
    "strata_of",
]

DEFAULT_TOLERANCE_MM = 3.0  # "target hit" in Perk Tutor; near clinicians' 2.7 mm acceptable error
DEFAULT_TOLERANCE_PX = 20.0  # used only for clips without a scale
FALSE_TRACK_FRAMES = 10  # a third of a second at 30 fps: long enough for a user to act on it
# Confidence floors of the operating curve: what a display that hid needles below the floor would
# show, so two models are compared at equal false positives, not only at their own defaults.
CONFIDENCE_FLOORS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


@dataclass(frozen=True)
class FrameOutcome:
    """What happened on one scored frame that is worth a picture: ``kind`` is "hit" (localised),
    "miss" (visible needle, no localised hit), "false" (a detection on a needle-free frame) or
    "track" (the middle frame of an off-needle track)."""

    clip: str
    frame: int
    kind: str
    strata: tuple[str, ...]
    needle: Needle | None
    label: FrameTruth
    tip_error_px: float | None = None
    angle_error_deg: float | None = None


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
    group: str = ""  # the clip's "set" tag (the suite's heldout / generalisation), if any
    localised_hits: int = 0
    by_stratum: dict[str, StratumCounts] = field(default_factory=dict)
    obvious_misses: list[tuple[str, int]] = field(default_factory=list)  # (clip, frame)
    false_tracks: list[tuple[str, int, int]] = field(default_factory=list)  # (clip, first, last)
    outcomes: list[FrameOutcome] = field(default_factory=list)  # for pictures, not reported
    hit_confidences: list[float] = field(default_factory=list)  # of each localised hit
    free_confidences: list[float] = field(default_factory=list)  # of each needle-free detection

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
    def localised_recall(self) -> float | None:
        return self.localised_hits / self.visible_frames if self.visible_frames else None

    @property
    def obvious_recall(self) -> float | None:
        counts = self.by_stratum.get(OBVIOUS)
        return counts.localised / counts.visible if counts and counts.visible else None

    def operating_curve(self) -> list[dict]:
        """Localised recall and needle-free false-positive rate with needles below each of
        ``CONFIDENCE_FLOORS`` dropped (floor 0: the figures as reported)."""
        hits = np.asarray(self.hit_confidences, float)
        free = np.asarray(self.free_confidences, float)
        return [
            {
                "min_confidence": floor,
                "localised_recall": _round(
                    (hits >= floor).sum() / self.visible_frames if self.visible_frames else None
                ),
                "false_positive_rate": _round(
                    (free >= floor).sum() / self.needle_free_frames
                    if self.needle_free_frames
                    else None
                ),
            }
            for floor in CONFIDENCE_FLOORS
        ]

    @property
    def fps(self) -> float | None:
        return self.frames / self.seconds if self.seconds > 0 else None

    def summary(self) -> dict:
        """Plain figures for the JSON report and the printed table."""
        return {
            "clip": self.name,
            "detector": self.detector,
            "set": self.group,
            "frames": self.frames,
            "visible_frames": self.visible_frames,
            "detections": self.detections,
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "recall": _round(self.recall),
            "precision": _round(self.precision),
            "needle_free_frames": self.needle_free_frames,
            "needle_free_detections": self.needle_free_detections,
            "false_positive_rate": _round(self.false_positive_rate),
            "tip_error_px": error_stats(self.tip_errors_px),
            "tip_error_mm": error_stats(self.tip_errors_mm),
            "angle_error_deg": error_stats(self.angle_errors_deg),
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
            "localised_hits": self.localised_hits,
            "localised_recall": _round(self.localised_recall),
            "obvious_frames": self.by_stratum[OBVIOUS].visible if OBVIOUS in self.by_stratum else 0,
            "obvious_recall": _round(self.obvious_recall),
            "obvious_misses": [{"clip": c, "frame": f} for c, f in self.obvious_misses],
            "off_needle_tracks": len(self.false_tracks),
            "off_needle_track_frames": sum(
                last - first + 1 for _, first, last in self.false_tracks
            ),
            "off_needle_track_runs": [
                {"clip": c, "first": first, "last": last} for c, first, last in self.false_tracks
            ],
            "strata": {
                name: self.by_stratum[name].summary()
                for name in sorted(self.by_stratum, key=sort_key)
            },
            "operating_curve": self.operating_curve(),
        }


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def error_stats(values: Sequence[float]) -> dict:
    """Median and 90th percentile (None when there are no samples)."""
    if not values:
        return {"median": None, "p90": None, "n": 0}
    array = np.asarray(values, dtype=np.float64)
    return {
        "median": round(float(np.median(array)), 3),
        "p90": round(float(np.percentile(array, 90)), 3),
        "n": int(array.size),
    }


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

    A label is matched with ``predictions[label.frame]`` (its position in ``truth.frames`` when
    ``frame`` is -1); labels beyond the predictions, and predictions without a label, are not
    scored.
    """
    scale = truth.mm_per_px
    tolerance = tolerance_mm / scale if scale else tolerance_px
    hit_tolerance = hit_tolerance_px(truth, tolerance_px)
    score = ClipScore(
        name=truth.name, detector=detector, seconds=seconds, group=truth.tags.get("set", "")
    )
    run: list[tuple[int, Needle, FrameTruth]] = []  # the current off-needle run

    def close_run() -> None:
        if len(run) >= FALSE_TRACK_FRAMES:
            score.false_tracks.append((truth.name, run[0][0], run[-1][0]))
            index, needle, label = run[len(run) // 2]
            score.outcomes.append(FrameOutcome(truth.name, index, "track", (ALL,), needle, label))
        run.clear()

    for position, label in enumerate(truth.frames):
        index = label.frame if label.frame >= 0 else position
        if index >= len(predictions):
            continue
        needle = predictions[index]
        score.frames += 1
        tags = truth.tags_of(label)
        if needle is not None and off_needle(needle, label, hit_tolerance):
            if run and run[-1][0] != index - 1:
                close_run()
            run.append((index, needle, label))
        else:
            close_run()
        if not label.needle_present:
            score.needle_free_frames += 1
            score.needle_free_detections += needle is not None
            if needle is not None:
                score.free_confidences.append(needle.confidence)
            for name in scene_strata(tags):
                counts = score.by_stratum.setdefault(name, StratumCounts())
                counts.free += 1
                counts.free_detections += needle is not None
            if needle is not None:
                score.outcomes.append(
                    FrameOutcome(
                        truth.name, index, "false", tuple(scene_strata(tags)), needle, label
                    )
                )
        visible = label.visible and label.tip is not None
        score.visible_frames += visible
        strata = strata_of(label, scale) if visible else []
        for name in strata:
            score.strata.setdefault(name, [0, 0])[0] += 1
        every = frame_strata(label, tags, scale) if visible else []
        for name in every:
            score.by_stratum.setdefault(name, StratumCounts()).visible += 1
        if needle is None:
            if visible:
                score.outcomes.append(
                    FrameOutcome(truth.name, index, "miss", tuple(every), None, label)
                )
                if OBVIOUS in every:
                    score.obvious_misses.append((truth.name, index))
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
            for name in every:
                score.by_stratum[name].found += 1
        else:
            score.false_positives += 1
        line_error = line_angle_error_deg(needle, label)
        hit = error <= hit_tolerance and (line_error is None or line_error <= HIT_ANGLE_DEG)
        score.localised_hits += hit
        if hit:
            score.hit_confidences.append(needle.confidence)
        for name in every if hit else ():
            score.by_stratum[name].localised += 1
        if not hit and OBVIOUS in every:
            score.obvious_misses.append((truth.name, index))
        kind = "hit" if hit else "miss"
        score.outcomes.append(
            FrameOutcome(truth.name, index, kind, tuple(every), needle, label, error, line_error)
        )
    close_run()
    return score


def combine(scores: Sequence[ClipScore], name: str = "overall") -> ClipScore:
    """Pools several clips' scores of one detector (counts summed, error samples concatenated)."""
    total = ClipScore(name=name, detector=scores[0].detector if scores else "")
    groups = {score.group for score in scores}
    total.group = groups.pop() if len(groups) == 1 else ""
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
            "localised_hits",
        ):
            setattr(total, attr, getattr(total, attr) + getattr(score, attr))
        for attr in (
            "tip_errors_px",
            "tip_errors_mm",
            "angle_errors_deg",
            "obvious_misses",
            "false_tracks",
            "outcomes",
            "hit_confidences",
            "free_confidences",
        ):
            getattr(total, attr).extend(getattr(score, attr))
        for stratum, (visible, found) in score.strata.items():
            counts = total.strata.setdefault(stratum, [0, 0])
            counts[0] += visible
            counts[1] += found
        for stratum, counts in score.by_stratum.items():
            total.by_stratum.setdefault(stratum, StratumCounts()).add(counts)
    return total
