"""Tip, direction and entry of a fitted shaft: the tip map's peak, the depth rule, the edge snap."""

import numpy as np
import pytest

from usguide.detect.base import NeedleMaps
from usguide.detect.postprocess import PostprocessConfig
from usguide.detect.shaft_ends import TipSearch, orient_shaft, snap_entry, tip_peak_near

CONFIG = PostprocessConfig().tip_search()


def test_tip_search_takes_the_postprocess_fields():
    config = PostprocessConfig(tip_threshold=0.4, tip_search_px=9.0, max_gap_px=33.0)
    assert config.tip_search() == TipSearch(threshold=0.4, search_px=9.0, margin_px=33.0)


def peak_map(width, height, centre, value=0.9):
    tip = np.zeros((height, width), np.float32)
    tip[centre[1], centre[0]] = value
    return tip


def test_tip_peak_is_centroid_near_the_line_and_ignores_far_peaks():
    tip = peak_map(200, 100, (150, 50))
    tip[51, 150] = 0.9  # two equal pixels: the sub-pixel centroid lies between them
    tip[10, 20] = 1.0  # stronger, but 40 px off the line
    peak = tip_peak_near(tip, (20.0, 50.0), (120.0, 50.0), 1.0, 1.0, CONFIG)
    assert peak == pytest.approx((150.0, 50.5))


def test_tip_peak_none_when_nothing_near():
    tip = peak_map(200, 100, (20, 5))
    assert tip_peak_near(tip, (20.0, 60.0), (120.0, 60.0), 1.0, 1.0, CONFIG) is None
    empty = np.zeros((100, 200), np.float32)
    assert tip_peak_near(empty, (20.0, 60.0), (120.0, 60.0), 1.0, 1.0, CONFIG) is None


def test_orient_uses_the_tip_map_then_depth_then_side_edge():
    shallow, deep = (50.0, 20.0), (150.0, 80.0)
    maps = NeedleMaps(np.zeros((100, 200), np.float32), peak_map(200, 100, (50, 20)))
    tip, entry, from_map = orient_shaft(deep, shallow, maps, 1.0, 1.0, 200, 100, CONFIG)
    assert from_map and entry == deep and tip == pytest.approx(shallow)
    no_tip = NeedleMaps(maps.shaft, None)
    assert orient_shaft(shallow, deep, no_tip, 1.0, 1.0, 200, 100, CONFIG) == (deep, shallow, False)
    # Nearly horizontal: the end nearer a side edge is the entry.
    left, right = (10.0, 50.0), (120.0, 52.0)
    assert orient_shaft(right, left, no_tip, 1.0, 1.0, 200, 100, CONFIG) == (right, left, False)


def test_snap_entry_reaches_a_near_edge_only():
    assert snap_entry((10.0, 30.0), (110.0, 30.0), 200, 100, 25.0) == pytest.approx((0.0, 30.0))
    assert snap_entry((60.0, 30.0), (160.0, 30.0), 200, 100, 25.0) == (60.0, 30.0)
    assert snap_entry((5.0, 5.0), (5.0, 5.0), 200, 100, 25.0) == (5.0, 5.0)
