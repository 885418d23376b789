"""Image geometry: convex fans of any opening and radius, linear images of other aspect ratios
with black margins, the labels placed in the frame accordingly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from usguide.simulate import SimConfig
from usguide.simulate.clip import ClipRenderer


def _renderer(**extra: object) -> ClipRenderer:
    values: dict[str, object] = dict(
        seed=3, n_frames=1, width=240, height=180, artefacts=False, surface_line=False
    )
    values.update(extra)
    return ClipRenderer(SimConfig(**values))  # type: ignore[arg-type]


@pytest.mark.parametrize("fan_deg,radius", [(90.0, 30.0), (30.0, 60.0), (100.0, 12.0)])
def test_convex_fan_has_the_requested_opening(fan_deg: float, radius: float) -> None:
    renderer = _renderer(variant="convex", fan_deg=fan_deg, radius_mm=radius, depth_mm=60.0)
    geo, inner = renderer.geometry, renderer.inner
    assert math.degrees(2 * geo.half_angle) == pytest.approx(fan_deg, abs=0.5)
    assert geo.radius_mm == radius
    fan = geo.fan_mask()
    ys, xs = np.nonzero(fan)
    apex_x, apex_y = geo.mm_to_px(0.0, -radius)
    angles = np.degrees(np.arctan2(xs - apex_x, ys - apex_y))
    assert angles.min() == pytest.approx(-fan_deg / 2, abs=1.5)
    assert angles.max() == pytest.approx(fan_deg / 2, abs=1.5)
    # The fan lies in the frame: black outside the image box, the fan inside it.
    image = renderer.frame(0).image
    outside = np.ones(image.shape, bool)
    outside[inner.y : inner.y + inner.h, inner.x : inner.x + inner.w] = False
    assert image[outside].max(initial=0) == 0
    assert renderer.frame(0).truth.to_json(0)["geometry"] == "convex"


def test_wide_fan_is_shorter_than_the_region() -> None:
    renderer = _renderer(
        variant="convex", fan_deg=100.0, radius_mm=60.0, depth_mm=40.0, margins=False
    )
    assert renderer.inner.w == 240 and renderer.inner.h < 120
    assert renderer.frame(0).image[renderer.inner.h + 2 :].max() == 0
    assert renderer.mm_per_px == pytest.approx(40.0 / renderer.inner.h)


def test_linear_image_of_another_aspect_has_black_margins_and_labels_inside() -> None:
    seen = set()
    for seed in range(20):
        renderer = _renderer(
            seed=seed, variant="linear", margins=True, needle=True, needle_gain=20.0, n_frames=20
        )
        inner = renderer.inner
        if (inner.w, inner.h) == (240, 180):
            continue
        seen.add("wide" if renderer.res.aspect > 240 / 180 else "narrow")
        frame = renderer.frame(19)
        outside = np.ones(frame.image.shape, bool)
        outside[inner.y : inner.y + inner.h, inner.x : inner.x + inner.w] = False
        assert frame.image[outside].max(initial=0) == 0
        if frame.truth.visible:
            ys, xs = np.nonzero(frame.truth.shaft_mask)
            assert inner.x <= xs.min() and xs.max() < inner.x + inner.w
            assert inner.y <= ys.min() and ys.max() < inner.y + inner.h
            assert inner.x - 1 <= frame.truth.tip.x <= inner.x + inner.w
        if len(seen) == 2:
            break
    assert seen == {"narrow", "wide"}
