"""The analysis contract the pipeline runs: ``Analyzer`` (process, reset, set_target, name).

Implemented by ``FrameAnalyzer`` (detector + post-processing + tracker, live) and
``RecordedAnalyzer`` (the results stored in a recorded session).
"""

from __future__ import annotations

from typing import Protocol

from usguide.detect.base import Detector
from usguide.types import Frame, FrameResult, Point


class Analyzer(Protocol):
    """Turns frames, one at a time and in order, into ``FrameResult``s of those same frames."""

    @property
    def name(self) -> str:
        """The name results carry as ``FrameResult.detector`` (e.g. ``onnx``, ``recorded``)."""
        ...

    @property
    def detector(self) -> Detector | None:
        """The detector whose input the latency budget may shrink; None: nothing to steer."""
        ...

    def process(self, frame: Frame) -> FrameResult:
        """Analyses one frame; coordinates in the result are full-frame pixels."""
        ...

    def reset(self) -> None:
        """Forgets what earlier frames taught (a new source, a seek, a loop)."""
        ...

    def set_target(self, point: Point | None) -> None:
        """Sets (or clears with None) the target the trajectory is measured against."""
        ...
