"""Frame → detector input: crop to the ultrasound image region and convert to grey uint8."""

from __future__ import annotations

import cv2
import numpy as np

from usguide.types import Frame, Roi


def region_grey(frame: Frame, roi: Roi | None) -> np.ndarray:
    """Returns the image region of ``frame`` as a C-contiguous grey uint8 array.

    Args:
        frame: the frame (grey HxW or BGR HxWx3, uint8).
        roi: the image region in full-frame pixels; None means the whole frame.

    Raises:
        UsguideError: when the region does not fit in the frame.
    """
    image = frame.image
    if roi is not None:
        roi.check_inside(frame.width, frame.height)
        image = roi.crop(image)
    if image.ndim == 3:
        # cvtColor accepts strided views and always returns a new contiguous array.
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image)
