"""Plain geometry: angles, unit directions, point-to-line offsets, rays to a region's edge."""

import pytest

from usguide.geometry import (
    distance_to_edge,
    foot_along,
    line_offset,
    point_line_distance,
    probe_angle_deg,
    ray_to_region_edge,
    unit_direction,
)
from usguide.types import Point, Roi

ROI = Roi(100, 50, 400, 300)  # x 100..499, y 50..349


def test_probe_angle_range():
    assert probe_angle_deg(1, 0) == 0
    assert probe_angle_deg(-1, -1) == pytest.approx(45)
    assert probe_angle_deg(0, 5) == pytest.approx(90)
    assert probe_angle_deg(0, 0) == 0.0


def test_unit_direction_and_degenerate():
    assert unit_direction(Point(0, 0), Point(3, 4)) == pytest.approx((0.6, 0.8))
    assert unit_direction(Point(2, 2), Point(2, 2)) is None


def test_offsets_from_a_line():
    assert point_line_distance(Point(0, 5), Point(-1, 0), Point(3, 0)) == pytest.approx(5)
    assert point_line_distance(Point(3, 4), Point(0, 0), Point(0, 0)) == pytest.approx(5)
    assert foot_along(Point(3, 4), Point(0, 0), (1.0, 0.0)) == pytest.approx(3)
    assert foot_along(Point(-2, 4), Point(0, 0), (1.0, 0.0)) == pytest.approx(-2)
    assert line_offset(Point(3, -4), Point(0, 0), (1.0, 0.0)) == pytest.approx(4)


def test_ray_to_region_edge():
    assert ray_to_region_edge(Point(0, 0), (1.0, 0.0), ROI) == Point(0, 0)  # outside: unchanged
    assert ray_to_region_edge(Point(300, 200), (0.0, -1.0), ROI) == Point(300, 50)
    assert ray_to_region_edge(Point(300, 200), (0.0, 0.0), ROI) == Point(300, 200)
    end = ray_to_region_edge(Point(300, 200), (0.6, 0.8), ROI)
    assert end == pytest.approx((300 + 149 * 0.75, 349))


def test_distance_to_edge_of_a_box():
    assert distance_to_edge(Point(10, 30), (-1.0, 0.0), 0, 0, 199, 99) == pytest.approx(10)
    assert distance_to_edge(Point(10, 30), (0.0, 1.0), 0, 0, 199, 99) == pytest.approx(69)
    assert distance_to_edge(Point(10, 30), (0.0, 0.0), 0, 0, 199, 99) is None
    assert distance_to_edge(Point(250, 30), (1.0, 0.0), 0, 0, 199, 99) == pytest.approx(-51)
