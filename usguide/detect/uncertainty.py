"""How sure a pooled evaluation figure is: 95 % intervals by resampling whole clips.

Frames of one clip are strongly correlated (the needle, tissue and settings are the same in all of
them), so a set of 20 clips of 30 frames is worth far fewer than 600 independent frames: in one
session the first 20 held-out clips gave 42 % localised hits and the next 20 gave 67 %. The
bootstrap here draws clips, not frames, with replacement, and reports the 2.5th and 97.5th
percentiles of the pooled figure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from usguide.detect.evaluation import ClipScore

__all__ = [
    "ClipGroup",
    "Interval",
    "clip_groups",
    "clip_interval",
    "format_intervals",
    "free_interval",
    "hit_interval",
    "interval_report",
    "resampled_sums",
]

RESAMPLES = 2000
SEED = 0  # fixed: the same scores always print the same interval


@dataclass(frozen=True)
class Interval:
    """A pooled fraction, its 95 % clip-bootstrap interval and how many clips carry it."""

    value: float
    low: float
    high: float
    clips: int

    def as_dict(self) -> dict:
        return {
            "value": round(self.value, 4),
            "low": round(self.low, 4),
            "high": round(self.high, 4),
            "clips": self.clips,
        }


def clip_interval(
    scores: Sequence[ClipScore],
    counts: Callable[[ClipScore], tuple[int, int]],
    resamples: int = RESAMPLES,
) -> Interval | None:
    """The pooled ``sum(hits) / sum(total)`` of ``counts`` over the clips, with its interval.

    Only clips with a non-zero total take part; None when there are none.
    """
    pairs = np.array([counts(score) for score in scores], dtype=np.float64).reshape(-1, 2)
    pairs = pairs[pairs[:, 1] > 0]
    if len(pairs) == 0:
        return None
    value = float(pairs[:, 0].sum() / pairs[:, 1].sum())
    sums = resampled_sums(pairs, resamples)
    low, high = np.percentile(sums[:, 0] / sums[:, 1], [2.5, 97.5])
    return Interval(value, float(low), float(high), len(pairs))


def resampled_sums(rows: np.ndarray, resamples: int = RESAMPLES) -> np.ndarray:
    """``resamples`` bootstrap draws of the clips (rows, with replacement), each summed:
    (resamples, columns). Seeded: the same rows always give the same draws."""
    picks = np.random.default_rng(SEED).integers(0, len(rows), size=(resamples, len(rows)))
    return rows[picks].sum(axis=1)


def hit_interval(scores: Sequence[ClipScore]) -> Interval | None:
    """Localised hits over visible frames."""
    return clip_interval(scores, lambda score: (score.localised_hits, score.visible_frames))


def free_interval(scores: Sequence[ClipScore]) -> Interval | None:
    """Detections over needle-free frames (false positives)."""
    return clip_interval(
        scores, lambda score: (score.needle_free_detections, score.needle_free_frames)
    )


def format_intervals(groups: Sequence[ClipGroup]) -> str:
    """One line per group of clips: hits and false positives with their intervals."""
    lines = ["95 % intervals (clips resampled, not frames: a clip's frames are not independent)"]
    for item in groups:
        lines.append(
            f"{item.label:32s} localised hits {_text(item.hits):26s} "
            f"needle-free FP {_text(item.free)}"
        )
    return "\n".join(lines)


def _text(interval: Interval | None) -> str:
    if interval is None:
        return "-"
    return (
        f"{100 * interval.value:.0f}% [{100 * interval.low:.0f}-{100 * interval.high:.0f}%] "
        f"of {interval.clips} clips"
    )


@dataclass(frozen=True)
class ClipGroup:
    """The clips behind one pooled row of an evaluation (one set, or all clips, of one detector)
    and the intervals of their pooled hits and false positives."""

    group: str  # the suite's set (heldout, generalisation, painted) or "overall"
    detector: str
    scores: list[ClipScore]
    hits: Interval | None
    free: Interval | None

    @property
    def label(self) -> str:
        return f"{self.group} ({self.detector})"


def clip_groups(
    rows: Sequence[ClipScore], names: Sequence[str], *, by_set: bool
) -> list[ClipGroup]:
    """The clips of each pooled row an evaluation prints: per set (the suite's held-out,
    generalisation, painted) or, with ``by_set`` False, all clips, for each detector."""
    sets = list(dict.fromkeys(row.group for row in rows)) if by_set else [None]
    groups = []
    for group in sets:
        for name in names:
            scores = [row for row in rows if row.detector == name and group in (None, row.group)]
            groups.append(
                ClipGroup(
                    group or "overall",
                    name,
                    scores,
                    hit_interval(scores),
                    free_interval(scores),
                )
            )
    return groups


def interval_report(groups: Sequence[ClipGroup]) -> dict:
    """The intervals for --json: {group: {detector: {localised_hits, needle_free_fp, method}}}."""
    report: dict = {}
    for item in groups:
        report.setdefault(item.group, {})[item.detector] = {
            "localised_hits": item.hits.as_dict() if item.hits else None,
            "needle_free_fp": item.free.as_dict() if item.free else None,
            "method": f"clip bootstrap, {RESAMPLES} resamples, 2.5-97.5 percentiles",
        }
    return report
