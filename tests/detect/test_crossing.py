"""Fits that run across the imaged area from border to border are layers, not needles."""

import cv2
import numpy as np
import pytest

from usguide.analysis.analyzer import FrameAnalyzer
from usguide.detect.base import Detector, NeedleMaps
from usguide.detect.crossing import CrossingConfig, crosses_imaged_area, hugs_border, imaged_area
from usguide.detect.postprocess import ShaftFit
from usguide.types import Calibration, Frame, Roi

SIZE = (400, 300)  # region width, height


def fit(entry, tip):
    """A shaft fit between two region points."""
    return ShaftFit(
        tip=tip,
        entry=entry,
        angle_deg=20.0,
        confidence=0.9,
        length_px=100.0,
        inliers=50,
        tip_from_map=True,
    )


def linear_screen():
    """Speckle in the middle 300 px of the width, black margins either side."""
    rng = np.random.default_rng(0)
    region = np.zeros((SIZE[1], SIZE[0]), np.uint8)
    region[:, 50:350] = rng.integers(20, 200, (SIZE[1], 300), dtype=np.uint8)
    return region


def convex_fan():
    """A 60-degree sector of speckle with its apex above the region, black outside it."""
    rng = np.random.default_rng(1)
    speckle = rng.integers(20, 200, (SIZE[1], SIZE[0]), dtype=np.uint8)
    sector = np.zeros_like(speckle)
    cv2.ellipse(sector, (200, -100), (400, 400), 0, 60, 120, 1, -1)
    cv2.circle(sector, (200, -100), 130, 0, -1)
    return speckle * sector


def test_imaged_area_leaves_out_black_margins():
    mask = imaged_area(linear_screen(), scale=0.25)
    assert mask.shape == (75, 100)
    assert mask[:, 16:84].mean() == 1.0
    assert mask[:, :10].max() == 0 and mask[:, 90:].max() == 0


def test_water_and_black_regions_are_imaged_everywhere():
    water = np.zeros((SIZE[1], SIZE[0]), np.uint8)
    cv2.line(water, (0, 40), (200, 120), 220, 3)  # a needle in a water bath
    assert imaged_area(water).min() == 1
    assert imaged_area(np.zeros_like(water)).min() == 1


@pytest.mark.parametrize(
    ("entry", "tip", "crosses"),
    [
        ((50.0, 100.0), (349.0, 180.0), True),  # a layer from margin to margin
        ((349.0, 60.0), (51.0, 60.0), True),  # horizontal, either direction
        ((50.0, 100.0), (250.0, 180.0), False),  # a needle whose tip ends in tissue
        ((349.0, 10.0), (320.0, 30.0), False),  # a short needle just in from the edge
        ((200.0, 0.0), (200.0, 150.0), False),  # steep, tip half-way down
    ],
)
def test_border_to_border_lines_cross(entry, tip, crosses):
    mask = imaged_area(linear_screen())
    assert crosses_imaged_area(fit(entry, tip), mask, SIZE, CrossingConfig()) is crosses


def test_fan_chord_crosses_but_needle_into_the_fan_does_not():
    region = convex_fan()
    mask = imaged_area(region)
    rows = np.flatnonzero(region[:, 200] > 0)
    depth = float(rows[len(rows) // 2])
    inside = np.flatnonzero(region[int(depth)] > 0)
    left, right = float(inside[0]), float(inside[-1])
    assert crosses_imaged_area(fit((left, depth), (right, depth)), mask, SIZE, CrossingConfig())
    assert not crosses_imaged_area(
        fit((left, depth), ((left + right) / 2, depth)), mask, SIZE, CrossingConfig()
    )


class LineDetector(Detector):
    """A fake detector whose shaft map is one line between two region points."""

    name = "line"

    def __init__(self, start: tuple[int, int], end: tuple[int, int]) -> None:
        self.start, self.end = start, end

    def infer(self, region):
        shaft = np.zeros(region.shape, np.float32)
        cv2.line(shaft, self.start, self.end, 1.0, 3)
        return NeedleMaps(shaft, None)


def test_analyzer_drops_a_layer_unless_the_check_is_off():
    image = cv2.cvtColor(linear_screen(), cv2.COLOR_GRAY2BGR)
    frame = Frame(image, 0, 0, 0.0, Calibration(roi=Roi(0, 0, *SIZE)))
    layer = LineDetector((52, 100), (347, 160))  # across the whole screen image
    checked = FrameAnalyzer(layer, track=False)
    unchecked = FrameAnalyzer(layer, track=False, crossing=CrossingConfig(enabled=False))
    assert checked.process(frame).needle is None
    assert unchecked.process(frame).needle is not None


def test_a_fit_along_the_fans_side_hugs_the_border_but_a_needle_from_it_does_not():
    region = convex_fan()
    mask = imaged_area(region)
    # The sector's left side runs from its inner arc to its outer arc at 120° about the apex.
    apex = np.array([200.0, -100.0])
    side = np.array([np.cos(np.radians(120)), np.sin(np.radians(120))])
    inner, outer = apex + 150 * side, apex + 380 * side
    nudge = np.array([3.0, 0.0])  # just inside the tissue, as a fitted edge lies
    along_side = fit(tuple(inner + nudge), tuple(outer + nudge))
    assert hugs_border(along_side, mask, SIZE, CrossingConfig())
    middle = (inner + outer) / 2
    into_tissue = fit(tuple(middle + nudge), (260.0, float(middle[1]) + 40.0))
    assert not hugs_border(into_tissue, mask, SIZE, CrossingConfig())
    assert not hugs_border(along_side, mask, SIZE, CrossingConfig(edge_share=1.1))


@pytest.mark.parametrize(
    ("entry", "tip", "hugs"),
    [
        ((52.0, 100.0), (52.0, 250.0), True),  # down the screen image's left edge
        ((10.0, 100.0), (40.0, 250.0), True),  # in the black margin, outside the image
        ((52.0, 100.0), (200.0, 180.0), False),  # a needle in from the edge
        ((51.0, 60.0), (62.0, 90.0), False),  # steep (70°) and short, just in from the side
        ((60.0, 2.0), (300.0, 12.0), False),  # shallow, all along the skin line: a needle can be
    ],
)
def test_fits_along_or_outside_the_screen_image_hug_its_border(entry, tip, hugs):
    mask = imaged_area(linear_screen())
    assert hugs_border(fit(entry, tip), mask, SIZE, CrossingConfig()) is hugs


def test_analyzer_drops_the_image_edge():
    image = cv2.cvtColor(linear_screen(), cv2.COLOR_GRAY2BGR)
    frame = Frame(image, 0, 0, 0.0, Calibration(roi=Roi(0, 0, *SIZE)))
    edge = LineDetector((52, 60), (54, 240))  # down the screen image's left edge
    assert FrameAnalyzer(edge, track=False).process(frame).needle is None
