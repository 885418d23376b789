"""Choosing the epoch to export by the product's own score on labelled clips (``--select-cases``).

The training losses judge maps, not the needle the physician is shown, and on painted frames they
kept falling while the real clip fell from 98 to 66 % localised hits (v21, 2026-12-06). This runs
each epoch's exported model through the same analyzer, tracker and scoring as ``usguide evaluate``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from usguide.analysis.clips import evaluate_clip, find_clips
from usguide.detect.evaluation import DEFAULT_TOLERANCE_MM, combine
from usguide.detect.factory import make_detector
from usguide.detect.hits import DEFAULT_TOLERANCE_PX


@dataclass(frozen=True)
class SelectionScore:
    """One epoch's figures on the selection clips.

    Attributes:
        localised: share of frames with a visible needle that got a localised hit (None: none).
        false_positive: share of needle-free frames with a reported needle (None: none).
        frames: frames scored.
    """

    localised: float | None
    false_positive: float | None
    frames: int

    @property
    def value(self) -> float:
        """Higher is better: localised hits minus false positives (a missing part counts 0)."""
        return (self.localised or 0.0) - (self.false_positive or 0.0)

    def as_dict(self) -> dict:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        return {
            "localised": rounded(self.localised),
            "false_positive": rounded(self.false_positive),
            "frames": self.frames,
            "value": round(self.value, 4),
        }


class CaseSelector:
    """Scores exported models on a fixed folder of labelled clips.

    Args:
        cases: a folder of labelled clips (``usguide evaluate``'s CASES_DIR, e.g. a rendered
            ``--suite selection``, or a clinic's own hand-labelled recordings).
        threads: inference threads (None: the detector's default).

    Raises:
        UsguideError: when the folder holds no labelled clip (checked at once, before training).
    """

    def __init__(self, cases: Path, threads: int | None = None) -> None:
        self.clips = find_clips(cases)
        self._threads = threads

    def score(self, model: Path) -> SelectionScore:
        """Runs every clip through the product's analyzer (tracking on) with ``model``."""
        detector = make_detector("onnx", model_path=str(model), threads=self._threads)
        try:
            scores = [
                evaluate_clip(detector, clip, DEFAULT_TOLERANCE_MM, DEFAULT_TOLERANCE_PX)
                for clip in self.clips
            ]
        finally:
            detector.close()
        total = combine(scores)
        return SelectionScore(total.localised_recall, total.false_positive_rate, total.frames)
