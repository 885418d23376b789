"""Overlays "as recorded": an analyzer-like object that returns the results stored in a session.

The display can then show a recording with the detections made while it was recorded, or swap in a
``FrameAnalyzer`` to show them re-computed.
"""

from __future__ import annotations

import time
from typing import Any

from usguide.types import FrameResult, Needle, Point, StageSpan, Timings, Trajectory


class RecordedAnalyzer:
    """``process(frame) -> FrameResult`` from ``recording.results_for(frame.index)``.

    Args:
        recording: anything with ``results_for(index) -> dict | None`` (``RecordingSource``), the
            JSON of ``FrameResult.to_json()``.
        name: the detector name the results carry.
    """

    detector: Any = None  # nothing to degrade: the budget monitor leaves it alone

    def __init__(self, recording: Any, name: str = "recorded") -> None:
        self.recording = recording
        self.name = name

    def process(self, frame: Any) -> FrameResult:
        start = time.perf_counter_ns()
        data = self.recording.results_for(frame.index)
        needle = trajectory = None
        if data and data.get("needle"):
            needle = Needle.from_json(data["needle"])
            trajectory = _trajectory_from_json(needle, data.get("trajectory"))
        end = time.perf_counter_ns()
        timings = Timings(t_capture_ns=frame.t_capture_ns, stages={"lookup": StageSpan(start, end)})
        timings.t_result_ns = end
        return FrameResult(frame, needle, trajectory, timings, detector=self.name)

    def set_target(self, *args: Any, **kwargs: Any) -> None:
        """Recorded overlays keep the target they were recorded with."""

    def reset(self) -> None:
        """Nothing to forget: every frame is looked up on its own."""


def _trajectory_from_json(needle: Needle, data: dict | None) -> Trajectory | None:
    if not data or data.get("end") is None:
        return None
    dx, dy = needle.tip.x - needle.entry.x, needle.tip.y - needle.entry.y
    length = (dx * dx + dy * dy) ** 0.5 or 1.0
    target = data.get("target")
    return Trajectory(
        tip=needle.tip,
        end=Point(*map(float, data["end"])),
        direction=(dx / length, dy / length),
        target=None if target is None else Point(*map(float, target)),
        along_mm=data.get("along_mm"),
        miss_mm=data.get("miss_mm"),
    )
