"""An ``Analyzer`` that publishes each result to an ``IgtServer`` before returning it.

``usguide bench --igtl`` runs the pipeline through it, so the server's cost on the frame path
lands inside the measured capture-to-result latency.
"""

from __future__ import annotations

import time

from usguide.analysis.base import Analyzer
from usguide.detect.base import Detector
from usguide.igt.server import IgtServer
from usguide.types import Frame, FrameResult, Point, Timings


class PublishingAnalyzer:
    """Wraps ``inner`` (None: no analysis, results carry no needle) and publishes every result."""

    def __init__(self, inner: Analyzer | None, server: IgtServer) -> None:
        self.inner, self.server = inner, server

    @property
    def name(self) -> str:
        return "none" if self.inner is None else self.inner.name

    @property
    def detector(self) -> Detector | None:
        return None if self.inner is None else self.inner.detector

    def process(self, frame: Frame) -> FrameResult:
        if self.inner is None:
            result = FrameResult(frame, None, None, Timings(t_capture_ns=frame.t_capture_ns))
        else:
            result = self.inner.process(frame)
        self.server.publish(result)
        result.timings.t_result_ns = time.perf_counter_ns()  # the publish counts in the latency
        return result

    def reset(self) -> None:
        if self.inner is not None:
            self.inner.reset()

    def set_target(self, point: Point | None) -> None:
        if self.inner is not None:
            self.inner.set_target(point)
