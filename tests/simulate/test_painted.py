"""The painted set's clips: a needle drawn on a real frame where its labels say, obvious, advancing;
needle-free clips label nothing (needs pydicom-data, in the test extra)."""

import json
import math

import cv2
import numpy as np
import pytest

from usguide.simulate.painted import paint_clip
from usguide.simulate.real_frames import load_real_frames

pytestmark = pytest.mark.skipif(not load_real_frames(1), reason="pydicom-data is not installed")


def _frames(folder):
    capture = cv2.VideoCapture(str(folder / "video.mkv"))
    images = []
    while True:
        ok, image = capture.read()
        if not ok:
            return images
        images.append(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))


def test_needle_where_the_labels_say(tmp_path):
    assert paint_clip(tmp_path / "a", 900003, frames=6) == 6
    truth = json.loads((tmp_path / "a" / "truth.json").read_text())
    images = _frames(tmp_path / "a")
    assert len(images) == 6 and images[0].shape == (truth["height"], truth["width"])
    assert truth["set"] == "painted" and truth["medium"] == "real_frame"
    x, y, w, h = truth["roi"]  # the image region: inside the frame, holding the whole needle
    assert 0 <= x and 0 <= y and x + w <= truth["width"] and y + h <= truth["height"]
    for label in truth["frames"]:
        for px, py in (label["tip"], label["entry"]):
            assert x - 1 <= px <= x + w + 1 and y - 1 <= py <= y + h + 1
    lengths = []
    for label, image in zip(truth["frames"], images, strict=True):
        assert label["visible"] and label["contrast"] >= 3.0
        tip, entry = np.array(label["tip"]), np.array(label["entry"])
        lengths.append(float(np.linalg.norm(tip - entry)) * truth["mm_per_px"])
        # Bright along the labelled shaft, well above the frame's median.
        points = [entry + (tip - entry) * t for t in np.linspace(0.1, 0.9, 9)]
        along = [image[int(round(y)), int(round(x))] for x, y in points]
        assert np.median(along) > 2 * np.median(image[image > 6])
        rise = math.degrees(math.atan2(abs(tip[1] - entry[1]), abs(tip[0] - entry[0])))
        assert rise == pytest.approx(label["angle_deg"], abs=0.5)
    assert lengths[0] >= 10.0 and lengths[-1] > lengths[0]  # obvious, and advancing


def test_same_seed_same_clip_and_needle_free(tmp_path):
    paint_clip(tmp_path / "a", 900001, frames=3)
    paint_clip(tmp_path / "b", 900001, frames=3)
    assert (tmp_path / "a" / "truth.json").read_text() == (
        tmp_path / "b" / "truth.json"
    ).read_text()
    assert np.array_equal(_frames(tmp_path / "a")[2], _frames(tmp_path / "b")[2])
    paint_clip(tmp_path / "free", 909000, frames=3, needle=False)
    labels = json.loads((tmp_path / "free" / "truth.json").read_text())["frames"]
    assert all(not label["visible"] and label["tip"] is None for label in labels)
