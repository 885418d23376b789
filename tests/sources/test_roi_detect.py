"""Image-region detection on synthetic scanner screen captures with known regions (±4 px)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from usguide.errors import UsguideError
from usguide.sources.roi_detect import detect_roi
from usguide.types import Roi

TOLERANCE = 4


def fan_mask(width: int, height: int, region: Roi, half_angle_deg: float = 35) -> np.ndarray:
    """A convex-probe sector whose bounding box is exactly ``region``."""
    mask = np.zeros((height, width), np.uint8)
    theta = np.deg2rad(half_angle_deg)
    # Apex above the region so the top is an arc of radius r0 and the bottom an arc of radius r1.
    r1 = region.w / 2 / np.sin(theta)
    r0 = r1 - region.h
    apex = (region.x + region.w / 2, region.y + region.h - r1)
    ys, xs = np.mgrid[0:height, 0:width]
    dx, dy = xs - apex[0], ys - apex[1]
    radius = np.hypot(dx, dy)
    angle = np.arctan2(dx, dy)
    inside = (radius <= r1) & (radius >= max(r0, 0)) & (np.abs(angle) <= theta)
    mask[inside] = 1
    x, y, w, h = cv2.boundingRect(mask)
    assert (x, y) == (region.x, region.y) or abs(y - region.y) < 40
    return mask


def screen(
    rng: np.random.Generator,
    region: Roi,
    *,
    size=(640, 480),
    fan: bool = False,
    colour: bool = True,
    speckle_seed: int | None = None,
) -> tuple[np.ndarray, Roi]:
    """A scanner screen: dark background, menu bar, text, ruler dots, logo, grey bars, image."""
    width, height = size
    image = np.full((height, width, 3), 18, np.uint8)
    image = cv2.add(image, rng.normal(0, 1.0, image.shape).clip(0, 255).astype(np.uint8))
    cv2.rectangle(image, (0, 0), (width, 28), (120, 70, 30), -1)  # menu bar
    for i, word in enumerate(["B-MODE", "GAIN 54", "DR 60", "FREEZE"]):
        cv2.putText(
            image, word, (8 + 120 * i, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (240, 240, 240), 1
        )
    # Flat grey bars either side of the image (letterboxing).
    cv2.rectangle(
        image, (region.x - 14, region.y), (region.x - 4, region.y + region.h), (60, 60, 60), -1
    )
    for i, line in enumerate(
        ["Patient: DOE^J", "MI 1.1  TIS 0.4", "L12-5 MSK", "12 MHz", "Depth 40mm"]
    ):
        cv2.putText(
            image, line, (6, 60 + 24 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (200, 200, 200), 1
        )
    # Depth ruler: dots 8 px right of the image, labels beyond.
    ruler_x = region.x + region.w + 8
    for k, y in enumerate(range(region.y, region.y + region.h, 20)):
        cv2.circle(image, (ruler_x, y), 2 if k % 5 else 3, (230, 230, 230), -1)
        if k % 5 == 0:
            cv2.putText(
                image, str(k), (ruler_x + 8, y + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (230,) * 3, 1
            )
    cv2.circle(image, (width - 40, height - 30), 14, (40, 160, 220), -1)  # logo
    cv2.putText(
        image, "ACME", (width - 100, height - 24), cv2.FONT_HERSHEY_DUPLEX, 0.5, (40, 160, 220), 1
    )
    # Speckle-like tissue: Rayleigh noise, slight blur, depth attenuation, a dark vessel.
    speckle_rng = np.random.default_rng(speckle_seed) if speckle_seed is not None else rng
    speckle = speckle_rng.rayleigh(1.0, (region.h, region.w)).astype(np.float32)
    speckle = cv2.GaussianBlur(speckle, (0, 0), 0.8)
    depth = np.linspace(1.0, 0.45, region.h, dtype=np.float32)[:, None]
    tissue = np.clip(speckle * 70 * depth, 0, 255)
    cv2.ellipse(
        tissue, (region.w // 2, region.h // 2), (region.w // 8, region.h // 10), 0, 0, 360, 3, -1
    )
    tissue = tissue.astype(np.uint8)
    if fan:
        mask = fan_mask(width, height, region)[
            region.y : region.y + region.h, region.x : region.x + region.w
        ]
        tissue = np.where(mask > 0, tissue, 18).astype(np.uint8)
        x, y, w, h = cv2.boundingRect(mask)
        truth = Roi(region.x + x, region.y + y, w, h)
    else:
        truth = region
    tissue_bgr = cv2.cvtColor(tissue, cv2.COLOR_GRAY2BGR)
    image[region.y : region.y + region.h, region.x : region.x + region.w] = tissue_bgr
    if not colour:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return image, truth


def assert_close(found: Roi, truth: Roi) -> None:
    for got, want in zip(
        (found.x, found.y, found.x + found.w, found.y + found.h),
        (truth.x, truth.y, truth.x + truth.w, truth.y + truth.h),
        strict=False,
    ):
        assert abs(got - want) <= TOLERANCE, f"found {found}, expected {truth}"


@pytest.mark.parametrize(
    "region",
    [Roi(150, 60, 400, 360), Roi(200, 40, 300, 420), Roi(130, 100, 440, 260)],
)
def test_single_frame_rectangle(region):
    image, truth = screen(np.random.default_rng(1), region)
    assert_close(detect_roi(image), truth)


def test_single_grey_frame():
    image, truth = screen(np.random.default_rng(2), Roi(160, 50, 380, 380), colour=False)
    assert image.ndim == 2
    assert_close(detect_roi(image), truth)


def test_fan_single_frame():
    image, truth = screen(np.random.default_rng(3), Roi(140, 50, 420, 400), fan=True)
    assert_close(detect_roi(image), truth)


def test_several_frames_use_temporal_change():
    rng = np.random.default_rng(4)
    frames = [screen(rng, Roi(150, 60, 400, 360), speckle_seed=i)[0] for i in range(4)]
    truth = Roi(150, 60, 400, 360)
    assert_close(detect_roi(frames), truth)


def test_fan_several_frames():
    rng = np.random.default_rng(5)
    shots = [screen(rng, Roi(120, 40, 460, 420), fan=True, speckle_seed=i) for i in range(3)]
    assert_close(detect_roi([image for image, _ in shots]), shots[0][1])


def test_blank_screen_is_an_error():
    with pytest.raises(UsguideError, match="no ultrasound image region"):
        detect_roi(np.full((240, 320, 3), 20, np.uint8))


@pytest.mark.parametrize("seed", [800000, 800001, 800004])
def test_simulator_screen_captures(seed):
    """The simulator's vendor screens: flat background, menus, black shadows and fan corners."""
    from usguide.simulate import SimConfig, simulate_clip

    # In vivo: a water bath's screen is black where the image is (no region to find).
    config = SimConfig(
        seed=seed, variant="screen", width=1280, height=720, n_frames=3, medium="in_vivo"
    )
    shots = list(simulate_clip(config))
    truth = shots[0].truth.roi
    assert_close(detect_roi([shot.image for shot in shots]), truth)


