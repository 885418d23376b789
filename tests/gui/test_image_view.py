"""The image view: frames shown pixel for pixel (BGR as RGB, grey as grey), and region crops."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PyQt5 import QtCore  # noqa: E402

from usguide.gui.image_view import ImageView  # noqa: E402
from usguide.types import Roi  # noqa: E402


@pytest.fixture
def view(qtbot):  # noqa: ANN001, ANN201
    widget = ImageView()
    widget.setFixedSize(320, 240)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def shown_pixel(view: ImageView, x: int, y: int) -> tuple[int, int, int]:
    """The RGB of frame pixel (x, y) as Qt will paint it."""
    view.image_item.render()
    colour = view.image_item.qimage.pixelColor(x, y)
    return colour.red(), colour.green(), colour.blue()


def test_bgr_frames_are_shown_as_rgb_without_rescaling(view):  # noqa: ANN001
    frame = np.zeros((120, 160, 3), np.uint8)
    frame[:, :80] = (255, 0, 0)  # blue in BGR
    frame[:, 80:] = (10, 128, 250)  # orange-ish in BGR
    view.set_image(frame)
    assert shown_pixel(view, 10, 10) == (0, 0, 255)
    assert shown_pixel(view, 100, 10) == (250, 128, 10)


def test_grey_frames_keep_their_values(view):  # noqa: ANN001
    frame = np.tile(np.arange(160, dtype=np.uint8), (120, 1))
    view.set_image(frame)
    assert [shown_pixel(view, x, 5) for x in (0, 37, 159)] == [(0, 0, 0), (37, 37, 37), (159,) * 3]


def test_region_crop_is_shown_at_its_frame_coordinates(view):  # noqa: ANN001
    frame = np.zeros((120, 160, 3), np.uint8)
    frame[20:60, 40:100] = (0, 255, 0)
    view.set_calibration(Roi(40, 20, 60, 40), None)
    view.set_image(frame)
    assert view.image_item.image.shape == (40, 60, 3)
    assert shown_pixel(view, 0, 0) == (0, 255, 0)
    assert view.image_item.mapRectToParent(view.image_item.boundingRect()) == QtCore.QRectF(
        40, 20, 60, 40
    )


def test_frame_larger_than_the_view_is_scaled_once_to_it_and_drawn_in_frame_coordinates(view):  # noqa: ANN001
    frame = np.zeros((860, 1080), np.uint8)
    frame[:, 540:] = 200
    prepared = view.prepare(frame, None)  # the worker's part
    view.set_image(frame)
    assert view.image_item.image is prepared.pixels  # used as prepared, not made again
    width, height = view.image_item.qimage.width(), view.image_item.qimage.height()
    assert width <= 320 and height <= 240 and abs(width / height - 1080 / 860) < 0.02
    assert view.image_item.mapRectToParent(view.image_item.boundingRect()) == QtCore.QRectF(
        0, 0, 1080, 860
    )
    assert shown_pixel(view, 10, 10) == (0, 0, 0)
    assert shown_pixel(view, width - 10, 10) == (200, 200, 200)


def test_resizing_the_view_prepares_the_frame_on_screen_again(view):  # noqa: ANN001
    frame = np.full((860, 1080), 90, np.uint8)
    view.set_image(frame)
    small = view.image_item.qimage.width()
    view.setFixedSize(640, 480)
    QtCore.QCoreApplication.processEvents()
    assert view.image_item.qimage.width() > small  # a paused frame is redrawn at the new size
