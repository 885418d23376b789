"""A trainee's session beside an expert's: the metric differences and both tip paths, drawn in
millimetres of the image region (each session in its own scale, so different probes and depths
still compare).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from usguide.review.figures import Series, line_plot_svg
from usguide.review.metrics import SessionMetrics, TipSeries
from usguide.review.track import NeedleTrack


class SessionReview(Protocol):
    """What is compared of a reviewed session (``usguide.review.report.SessionReview``)."""

    metrics: SessionMetrics
    series: TipSeries
    track: NeedleTrack


THIS_COLOUR, OTHER_COLOUR = "#1f77b4", "#d62728"


def metric_delta(key: str, this: SessionReview, other: SessionReview) -> float | int | None:
    """This session's value minus the other's; None where either is missing or not a number."""
    a, b = getattr(this.metrics, key), getattr(other.metrics, key)
    if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
        return None
    if isinstance(a, int) and isinstance(b, int):
        return a - b  # counts stay counts
    return float(a) - float(b)


def deltas(this: SessionReview, other: SessionReview, keys) -> dict[str, float | None]:
    """``metric_delta`` of every key (rounded like the metrics' JSON)."""
    out = {}
    for key in keys:
        value = metric_delta(key, this, other)
        out[key] = None if value is None else round(value, 4)
    return out


def tip_path_mm(review: SessionReview) -> tuple[np.ndarray, np.ndarray]:
    """The smoothed measured tip as (mm right of the region's left edge, mm below its top edge);
    empty without a scale."""
    scale = review.track.calibration.mm_per_px
    tips = review.series.tips_px
    if not scale or len(tips) == 0:
        return np.zeros(0), np.zeros(0)
    roi = review.track.calibration.roi
    left, top = (roi.x, roi.y) if roi is not None else (0, 0)
    return (tips[:, 0] - left) * scale, (tips[:, 1] - top) * scale


def compare_plots(this: SessionReview, other: SessionReview, names: tuple[str, str]) -> str:
    """HTML: both tip paths in the image region (mm) and both depths over time."""
    parts = []
    paths = [(tip_path_mm(r), colour, name) for r, colour, name in
             ((this, THIS_COLOUR, names[0]), (other, OTHER_COLOUR, names[1]))]  # fmt: skip
    drawn = [(x, y, colour, name) for (x, y), colour, name in paths if len(x)]
    if drawn:
        # One line per session: x is not monotonic along a path, so each is drawn as its own
        # series over the common lateral extent.
        low = min(float(np.min(x)) for x, *_ in drawn)
        high = max(float(np.max(x)) for x, *_ in drawn)
        series = [Series(x, y, colour, name) for x, y, colour, name in drawn]
        parts.append(
            "<h3>Both tip paths in the image (mm; the region's top-left corner at 0, 0)</h3>"
            + line_plot_svg(
                series,
                (low - 1.0, high + 1.0),
                "across the image (mm)",
                "depth (mm)",
                invert_y=True,
                height=260,
            )  # fmt: skip
        )
    depth = [(r.series.t_s, r.series.depth_mm, colour, name) for r, colour, name in
             ((this, THIS_COLOUR, names[0]), (other, OTHER_COLOUR, names[1]))
             if r.series.depth_mm is not None and len(r.series.t_s)]  # fmt: skip
    if depth:
        end = max(float(t[-1]) for t, *_ in depth)
        parts.append(
            "<h3>Both tip depths over time</h3>"
            + line_plot_svg(
                [Series(t, d, c, n) for t, d, c, n in depth],
                (0.0, max(end, 1.0)),
                "time since the session's start (s)",
                "depth (mm)",
                invert_y=True,
            )  # fmt: skip
        )
    if not parts:
        return '<p class="none">No measured tip with a scale in either session: no paths.</p>'
    return "\n".join(parts)
