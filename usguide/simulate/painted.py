"""Bright needles painted onto real needle-free ultrasound frames: the evaluation suite's
``painted`` set, for the needle a physician most needs found (issue 14).

The beam simulator draws every training clip, and the training compositor paints its own needles;
this painter shares neither. It draws the look reported missed on another scanner (bright, often
thick, shallow, single or double wall, with reverberations below, entering from either side) onto
real frames from ``pydicom-data`` (MIT), and the same frames without a needle for false positives.
Every needle here is obvious (>= 3x its tissue, >= 10 mm visible), so a miss is a defect.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from usguide.errors import UsguideError
from usguide.simulate.real_frames import load_real_frames, random_crop, valid_area

TRUTH_FORMAT = "usguide-sim-truth"  # the simulator's truth format: usguide evaluate reads both
WIDTH = 480  # frame width; the height follows the background crop's aspect
FPS = 30.0
OUTER_MM = {14: 2.11, 16: 1.65, 18: 1.27, 20: 0.91, 22: 0.72}  # ISO 9626 outer diameters


class NoRealFrames(UsguideError):
    """pydicom-data is not installed: there is nothing to paint on."""


@dataclass(frozen=True)
class PaintedNeedle:
    """One clip's needle: where it enters, its direction and look, and how far it advances."""

    entry: np.ndarray  # (x, y) where the shaft enters the imaged area
    direction: np.ndarray  # unit (dx, dy), pointing into the tissue (dy > 0)
    gauge: int
    double_wall: bool
    brightness: float
    reverberations: int
    start_mm: float
    end_mm: float
    max_px: float  # the shaft stays inside the imaged area up to here
    mm_per_px: float  # the frame's scale

    @property
    def angle_deg(self) -> float:
        """Angle to the probe face (0 = parallel to the skin)."""
        return math.degrees(math.atan2(abs(self.direction[1]), abs(self.direction[0])))


def paint_clip(out_dir: Path, seed: int, frames: int = 30, needle: bool = True) -> int:
    """Writes ``out_dir/video.mkv`` (FFV1) and ``truth.json`` for one painted clip.

    Args:
        out_dir: the case folder to create.
        seed: everything (background, crop, needle, noise) follows from it.
        frames: clip length; the needle advances steadily from its first to its last length.
        needle: False paints nothing (the same kind of background, for false positives).

    Returns:
        the number of frames written.

    Raises:
        NoRealFrames: when pydicom-data is not installed.
        UsguideError: when the folder or the video cannot be written.
    """
    rng = np.random.default_rng(seed)
    background, imaged = _background(rng)
    height, width = background.shape
    mm_per_px = float(rng.uniform(30.0, 60.0)) / height
    shaft = _needle(rng, imaged, mm_per_px) if needle else None
    texture = cv2.GaussianBlur(
        rng.uniform(0.55, 1.0, background.shape).astype(np.float32), (0, 0), 1.2
    )
    tissue = float(np.median(background[imaged])) if imaged.any() else 1.0
    labels = []
    images = []
    for index in range(frames):
        image = background
        label: dict[str, object] = {"frame": index, "visible": False, "needle_present": False}
        label.update({"tip": None, "entry": None, "angle_deg": None})
        if shaft is not None:
            length_px = _length_px(shaft, index, frames, mm_per_px)
            image = np.maximum(background, _shaft_layer(shaft, length_px, imaged, texture))
            tip = shaft.entry + shaft.direction * length_px
            label.update(
                visible=True,
                needle_present=True,
                tip=[round(float(tip[0]), 2), round(float(tip[1]), 2)],
                entry=[round(float(shaft.entry[0]), 2), round(float(shaft.entry[1]), 2)],
                angle_deg=round(shaft.angle_deg, 2),
                contrast=round(shaft.brightness / max(tissue, 1.0), 2),
                gauge=shaft.gauge,
                needle_style="double_wall" if shaft.double_wall else "plain",
            )
        noisy = image + rng.normal(0.0, 3.0, image.shape).astype(np.float32)
        images.append(np.clip(noisy, 0, 255).astype(np.uint8))
        labels.append(label)
    header = {
        "format": TRUTH_FORMAT,
        "version": 1,
        "seed": seed,
        "fps": FPS,
        "width": width,
        "height": height,
        "mm_per_px": round(mm_per_px, 6),
        "roi": _region(imaged),  # the image region, as the user or Auto would give it
        "set": "painted",
        "style": "painted",
        "medium": "real_frame",
        "geometry": "real_frame",
    }
    if shaft is not None:
        header.update(angle_deg=round(shaft.angle_deg, 2), gauge=shaft.gauge)
    _write(out_dir, images, {**header, "frames": labels})
    return frames


