"""Composites: painted needles carry exact labels, distractors carry none, seeded runs repeat."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")  # training.train imports it; composite itself does not

from usguide.training.composite import (  # noqa: E402
    NO_TIP,
    Compositor,
    paint_distractor,
    paint_echoes,
    paint_needle,
)
from usguide.training.validation import composite_validation  # noqa: E402

SIZE = 128


def flat_background(level: int = 50) -> tuple[np.ndarray, np.ndarray]:
    return np.full((SIZE, SIZE), level, np.uint8), np.ones((SIZE, SIZE), bool)


def test_distractor_crosses_the_whole_tissue():
    background, valid = flat_background()
    for seed in range(10):
        image = paint_distractor(background, valid, np.random.default_rng(seed))
        assert image.dtype == np.uint8 and image.shape == background.shape
        # A fascia or bone line runs from one side to the other: no column is left without it.
        brighter = image.astype(int).max(axis=0) - int(background[0, 0])
        assert (brighter >= 10).mean() >= 0.95, seed


def test_specular_echoes_are_short_and_bright():
    background, valid = flat_background()
    for seed in range(10):
        image = paint_echoes(background, valid, np.random.default_rng(seed))
        bright = image.astype(int) - int(background[0, 0]) >= 20
        assert bright.any(), seed
        # Short echoes, not lines across the tissue: most columns stay untouched.
        assert bright.any(axis=0).mean() < 0.6, seed


def test_distractors_alone_give_no_needle_label():
    compositor = Compositor(SIZE, no_needle_fraction=1.0, distractor_fraction=1.0)
    rng = np.random.default_rng(5)
    for _ in range(8):
        sample = compositor.sample(rng)
        assert sample.tip == NO_TIP
        assert not sample.shaft.any()


def test_painted_needle_label_sits_on_the_bright_shaft():
    background, valid = flat_background()
    checked = 0
    for seed in range(30):
        sample = paint_needle(background, valid, np.random.default_rng(seed))
        if not sample.shaft.any():
            continue
        checked += 1
        on_shaft = sample.image[sample.shaft > 0].astype(float)
        off_shaft = sample.image[sample.shaft == 0].astype(float)
        assert on_shaft.mean() > np.median(off_shaft), seed
        if sample.tip != NO_TIP:
            tip_x, tip_y = (int(round(v)) for v in sample.tip)
            window = sample.shaft[max(0, tip_y - 2) : tip_y + 3, max(0, tip_x - 2) : tip_x + 3]
            assert window.any(), seed  # the tip ends the labelled shaft
    assert checked >= 20


def test_seeded_compositor_repeats():
    first = Compositor(SIZE, distractor_fraction=0.5)
    second = Compositor(SIZE, distractor_fraction=0.5)
    for seed in range(4):
        a = first.sample(np.random.default_rng(seed))
        b = second.sample(np.random.default_rng(seed))
        assert np.array_equal(a.image, b.image) and np.array_equal(a.shaft, b.shaft)
        assert a.tip == b.tip


def test_composite_validation_is_fixed_and_mixed():
    frames = composite_validation(SIZE, 24, distractor_fraction=0.3)
    again = composite_validation(SIZE, 24, distractor_fraction=0.3)
    assert frames.images.shape == (24, SIZE, SIZE)
    assert np.array_equal(frames.images, again.images)
    has_needle = frames.shafts.reshape(24, -1).max(axis=1) > 0
    assert 0 < has_needle.sum() < 24  # needles and needle-free samples both judge the epoch


def test_shafts_starting_in_tissue_are_long_enough_to_tell_from_an_echo():
    from usguide.training.composite import INSIDE_MIN_MM, _segment

    valid = np.ones((SIZE, SIZE), bool)
    mm_per_px = 0.3
    inside = 0
    for seed in range(200):
        ends = _segment(valid, mm_per_px, np.random.default_rng(seed))
        if ends is None:
            continue
        entry, tip = ends
        step_back = entry - (tip - entry) / np.linalg.norm(tip - entry)  # one pixel further out
        if 0 <= step_back[0] < SIZE and 0 <= step_back[1] < SIZE:  # it did not reach the edge
            inside += 1
            assert np.linalg.norm(tip - entry) * mm_per_px >= INSIDE_MIN_MM, seed
    assert inside >= 10


def test_muscle_fibres_are_many_parallel_streaks_without_a_label():
    from usguide.training.composite import paint_striations

    background, valid = flat_background()
    for seed in range(6):
        image = paint_striations(background, valid, np.random.default_rng(seed)).astype(int)
        brighter = image - int(background[0, 0]) >= 5
        assert brighter.mean() > 0.01, seed
        # Across the fibres brightness rises and falls again and again: some row or column of
        # the image crosses at least three separate stripes (one line would give one).
        rises = np.diff(brighter.astype(int), axis=0) == 1
        along_rows = np.diff(brighter.astype(int), axis=1) == 1
        crossings = max(rises.sum(axis=0).max(), along_rows.sum(axis=1).max())
        assert crossings >= 3, seed
    compositor = Compositor(SIZE, no_needle_fraction=1.0, distractor_fraction=1.0)
    rng = np.random.default_rng(11)
    assert all(not compositor.sample(rng).shaft.any() for _ in range(10))


def test_a_phantom_needle_may_lie_in_its_water_and_stands_out_there():
    compositor = Compositor(SIZE)
    rng = np.random.default_rng(3)
    in_water = 0
    for _ in range(300):
        image, medium = compositor.background(rng, None)
        if medium is None:  # a real or simulated background: the needle goes into its tissue
            continue
        assert medium.shape == image.shape and medium.dtype == bool
        dark = medium & (image <= 6)
        if dark.mean() < 0.5:
            continue
        sample = paint_needle(image, medium, rng)
        on_shaft = sample.shaft > 0
        if on_shaft.sum() < 10 or not dark[on_shaft].all():
            continue
        in_water += 1
        rise = sample.image[on_shaft].astype(int) - image[on_shaft].astype(int)
        # Bright on black, as a needle in water is (the label also covers a double wall's lumen).
        assert np.percentile(rise, 90) >= 20
    assert in_water >= 3


def test_augmentation_fascia_crosses_the_tissue_and_spares_black_margins():
    from usguide.training.augment import _fascia_line

    for seed in range(10):
        canvas = np.full((SIZE, SIZE), 50.0, np.float32)
        canvas[:, : SIZE // 4] = 0.0  # a black margin on the left
        before = canvas.copy()
        _fascia_line(canvas, np.random.default_rng(seed))
        raised = (canvas - before) >= 5
        tissue_columns = raised[:, SIZE // 4 + 6 :].any(axis=0)
        assert tissue_columns.mean() >= 0.95, seed  # side to side: no end inside the tissue
        assert not raised[:, : SIZE // 4 - 6].any(), seed


def test_background_kinds_follow_their_shares_and_the_choice():
    everything = Compositor(SIZE)
    everything.real_frames = [np.zeros((8, 8), np.uint8)]  # as if pydicom-data were installed
    draws = np.linspace(0, 1, 100, endpoint=False)
    kinds = [everything.background_kind(pick, have_sim=True) for pick in draws]
    assert (kinds.count("real"), kinds.count("sim"), kinds.count("phantom")) == (40, 30, 30)
    # Without real frames their share goes to the simulator's, as before the choice existed.
    everything.real_frames = []
    kinds = [everything.background_kind(pick, have_sim=True) for pick in draws]
    assert (kinds.count("sim"), kinds.count("phantom")) == (70, 30)
    only_sim = Compositor(SIZE, backgrounds=("sim",))
    assert {only_sim.background_kind(pick, have_sim=True) for pick in draws} == {"sim"}
    assert {only_sim.background_kind(pick, have_sim=False) for pick in draws} == {"phantom"}
    no_real = Compositor(SIZE, backgrounds=("phantom", "sim"))
    assert no_real.backgrounds == ("sim", "phantom") and no_real.real_frames == []
    kinds = [no_real.background_kind(pick, have_sim=True) for pick in draws]
    assert (kinds.count("sim"), kinds.count("phantom")) == (50, 50)
    with pytest.raises(ValueError, match="choose from real, sim, phantom"):
        Compositor(SIZE, backgrounds=("ultrasound",))


def test_a_phantom_only_compositor_never_paints_on_the_simulator_frame():
    only_phantom = Compositor(SIZE, backgrounds=("phantom",))
    marker = np.full((SIZE, SIZE), 7, np.uint8)  # a level no phantom or needle makes everywhere
    for seed in range(6):
        sample = only_phantom.sample(np.random.default_rng(seed), sim_background=marker)
        assert np.count_nonzero(sample.image == 7) < SIZE * SIZE // 2


def test_edge_entry_shafts_run_back_to_the_edge_of_the_tissue():
    from usguide.training.composite import _segment

    valid = np.zeros((SIZE, SIZE), bool)
    valid[20:-20, 10:-10] = True  # tissue with margins, so "the edge" is not the image's
    mm_per_px = 0.3
    painted = 0
    for seed in range(100):
        ends = _segment(valid, mm_per_px, np.random.default_rng(seed), edge_entry=True)
        if ends is None:
            continue
        entry, tip = ends
        step_back = entry - (tip - entry) / np.linalg.norm(tip - entry)  # one pixel further out
        x, y = int(step_back[0]), int(step_back[1])
        assert not (0 <= x < SIZE and 0 <= y < SIZE and valid[y, x]), seed
        painted += 1
    assert painted >= 80
