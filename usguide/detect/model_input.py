"""What the needle model sees: the image region, scaled without stretching, with normalised levels.

Scanners differ in aspect ratio (a wide convex fan, a tall linear image), gain and dynamic range.
Stretching every region to a square and feeding raw grey levels made the model see a different
needle on every scanner, so models that declare it get a *letterboxed* region (aspect kept, padded
with black) whose grey levels are *normalised* (the tissue's 1st–99th percentile mapped to a fixed
range). Training (``usguide.training``) applies exactly these functions to its samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

LETTERBOX = "letterbox"  # ``usguide.layout`` metadata value: aspect kept, black padding
STRETCH = "stretch"  # the v1 layout: resized to the model size whatever the aspect
PERCENTILE = "percentile"  # ``usguide.levels`` metadata value: see ``normalise_levels``
RAW = "raw"

# Tissue levels are mapped so that the 1st percentile becomes 0 and the 99th becomes TARGET_HIGH,
# leaving head-room for echoes brighter than the tissue (a saturated needle stays the brightest).
TARGET_HIGH = 170.0
DARK = 3  # grey levels at or below this are margins or water, not tissue: left out of percentiles
MIN_GAIN, MAX_GAIN = 0.5, 4.0  # a nearly empty image is not amplified into noise


@dataclass(frozen=True)
class Placement:
    """Where a region sits in the model input: scaled by ``scale`` and placed at the top left.

    Attributes:
        content_w, content_h: size of the scaled region inside the input, in input pixels.
        input_w, input_h: the input size (content padded up to the network's size multiple).
        scale: input pixels per region pixel (the same along x and y).
    """

    content_w: int
    content_h: int
    input_w: int
    input_h: int
    scale: float


def letterbox_placement(
    region_w: int, region_h: int, long_side: int, multiple: int = 16
) -> Placement:
    """Fits a region's longer side to ``long_side`` and pads the input to ``multiple``."""
    scale = long_side / max(region_w, region_h)
    content_w = max(1, int(round(region_w * scale)))
    content_h = max(1, int(round(region_h * scale)))
    return Placement(
        content_w=content_w,
        content_h=content_h,
        input_w=max(multiple, math.ceil(content_w / multiple) * multiple),
        input_h=max(multiple, math.ceil(content_h / multiple) * multiple),
        scale=scale,
    )


def letterbox(
    region: np.ndarray, placement: Placement, out: np.ndarray | None = None
) -> np.ndarray:
    """Scales a grey uint8 region into a black (input_h, input_w) canvas at the top left."""
    height, width = region.shape[:2]
    shrink = placement.content_w <= width
    scaled = cv2.resize(
        region,
        (placement.content_w, placement.content_h),
        interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR,
    )
    if out is None or out.shape != (placement.input_h, placement.input_w):
        out = np.zeros((placement.input_h, placement.input_w), np.uint8)
    else:
        out.fill(0)
    out[: placement.content_h, : placement.content_w] = scaled
    return out


def level_table(image: np.ndarray) -> np.ndarray | None:
    """The 256-entry lookup table of ``normalise_levels`` for this image (None: leave it as is)."""
    hist = cv2.calcHist([image], [0], None, [256], [0, 256]).ravel()
    hist[: DARK + 1] = 0
    total = hist.sum()
    if total < 0.02 * image.size or total < 64:  # (almost) no tissue: nothing to normalise against
        return None
    cumulative = np.cumsum(hist) / total
    low = float(np.searchsorted(cumulative, 0.01))
    high = float(np.searchsorted(cumulative, 0.99))
    gain = float(np.clip(TARGET_HIGH / max(high - low, 1.0), MIN_GAIN, MAX_GAIN))
    levels = (np.arange(256, dtype=np.float32) - low) * gain
    return np.clip(np.round(levels), 0, 255).astype(np.uint8)


def normalise_levels(image: np.ndarray) -> np.ndarray:
    """Maps the tissue's 1st–99th percentile grey levels to 0–170 (a new uint8 array).

    Gain and dynamic range then change little of what the model sees; black margins, water and
    padding (levels ≤ 3) are left out of the percentiles and stay black.
    """
    table = level_table(image)
    if table is None:
        return image.copy()
    return cv2.LUT(image, table)  # levels <= DARK map below the tissue's 1st percentile: 0
