"""Backgrounds: phantom containers, convex fans and real crops look as a scanner would show them."""

from __future__ import annotations

import numpy as np

from usguide.training.backgrounds import _container_outline, fan_mask, phantom_background


def test_phantom_containers_are_often_tilted_and_never_show_their_top():
    outlines = [_container_outline(256, np.random.default_rng(seed)) for seed in range(60)]
    # Wall tilt: the left wall's x at the top corner against the bottom corner, per unit of height.
    slopes = [abs(o[0, 0] - o[3, 0]) / (o[3, 1] - o[0, 1]) for o in outlines]
    tilted = sum(slope > np.tan(np.radians(3)) for slope in slopes)
    assert 15 <= tilted <= 50  # about 60 % drawn tilted, some of them only slightly
    assert max(slopes) < np.tan(np.radians(25))
    assert all((o[:2, 1] < 0).all() and (o[2:, 1] > 64).all() for o in outlines)


def test_convex_fans_open_downwards_from_an_apex_above_the_image():
    for seed in range(20):
        mask = fan_mask(128, np.random.default_rng(seed))
        assert 0.15 < mask.mean() < 0.95, seed
        rows = mask.any(axis=1)
        # A sector widens with depth: its top row in the image is no wider than a row further down.
        top = int(np.argmax(rows))
        lower = min(top + 40, 127)
        assert mask[top].sum() <= mask[lower].sum() + 1 or not rows[lower], seed


def test_phantom_backgrounds_repeat_with_the_seed_and_fill_the_canvas():
    first = phantom_background(96, np.random.default_rng(5))
    again = phantom_background(96, np.random.default_rng(5))
    assert first.shape == (96, 96) and first.dtype == np.uint8
    assert np.array_equal(first, again)
    assert not np.array_equal(first, phantom_background(96, np.random.default_rng(6)))
