"""The report's pictures: key frames with the overlay and the tip path, and small inline SVG plots.

Key frames show the image region only (everything outside it, where scanners burn in names and
dates, is left out) and carry no text. Plots are SVG written here (no plotting library needed),
so the report is one self-contained file.
"""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass

import cv2
import numpy as np

from usguide.record.deidentify import mask_outside
from usguide.types import Roi

_W, _H, _LEFT, _BOTTOM, _TOP, _RIGHT = 720, 200, 52, 30, 22, 16
PATH_BGR, NEEDLE_BGR, TIP_BGR, TARGET_BGR = (
    (0, 215, 255),
    (80, 220, 80),
    (60, 255, 60),
    (60, 60, 255),
)


@dataclass(frozen=True)
class Series:
    """One line of a plot: x and y (NaN breaks the line), colour (CSS), label for the legend."""

    x: np.ndarray
    y: np.ndarray
    colour: str
    label: str


def key_frame_png(
    image: np.ndarray,
    roi: Roi | None,
    path_px: np.ndarray,
    tip: tuple[float, float] | None,
    entry: tuple[float, float] | None,
    target: tuple[float, float] | None,
    max_width: int = 420,
) -> bytes:
    """PNG of the image region with the tip path (yellow), the needle (green) and the target
    (red cross); pixels outside the region are masked, then cropped away. No text is drawn."""
    bgr = image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    h, w = bgr.shape[:2]
    region = roi if roi is not None else Roi(0, 0, w, h)
    canvas = mask_outside(bgr, region).copy()
    scale = 4  # drawn at sub-pixel precision (cv2 shift)

    def pt(p) -> tuple[int, int]:
        return int(round(p[0] * scale)), int(round(p[1] * scale))

    path = np.asarray(path_px, dtype=np.float64)
    path = path[np.all(np.isfinite(path), axis=1)] if len(path) else path
    if len(path) > 1:
        pts = np.round(path * scale).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(canvas, [pts], False, PATH_BGR, 1, cv2.LINE_AA, shift=2)
    if tip is not None and entry is not None:
        cv2.line(canvas, pt(entry), pt(tip), NEEDLE_BGR, 2, cv2.LINE_AA, shift=2)
        cv2.circle(canvas, pt(tip), 5 * scale, TIP_BGR, 1, cv2.LINE_AA, shift=2)
    if target is not None and all(math.isfinite(v) for v in target):
        x, y = pt(target)
        arm = 6 * scale
        cv2.line(canvas, (x - arm, y - arm), (x + arm, y + arm), TARGET_BGR, 2, cv2.LINE_AA, 2)
        cv2.line(canvas, (x - arm, y + arm), (x + arm, y - arm), TARGET_BGR, 2, cv2.LINE_AA, 2)
    crop = region.crop(canvas)
    if crop.shape[1] > max_width:
        size = (max_width, max(1, round(crop.shape[0] * max_width / crop.shape[1])))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".png", crop)
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return data.tobytes()


def png_img_tag(png: bytes, alt: str) -> str:
    """An ``<img>`` carrying ``png`` inline (data URI)."""
    encoded = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if not math.isfinite(low) or not math.isfinite(high) or high <= low:
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw), default=raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


