"""Overlays "as recorded": an ``Analyzer`` that returns the results stored in a session.

The display can then show a recording with the detections made while it was recorded, or swap in a
``FrameAnalyzer`` to show them re-computed.
"""

from __future__ import annotations

import time
from typing import Protocol

from usguide.detect.base import Detector
from usguide.geometry import unit_direction
from usguide.types import Frame, FrameResult, Needle, Point, StageSpan, Timings, Trajectory


class RecordedResults(Protocol):
    """What holds recorded results (``RecordingSource``)."""

    def results_for(self, index: int) -> dict | None:
        """The recorded ``FrameResult.to_json()`` of frame ``index``, or None."""
        ...


class RecordedAnalyzer:
    """``process(frame) -> FrameResult`` from ``recording.results_for(frame.index)``.

    Args:
        recording: the recorded results (``RecordingSource``), the JSON of
            ``FrameResult.to_json()``.
        name: the detector name the results carry.
    """

    def __init__(self, recording: RecordedResults, name: str = "recorded") -> None:
        self.recording = recording
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def detector(self) -> Detector | None:
        """None: nothing to degrade, the budget monitor leaves it alone."""
        return None

    def process(self, frame: Frame) -> FrameResult:
        start = time.perf_counter_ns()
        data = self.recording.results_for(frame.index)
        needle = trajectory = None
        if data and data.get("needle"):
            needle = Needle.from_json(data["needle"])
            trajectory = _trajectory_from_json(needle, data.get("trajectory"))
        end = time.perf_counter_ns()
        timings = Timings(t_capture_ns=frame.t_capture_ns, stages={"lookup": StageSpan(start, end)})
        timings.t_result_ns = end
        return FrameResult(frame, needle, trajectory, timings, detector=self._name)

    def set_target(self, point: Point | None) -> None:
        """Recorded overlays keep the target they were recorded with."""

    def reset(self) -> None:
        """Nothing to forget: every frame is looked up on its own."""


def _trajectory_from_json(needle: Needle, data: dict | None) -> Trajectory | None:
    if not data or data.get("end") is None:
        return None
    # A zero-length shaft has no direction of its own; (0, 0) as recorded files always gave.
    direction = unit_direction(needle.entry, needle.tip) or (0.0, 0.0)
    target = data.get("target")
    return Trajectory(
        tip=needle.tip,
        end=Point(*map(float, data["end"])),
        direction=direction,
        target=None if target is None else Point(*map(float, target)),
        along_mm=data.get("along_mm"),
        miss_mm=data.get("miss_mm"),
    )
