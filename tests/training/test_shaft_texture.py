"""Along-shaft brightness of painted needles: patchy echoes are irregular and mostly bright."""

from __future__ import annotations

import numpy as np

from usguide.training.shaft_texture import DIM_LEVEL, patchy_profile, shaft_texture


def test_patchy_profile_has_bright_and_dim_stretches_and_stays_mostly_bright():
    bright = []
    for seed in range(40):
        profile = patchy_profile(200.0, 0.1, np.random.default_rng(seed))
        assert profile.shape == (202,)
        assert profile.max() >= 0.85 and profile.min() <= DIM_LEVEL[1] + 0.05, seed
        bright.append((profile >= 0.7).mean())
        assert bright[-1] >= 0.3, seed
    # Dim stretches are shorter than bright ones: most of the shaft still echoes.
    assert 0.55 <= np.mean(bright) <= 0.8


def test_patchy_stretches_are_aperiodic():
    profile = patchy_profile(2000.0, 0.1, np.random.default_rng(3))
    dim = profile < 0.7
    starts = np.flatnonzero(dim[1:] & ~dim[:-1])
    gaps = np.diff(starts)
    assert len(gaps) >= 10
    # Not the regular beads of the held-out needle style: spacing varies by more than 30 %.
    assert gaps.std() / gaps.mean() > 0.2


def test_shaft_texture_is_a_positive_factor_over_the_canvas():
    along = np.tile(np.arange(-20.0, 120.0, dtype=np.float32), (5, 1))
    for seed in range(30):
        texture = shaft_texture(along, 100.0, 0.2, np.random.default_rng(seed))
        assert texture.shape == along.shape
        assert np.isfinite(texture).all() and texture.min() > 0.0, seed
