"""Snapshots mask burned-in text outside the image region (unless --keep-burned-in)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PyQt5 import QtGui  # noqa: E402

from usguide.gui.image_view import ImageView  # noqa: E402
from usguide.gui.snapshot import grab_deidentified  # noqa: E402
from usguide.types import Calibration, Frame, FrameResult, Roi, Timings  # noqa: E402

ROI = Roi(60, 40, 200, 160)


def white_pixels(picture: QtGui.QPixmap) -> int:
    image = picture.toImage().convertToFormat(QtGui.QImage.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    data = np.frombuffer(image.constBits().asstring(stride * height), np.uint8)
    pixels = data.reshape(height, stride)[:, : width * 3].reshape(height, width, 3)
    return int((pixels >= 250).all(axis=2).sum())


@pytest.fixture
def shown(qtbot):  # noqa: ANN001, ANN201
    from usguide.gui.app import application

    application()
    image = np.full((240, 320), 90, np.uint8)
    image[5:30, 10:300] = 255  # a patient's name burned in above the image region
    frame = Frame(image, 0, 0, 0.0, Calibration(mm_per_px=None, roi=ROI))
    view = ImageView()
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.set_calibration(ROI, None)
    view.set_show_region_only(False)  # the full capture on screen
    view.set_image(image)
    view.show()
    qtbot.waitExposed(view)
    return view, FrameResult(frame, None, None, Timings(t_capture_ns=0))


def test_snapshot_masks_text_outside_the_region(shown) -> None:  # noqa: ANN001
    view, result = shown
    kept = white_pixels(grab_deidentified(view, result, keep_burned_in=True))
    masked = white_pixels(grab_deidentified(view, result))
    assert kept > 1000  # the text shows when kept
    assert masked < kept / 100
    assert white_pixels(view.grab()) == pytest.approx(kept, rel=0.01)  # the screen is unchanged


def test_nothing_to_mask_without_a_region(shown) -> None:  # noqa: ANN001
    view, result = shown
    result.frame.calibration = Calibration()
    assert white_pixels(grab_deidentified(view, result)) > 1000
