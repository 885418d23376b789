"""The pixels the image view draws, prepared off the GUI thread (no Qt here).

The region is cut out, a grey image in a colour container (a video grabber's usual output) is
reduced to one channel, the picture is scaled down once to the view's pixel size when it is larger,
and it is packed as 32-bit BGRX: the format Qt's raster painter draws without converting it.
The pipeline's worker prepares each frame (``DisplayPreparer.prepare``); the GUI thread only
wraps the packed pixels in a QImage.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from usguide.types import Roi

GREY_RECHECK = 120  # colour frames between two checks that they are still grey


def is_grey(image: np.ndarray) -> bool:
    """True when a BGR image's channels are equal (checked on every 4th row and column: a
    colour overlay of a few pixels is missed there, and found at the next check or not at all,
    which only shows it grey)."""
    sample = image[::4, ::4]
    return bool(
        np.array_equal(sample[:, :, 0], sample[:, :, 1])
        and np.array_equal(sample[:, :, 0], sample[:, :, 2])
    )


def display_rect(
    frame_size: tuple[int, int], roi: Roi | None, region_only: bool
) -> tuple[int, int, int, int]:
    """The part of a ``(width, height)`` frame that is shown: the region when only the region is
    shown and it fits the frame, else the whole frame (x, y, w, h)."""
    width, height = frame_size
    if region_only and roi is not None and roi.x + roi.w <= width and roi.y + roi.h <= height:
        return roi.x, roi.y, roi.w, roi.h
    return 0, 0, width, height


def scaled_size(width: int, height: int, view_px: tuple[int, int] | None) -> tuple[int, int]:
    """The size a ``width`` x ``height`` picture is drawn at in a view of ``view_px`` device pixels
    (aspect kept); the picture's own size when it fits, or when the view's size is unknown."""
    if view_px is None or view_px[0] < 1 or view_px[1] < 1:
        return width, height
    scale = min(view_px[0] / width, view_px[1] / height)
    if scale >= 1.0:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


@dataclass(frozen=True)
class DisplayImage:
    """One frame ready to draw.

    Attributes:
        source: the captured image it was made from (to match it to the frame being painted).
        frame_size: (width, height) of the captured frame.
        rect: the part of the frame shown (x, y, w, h, full-frame pixels).
        pixels: the shown pixels before packing: grey HxW or BGR HxWx3, scaled when ``scaled``.
        packed: the same as HxWx4 uint8 BGRX, C-contiguous (a QImage ``Format_RGB32``).
        scaled: True when the pixels were scaled down to the view.
    """

    source: np.ndarray
    frame_size: tuple[int, int]
    rect: tuple[int, int, int, int]
    pixels: np.ndarray
    packed: np.ndarray
    scaled: bool


class DisplayPreparer:
    """Makes ``DisplayImage``s; thread-safe. Whether the frames are grey is decided once per
    source (frame size and shown part) and re-checked every ``GREY_RECHECK`` frames.

    ``view_px`` (the view's size in device pixels) is set by the GUI thread when the view changes
    size; None: not scaled.
    """

    def __init__(self) -> None:
        self.view_px: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self._grey_key: tuple | None = None
        self._grey = False
        self._until_check = 0
        self._latest: DisplayImage | None = None

    def prepare(self, image: np.ndarray, roi: Roi | None, region_only: bool) -> DisplayImage:
        """The pixels to draw for ``image`` (grey HxW or BGR HxWx3 uint8); kept as the latest."""
        height, width = image.shape[:2]
        rect = display_rect((width, height), roi, region_only)
        x, y, w, h = rect
        shown = image[y : y + h, x : x + w] if (w, h) != (width, height) else image
        if shown.ndim == 3 and self._shown_grey(shown, (width, height, rect)):
            shown = shown[:, :, 0]
        size = scaled_size(w, h, self.view_px)
        scaled = size != (w, h)
        if scaled:
            # Once here instead of by the painter on every repaint. Bilinear: about what the
            # painter showed (it sampled the nearest pixel), a fifth of INTER_AREA's cost (0.5
            # against 2.2 ms for 1080x860 -> 753x600 grey), and this runs on the pipeline's worker.
            shown = cv2.resize(shown, size, interpolation=cv2.INTER_LINEAR)
        if shown.ndim == 2:
            packed = cv2.cvtColor(shown, cv2.COLOR_GRAY2BGRA)
        else:
            packed = cv2.cvtColor(shown, cv2.COLOR_BGR2BGRA)
        display = DisplayImage(image, (width, height), rect, shown, packed, scaled)
        with self._lock:
            self._latest = display
        return display

    def latest_for(self, image: np.ndarray) -> DisplayImage | None:
        """The latest prepared picture when it was made from this very ``image``, else None."""
        with self._lock:
            latest = self._latest
        return latest if latest is not None and latest.source is image else None

    def _shown_grey(self, shown: np.ndarray, key: tuple) -> bool:
        with self._lock:
            if key != self._grey_key:
                self._grey_key, self._until_check = key, 0
            check = self._until_check <= 0
            self._until_check = GREY_RECHECK if check else self._until_check - 1
            if not check:
                return self._grey
        grey = is_grey(shown)
        with self._lock:
            self._grey = grey
        return grey
