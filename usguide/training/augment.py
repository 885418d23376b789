"""Domain randomisation for training samples: geometry (with labels), acquisition, distractors.

Everything works on one model-size sample (grey uint8 image, uint8 shaft coverage, tip in pixels)
and draws from the numpy Generator it is given, so a seeded run sees the same augmentations.
Geometric transforms move the labels with the image; photometric ones and distractors leave them
alone (a bright fascia line drawn on the image stays labelled "not needle": the classic false
positive).
"""

from __future__ import annotations

import math
import string

import cv2
import numpy as np

NO_TIP = (-1.0, -1.0)


def hflip(image: np.ndarray, shaft: np.ndarray, tip: tuple[float, float]):
    """Mirrors left-right; the tip x becomes ``W - 1 - x`` (pixel-centre convention)."""
    width = image.shape[1]
    new_tip = tip if tip[0] < 0 else (width - 1 - tip[0], tip[1])
    return image[:, ::-1].copy(), shaft[:, ::-1].copy(), new_tip


def affine(image, shaft, tip, rng: np.random.Generator):
    """Random zoom (anisotropic), small rotation and shift about the image centre; labels follow."""
    size = image.shape[0]
    zoom = math.exp(rng.uniform(math.log(0.8), math.log(1.3)))
    aspect = math.exp(rng.uniform(-0.12, 0.12))
    angle = math.radians(rng.uniform(-8.0, 8.0))
    sx, sy = zoom * aspect, zoom / aspect
    cos, sin = math.cos(angle), math.sin(angle)
    centre = (size - 1) / 2.0
    shift = rng.uniform(-0.08, 0.08, 2) * size
    matrix = np.array(
        [[sx * cos, -sy * sin, 0.0], [sx * sin, sy * cos, 0.0]], dtype=np.float64
    )  # rotation after scaling
    matrix[:, 2] = np.array([centre, centre]) + shift - matrix[:, :2] @ np.array([centre, centre])
    image = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)
    shaft = cv2.warpAffine(shaft, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)
    if tip[0] >= 0:
        x, y = matrix @ np.array([tip[0], tip[1], 1.0])
        tip = (float(x), float(y)) if (0 <= x <= size - 1 and 0 <= y <= size - 1) else NO_TIP
    return image, shaft, tip


def interface_points(
    width: int, height: int, angle_deg: float, rng: np.random.Generator
) -> np.ndarray:
    """(width, 2) int32 points of a tissue interface crossing the image from side to side at
    ``angle_deg`` to the skin, gently curved (layers undulate, they do not zigzag)."""
    xs = np.arange(width, dtype=np.float32)
    slope = math.tan(math.radians(angle_deg))
    bend = rng.uniform(0.0, 0.04) * height
    wave = rng.uniform(0.5, 1.5) * math.pi / width
    centre = rng.uniform(0.1, 0.95) * height
    ys = centre + slope * (xs - width / 2) + bend * np.sin(wave * xs + rng.uniform(0, 6))
    return np.stack([xs, ys], axis=1).round().astype(np.int32)


