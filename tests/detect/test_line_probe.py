"""The line probe: probe images, the response read along the line, the table, the CLI."""

from __future__ import annotations

import numpy as np
import pytest

from usguide.cli import main
from usguide.detect.base import Detector, NeedleMaps
from usguide.detect.classical import ClassicalDetector
from usguide.detect.line_probe import (
    REGION_SIZE,
    format_line_probe,
    line_image,
    probe_lines,
)


class _Brightness(Detector):
    """'Shaft probability' = brightness above 100, at half resolution like the model."""

    name = "brightness"

    def infer(self, region: np.ndarray) -> NeedleMaps:
        half = region[::2, ::2].astype(np.float32)
        return NeedleMaps(shaft=(half > 100).astype(np.float32), tip=None, scale_x=2, scale_y=2)


class _Blind(Detector):
    name = "blind"

    def infer(self, region: np.ndarray) -> NeedleMaps:
        return NeedleMaps(shaft=np.zeros(region.shape, np.float32), tip=None)


@pytest.mark.parametrize("background", ["tissue", "water"])
def test_the_line_is_drawn_where_its_ends_say(background):
    image, start, end = line_image(background, 20.0, 80, True, seed=1)
    assert image.shape == (REGION_SIZE[1], REGION_SIZE[0])
    assert start[0] == REGION_SIZE[0] - 1  # enters at the right edge
    middle = (int((start[0] + end[0]) / 2), int((start[1] + end[1]) / 2))
    assert image[middle[1], middle[0]] > 150
    assert np.median(image) < (10 if background == "water" else 80)
    assert abs(np.hypot(end[0] - start[0], end[1] - start[1]) - 80) < 1e-6


def test_a_detector_that_sees_bright_lines_answers_one_and_a_blind_one_zero():
    seeing = probe_lines(_Brightness(), angles=(5.0, 45.0), lengths=(80,))
    assert len(seeing) == 2 * 2 * 2  # backgrounds x angles x (edge, inside)
    assert min(row.response for row in seeing) > 0.9
    blind = probe_lines(_Blind(), angles=(5.0,), lengths=(40,), backgrounds=("tissue",))
    assert [row.response for row in blind] == [0.0, 0.0]


def test_each_probe_is_a_still_frame():
    # Without its motion requirement the ridge filter finds an oblique line in speckle ...
    still = ClassicalDetector(min_motion=0.0)
    rows = probe_lines(still, angles=(30.0,), lengths=(80,), backgrounds=("tissue",))
    assert all(row.response > 0.5 for row in rows)
    # ... with it, a still frame shows nothing: the probe does not leak one image into the next.
    rows = probe_lines(ClassicalDetector(), angles=(30.0,), lengths=(80,), backgrounds=("tissue",))
    assert all(row.response == 0.0 for row in rows)


def test_the_table_has_one_column_per_angle_and_one_row_per_line_kind():
    rows = probe_lines(_Brightness(), angles=(0.0, 30.0), lengths=(40, 80), backgrounds=("water",))
    table = format_line_probe(rows).splitlines()
    assert table[0].split()[-2:] == ["0°", "30°"]
    assert len(table) == 2 + 4 + 1  # header, rule, 2 lengths x 2 placements, note
    assert "water  80 px inside" in table[-2]


def test_cli_prints_the_probe_without_any_clips(capsys):
    assert main(["evaluate", "--line-probe", "--detector", "classical"]) == 0
    out = capsys.readouterr().out
    assert "classical:" in out and "tissue 160 px from edge" in out
