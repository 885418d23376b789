"""The evaluation figure (``usguide evaluate --plot``): rates and error box plots per detector.

Drawn with OpenCV so it works headless and without a Qt platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from usguide.detect.evaluation import ClipScore
from usguide.errors import UsguideError

_COLOURS = [(200, 120, 40), (40, 140, 230), (90, 170, 60), (160, 60, 160)]  # BGR per detector
_PANEL_W, _PANEL_H = 360, 300
_MARGIN = 45
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def save_evaluation_plot(overall: Sequence[ClipScore], path: str | Path) -> None:
    """Writes a PNG of three panels: recall/precision/FP-rate bars, tip and angle error boxes.

    Args:
        overall: one pooled ``ClipScore`` per detector.
        path: the PNG file to write.

    Raises:
        UsguideError: when the file cannot be written.
    """
    canvas = np.full((_PANEL_H + 40, 3 * _PANEL_W, 3), 255, np.uint8)
    _bars(canvas[40:, :_PANEL_W], overall)
    use_mm = all(score.tip_errors_mm for score in overall if score.tip_errors_px)
    tips = [score.tip_errors_mm if use_mm else score.tip_errors_px for score in overall]
    _boxes(
        canvas[40:, _PANEL_W : 2 * _PANEL_W],
        overall,
        tips,
        f"tip error ({'mm' if use_mm else 'px'})",
    )
    angles = [score.angle_errors_deg for score in overall]
    _boxes(canvas[40:, 2 * _PANEL_W :], overall, angles, "angle error (deg)")
    x = 10
    for index, score in enumerate(overall):
        colour = _COLOURS[index % len(_COLOURS)]
        cv2.rectangle(canvas, (x, 12), (x + 14, 26), colour, -1)
        cv2.putText(canvas, score.detector, (x + 20, 25), _FONT, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        x += 30 + 10 * len(score.detector)
    path = Path(path)
    ok = False
    try:
        ok = cv2.imwrite(str(path), canvas)
    except cv2.error:
        ok = False
    if not ok:
        raise UsguideError(f"cannot write the plot {path} — choose a writable .png path")


def _frame(panel: np.ndarray, title: str, top: float) -> tuple[int, int, int, int]:
    """Axes with ticks 0..top; returns the plot box (x0, y0, x1, y1)."""
    height, width = panel.shape[:2]
    x0, y0, x1, y1 = _MARGIN, 25, width - 15, height - 30
    cv2.putText(panel, title, (x0, 16), _FONT, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.rectangle(panel, (x0, y0), (x1, y1), (0, 0, 0), 1)
    for step in range(5):
        value = top * step / 4
        y = int(y1 - (y1 - y0) * step / 4)
        cv2.line(panel, (x0 - 4, y), (x0, y), (0, 0, 0), 1)
        label = f"{value:.2g}"
        cv2.putText(panel, label, (2, y + 4), _FONT, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
    return x0, y0, x1, y1


def _bars(panel: np.ndarray, overall: Sequence[ClipScore]) -> None:
    x0, y0, x1, y1 = _frame(panel, "recall / precision / FP rate", 1.0)
    groups = ("recall", "precision", "FP rate")
    count = max(1, len(overall))
    group_w = (x1 - x0) / len(groups)
    bar_w = group_w * 0.7 / count
    for g_index, group in enumerate(groups):
        gx = x0 + g_index * group_w + group_w * 0.15
        cv2.putText(panel, group, (int(gx), y1 + 18), _FONT, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        for d_index, score in enumerate(overall):
            value = (score.recall, score.precision, score.false_positive_rate)[g_index]
            if value is None:
                continue
            left = int(gx + d_index * bar_w)
            top = int(y1 - (y1 - y0) * min(1.0, value))
            cv2.rectangle(
                panel, (left, top), (int(left + bar_w) - 2, y1), _COLOURS[d_index % 4], -1
            )


def _boxes(
    panel: np.ndarray, overall: Sequence[ClipScore], samples: Sequence[Sequence[float]], title: str
) -> None:
    """Box (p25-p75), median line and p10/p90 whiskers per detector."""
    tops = [float(np.percentile(s, 90)) for s in samples if len(s)]
    top = max(tops) * 1.1 if tops and max(tops) > 0 else 1.0
    x0, y0, x1, y1 = _frame(panel, title, top)
    count = max(1, len(overall))
    slot = (x1 - x0) / count

    def to_y(value: float) -> int:
        return int(y1 - (y1 - y0) * min(1.0, value / top))

    for index, (score, values) in enumerate(zip(overall, samples, strict=True)):
        centre = int(x0 + slot * (index + 0.5))
        half = int(slot * 0.25)
        colour = _COLOURS[index % len(_COLOURS)]
        cv2.putText(
            panel,
            score.detector[:12],
            (centre - half, y1 + 18),
            _FONT,
            0.4,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
        if not len(values):
            cv2.putText(
                panel, "n/a", (centre - 12, (y0 + y1) // 2), _FONT, 0.5, colour, 1, cv2.LINE_AA
            )
            continue
        p10, p25, p50, p75, p90 = np.percentile(values, [10, 25, 50, 75, 90])
        cv2.line(panel, (centre, to_y(p10)), (centre, to_y(p90)), colour, 1)
        cv2.rectangle(panel, (centre - half, to_y(p75)), (centre + half, to_y(p25)), colour, -1)
        cv2.line(panel, (centre - half, to_y(p50)), (centre + half, to_y(p50)), (0, 0, 0), 2)
        for value in (p10, p90):
            cv2.line(
                panel,
                (centre - half // 2, to_y(value)),
                (centre + half // 2, to_y(value)),
                colour,
                1,
            )
