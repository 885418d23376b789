"""Snapshots without burned-in text: the image view grabbed with everything outside the image
region masked black (``usguide.record.deidentify.mask_outside``, as exports do)."""

from __future__ import annotations

from PyQt5 import QtGui

from usguide.gui.image_view import ImageView
from usguide.record.deidentify import mask_outside
from usguide.types import FrameResult


def grab_deidentified(
    view: ImageView, shown: FrameResult | None, keep_burned_in: bool = False
) -> QtGui.QPixmap:
    """The view as a picture; names, dates and IDs burned in outside the region are masked.

    Args:
        view: the image view showing ``shown`` (with its overlay).
        shown: the result on screen (None: nothing shown yet, grabbed as is).
        keep_burned_in: grab the full capture as shown (``--keep-burned-in``).
    """
    roi = shown.frame.calibration.roi if shown is not None else None
    if roi is None or keep_burned_in:
        return view.grab()
    view.set_image(mask_outside(shown.frame.image, roi))
    try:
        return view.grab()
    finally:
        view.set_image(shown.frame.image)
