"""Tip refinement: the tip moves along the fitted line to where the shaft echo ends in the image."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from usguide.detect.postprocess import ShaftFit
from usguide.detect.tip_refine import TipRefineConfig, refine_tip
from usguide.types import Point

ENTRY = (600.0, 80.0)
TIP = (300.0, 180.0)


def _image(contrast: float = 60.0, seed: int = 0) -> np.ndarray:
    """Speckled tissue (mean ~70) with a straight shaft from ENTRY to TIP, ``contrast`` brighter."""
    rng = np.random.default_rng(seed)
    tissue = cv2.GaussianBlur(rng.rayleigh(40.0, (400, 640)).astype(np.float32), (0, 0), 1.2)
    shaft = np.zeros_like(tissue)
    cv2.line(shaft, (int(ENTRY[0]), int(ENTRY[1])), (int(TIP[0]), int(TIP[1])), 1.0, 3)
    return np.clip(tissue + contrast * shaft, 0, 255).astype(np.uint8)


def _fit_with_tip_at(distance_from_tip: float) -> ShaftFit:
    """A fit along the true line whose tip lies ``distance_from_tip`` px beyond (+) or short (-)."""
    dx, dy = TIP[0] - ENTRY[0], TIP[1] - ENTRY[1]
    length = math.hypot(dx, dy)
    ux, uy = dx / length, dy / length
    tip = Point(TIP[0] + distance_from_tip * ux, TIP[1] + distance_from_tip * uy)
    return ShaftFit(
        tip=tip,
        entry=Point(*ENTRY),
        angle_deg=math.degrees(math.atan2(abs(dy), abs(dx))),
        confidence=0.9,
        length_px=length + distance_from_tip,
        inliers=100,
        tip_from_map=True,
    )


def _error(fit: ShaftFit) -> float:
    return math.hypot(fit.tip.x - TIP[0], fit.tip.y - TIP[1])


@pytest.mark.parametrize("offset", [-45.0, -20.0, 25.0, 45.0])
def test_tip_moves_to_where_the_shaft_ends(offset):
    refined = refine_tip(_image(), _fit_with_tip_at(offset))
    assert _error(refined) <= 4.0
    assert refined.entry == Point(*ENTRY)  # the line and the entry stay as fitted


def test_no_contrast_keeps_the_detectors_tip():
    fit = _fit_with_tip_at(30.0)
    assert refine_tip(_image(contrast=0.0), fit) == fit


def test_disabled_keeps_the_detectors_tip():
    fit = _fit_with_tip_at(-30.0)
    assert refine_tip(_image(), fit, TipRefineConfig(enabled=False)) == fit


def test_move_is_bounded_by_the_window():
    # A tip placed 200 px short (fit 116 px long: a quarter is 29 px) moves at most 20 px.
    fit = _fit_with_tip_at(-200.0)
    refined = refine_tip(_image(), fit, TipRefineConfig(max_window_px=20.0, min_window_px=10.0))
    moved = math.hypot(refined.tip.x - fit.tip.x, refined.tip.y - fit.tip.y)
    assert moved == pytest.approx(20.0, abs=1.0)


def test_short_gap_in_the_shaft_does_not_end_it():
    image = _image()
    # Blank 8 px of the shaft 60 px before its tip (a drop-out): the tip stays at the real end.
    dx, dy = TIP[0] - ENTRY[0], TIP[1] - ENTRY[1]
    length = math.hypot(dx, dy)
    gap = (TIP[0] - 60 * dx / length, TIP[1] - 60 * dy / length)
    cv2.circle(image, (int(gap[0]), int(gap[1])), 4, 70, -1)
    assert _error(refine_tip(image, _fit_with_tip_at(-30.0))) <= 4.0


def test_a_fit_along_the_region_edge_keeps_the_tip_without_a_warning():
    import warnings

    # A short steep fit along the region's edge (seen on a simulated clip): the tissue beside its
    # shaft lies outside the region, so the shaft's echo level cannot be measured.
    fit = ShaftFit(
        tip=Point(12.2, 118.9),
        entry=Point(0.0, 73.3),
        angle_deg=75.0,
        confidence=0.87,
        length_px=44.6,
        inliers=100,
        tip_from_map=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "Mean of empty slice" reached users' terminals
        assert refine_tip(_image(), fit) == fit