def overlap(found: Roi, truth: Roi) -> float:
    """Intersection over union of two regions."""
    width = min(found.x + found.w, truth.x + truth.w) - max(found.x, truth.x)
    height = min(found.y + found.h, truth.y + truth.h) - max(found.y, truth.y)
    inter = max(0, width) * max(0, height)
    return inter / (found.w * found.h + truth.w * truth.h - inter)


@pytest.mark.parametrize(
    ("style", "size", "seed"),
    [
        ("heldout", (640, 480), 0),  # gradient background: was the whole screen
        ("heldout", (1024, 768), 2),  # the same
        ("heldout", (1024, 768), 1),  # speckle at the background's level: was the lower part
        ("heldout", (1024, 768), 4),  # a near-empty (water) image: was a thumbnail
        ("train", (640, 480), 4),  # a near-empty image on a dark screen: was no region
        ("train", (1024, 768), 6),
    ],
)
def test_simulator_screen_layouts(style: str, size: tuple[int, int], seed: int):
    """Every screen layout of ``usguide simulate`` (train and held out), any drawn medium: the
    region found overlaps the true image box by at least 90 %."""
    from usguide.simulate.clip import ClipRenderer
    from usguide.simulate.config import SimConfig

    renderer = ClipRenderer(
        SimConfig(variant="screen", width=size[0], height=size[1], seed=seed, style=style)
    )
    frames = [renderer.frame(index).image for index in range(8)]  # as probe and Auto read
    assert overlap(detect_roi(frames), renderer.screen.roi) >= 0.9