def line_plot_svg(
    series: list[Series],
    x_range: tuple[float, float],
    x_label: str,
    y_label: str,
    *,
    marks: list[tuple[float, str]] = (),
    h_lines: list[tuple[float, str]] = (),
    bands: list[tuple[float, float, str, str]] = (),
    invert_y: bool = False,
    height: int = _H,
) -> str:
    """An inline SVG line plot.

    Args:
        series: the lines (NaN in y breaks a line).
        x_range: the x axis's extent.
        marks: vertical markers (x, title), e.g. redirections.
        h_lines: horizontal reference lines (y, label), e.g. the 3 mm target radius.
        bands: (x0, x1, colour, title) filled spans behind everything (a timeline when alone).
        invert_y: larger values drawn lower (depth).
        height: of the whole picture in pixels.
    """
    values = [v for s in series for v in s.y[np.isfinite(s.y)]] + [v for v, _ in h_lines]
    y_low, y_high = (min(values), max(values)) if values else (0.0, 1.0)
    if y_high - y_low < 1e-9:
        y_low, y_high = y_low - 1.0, y_high + 1.0
    pad = 0.05 * (y_high - y_low)
    y_low, y_high = y_low - pad, y_high + pad
    x0, x1 = x_range
    x1 = x1 if x1 > x0 else x0 + 1.0
    pw, ph = _W - _LEFT - _RIGHT, height - _TOP - _BOTTOM

    def sx(x: float) -> float:
        return _LEFT + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        frac = (y - y_low) / (y_high - y_low)
        return _TOP + (frac if invert_y else 1 - frac) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{height}" '
           f'viewBox="0 0 {_W} {height}" font-family="sans-serif" font-size="11">',
           f'<rect x="{_LEFT}" y="{_TOP}" width="{pw}" height="{ph}" fill="#fafafa" '
           'stroke="#999"/>']  # fmt: skip
    for a, b, colour, title in bands:
        out.append(f'<rect x="{sx(a):.1f}" y="{_TOP}" width="{max(sx(b) - sx(a), 0.5):.1f}" '
                   f'height="{ph}" fill="{colour}"><title>{html.escape(title)}</title>'
                   "</rect>")  # fmt: skip
    for x in _ticks(x0, x1):
        out.append(f'<line x1="{sx(x):.1f}" y1="{_TOP + ph}" x2="{sx(x):.1f}" y2="{_TOP + ph + 4}" '
                   f'stroke="#555"/><text x="{sx(x):.1f}" y="{_TOP + ph + 15}" '
                   f'text-anchor="middle">{x:g}</text>')  # fmt: skip
    if series or h_lines:
        for y in _ticks(y_low, y_high, 4):
            out.append(f'<line x1="{_LEFT - 4}" y1="{sy(y):.1f}" x2="{_LEFT + pw}" '
                       f'y2="{sy(y):.1f}" '
                       f'stroke="#ddd"/><text x="{_LEFT - 6}" y="{sy(y) + 4:.1f}" '
                       f'text-anchor="end">{y:g}</text>')  # fmt: skip
    for y, label in h_lines:
        out.append(f'<line x1="{_LEFT}" y1="{sy(y):.1f}" x2="{_LEFT + pw}" y2="{sy(y):.1f}" '
                   f'stroke="#c00" stroke-dasharray="4 3"/><text x="{_LEFT + pw - 4}" '
                   f'y="{sy(y) - 3:.1f}" text-anchor="end" fill="#c00">'
                   f"{html.escape(label)}</text>")  # fmt: skip
    for s in series:
        for segment in _segments(s.x, s.y):
            points = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in segment)
            out.append(f'<polyline fill="none" stroke="{s.colour}" stroke-width="1.6" '
                       f'points="{points}"/>')  # fmt: skip
    for x, title in marks:
        out.append(f'<line x1="{sx(x):.1f}" y1="{_TOP}" x2="{sx(x):.1f}" y2="{_TOP + ph}" '
                   f'stroke="#d62" stroke-width="1.5" stroke-dasharray="2 2"><title>'
                   f'{html.escape(title)}</title></line><text x="{sx(x) + 2:.1f}" y="{_TOP + 11}" '
                   f'fill="#d62">{html.escape(title)}</text>')  # fmt: skip
    out.append(f'<text x="{_LEFT + pw / 2}" y="{height - 3}" text-anchor="middle">'
               f'{html.escape(x_label)}</text>')  # fmt: skip
    out.append(f'<text x="12" y="{_TOP + ph / 2}" text-anchor="middle" '
               f'transform="rotate(-90 12 {_TOP + ph / 2})">'
               f"{html.escape(y_label)}</text>")  # fmt: skip
    legend_x = _LEFT + pw - sum(24 + 7 * len(s.label) for s in series)
    for s in series:
        out.append(f'<rect x="{legend_x}" y="{_TOP - 9}" width="10" height="3" '
                   f'fill="{s.colour}"/><text x="{legend_x + 14}" y="{_TOP - 5}">'
                   f'{html.escape(s.label)}</text>')  # fmt: skip
        legend_x += 24 + 7 * len(s.label)
    out.append("</svg>")
    return "\n".join(out)


def _segments(x: np.ndarray, y: np.ndarray) -> list[list[tuple[float, float]]]:
    segments: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for xv, yv in zip(x, y, strict=True):
        if math.isfinite(xv) and math.isfinite(yv):
            current.append((float(xv), float(yv)))
        elif current:
            segments.append(current)
            current = []
    if current:
        segments.append(current)
    return segments


def state_bands(
    t_s: np.ndarray, states: np.ndarray, colours: dict[int, tuple[str, str]]
) -> list[tuple[float, float, str, str]]:
    """Runs of equal ``states`` as (start, end, colour, title) bands; each frame lasts until the
    next one."""
    bands = []
    if len(t_s) == 0:
        return bands
    ends = np.append(t_s[1:], t_s[-1] + (t_s[-1] - t_s[-2] if len(t_s) > 1 else 0.033))
    start = 0
    for i in range(1, len(states) + 1):
        if i == len(states) or states[i] != states[start]:
            colour, title = colours[int(states[start])]
            bands.append((float(t_s[start]), float(ends[i - 1]), colour, title))
            start = i
    return bands
