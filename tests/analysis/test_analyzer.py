"""FrameAnalyzer: stage timings, region mapping, calibration, target, tracking on and off."""

import cv2
import numpy as np
import pytest

from usguide.analysis.analyzer import FrameAnalyzer
from usguide.detect.base import Detector, NeedleMaps
from usguide.types import Calibration, Frame, Point, Roi

ROI = Roi(50, 20, 200, 150)


class LineDetector(Detector):
    """A fake detector: a line (region px (20, 10) -> (160, 110)), tip peak at its end."""

    name = "fake"

    def infer(self, region):
        shaft = np.zeros(region.shape, np.float32)
        cv2.line(shaft, (20, 10), (160, 110), 1.0, 3)
        tip = np.zeros(region.shape, np.float32)
        tip[110, 160] = 1.0
        return NeedleMaps(shaft, tip)


def make_frame(index, calibration=None):
    calibration = calibration or Calibration()
    return Frame(np.zeros((200, 300, 3), np.uint8), index, 0, index * 33.3, calibration)


def test_stages_named_and_full_frame_coordinates():
    analyzer = FrameAnalyzer(LineDetector(), roi=ROI, track=False)
    result = analyzer.process(make_frame(0))
    assert list(result.timings.stages) == ["preprocess", "inference", "postprocess", "tracking"]
    assert result.timings.t_result_ns is not None
    assert result.detector == "fake"
    assert result.needle.tip == pytest.approx((210, 130), abs=1.0)
    assert result.trajectory is not None and result.trajectory.along_mm is None
    assert result.to_json()["frame"] == 0


def test_frame_calibration_used_and_target_distances():
    analyzer = FrameAnalyzer(LineDetector(), track=False)
    analyzer.set_target(Point(230, 160))
    assert analyzer.target == Point(230, 160)
    result = analyzer.process(make_frame(0, Calibration(mm_per_px=0.1, roi=ROI)))
    assert result.needle.tip == pytest.approx((210, 130), abs=1.0)
    assert result.trajectory.along_mm is not None and result.trajectory.miss_mm is not None
    analyzer.set_target(None)
    assert analyzer.process(make_frame(1)).trajectory.target is None


def test_tracking_confirms_then_reset_forgets():
    analyzer = FrameAnalyzer(LineDetector(), roi=ROI)
    needles = [analyzer.process(make_frame(i)).needle for i in range(4)]
    assert needles[0] is None and needles[3] is not None
    analyzer.reset()
    assert analyzer.process(make_frame(4)).needle is None
    assert isinstance(analyzer.detector, LineDetector)