def ruler_frame(rng: np.random.Generator) -> tuple[np.ndarray, int, int]:
    """A full-frame app export: speckle, then a faded strip with a dotted depth ruler and a label.

    Returns the frame, the image's right edge and the ruler dots' inner edge. The faded strip is
    not flat background, so the ruler joins the image in every mask but the dots' layout.
    """
    height, width, image_right, ruler_x = 480, 640, 560, 600
    speckle = cv2.GaussianBlur(rng.rayleigh(1.0, (height, width)).astype(np.float32), (0, 0), 0.8)
    tissue = speckle * 70
    tissue[:, image_right:] *= 0.25  # beyond the image: faded, dim, still noisy
    cv2.ellipse(tissue, (280, 240), (60, 40), 0, 0, 360, 0, -1)  # an anechoic vessel
    frame = cv2.cvtColor(np.clip(tissue, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    for k, y in enumerate(range(6, height, 24)):
        cv2.circle(frame, (ruler_x, y), 4 if k % 5 == 0 else 2, (240, 240, 240), -1)
    cv2.putText(frame, "3 cm", (586, 470), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (240,) * 3, 1)
    return frame, image_right, ruler_x - 4


@pytest.mark.parametrize("side", ["right", "left", "bottom"])
def test_dotted_ruler_over_the_edge_is_cut_off(side):
    frame, image_right, ruler_inner = ruler_frame(np.random.default_rng(6))
    height, width = frame.shape[:2]
    if side == "left":
        frame = np.ascontiguousarray(frame[:, ::-1])
    elif side == "bottom":
        frame = np.ascontiguousarray(frame.transpose(1, 0, 2))
    found = detect_roi(frame)
    # Back to the "right" layout: [start, end) across the ruler, [start, end) along it.
    if side == "right":
        across, along = (found.x, found.x + found.w), (found.y, found.y + found.h)
    elif side == "left":
        across, along = (width - found.x - found.w, width - found.x), (found.y, found.y + found.h)
    else:
        across, along = (found.y, found.y + found.h), (found.x, found.x + found.w)
    assert across[0] <= TOLERANCE and along[0] <= TOLERANCE, found
    assert along[1] >= height - TOLERANCE, found
    # The ruler and its label are out; the image up to its edge is in.
    assert image_right - TOLERANCE <= across[1] <= ruler_inner, found


def test_speckle_without_a_ruler_keeps_its_edges():
    rng = np.random.default_rng(7)
    speckle = cv2.GaussianBlur(rng.rayleigh(1.0, (480, 640)).astype(np.float32), (0, 0), 0.8)
    frame = np.clip(speckle * 70, 0, 255).astype(np.uint8)
    cv2.ellipse(frame, (280, 240), (60, 40), 0, 0, 360, 0, -1)
    assert_close(detect_roi(frame), Roi(0, 0, 640, 480))


def test_real_clip_excludes_the_depth_ruler(real_clip):  # noqa: ANN001
    """The Clarius clip: image to x ~1020, a dotted ruler at x 1021..1035 over faded image."""
    capture = cv2.VideoCapture(str(real_clip))
    frames = []
    try:
        for index in range(400):
            ok, frame = capture.read()
            if not ok:
                break
            if index % 40 == 0:
                frames.append(frame)
    finally:
        capture.release()
    assert len(frames) == 10, "could not decode the real clip"
    found = detect_roi(frames)
    assert found.x <= TOLERANCE and found.y <= TOLERANCE, found
    assert found.y + found.h >= 860 - TOLERANCE, found
    # Users crop with --roi 0,0,1030,860; the ruler's largest dots begin at x 1021.
    assert 1000 <= found.x + found.w <= 1024, found