def _fascia_line(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """Adds a bright tissue interface (fascia, tendon, bone surface) to a float image in place.

    It crosses the whole imaged tissue from side to side, gently curved and beaded: a straight
    bright segment that ends in tissue is what a needle looks like, so no such segment is ever
    painted here as "not needle" (until v5b 30 % of these lines were short and straight, up to
    60° steep: the model learned to ignore any shallow bright line, needles included).
    """
    height, width = canvas.shape
    steep = rng.random() < 0.2  # an oblique deep fascia now and then; most follow the skin
    angle = rng.uniform(-40, 40) if steep else rng.uniform(-20, 20)
    points = interface_points(width, height, angle, rng)
    layer = np.zeros_like(canvas)
    cv2.polylines(layer, [points], False, 1.0, int(rng.integers(1, 7)), cv2.LINE_AA)
    layer = cv2.GaussianBlur(layer, (0, 0), rng.uniform(0.6, 2.0))
    # Speckled brightness along the band (drawn at half resolution: cheaper, coarser grains).
    speckle = rng.rayleigh(1.0, (height // 2, width // 2)).astype(np.float32)
    speckle = cv2.resize(speckle, (width, height), interpolation=cv2.INTER_LINEAR)
    along = 0.5 + 0.5 * np.clip(speckle / (speckle.mean() + 1e-6), 0, 2.5)
    tissue = cv2.blur((canvas > 4).astype(np.float32), (9, 9))  # not across black margins
    canvas += layer * along * tissue * rng.uniform(0.15, 0.75) * 255.0
    if rng.random() < 0.4:  # acoustic shadow under a strong reflector
        shadow = np.cumsum(layer > 0.3, axis=0) > 0
        canvas *= np.where(shadow, rng.uniform(0.55, 0.9), 1.0).astype(np.float32)


def _text_overlay(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """Burned-in annotations: labels, numbers, a depth ruler of dots (the real clip has one)."""
    size = canvas.shape[0]
    layer = np.zeros(canvas.shape, np.uint8)  # OpenCV draws text on 8-bit images only
    for _ in range(int(rng.integers(1, 4))):
        n_chars = int(rng.integers(2, 9))
        text = "".join(
            rng.choice(list(string.ascii_uppercase + string.digits + " .:")) for _ in range(n_chars)
        )
        org = (int(rng.uniform(0, size * 0.8)), int(rng.uniform(10, size - 2)))
        scale = rng.uniform(0.3, 0.8)
        shade = int(rng.integers(120, 256))
        cv2.putText(layer, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, shade, 1)
    if rng.random() < 0.4:
        x = (
            int(rng.uniform(0.85, 0.98) * size)
            if rng.random() < 0.7
            else int(rng.uniform(2, 0.15 * size))
        )
        step = rng.uniform(8, 30)
        for k in range(int(size / step) + 1):
            radius = 2 if k % 5 == 0 else 1
            cv2.circle(layer, (x, int(k * step)), radius, int(rng.integers(150, 256)), -1)
    np.maximum(canvas, layer.astype(np.float32), out=canvas)


def _fade_needle(canvas: np.ndarray, shaft: np.ndarray, rng: np.random.Generator) -> None:
    """Dims the shaft echo towards the local background: real needles are often faint."""
    mask = cv2.GaussianBlur(shaft.astype(np.float32) / 255.0, (0, 0), 1.5)
    mask = np.clip(mask * 1.5, 0, 1)
    background = cv2.blur(canvas, (17, 17))
    strength = rng.uniform(0.3, 0.8)
    canvas -= strength * mask * np.maximum(canvas - background, 0)


def photometric(image: np.ndarray, shaft: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Acquisition randomisation plus distractors; returns a new uint8 image (labels unchanged)."""
    size = image.shape[0]
    canvas = image.astype(np.float32)
    if shaft.any() and rng.random() < 0.3:
        _fade_needle(canvas, shaft, rng)
    if rng.random() < 0.5:
        for _ in range(int(rng.integers(1, 4))):
            _fascia_line(canvas, rng)
    if rng.random() < 0.3:  # speckle size: resample down/up
        factor = rng.uniform(0.45, 0.85)
        small = max(16, int(size * factor))
        canvas = cv2.resize(
            cv2.resize(canvas, (small, small), interpolation=cv2.INTER_AREA), (size, size)
        )
    if rng.random() < 0.3:
        canvas = cv2.GaussianBlur(canvas, (0, 0), rng.uniform(0.4, 1.5))
    # Gain, gamma / dynamic range, offset.
    norm = np.clip(canvas / 255.0, 0, 1)
    norm = norm ** math.exp(rng.uniform(-0.5, 0.5))
    norm = norm * math.exp(rng.uniform(-0.5, 0.4)) + rng.uniform(-0.05, 0.08)
    if rng.random() < 0.3:  # depth-dependent gain (TGC mis-set)
        ramp = np.linspace(rng.uniform(0.6, 1.3), rng.uniform(0.6, 1.3), size, dtype=np.float32)
        norm = norm * ramp[:, None]
    canvas = norm * 255.0
    if rng.random() < 0.5:
        noise = rng.normal(0.0, rng.uniform(2, 12), canvas.shape).astype(np.float32)
        canvas += noise
    if rng.random() < 0.3:
        _text_overlay(canvas, rng)
    out = np.clip(canvas, 0, 255).astype(np.uint8)
    if rng.random() < 0.4:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 90))])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return out


def augment(image, shaft, tip, rng: np.random.Generator):
    """Full training augmentation of one sample; returns (image, shaft, tip)."""
    if rng.random() < 0.5:
        image, shaft, tip = hflip(image, shaft, tip)
    if rng.random() < 0.7:
        image, shaft, tip = affine(image, shaft, tip, rng)
    image = photometric(image, shaft, rng)
    return image, shaft, tip