def _background(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random crop of a real frame at WIDTH (float32) and its imaged area (the fan's hull)."""
    frames = [frame for frame in load_real_frames(12) if min(frame.shape) >= 200]
    if not frames:
        raise NoRealFrames(
            "the painted set needs real ultrasound frames from pydicom-data — "
            "pip install pydicom-data (it is in the test extra)"
        )
    crop = random_crop(frames, rng, (0.5, 0.9), (0.6, 1.0))
    crop_h, crop_w = crop.shape
    height = 2 * int(round(crop_h * WIDTH / crop_w / 2))  # even: video codecs want it
    image = cv2.resize(crop, (WIDTH, height), interpolation=cv2.INTER_AREA)
    # The imaged area: the convex hull of the largest area that is not black (a fan's blood
    # pools stay inside it; screen text beside it does not count).
    points = cv2.findNonZero(valid_area(image).astype(np.uint8))
    hull = np.zeros(image.shape, np.uint8)
    if points is not None:
        cv2.fillConvexPoly(hull, cv2.convexHull(points), 1)
    imaged = cv2.erode(hull, np.ones((7, 7), np.uint8)) > 0
    return image.astype(np.float32), imaged


def _region(imaged: np.ndarray) -> list[int]:
    """The imaged area's bounding box [x, y, w, h] (the whole frame when nothing is imaged)."""
    points = cv2.findNonZero(imaged.astype(np.uint8))
    if points is None:
        return [0, 0, imaged.shape[1], imaged.shape[0]]
    x, y, w, h = cv2.boundingRect(points)
    return [int(x), int(y), int(w), int(h)]


def _needle(rng: np.random.Generator, imaged: np.ndarray, mm_per_px: float) -> PaintedNeedle:
    """A shaft that enters the imaged area from either side and stays in it for at least 12 mm."""
    height, width = imaged.shape
    for _ in range(200):
        from_right = rng.random() < 0.6
        shallow = (
            rng.random() < 0.5
        )  # half of them nearly parallel to the skin, as in breast biopsy
        angle = math.radians(rng.uniform(2.0, 12.0) if shallow else rng.uniform(12.0, 40.0))
        direction = np.array([-math.cos(angle) if from_right else math.cos(angle), math.sin(angle)])
        start = np.array([width - 1.0 if from_right else 0.0, rng.uniform(0.1, 0.5) * height])
        inside = _run_inside(imaged, start, direction)
        if inside is None:
            continue
        entry, run_px = inside
        if run_px * mm_per_px < 14.0:
            continue
        gauge = int(rng.choice(list(OUTER_MM)))
        start_mm = float(rng.uniform(10.5, 13.0))
        return PaintedNeedle(
            entry=entry,
            direction=direction,
            gauge=gauge,
            double_wall=bool(rng.random() < 0.5),
            brightness=float(rng.uniform(170.0, 255.0)),
            reverberations=int(rng.integers(0, 4)),
            start_mm=start_mm,
            end_mm=float(min(run_px * mm_per_px * 0.9, start_mm + rng.uniform(5.0, 15.0))),
            max_px=0.9 * run_px,
            mm_per_px=mm_per_px,
        )
    raise UsguideError("no room for a needle in this background — try another seed")


def _run_inside(
    imaged: np.ndarray, start: np.ndarray, direction: np.ndarray
) -> tuple[np.ndarray, float] | None:
    """First imaged point along the ray and how far the ray then stays imaged (pixels)."""
    height, width = imaged.shape
    entry = None
    for step in range(0, 2 * (width + height)):
        point = start + direction * step
        x, y = int(point[0]), int(point[1])
        if not (0 <= x < width and 0 <= y < height):
            break
        if imaged[y, x] and entry is None:
            entry = point
        elif not imaged[y, x] and entry is not None:
            return entry, float(np.linalg.norm(point - entry))
    if entry is None:
        return None
    return entry, float(np.linalg.norm(point - entry))


def _length_px(shaft: PaintedNeedle, index: int, frames: int, mm_per_px: float) -> float:
    fraction = index / max(1, frames - 1)
    length_mm = shaft.start_mm + (shaft.end_mm - shaft.start_mm) * fraction
    return min(length_mm / mm_per_px, shaft.max_px)


def _shaft_layer(
    shaft: PaintedNeedle, length_px: float, imaged: np.ndarray, texture: np.ndarray
) -> np.ndarray:
    """The shaft's echo: wall line(s), reverberations below, a bright tip, clipped to the image."""
    height, width = imaged.shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    normal = np.array([-shaft.direction[1], shaft.direction[0]])
    if normal[1] < 0:  # "across" grows downwards: reverberations lie deeper than the shaft
        normal = -normal
    along = (xs - shaft.entry[0]) * shaft.direction[0] + (ys - shaft.entry[1]) * shaft.direction[1]
    across = (xs - shaft.entry[0]) * normal[0] + (ys - shaft.entry[1]) * normal[1]
    diameter_px = max(2.0, OUTER_MM[shaft.gauge] / shaft.mm_per_px)
    wall = 0.9 + 0.06 * diameter_px
    echo = np.exp(-0.5 * (across / wall) ** 2)
    if shaft.double_wall:
        echo = np.maximum(echo, np.exp(-0.5 * ((across - diameter_px) / wall) ** 2))
    for order in range(1, shaft.reverberations + 1):
        depth = (order + 1) * diameter_px * 1.1
        echo = np.maximum(echo, 0.55**order * np.exp(-0.5 * ((across - depth) / wall) ** 2))
    tip = np.exp(-0.5 * (((along - length_px) / 3.0) ** 2 + (across / (1.5 * wall)) ** 2))
    on_shaft = (along >= 0) & (along <= length_px) & imaged
    return (echo * on_shaft + 0.6 * tip * imaged) * shaft.brightness * texture


def _write(out_dir: Path, images: list[np.ndarray], truth: dict) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsguideError(
            f"cannot create {out_dir}: {exc.strerror}; choose another folder"
        ) from None
    height, width = images[0].shape
    video = cv2.VideoWriter(
        str(out_dir / "video.mkv"),
        cv2.CAP_FFMPEG,
        cv2.VideoWriter_fourcc(*"FFV1"),
        FPS,
        (width, height),
        False,
    )
    if not video.isOpened():
        raise UsguideError(f"OpenCV cannot write FFV1 video to {out_dir}: check it is writable")
    for image in images:
        video.write(image)
    video.release()
    (out_dir / "truth.json").write_text(json.dumps(truth, separators=(",", ":")) + "\n")
