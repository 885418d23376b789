"""Brings decoded images to the frame convention: uint8, HxW grey or HxWx3 BGR, C-contiguous."""

from __future__ import annotations

import cv2
import numpy as np

from usguide.sources.base import UndecodableFrame


def to_frame_image(image: np.ndarray) -> np.ndarray:
    """Converts any decoded image (grey, BGR, BGRA, 16-bit, float) to a uint8 grey or BGR array.

    Args:
        image: HxW, HxWx1, HxWx3 (BGR) or HxWx4 (BGRA) array of any numeric type.

    Returns:
        A C-contiguous uint8 array, HxW or HxWx3.

    Raises:
        UndecodableFrame: a float image with NaN or infinite values.
    """
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.dtype != np.uint8:
        image = _scale_to_uint8(image)
    return np.ascontiguousarray(image)


def _scale_to_uint8(image: np.ndarray) -> np.ndarray:
    # Integer images are scaled by their type's range so every frame of a clip gets the same
    # mapping; float images (rare) by their own range.
    if np.issubdtype(image.dtype, np.integer):
        top = float(np.iinfo(image.dtype).max)
        if image.dtype == np.uint16 and image.max(initial=0) < 4096:
            top = 4095.0  # 12-bit data stored in 16 bits
        return np.clip(image.astype(np.float32) * (255.0 / top), 0, 255).astype(np.uint8)
    if not np.isfinite(image).all():
        # NaN or inf pixels have no grey level: scaling them would give a black or garbled frame.
        raise UndecodableFrame("the image holds NaN or infinite pixel values")
    low, high = float(image.min()), float(image.max())
    span = high - low if high > low else 1.0
    return ((image.astype(np.float32) - low) * (255.0 / span)).astype(np.uint8)
