"""The frame's pixels prepared for the view off the GUI thread: region cut, grey reduced to one
channel, scaled down to the view once, packed as BGRX; grey checked once per GREY_RECHECK frames."""

from __future__ import annotations

import numpy as np
import pytest

from usguide.gui import display_image
from usguide.gui.display_image import DisplayPreparer, display_rect, scaled_size
from usguide.types import Roi


def test_display_rect_is_the_region_when_it_fits_else_the_frame():
    assert display_rect((200, 100), Roi(10, 20, 50, 40), True) == (10, 20, 50, 40)
    assert display_rect((200, 100), Roi(10, 20, 50, 40), False) == (0, 0, 200, 100)
    assert display_rect((200, 100), Roi(180, 20, 50, 40), True) == (0, 0, 200, 100)
    assert display_rect((200, 100), None, True) == (0, 0, 200, 100)


def test_scaled_size_keeps_the_aspect_and_never_enlarges():
    assert scaled_size(1080, 860, (800, 600)) == (753, 600)
    assert scaled_size(1080, 860, (2000, 2000)) == (1080, 860)
    assert scaled_size(1080, 860, None) == (1080, 860)


def test_grey_colour_frame_is_cut_scaled_and_packed_from_one_channel():
    frame = np.zeros((400, 600, 3), np.uint8)
    frame[100:300, 100:500] = 200
    preparer = DisplayPreparer()
    preparer.view_px = (200, 200)
    display = preparer.prepare(frame, Roi(100, 100, 400, 200), True)
    assert display.rect == (100, 100, 400, 200) and display.scaled
    assert display.pixels.shape == (100, 200)  # one channel, scaled to the view's width
    assert display.packed.shape == (100, 200, 4) and display.packed.flags.c_contiguous
    assert np.all(display.packed[..., :3] == 200) and np.all(display.packed[..., 3] == 255)
    assert preparer.latest_for(frame) is display
    assert preparer.latest_for(frame.copy()) is None  # another image: prepared anew


def test_colour_frame_keeps_its_colours_unscaled_in_a_large_view():
    frame = np.zeros((60, 80, 3), np.uint8)
    frame[:] = (10, 128, 250)  # BGR
    preparer = DisplayPreparer()
    preparer.view_px = (800, 600)
    display = preparer.prepare(frame, None, True)
    assert not display.scaled and display.pixels.shape == (60, 80, 3)
    assert tuple(display.packed[0, 0]) == (10, 128, 250, 255)  # BGRX: Qt's RGB32 in memory


def test_grey_is_checked_once_per_recheck_interval(monkeypatch):  # noqa: ANN001
    calls = []
    real = display_image.is_grey
    monkeypatch.setattr(display_image, "is_grey", lambda image: calls.append(1) or real(image))
    preparer = DisplayPreparer()
    frame = np.full((40, 60, 3), 90, np.uint8)
    for _ in range(display_image.GREY_RECHECK + 2):
        preparer.prepare(frame, None, True)
    assert len(calls) == 2  # the first frame, then once GREY_RECHECK frames later
    preparer.prepare(frame, Roi(0, 0, 30, 20), True)  # another part shown: checked at once
    assert len(calls) == 3


@pytest.mark.parametrize("region_only", [True, False])
def test_prepared_rect_follows_region_only(region_only: bool):
    frame = np.zeros((100, 100), np.uint8)
    display = DisplayPreparer().prepare(frame, Roi(10, 10, 50, 50), region_only)
    assert display.rect == ((10, 10, 50, 50) if region_only else (0, 0, 100, 100))
