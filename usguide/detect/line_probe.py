"""What a detector answers to one plain straight bright line, by angle, length and background.

A model can learn to ignore a whole family of needles (v5b gives 0.00 on a bright 5° line in
speckle: its training painted such lines as "not needle") and a suite of clips shows that only as
scattered misses. This probe draws lines on plain speckle or water and reads the shaft map along
them, so such a blind spot shows in one table in a second.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from usguide.detect.base import Detector, NeedleMaps
from usguide.detect.factory import make_detector

__all__ = ["LineResponse", "format_line_probe", "line_image", "probe_lines", "probe_report"]

ANGLES_DEG = (0.0, 5.0, 10.0, 20.0, 30.0, 45.0, 60.0, 75.0)
LENGTHS_PX = (40, 80, 160)  # on a 256 x 192 region: short streak, typical shaft, long shaft
BACKGROUNDS = ("tissue", "water")
REGION_SIZE = (256, 192)  # (width, height): a 4:3 image region at model input size
LINE_LEVEL = 150.0  # grey levels the line adds: an obvious needle on tissue of mean 60
SEEDS = 3  # positions and speckle per cell


@dataclass(frozen=True)
class LineResponse:
    """Mean shaft probability along a probe line, over ``SEEDS`` placements."""

    background: str
    angle_deg: float
    length_px: int
    from_edge: bool  # the line enters at the region's right edge (else it lies inside)
    response: float


def line_image(
    background: str, angle_deg: float, length_px: int, from_edge: bool, seed: int
) -> tuple[np.ndarray, tuple[float, float], tuple[float, float]]:
    """One probe image (grey uint8, ``REGION_SIZE``) and the line's two ends (x, y).

    The line descends leftwards from its entry, as a needle inserted from the right does.
    """
    width, height = REGION_SIZE
    rng = np.random.default_rng(seed)
    if background == "water":
        image = np.full((height, width), 2.0, np.float32)
    elif background == "tissue":
        speckle = cv2.GaussianBlur(rng.rayleigh(1.0, (height, width)).astype(np.float32), (0, 0), 1)
        image = speckle / float(speckle.mean()) * 60.0
    else:
        raise ValueError(f"unknown probe background {background!r} (use tissue or water)")
    angle = math.radians(angle_deg)
    start_x = width - 1.0 if from_edge else width * 0.7 + 8.0 * seed
    start = (start_x, height * 0.15 + 8.0 * seed)
    end = (start[0] - length_px * math.cos(angle), start[1] + length_px * math.sin(angle))
    layer = np.zeros_like(image)
    cv2.line(layer, _pixel(start), _pixel(end), 1.0, 2, cv2.LINE_AA)
    image += layer * LINE_LEVEL
    return np.clip(image, 0, 255).astype(np.uint8), start, end


def probe_lines(
    detector: Detector,
    angles: Sequence[float] = ANGLES_DEG,
    lengths: Sequence[int] = LENGTHS_PX,
    backgrounds: Sequence[str] = BACKGROUNDS,
) -> list[LineResponse]:
    """The detector's shaft response to every (background, angle, length, edge) probe line.

    Each probe is one still frame after ``detector.reset()``: a detector that needs motion (the
    classical one with its default ``min_motion``) answers 0 to all of them, as it does to a
    frozen image.
    """
    rows = []
    for background in backgrounds:
        for angle in angles:
            for length in lengths:
                for from_edge in (True, False):
                    values = []
                    for seed in range(SEEDS):
                        image, start, end = line_image(background, angle, length, from_edge, seed)
                        detector.reset()  # one still frame: no memory of the previous probe
                        values.append(_mean_along(detector.infer(image), start, end))
                    rows.append(
                        LineResponse(background, angle, length, from_edge, float(np.mean(values)))
                    )
    return rows


def format_line_probe(rows: Sequence[LineResponse]) -> str:
    """A table: one line per background, length and edge; one column per angle."""
    angles = sorted({row.angle_deg for row in rows})
    header = f"{'line probe':26}" + "".join(f"{angle:>6.0f}°" for angle in angles)
    lines = [header, "-" * len(header)]
    keys = dict.fromkeys((row.background, row.length_px, row.from_edge) for row in rows)
    for background, length, from_edge in keys:
        cells = {
            row.angle_deg: row.response
            for row in rows
            if (row.background, row.length_px, row.from_edge) == (background, length, from_edge)
        }
        where = "from edge" if from_edge else "inside"
        label = f"{background} {length:>3} px {where}"
        lines.append(f"{label:26}" + "".join(f"{cells[angle]:>7.2f}" for angle in angles))
    lines.append("(mean shaft probability along a plain bright line; 0 = the model ignores it)")
    return "\n".join(lines)


def probe_report(
    names: Sequence[str], model: str | None, provider: str, threads: int | None
) -> str:
    """The probe table of each named detector (as ``make_detector`` builds them)."""
    parts = []
    for name in names:
        detector = make_detector(name, model, provider, threads)
        try:
            rows = probe_lines(detector)
        finally:
            detector.close()
        parts.append(f"{name}:\n{format_line_probe(rows)}")
    return "\n".join(parts)


def _mean_along(maps: NeedleMaps, start: tuple[float, float], end: tuple[float, float]) -> float:
    """Mean shaft probability at 15 points on the middle 80 % of the line, each the maximum of
    its 3 x 3 map pixels (a thin line may fall between map rows)."""
    height, width = maps.shaft.shape
    values = []
    for t in np.linspace(0.1, 0.9, 15):
        x = start[0] + t * (end[0] - start[0])
        y = start[1] + t * (end[1] - start[1])
        col = min(width - 1, max(0, int((x + 0.5) / maps.scale_x)))
        row = min(height - 1, max(0, int((y + 0.5) / maps.scale_y)))
        values.append(float(maps.shaft[max(0, row - 1) : row + 2, max(0, col - 1) : col + 2].max()))
    return float(np.mean(values))


def _pixel(point: tuple[float, float]) -> tuple[int, int]:
    return int(round(point[0])), int(round(point[1]))
