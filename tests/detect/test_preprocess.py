"""region_grey: crop to the image region, BGR to grey, contiguous uint8."""

import numpy as np
import pytest

from usguide.detect.preprocess import region_grey
from usguide.errors import UsguideError
from usguide.types import Frame, Roi


def make_frame(image):
    return Frame(image=image, index=0, t_capture_ns=0, source_ms=0.0)


def test_bgr_crop_to_grey():
    image = np.zeros((60, 80, 3), np.uint8)
    image[10:20, 30:50] = (255, 255, 255)
    region = region_grey(make_frame(image), Roi(30, 10, 20, 10))
    assert region.shape == (10, 20) and region.dtype == np.uint8
    assert region.flags["C_CONTIGUOUS"] and int(region.min()) == 255


def test_grey_without_roi_is_whole_frame():
    image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    region = region_grey(make_frame(image), None)
    assert np.array_equal(region, image) and region.flags["C_CONTIGUOUS"]


def test_grey_crop_is_contiguous():
    image = np.arange(100, dtype=np.uint8).reshape(10, 10)
    region = region_grey(make_frame(image), Roi(2, 3, 4, 5))
    assert region.flags["C_CONTIGUOUS"] and region[0, 0] == 32


def test_roi_outside_frame_is_user_error():
    with pytest.raises(UsguideError):
        region_grey(make_frame(np.zeros((10, 10), np.uint8)), Roi(5, 5, 10, 10))
