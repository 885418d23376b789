"""The evaluation figures: rates and error box plots per detector (``usguide evaluate --plot``) and
frames of misses and hits with the truth and the detection drawn (``--failures``).

Drawn with OpenCV so it works headless and without a Qt platform.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np

from usguide.detect.evaluation import ClipScore, ClipTruth, FrameOutcome
from usguide.detect.hits import hit_tolerance_px
from usguide.detect.strata import sort_key
from usguide.errors import UsguideError
from usguide.types import Point, Roi

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


# -- pictures behind the numbers (usguide evaluate --failures DIR) ---------------------------------
_TRUTH_BGR = (60, 200, 60)
_FOUND_BGR = (40, 40, 230)
_PICTURE_SIDE = 480  # longest side of a written picture (the image region, scaled)


def save_outcome_pictures(
    groups: Sequence[tuple[str, ClipScore]],
    cases: Mapping[str, tuple[Path, ClipTruth]],
    out_dir: str | Path,
    misses: int = 2,
    hits: int = 2,
) -> int:
    """Writes, per stratum, a few frames with the labelled needle (green: shaft, tip and the hit
    tolerance circle) and the reported one (red), misses and localised hits alike, plus false
    detections on needle-free frames and off-needle tracks (their middle frame, with all frames):
    ``OUT/<group>/<stratum>/<miss|hit|false|track>_<clip>_f<N>.png``.

    Args:
        groups: (sub-folder, pooled score with its ``outcomes``), e.g. one per detector and set.
        cases: clip name -> (video, labels), to read the frames and their scale.
        out_dir: the folder to write into.
        misses, hits: how many of each to draw per stratum (false detections: as many as misses).

    Returns:
        the number of pictures written.

    Raises:
        UsguideError: when the folder cannot be written.
    """
    wanted: dict[str, dict[int, list[tuple[Path, FrameOutcome]]]] = {}
    for folder, score in groups:
        for stratum in sorted({s for o in score.outcomes for s in o.strata}, key=sort_key):
            for kind, count in (("miss", misses), ("hit", hits), ("false", misses), ("track", 4)):
                chosen = [o for o in score.outcomes if o.kind == kind and stratum in o.strata]
                for outcome in _spread(chosen, count):
                    name = f"{kind}_{_slug(outcome.clip)}_f{outcome.frame:05d}.png"
                    path = Path(out_dir) / folder / _slug(stratum) / name
                    wanted.setdefault(outcome.clip, {}).setdefault(outcome.frame, [])
                    wanted[outcome.clip][outcome.frame].append((path, outcome))
    written = 0
    for clip, frames in wanted.items():
        if clip not in cases:
            continue
        video, truth = cases[clip]
        for index, image in _frames(video, truth, set(frames)):
            for path, outcome in frames[index]:
                _write(path, _draw(image, outcome, truth))
                written += 1
    return written


def _spread(outcomes: Sequence[FrameOutcome], count: int) -> list[FrameOutcome]:
    """Up to ``count`` outcomes from as many different clips as possible, evenly spaced."""
    if count <= 0 or not outcomes:
        return []
    by_clip: dict[str, list[FrameOutcome]] = {}
    for outcome in outcomes:
        by_clip.setdefault(outcome.clip, []).append(outcome)
    middles = [items[len(items) // 2] for items in by_clip.values()]
    pool = middles if len(middles) >= count else list(outcomes)
    picks = np.linspace(0, len(pool) - 1, min(count, len(pool))).round().astype(int)
    return [pool[i] for i in dict.fromkeys(picks.tolist())]


def _slug(text: str) -> str:
    text = text.replace("°", "deg").replace(">=", "ge").replace("<", "lt")
    return "".join(c if c.isalnum() or c in "-." else "_" for c in text)


def _frames(video: Path, truth: ClipTruth, indices: set[int]) -> Iterator[tuple[int, np.ndarray]]:
    """Yields (index, BGR image) for the wanted frame indices, reading the clip in order."""
    from usguide.sources.factory import make_source

    last = max(indices)
    with make_source(str(video), fps=truth.fps) as source:
        position = 0
        while position <= last:
            frame = source.read()
            if frame is None:
                return
            position = frame.index + 1
            if frame.index in indices:
                image = frame.image
                yield (
                    frame.index,
                    image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR),
                )


def _draw(image: np.ndarray, outcome: FrameOutcome, truth: ClipTruth) -> np.ndarray:
    """The image region as it is (left) and with the labelled and reported needle drawn (right)."""
    height, width = image.shape[:2]
    roi = truth.roi or Roi(0, 0, width, height)
    scale = _PICTURE_SIDE / max(roi.w, roi.h)
    picture = cv2.resize(roi.crop(image), (round(roi.w * scale), round(roi.h * scale)))
    plain = picture.copy()  # beside the drawing: the lines would hide the needle one looks for

    def at(point: Point) -> tuple[int, int]:
        return round((point.x - roi.x) * scale), round((point.y - roi.y) * scale)

    label = outcome.label
    if label.tip is not None:
        if label.entry is not None:
            cv2.line(picture, at(label.entry), at(label.tip), _TRUTH_BGR, 2, cv2.LINE_AA)
        # The circle is the localised hit's tip tolerance.
        radius = max(2, round(hit_tolerance_px(truth) * scale))
        cv2.circle(picture, at(label.tip), radius, _TRUTH_BGR, 1, cv2.LINE_AA)
        cv2.circle(picture, at(label.tip), 3, _TRUTH_BGR, -1, cv2.LINE_AA)
    needle = outcome.needle
    if needle is not None:
        cv2.line(picture, at(needle.entry), at(needle.tip), _FOUND_BGR, 1, cv2.LINE_AA)
        cv2.circle(picture, at(needle.tip), 3, _FOUND_BGR, -1, cv2.LINE_AA)
    words = [f"{outcome.clip} f{outcome.frame}", outcome.kind.upper()]
    if outcome.tip_error_px is not None:
        error = outcome.tip_error_px
        words.append(
            f"tip {error * truth.mm_per_px:.1f} mm" if truth.mm_per_px else f"tip {error:.0f} px"
        )
    if outcome.angle_error_deg is not None:
        words.append(f"line {outcome.angle_error_deg:.1f} deg")
    if needle is not None:
        words.append(f"conf {needle.confidence:.2f}" + (" predicted" if needle.predicted else ""))
    if label.contrast is not None:
        words.append(f"contrast {label.contrast:.1f}x")
    gap = np.zeros((picture.shape[0], 4, 3), np.uint8)
    both = np.hstack([plain, gap, picture])
    caption = np.zeros((22, both.shape[1], 3), np.uint8)
    cv2.putText(caption, "  ".join(words), (4, 15), _FONT, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
    return np.vstack([caption, both])


def _write(path: Path, image: np.ndarray) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        ok = cv2.imwrite(str(path), image)
    except (OSError, cv2.error):
        ok = False
    if not ok:
        raise UsguideError(f"cannot write the picture {path} — choose a writable --failures folder")
