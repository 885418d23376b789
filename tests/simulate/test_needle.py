"""Needle looks training must see: saturated, double wall, out-of-plane entry, any angle, gauge."""

from __future__ import annotations

import numpy as np
import pytest

from usguide.simulate import SimConfig, simulate_clip
from usguide.simulate.clip import ClipRenderer
from usguide.simulate.needle import GAUGE_MM


def _config(seed: int, **extra: object) -> SimConfig:
    values: dict[str, object] = dict(
        seed=seed,
        variant="linear",
        n_frames=24,
        fps=4.0,
        depth_mm=30.0,
        needle=True,
        gauge=18,
        angle_range=(10.0, 10.0),
        elevation="aligned",
        artefacts=False,
        motion=0.3,
        margins=False,
        surface_line=False,
        medium="in_vivo",
        entry="edge",
        width=240,
        height=180,
    )
    values.update(extra)
    return SimConfig(**values)  # type: ignore[arg-type]


def _visible(config: SimConfig, at_least: int = 3) -> list:
    frames = [f for f in simulate_clip(config) if f.truth.visible]
    assert len(frames) >= at_least
    return frames


def test_gauges_14_to_27_have_their_outer_diameters() -> None:
    assert set(range(14, 28)) <= set(GAUGE_MM)
    assert GAUGE_MM[14] == 2.11 and GAUGE_MM[15] == 1.83 and GAUGE_MM[16] == 1.65
    assert GAUGE_MM[26] == 0.46 and GAUGE_MM[27] == 0.41
    diameters = [GAUGE_MM[g] for g in range(14, 28)]
    assert diameters == sorted(diameters, reverse=True)


def test_saturated_needle_reaches_255_along_its_mask_and_is_widest() -> None:
    config = _config(3, needle_style="saturated", needle_gain=200.0, speckle_reduction=0.0)
    frame = _visible(config)[-1]
    mask, image = frame.truth.shaft_mask, frame.image
    columns = np.nonzero(mask.any(axis=0))[0]
    peaks = np.array([image[mask[:, c], c].max() for c in columns])
    assert np.median(peaks) == 255
    # Wider than the plain needle's mask of the same clip (the saturated echo blooms).
    plain = _visible(_config(3, needle_style="plain", needle_gain=6.0, speckle_reduction=0.0))[-1]
    width = mask.sum(axis=0)[columns].mean()
    plain_mask = plain.truth.shaft_mask
    plain_width = plain_mask.sum(axis=0)[plain_mask.any(axis=0)].mean()
    assert width > plain_width + 1.0
    assert frame.truth.needle_style == "saturated"


def test_double_wall_shows_two_lines_one_diameter_apart() -> None:
    config = _config(
        5,
        gauge=14,
        needle_style="double_wall",
        needle_gain=30.0,
        angle_range=(2.0, 2.0),
        medium="water",
        speckle_reduction=0.0,
    )
    frame = _visible(config)[-1]
    mask, image = frame.truth.shaft_mask, frame.image.astype(float)
    mm = frame.truth.mm_per_px
    columns = np.nonzero(mask.any(axis=0))[0]
    wall_px = GAUGE_MM[14] / mm
    gaps = []
    for c in columns[len(columns) // 4 : 3 * len(columns) // 4]:
        rows = np.nonzero(mask[:, c])[0]
        profile = image[rows.min() : rows.max() + 1, c]
        half = len(profile) // 2
        front, back = int(np.argmax(profile[:half])), half + int(np.argmax(profile[half:]))
        lumen = profile[front + 2 : back - 1].min()
        assert lumen < 0.7 * min(profile[front], profile[back])
        gaps.append(back - front)
    assert abs(np.median(gaps) - wall_px) < 2.5


def test_inside_entry_starts_inside_the_region_and_edge_entry_at_its_edge() -> None:
    for seed in (1, 2, 3):
        for frame in _visible(_config(seed, entry="inside", angle_range=(20.0, 20.0))):
            entry, roi = frame.truth.entry, frame.truth.roi
            margin = min(entry.x - roi.x, roi.x + roi.w - 1 - entry.x, entry.y - roi.y)
            assert margin > 8, (seed, entry)
    for frame in _visible(_config(4, entry="edge", side="right", angle_range=(20.0, 20.0))):
        entry, roi = frame.truth.entry, frame.truth.roi
        assert min(roi.x + roi.w - 1 - entry.x, entry.y - roi.y) < 6


@pytest.mark.parametrize("angle", [0.0, 5.0, 45.0])
def test_truth_angle_and_strata_follow_the_config(angle: float) -> None:
    config = _config(
        7, gauge=15, angle_range=(angle, angle), needle_gain=20.0, probe="linear", motion=0.0
    )
    assert ClipRenderer(config).res.angle_deg == angle
    frames = _visible(config)
    # Redirections (withdraw, turn by up to 6 degrees, advance) move it off the insertion angle.
    angles = np.array([f.truth.angle_deg for f in frames])
    assert abs(angles[0] - angle) < 2.0 and np.abs(angles - angle).max() < 13.0
    for frame in frames:
        item = frame.truth.to_json(0)
        assert item["gauge"] == 15 and item["medium"] == "in_vivo"
        assert item["geometry"] == "linear" and item["needle_style"] in ("plain", "saturated")


def test_needle_enters_from_either_side_at_shallow_angles() -> None:
    for side, sign in (("left", 1), ("right", -1)):
        frame = _visible(_config(8, side=side, angle_range=(3.0, 3.0), needle_gain=20.0))[-1]
        assert sign * (frame.truth.tip.x - frame.truth.entry.x) > 0
        assert frame.truth.angle_deg < 12.0
