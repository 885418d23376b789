"""The classical ridge detector on a synthetic bright line in speckle, and on speckle alone."""

import math

import cv2
import numpy as np
import pytest

from usguide.detect.base import Detector
from usguide.detect.classical import ClassicalDetector
from usguide.detect.postprocess import fit_shaft


def speckle(height, width, seed=0):
    rng = np.random.default_rng(seed)
    image = cv2.GaussianBlur(rng.rayleigh(30, (height, width)).astype(np.float32), (0, 0), 1.2)
    return image


def as_uint8(image):
    return np.ascontiguousarray(np.clip(image, 0, 255).astype(np.uint8))


def test_bright_line_in_speckle_found():
    image = speckle(480, 640)
    start, end = (120, 60), (440, 300)
    cv2.line(image, start, end, 170, 3)
    detector = ClassicalDetector()
    assert isinstance(detector, Detector)
    maps = detector.infer(as_uint8(image))
    assert maps.tip is None
    assert maps.shaft.dtype == np.float32
    assert maps.shaft.shape == (240, 320)
    assert 0.0 <= maps.shaft.min() and maps.shaft.max() <= 1.0
    fit = fit_shaft(maps, (640, 480))
    assert fit is not None
    assert fit.angle_deg == pytest.approx(math.degrees(math.atan2(240, 320)), abs=2.0)
    assert math.dist(fit.tip, end) < 12
    assert math.dist(fit.entry, start) < 12


def test_speckle_alone_gives_nothing():
    detector = ClassicalDetector()
    for seed in range(3):
        maps = detector.infer(as_uint8(speckle(240, 320, seed)))
        assert fit_shaft(maps, (320, 240)) is None


def test_blank_region_gives_nothing():
    maps = ClassicalDetector().infer(np.full((120, 160), 40, np.uint8))
    assert float(maps.shaft.max()) == 0.0


def test_input_scale_honoured():
    detector = ClassicalDetector(input_scale=0.25)
    maps = detector.infer(np.zeros((200, 400), np.uint8))
    assert maps.shaft.shape == (50, 100)
    assert maps.scale_x == pytest.approx(4.0) and maps.scale_y == pytest.approx(4.0)
