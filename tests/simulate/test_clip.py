"""Clip renderer: determinism, ground truth vs the picture, geometry, screen capture."""

from __future__ import annotations

import math

import numpy as np
import pytest

from usguide.errors import UsguideError
from usguide.simulate import GroundTruth, SimConfig, random_config, simulate_clip
from usguide.simulate.clip import ClipRenderer
from usguide.types import Roi

SMALL = {"width": 160, "height": 120}


def _needle_config(seed: int, probe: str = "linear", **extra: object) -> SimConfig:
    values = dict(
        seed=seed,
        variant=probe,
        n_frames=40,
        depth_mm=30.0,
        needle=True,
        gauge=20,
        angle_range=(25.0, 25.0),
        needle_gain=12.0,
        target=(0.0, 16.0),
        elevation="aligned",
        artefacts=False,
        motion=0.5,
        width=240,
        height=180,
    )
    values.update(extra)
    return SimConfig(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("variant", ["linear", "convex", "screen", "no_needle", "random"])
def test_same_seed_same_clip(variant: str) -> None:
    config = SimConfig(seed=11, variant=variant, n_frames=4, **SMALL)
    first, second = list(simulate_clip(config)), list(simulate_clip(config))
    for a, b in zip(first, second, strict=True):
        assert np.array_equal(a.image, b.image)
        assert a.truth.to_json(0) == b.truth.to_json(0)
    other = list(simulate_clip(SimConfig(seed=12, variant=variant, n_frames=1, **SMALL)))
    assert not np.array_equal(first[0].image, other[0].image)


def test_frames_are_uint8_of_requested_size() -> None:
    for variant in ("linear", "convex", "no_needle"):
        frame = next(simulate_clip(SimConfig(seed=1, variant=variant, n_frames=1, **SMALL)))
        assert frame.image.dtype == np.uint8 and frame.image.shape == (120, 160)
        assert frame.truth.roi == Roi(0, 0, 160, 120)


def test_no_needle_clips_have_no_label() -> None:
    for frame in simulate_clip(SimConfig(seed=5, variant="no_needle", n_frames=6, **SMALL)):
        truth = frame.truth
        assert not truth.visible and not truth.needle_present
        assert truth.tip is None and truth.entry is None and truth.angle_deg is None
        assert truth.shaft_mask is None and truth.contrast is None


def _visible_frames(config: SimConfig) -> list:
    frames = [f for f in simulate_clip(config) if f.truth.visible]
    assert len(frames) >= 5, "the test clip should show the needle in several frames"
    return frames


def _line_fit(image: np.ndarray, truth: GroundTruth, band: float = 8.0) -> tuple[float, float]:
    """Intensity-weighted line fit of the brightest pixels within ``band`` px of the labelled line.

    Returns (angle difference in degrees, distance of the fitted line from the labelled tip in px).
    """
    tip, entry = np.array(truth.tip), np.array(truth.entry)
    direction = (tip - entry) / np.linalg.norm(tip - entry)
    normal = np.array([-direction[1], direction[0]])
    ys, xs = np.mgrid[0 : image.shape[0], 0 : image.shape[1]]
    pts = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(float)
    rel = pts - entry
    along, across = rel @ direction, rel @ normal
    length = np.linalg.norm(tip - entry)
    inside = (np.abs(across) <= band) & (along >= 0) & (along <= length)
    values = image.reshape(-1).astype(float)[inside]
    # Per slice along the shaft, take the brightest pixel (the ridge), then fit a line through them.
    bins = np.floor(along[inside]).astype(int)
    ridge = []
    for b in np.unique(bins):
        sel = np.nonzero(bins == b)[0]
        best = sel[np.argmax(values[sel])]
        ridge.append((pts[inside][best], values[best]))
    p = np.array([r[0] for r in ridge])
    w = np.array([r[1] for r in ridge])
    centre = (p * w[:, None]).sum(0) / w.sum()
    cov = ((p - centre) * w[:, None]).T @ (p - centre) / w.sum()
    fit_dir = np.linalg.eigh(cov)[1][:, -1]
    angle = math.degrees(math.acos(min(1.0, abs(float(fit_dir @ direction)))))
    fit_normal = np.array([-fit_dir[1], fit_dir[0]])
    return angle, abs(float((tip - centre) @ fit_normal))


@pytest.mark.parametrize("probe", ["linear", "convex"])
def test_shaft_mask_matches_bright_ridge(probe: str) -> None:
    frames = _visible_frames(_needle_config(3, probe))
    for frame in frames[-3:]:
        truth, image = frame.truth, frame.image.astype(float)
        mask = truth.shaft_mask
        assert mask.shape == image.shape and mask.dtype == bool and mask.any()
        # Mean on the mask is far above the tissue around it (a band above the shaft).
        near = np.zeros_like(mask)
        ys, xs = np.nonzero(mask)
        above = np.clip(ys - 12, 0, mask.shape[0] - 1)
        near[above, xs] = True
        near &= ~mask
        assert image[mask].mean() > image[near].mean() + 40
        angle_error, offset = _line_fit(frame.image, truth)
        assert angle_error < 3.0
        assert offset < 3.0
        # The label's own geometry: tip and entry lie on the mask.
        for point in (truth.tip, truth.entry):
            x, y = int(round(point.x)), int(round(point.y))
            window = mask[max(0, y - 2) : y + 3, max(0, x - 2) : x + 3]
            assert window.any()
        assert (
            abs(
                truth.angle_deg
                - math.degrees(
                    math.atan2(abs(truth.tip.y - truth.entry.y), abs(truth.tip.x - truth.entry.x))
                )
            )
            < 1.5
        )


def test_needle_direction_follows_side() -> None:
    for side, sign in (("left", 1), ("right", -1)):
        frame = _visible_frames(_needle_config(4, side=side, n_frames=90))[-1]
        assert sign * (frame.truth.tip.x - frame.truth.entry.x) > 0
        assert frame.truth.tip.y > frame.truth.entry.y


def test_mm_per_px_linear_is_depth_over_height() -> None:
    config = SimConfig(seed=2, variant="linear", depth_mm=35.0, n_frames=1, **SMALL)
    truth = next(simulate_clip(config)).truth
    assert truth.probe == "linear" and truth.depth_mm == 35.0
    assert truth.mm_per_px == pytest.approx(35.0 / 120)


def test_mm_per_px_convex_fan_reaches_the_bottom() -> None:
    config = SimConfig(
        seed=2, variant="convex", depth_mm=60.0, fan_deg=40.0, radius_mm=45.0, n_frames=1, **SMALL
    )
    renderer = ClipRenderer(config)
    frame = renderer.frame(0)
    geo = renderer.geometry
    assert frame.truth.probe == "convex"
    assert frame.truth.mm_per_px == pytest.approx(60.0 / 120)
    # Depth along the central beam from the skin arc (top centre) to the fan bottom spans the
    # height.
    fan = geo.fan_mask()
    centre = fan[:, 79] | fan[:, 80]
    assert centre[0] and centre[-1]
    # The corners are outside the fan (black).
    assert not fan[0, 0] and not fan[0, -1]
    assert frame.image[0, 0] == 0 and frame.image[0, -1] == 0
    # A point at depth d on the central beam maps to y = d / mm_per_px - 0.5.
    x, y = geo.mm_to_px(0.0, 30.0)
    assert y == pytest.approx(30.0 / frame.truth.mm_per_px - 0.5)
    assert x == pytest.approx(80 - 0.5)


def test_screen_capture_region_is_exact() -> None:
    config = SimConfig(
        seed=7, variant="screen", probe="linear", width=1024, height=768, n_frames=8, margins=False
    )
    frames = list(simulate_clip(config))
    roi = frames[0].truth.roi
    assert frames[0].image.shape == (768, 1024, 3)
    assert roi.x > 0 and roi.y > 0 and roi.x + roi.w < 1024 and roi.y + roi.h < 768
    region = roi.crop(frames[0].image)
    assert np.array_equal(region[..., 0], region[..., 1]) and np.array_equal(
        region[..., 1], region[..., 2]
    )
    # What changes from frame to frame (the ultrasound image) fills exactly the region; the
    # screen around it is static (the clock in the bottom bar excepted).
    changed = np.zeros((768, 1024), bool)
    for frame in frames[1:]:
        changed |= (frame.image != frames[0].image).any(axis=2)
    changed[int(768 * 0.9) :] = False
    ys, xs = np.nonzero(changed)
    assert roi.x <= xs.min() <= roi.x + 1 and roi.x + roi.w - 2 <= xs.max() < roi.x + roi.w
    assert roi.y <= ys.min() <= roi.y + 1 and roi.y + roi.h - 2 <= ys.max() < roi.y + roi.h
    # Outside the region every frame is exactly the screen background.
    background = ClipRenderer(config).screen.background
    outside = np.ones((768, 1024), bool)
    outside[roi.y : roi.y + roi.h, roi.x : roi.x + roi.w] = False
    outside[int(768 * 0.9) :] = False
    assert np.array_equal(frames[3].image[outside], background[outside])
    for frame in frames:
        assert frame.truth.roi == roi
        if frame.truth.visible:
            ys, xs = np.nonzero(frame.truth.shaft_mask)
            assert frame.truth.shaft_mask.shape == (768, 1024)
            assert roi.x <= xs.min() and xs.max() < roi.x + roi.w
            assert roi.y <= ys.min() and ys.max() < roi.y + roi.h


def test_screen_tip_is_offset_by_the_region() -> None:
    base = _needle_config(8, screen=True, width=1280, height=720)
    frames = [f for f in simulate_clip(base) if f.truth.visible]
    assert frames
    truth = frames[-1].truth
    mask = truth.shaft_mask
    x, y = int(round(truth.tip.x)), int(round(truth.tip.y))
    assert mask[max(0, y - 2) : y + 3, max(0, x - 2) : x + 3].any()


def test_random_config_is_deterministic_and_overridable() -> None:
    a = random_config(np.random.default_rng(1), n_frames=3, **SMALL)
    b = random_config(np.random.default_rng(1), n_frames=3, **SMALL)
    assert a == b and a.variant == "random" and a.n_frames == 3 and a.width == 160
    with pytest.raises(UsguideError):
        random_config(np.random.default_rng(1), wings=2)


def test_random_variant_covers_geometries() -> None:
    rng = np.random.default_rng(0)
    probes, screens = set(), set()
    for _ in range(12):
        renderer = ClipRenderer(random_config(rng, n_frames=1, **SMALL))
        probes.add(renderer.geometry.kind)
        screens.add(renderer.screen is not None)
    assert probes == {"linear", "convex"} and screens == {True, False}


@pytest.mark.parametrize(
    "field,value", [("variant", "sector"), ("probe", "phased"), ("width", 10), ("gauge", 40)]
)
def test_bad_config_raises_usguide_error(field: str, value: object) -> None:
    config = SimConfig(seed=0, **{field: value})  # type: ignore[arg-type]
    with pytest.raises(UsguideError):
        list(simulate_clip(config))


def test_visibility_is_contrast_against_local_tissue() -> None:
    """The same needle echo is visible over dark tissue and not over bright tissue."""
    from usguide.simulate import needle as needle_mod
    from usguide.simulate.probe import ProbeGeometry

    geometry = ProbeGeometry("linear", 200, 150, 30.0)
    origins, dirs = geometry.beams()
    rng = np.random.default_rng(0)
    look = needle_mod.random_look(rng, 21, gain=2.0)
    look.texture[:] = 1.0
    look.tip_gain = 1.0
    angle = math.radians(20.0)
    pose = needle_mod.NeedlePose(
        origin=np.array([-16.0, 0.0]),
        direction=np.array([math.cos(angle), math.sin(angle)]),
        length=30.0,
        e_tip=0.0,
        tilt=0.0,
    )
    dark = needle_mod.render(
        np.full((150, 200), 0.5, np.float32), pose, look, geometry, origins, dirs
    )
    bright = needle_mod.render(
        np.full((150, 200), 20.0, np.float32), pose, look, geometry, origins, dirs
    )
    assert dark.mask is not None and dark.s_max - dark.s_min > 10.0
    assert bright.mask is None
    # The label's contrast is the visible shaft's echo over its tissue: at or above the threshold,
    # and unknown where nothing is visible.
    assert dark.visible_contrast() >= needle_mod.VISIBLE_CONTRAST
    assert bright.visible_contrast() is None


def test_truth_json_carries_the_needle_contrast() -> None:
    frames = _visible_frames(_needle_config(3, "linear"))
    entry = frames[-1].truth.to_json(0)
    # A bright needle (gain 12) is several times brighter than its tissue.
    assert entry["contrast"] is not None and entry["contrast"] >= 3.0
    empty = next(simulate_clip(SimConfig(seed=5, variant="no_needle", n_frames=1, **SMALL)))
    assert empty.truth.to_json(0)["contrast"] is None
