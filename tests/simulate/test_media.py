"""Media: phantoms (uniform speckle, dark water outside the container), water baths, ex vivo meat,
the probe-surface line."""

from __future__ import annotations

import numpy as np

from usguide.simulate import SimConfig
from usguide.simulate.clip import ClipRenderer
from usguide.simulate.media import (
    Container,
    contain,
    exvivo_anatomy,
    phantom_maps,
    random_phantom,
)
from usguide.simulate.tissue import TissueMaps, tissue_maps


def _frame(seed: int, medium: str, **extra: object) -> tuple[ClipRenderer, np.ndarray]:
    values: dict[str, object] = dict(
        seed=seed,
        variant="linear",
        medium=medium,
        needle=False,
        depth_mm=40.0,
        margins=False,
        surface_line=False,
        artefacts=False,
        speckle_reduction=0.0,
        n_frames=1,
        width=200,
        height=160,
    )
    values.update(extra)
    renderer = ClipRenderer(SimConfig(**values))  # type: ignore[arg-type]
    return renderer, renderer.frame(0).image


def test_container_makes_water_outside_and_bright_straight_walls() -> None:
    z, x = np.mgrid[0:100, 0:100].astype(np.float32) * 0.2
    x -= 10.0
    ones = np.ones(x.shape, np.float32)
    maps = TissueMaps(ones, np.zeros_like(ones), np.zeros_like(ones))
    box = Container(top=3.0, top_echo=2.0, floor=15.0, walls=[(5.0, 0.0, 1.0)], water_echo=0.01)
    out = contain(maps, box, x, z, 0.2)
    assert out.echo[z < 2.5].max() <= 0.01  # water above the block
    assert out.echo[(x > 7.0) & (z > 4) & (z < 14)].max() <= 0.01  # beyond the wall
    assert out.echo[(x < 3.0) & (z > 4) & (z < 14)].min() > 0.9  # the block itself
    assert out.echo[z > 16.0].max() <= 0.01  # below the container floor
    # The floor is a straight bright line across the whole region.
    floor_row = int(round(15.0 / 0.2))
    assert (out.specular[floor_row] > 3.0).all()


def test_phantom_is_uniform_inside_and_dark_in_the_water_outside() -> None:
    found = 0
    for seed in range(40):
        renderer, image = _frame(seed, "phantom")
        box = renderer.build["container"]
        if box.top < 3.0 and box.floor is not None and box.floor < 36.0 and not box.walls:
            mm = renderer.geometry.mm_per_px
            floor_row = int(box.floor / mm)
            below = image[floor_row + int(4.0 / mm) :, :]
            inside = image[int(4.0 / mm) : floor_row - int(2.0 / mm), :]
            assert below.mean() < 20 and inside.mean() > 45
            found += 1
        if box.walls and box.top < 3.0:
            # Beyond a side wall: water.
            x0, slope, side = box.walls[0]
            mm = renderer.geometry.mm_per_px
            xs = (np.arange(image.shape[1]) + 0.5 - image.shape[1] / 2) * mm
            z = 0.3 * 40.0
            beyond = side * (xs - (x0 + slope * z)) > 3.0
            within = side * (xs - (x0 + slope * z)) < -3.0
            row = image[int(z / mm) - 3 : int(z / mm) + 3]
            if beyond.sum() > 5 and within.sum() > 5:
                assert row[:, beyond].mean() < 20 and row[:, within].mean() > 3 * max(
                    row[:, beyond].mean(), 5.0
                )
                found += 1
        if found >= 2:
            break
    assert found >= 2
    # Uniform speckle: the echo map varies little, unlike ex vivo meat (fibres, fat flecks).
    z, x = np.mgrid[0:200, 0:300].astype(np.float32) * 0.1
    x -= 15.0
    rng = np.random.default_rng(0)
    phantom = random_phantom(rng, 20.0, 15.0, None)
    phantom.blobs = []
    uniform = phantom_maps(phantom, x, z, rng, 0.1).echo
    meat = tissue_maps(exvivo_anatomy(rng, 20.0, 15.0, None), x, z, rng, 0.1).echo[100:]
    assert uniform.std() / uniform.mean() < 0.15
    assert meat.std() / meat.mean() > 0.4


def test_water_bath_is_almost_black() -> None:
    for seed in range(3):
        renderer, image = _frame(seed, "water")
        box = renderer.build["container"]
        stop = image.shape[0] if box.floor is None else int(box.floor / renderer.mm_per_px) - 4
        assert np.percentile(image[:stop], 90) < 25


def test_surface_line_is_a_bright_line_along_the_top() -> None:
    _, plain = _frame(4, "phantom")
    _, lined = _frame(4, "phantom", surface_line=True)
    top = max(2, int(0.8 / (40.0 / 160)))
    assert lined[:top].mean() > plain[:top].mean() + 40
    body = float(np.median(lined[4 * top :]))
    assert (lined[:top].max(axis=0) > body + 30).mean() > 0.95  # across the whole width


def test_every_medium_reaches_the_truth() -> None:
    for medium in ("in_vivo", "ex_vivo", "phantom", "water"):
        renderer, _ = _frame(1, medium)
        assert renderer.frame(0).truth.to_json(0)["medium"] == medium
