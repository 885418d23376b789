"""Trajectory geometry: end on the region edge, along/miss distances on known geometry."""

import math

import pytest

from usguide.track.trajectory import project_trajectory
from usguide.types import Needle, Point, Roi

ROI = Roi(100, 50, 400, 300)  # x 100..499, y 50..349


def needle(entry, tip):
    return Needle(tip=Point(*tip), entry=Point(*entry), confidence=0.9, angle_deg=0.0)


def test_end_on_bottom_edge_at_45_degrees():
    traj = project_trajectory(needle((100, 50), (200, 150)), ROI, None)
    assert traj.end.y == pytest.approx(349)
    assert traj.end.x == pytest.approx(399)
    assert traj.direction == pytest.approx((math.sqrt(0.5), math.sqrt(0.5)))
    assert traj.along_mm is None and traj.miss_mm is None


def test_end_on_side_edge_shallow_and_leftward():
    traj = project_trajectory(needle((450, 60), (350, 80)), ROI, 0.1)
    assert traj.end.x == pytest.approx(100)
    assert traj.end.y == pytest.approx(80 + 250 * 0.2)


def test_along_and_miss_in_mm():
    # Horizontal needle going right along y=100; target 30 px ahead and 4 px below.
    traj = project_trajectory(needle((120, 100), (200, 100)), ROI, 0.5, Point(230, 104))
    assert traj.along_mm == pytest.approx(15.0)
    assert traj.miss_mm == pytest.approx(2.0)
    assert traj.target == Point(230, 104)
    behind = project_trajectory(needle((120, 100), (200, 100)), ROI, 0.5, Point(180, 90))
    assert behind.along_mm == pytest.approx(-10.0)
    assert behind.miss_mm == pytest.approx(5.0)


def test_target_without_calibration_gives_none():
    traj = project_trajectory(needle((120, 100), (200, 100)), ROI, None, Point(230, 104))
    assert traj.target == Point(230, 104) and traj.along_mm is None


def test_degenerate_needle_uses_angle():
    zero = Needle(tip=Point(200, 100), entry=Point(200, 100), confidence=1.0, angle_deg=90.0)
    traj = project_trajectory(zero, ROI, None)
    assert traj.end.x == pytest.approx(200) and traj.end.y == pytest.approx(349)
