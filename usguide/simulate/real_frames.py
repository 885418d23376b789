"""Real needle-free ultrasound frames from the MIT-licensed ``pydicom-data`` package.

Training paints needles onto them (``usguide.training.composite``) and the evaluation suite's
painted set (``usguide.simulate.painted``) does too, with another painter. Nothing here is copied
into the repository: the frames are read from the installed package, and everything that uses
them works (with fewer backgrounds) where ``pydicom-data`` is absent.
"""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np

# Ultrasound files of pydicom-data (MIT) that show no needle.
REAL_BACKGROUNDS = (
    "JPGLosslessP14SV1_1s_1f_8b.dcm",
    "OBXXXX1A.dcm",
    "US1_UNCR.dcm",
    "color3d_jpeg_baseline.dcm",
    "gdcm-US-ALOKA-16.dcm",
)


def pydicom_data_folder() -> Path | None:
    """The folder of pydicom-data's files, or None when the package is not installed."""
    try:
        import data_store  # the pydicom-data package
    except ImportError:
        return None
    return Path(data_store.__file__).parent / "data"


def load_real_frames(max_frames_per_file: int = 6) -> list[np.ndarray]:
    """Grey uint8 frames of the real needle-free ultrasound files (empty without pydicom-data)."""
    return [frame.copy() for frame in _cached_frames(max_frames_per_file)]


@functools.lru_cache(maxsize=4)
def _cached_frames(max_frames_per_file: int) -> tuple[np.ndarray, ...]:
    try:
        import pydicom
        from pydicom.pixels import apply_color_lut
    except ImportError:
        return ()
    folder = pydicom_data_folder()
    frames: list[np.ndarray] = []
    for name in REAL_BACKGROUNDS:
        path = folder / name if folder else None
        if path is None or not path.is_file():
            continue
        dataset = pydicom.dcmread(path)
        pixels = np.asarray(dataset.pixel_array)
        if dataset.get("PhotometricInterpretation") == "PALETTE COLOR":
            pixels = np.asarray(apply_color_lut(pixels, dataset))
        stack = pixels if int(dataset.get("NumberOfFrames", 1) or 1) > 1 else pixels[None]
        step = max(1, len(stack) // max_frames_per_file)
        for frame in stack[::step][:max_frames_per_file]:
            if frame.dtype != np.uint8:
                peak = max(1.0, float(frame.max()))
                frame = (frame.astype(np.float32) * (255.0 / peak)).astype(np.uint8)
            if frame.ndim == 3:
                frame = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
            frames.append(np.ascontiguousarray(frame))
    return tuple(frames)


def random_crop(
    frames: list[np.ndarray],
    rng: np.random.Generator,
    width_range: tuple[float, float],
    aspect_range: tuple[float, float],
) -> np.ndarray:
    """A random crop of one of ``frames``, mirrored half the time.

    Args:
        frames: grey frames to choose from.
        rng: every choice comes from it, in a fixed order (seeded runs repeat).
        width_range: the crop's width as a fraction of the frame's.
        aspect_range: the crop's height over its width (clipped to the frame).
    """
    frame = frames[int(rng.integers(0, len(frames)))]
    height, width = frame.shape
    crop_w = int(width * rng.uniform(*width_range))
    crop_h = int(min(height, crop_w * rng.uniform(*aspect_range)))
    x0 = int(rng.integers(0, width - crop_w + 1))
    y0 = int(rng.integers(0, height - crop_h + 1))
    crop = frame[y0 : y0 + crop_h, x0 : x0 + crop_w]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return np.ascontiguousarray(crop)


def valid_area(image: np.ndarray) -> np.ndarray:
    """Where an image shows tissue: the largest closed area of levels above 6 (no margins, text)."""
    mask = (cv2.blur(image, (9, 9)) > 6).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    if count <= 1:
        return mask > 0
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return labels == largest
