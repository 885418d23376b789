"""The classical detector: moving and appearing needle-like lines in speckle are found; static
layers and speckle alone are not."""

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


def test_bright_line_appearing_in_speckle_found():
    image = speckle(480, 640)
    detector = ClassicalDetector()
    assert isinstance(detector, Detector)
    detector.infer(as_uint8(image))  # the tissue before the needle came in
    start, end = (120, 60), (440, 300)
    cv2.line(image, start, end, 170, 3)
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


def test_needle_advancing_in_water_found():
    # A water bath images black (levels <= 3) around the needle: the black is imaged, not a margin.
    water = np.full((480, 640), 2.0, np.float32)
    detector = ClassicalDetector()
    detector.infer(as_uint8(water))
    start, end = (620, 80), (300, 260)
    image = water.copy()
    cv2.line(image, start, end, 170, 3)
    fit = fit_shaft(detector.infer(as_uint8(image)), (640, 480), detector.postprocess_config)
    assert fit is not None
    assert fit.angle_deg == pytest.approx(math.degrees(math.atan2(180, 320)), abs=2.0)
    assert math.dist(fit.tip, end) < 12


def test_black_outside_a_fan_stays_outside_the_imaged_area():
    fan = np.zeros((240, 320), np.uint8)
    cv2.ellipse(fan, (160, -100), (320, 320), 90, -30, 30, 1, -1)
    smooth = cv2.GaussianBlur(speckle(240, 320) * fan, (0, 0), 1.0)
    imaged = ClassicalDetector()._imaged(smooth)
    margin = cv2.dilate(fan, np.ones((9, 9), np.uint8)) == 0  # beyond the blurred rim
    assert imaged[margin].max() == 0.0
    assert imaged[fan == 1].mean() > 0.9


def test_static_bright_line_alone_is_not_a_needle():
    image = speckle(480, 640)
    cv2.line(image, (120, 60), (440, 300), 170, 3)
    detector = ClassicalDetector()
    for _ in range(3):
        maps = detector.infer(as_uint8(image))
    assert fit_shaft(maps, (640, 480), detector.postprocess_config) is None


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


def _needle_clip(frames, static_line, seed=1):
    """Speckle frames (new noise each frame) with a static bright layer line and, optionally, a
    thin needle-like line that advances from the left edge (entry) into the image."""
    base = speckle(240, 320, seed)
    rng = np.random.default_rng(seed + 100)
    images = []
    for index in range(frames):
        image = base + rng.normal(0.0, 2.0, base.shape)
        cv2.line(image, (0, 190), (319, 160), 170, 3)  # fascia-like, oblique, side to side
        if static_line is not None:
            length = 60 + 6 * index
            tip = (round(length * math.cos(0.6)), round(20 + length * math.sin(0.6)))
            cv2.line(image, (0, 20), tip, static_line, 2)
        images.append(as_uint8(image))
    return images


def test_moving_needle_found_static_layer_ignored():
    detector = ClassicalDetector()
    fit = None
    for image in _needle_clip(16, 150):
        maps = detector.infer(image)
        fit = fit_shaft(maps, (320, 240), detector.postprocess_config)
    assert fit is not None
    length = 60 + 6 * 15
    tip = (length * math.cos(0.6), 20 + length * math.sin(0.6))
    assert math.dist(fit.tip, tip) < 10
    assert fit.angle_deg == pytest.approx(math.degrees(0.6), abs=3.0)


def test_static_layer_without_needle_gives_no_needle_after_tracker():
    from usguide.analysis.analyzer import FrameAnalyzer
    from usguide.types import Frame

    analyzer = FrameAnalyzer(ClassicalDetector())
    reported = []
    for index, image in enumerate(_needle_clip(20, None)):
        frame = Frame(image=image, index=index, t_capture_ns=0, source_ms=index * 33.3)
        reported.append(analyzer.process(frame).needle)
    assert all(needle is None for needle in reported)


def test_reset_forgets_motion():
    detector = ClassicalDetector()
    for image in _needle_clip(6, 150):
        detector.infer(image)
    assert detector._credit is not None and float(detector._credit.max()) > 0
    detector.reset()
    assert detector._credit is None
