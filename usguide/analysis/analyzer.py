"""One frame in, one ``FrameResult`` out: preprocess → inference → post-processing → tracking.

Shared by ``usguide run`` (live), ``usguide analyze`` and ``usguide evaluate`` so they all measure
the same product. Each stage is timed with ``time.perf_counter_ns()``. Implements ``Analyzer``.
"""

from __future__ import annotations

import time

from usguide.detect.base import Detector
from usguide.detect.crossing import (
    CrossingConfig,
    crosses_imaged_area,
    hugs_border,
    imaged_area,
)
from usguide.detect.postprocess import PostprocessConfig, fit_shaft
from usguide.detect.preprocess import region_grey
from usguide.detect.tip_refine import TipRefineConfig, refine_tip
from usguide.track.tracker import NeedleTracker, TrackerConfig
from usguide.track.trajectory import project_trajectory
from usguide.types import Frame, FrameResult, Needle, Point, Roi, StageSpan, Timings


class FrameAnalyzer:
    """Runs a detector and the tracker on frames, one at a time, in order (an ``Analyzer``).

    Args:
        detector: the detector (ONNX model or classical).
        roi: image region override; default: each frame's calibration, else the whole frame.
        mm_per_px: scale override; default: each frame's calibration.
        track: smooth with ``NeedleTracker`` (the product does); False reports raw detections.
        postprocess: post-processing tuning.
        tracker: tracker tuning.
        tip_refine: where the tip is read from the image along the fitted line (post-processing).
        crossing: when a fit that runs across the imaged area, border to border, is dropped.
    """

    def __init__(
        self,
        detector: Detector,
        *,
        roi: Roi | None = None,
        mm_per_px: float | None = None,
        track: bool = True,
        postprocess: PostprocessConfig | None = None,
        tracker: TrackerConfig | None = None,
        tip_refine: TipRefineConfig | None = None,
        crossing: CrossingConfig | None = None,
    ) -> None:
        self._detector = detector
        self.roi = roi
        self.mm_per_px = mm_per_px
        self._post = postprocess or PostprocessConfig()
        self._tip_refine = tip_refine or TipRefineConfig()
        self._crossing = crossing or CrossingConfig()
        self._tracker = NeedleTracker(tracker) if track else None
        self._target: Point | None = None
        # A new analyzer is a new stream: a detector with temporal memory starts afresh.
        self._reset_detector()

    @property
    def detector(self) -> Detector:
        return self._detector

    @property
    def name(self) -> str:
        """The detector's name, carried by every result."""
        return self._detector.name

    @property
    def target(self) -> Point | None:
        """The target point in full-frame pixels, or None."""
        return self._target

    def set_target(self, point: Point | None) -> None:
        """Sets (or clears with None) the target the trajectory is measured against."""
        self._target = None if point is None else Point(float(point.x), float(point.y))

    def reset(self) -> None:
        """Forgets the track and the detector's memory (call on seek, loop or a new source)."""
        self._reset_detector()
        if self._tracker is not None:
            self._tracker.reset()

    def _reset_detector(self) -> None:
        self._detector.reset()

    def region_of(self, frame: Frame) -> Roi:
        """The image region for ``frame``: the override, the frame's calibration, or all of it."""
        return self.roi or frame.calibration.roi or Roi(0, 0, frame.width, frame.height)

    def mm_per_px_of(self, frame: Frame) -> float | None:
        return self.mm_per_px if self.mm_per_px is not None else frame.calibration.mm_per_px

    def process(self, frame: Frame) -> FrameResult:
        """Detects (and tracks) the needle in one frame; coordinates are full-frame pixels."""
        timings = Timings(t_capture_ns=frame.t_capture_ns)
        roi = self.region_of(frame)

        start = time.perf_counter_ns()
        region = region_grey(frame, roi)
        mark = time.perf_counter_ns()
        timings.stages["preprocess"] = StageSpan(start, mark)

        start = mark
        maps = self._detector.infer(region)
        mark = time.perf_counter_ns()
        timings.stages["inference"] = StageSpan(start, mark)

        start = mark
        fit = fit_shaft(maps, (roi.w, roi.h), self._post)
        if fit is not None:
            fit = refine_tip(region, fit, self._tip_refine)
        if fit is not None and self._crossing.enabled:
            mask = imaged_area(region, self._crossing.mask_scale)
            size = (roi.w, roi.h)
            if crosses_imaged_area(fit, mask, size, self._crossing) or hugs_border(
                fit, mask, size, self._crossing
            ):
                fit = None  # a layer across the image or its edge, not a needle ending in tissue
        needle: Needle | None = None if fit is None else fit.to_needle(roi)
        mark = time.perf_counter_ns()
        timings.stages["postprocess"] = StageSpan(start, mark)

        start = mark
        if self._tracker is not None:
            # Media time, not arrival time: a file analysed flat out still moves at its own fps.
            needle = self._tracker.update(needle, int(round(frame.source_ms * 1e6)))
        trajectory = None
        if needle is not None:
            trajectory = project_trajectory(needle, roi, self.mm_per_px_of(frame), self._target)
        mark = time.perf_counter_ns()
        timings.stages["tracking"] = StageSpan(start, mark)
        timings.t_result_ns = mark
        return FrameResult(
            frame=frame,
            needle=needle,
            trajectory=trajectory,
            timings=timings,
            detector=self._detector.name,
        )
