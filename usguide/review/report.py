"""``usguide report``'s content: a session reviewed (record, flags, metrics, pictures) as HTML.

The HTML is one self-contained file (pictures inline) that a trainer reads without explanation. It
is de-identified: no folder name, no recording date, no legacy free-form fields; key frames show the
image region only, with no text burned in.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from usguide.errors import UsguideError
from usguide.record.procedure import FIELDS
from usguide.record.procedure_log import SessionProcedure, session_procedure, value_text
from usguide.record.reader import SessionReader
from usguide.review.compare import compare_plots, deltas, metric_delta
from usguide.review.figures import (
    Series,
    key_frame_png,
    line_plot_svg,
    png_img_tag,
    state_bands,
)
from usguide.review.metrics import (
    DEFINITIONS,
    TARGET_HIT_MM,
    SessionMetrics,
    TipSeries,
    compute_metrics,
    target_distances,
    tip_series,
)
from usguide.review.recompute import session_track
from usguide.review.track import NeedleTrack, results_track
from usguide.sources.roi_detect import detect_roi
from usguide.types import Calibration, Point, Roi

# Reads the images of frames (indices of the track) for the key frames.
FrameReader = Callable[[list[int]], list[np.ndarray]]

# label, unit, decimals (None: as is)
_SHOWN = {
    "duration_s": ("Duration", "s", 1),
    "needle_in_image_s": ("Needle in image", "s", 1),
    "visible_fraction": ("Tip visible while inserted", "%", None),
    "lost_episodes": ("Tip lost (> 0.5 s)", "times", None),
    "lost_s": ("Time lost", "s", 1),
    "redirections": ("Redirections", "", None),
    "path_length_mm": ("Tip path length", "mm", 1),
    "path_inefficiency": ("Path inefficiency", "x", 2),
    "max_depth_mm": ("Maximum depth", "mm", 1),
    "angle_median_deg": ("Insertion angle, median", "deg", 1),
    "angle_spread_deg": ("Insertion angle, spread (IQR)", "deg", 1),
    "time_to_target_s": ("Time to target", "s", 1),
    "target_hit": (f"Target reached (tip within {TARGET_HIT_MM:g} mm)", "", None),
    "closest_approach_mm": ("Closest approach to target", "mm", 1),
    "final_miss_mm": ("Final trajectory miss", "mm", 1),
    "latency_p50_ms": ("Latency p50", "ms", 1),
    "latency_p95_ms": ("Latency p95", "ms", 1),
    "latency_p99_ms": ("Latency p99", "ms", 1),
    "latency_max_ms": ("Latency max", "ms", 1),
}


@dataclass
class SessionReview:
    """Everything the report shows of one session (or other input: no procedure record)."""

    procedure: SessionProcedure | None  # None: not a usguide session (a video, DICOM, images)
    track: NeedleTrack
    metrics: SessionMetrics
    series: TipSeries
    key_frames: list[tuple[str, bytes]]
    results_from: str
    target: Point | None


def review_session(
    session: str | Path,
    *,
    recompute: bool = False,
    detector: str = "onnx",
    model_path: str | None = None,
    target: Point | None = None,
) -> SessionReview:
    """Reads, measures and draws one session.

    Raises:
        UsguideError: not a session, no results (and no ``recompute``), a bad detector.
    """
    procedure = session_procedure(session)
    with SessionReader(session) as reader:
        has_results = bool(reader.results)
    if not has_results and not recompute:
        raise UsguideError(
            f"{session} has no recorded needle results; add --recompute to compute them with "
            "the current model"
        )
    track = session_track(
        session, recompute=recompute, detector=detector, model_path=model_path, target=target
    )
    source = f"recomputed now ({detector} detector)" if recompute else "recorded with the session"
    return _review(track, session_frames(session), procedure, source, target)


def review_results(
    results: Sequence[dict | None],
    t_s: Sequence[float] | np.ndarray,
    calibration: Calibration,
    frames: FrameReader,
    *,
    procedure: SessionProcedure | None = None,
    results_from: str = "computed by usguide batch",
    target: Point | None = None,
) -> SessionReview:
    """Measures and draws per-frame results of any input (``usguide batch --report``).

    Args:
        results, t_s, calibration, target: as for ``metrics.results_metrics``.
        frames: reads the images of the key frames (positions in ``results``).
        procedure: the session's procedure record; None for inputs that are not sessions.
        results_from: where the results came from, as the report says it.

    Raises:
        UsguideError: no frame.
    """
    if not len(results):
        raise UsguideError("no frame; nothing to review")
    track = results_track(results, t_s, calibration, target)
    return _review(track, frames, procedure, results_from, target)


def session_frames(session: str | Path) -> FrameReader:
    """Reads frames of a session folder (one reader opened per call)."""

    def read(indices: list[int]) -> list[np.ndarray]:
        with SessionReader(session) as reader:
            return [reader.frame(index) for index in indices]

    return read


def _review(
    track: NeedleTrack,
    frames: FrameReader,
    procedure: SessionProcedure | None,
    results_from: str,
    target: Point | None,
) -> SessionReview:
    metrics = compute_metrics(track, target)
    series = tip_series(track)
    key_frames = _key_frames(frames, track, series, target)
    return SessionReview(procedure, track, metrics, series, key_frames, results_from, target)


def _key_frames(
    frames: FrameReader, track: NeedleTrack, series: TipSeries, target: Point | None
) -> list[tuple[str, bytes]]:
    if len(series.index) == 0:
        return []
    picks = {"first sight of the tip": int(series.index[0])}
    distance = target_distances(track, target)
    if np.isfinite(distance).any():
        picks["closest to the target"] = int(np.nanargmin(distance))
    elif series.depth_mm is not None:
        picks["deepest"] = int(series.index[int(np.argmax(series.depth_mm))])
    picks["last measured"] = int(series.index[-1])
    out = []
    images = frames(list(picks.values()))
    roi = track.calibration.roi or _found_region(frames, len(track))
    for (caption, index), image in zip(picks.items(), images, strict=True):
        aim = target if target is not None else track.target_px[index]
        png = key_frame_png(
            image,
            roi,
            series.tips_px,
            tuple(track.tip_px[index]),
            tuple(track.entry_px[index]),
            None if aim is None else tuple(aim),
        )
        out.append((f"{caption} ({track.t_s[index]:.1f} s)", png))
    return out


def _found_region(frames: FrameReader, count: int) -> Roi | None:
    """The image region of a session recorded without one (as the display's Auto finds it, from
    eight frames spread over the session: speckle changes, the screen does not), so rulers, labels
    and menus around the image stay out of the pictures; None: not found, or too small to be the
    image (then the whole frame is shown)."""
    images = frames(sorted({int(i) for i in np.linspace(0, count - 1, min(count, 8))}))
    try:
        roi = detect_roi(images)
    except UsguideError:
        return None
    height, width = images[0].shape[:2]
    return roi if roi.w * roi.h >= 0.3 * width * height else None


def report_json(review: SessionReview, compare: SessionReview | None = None) -> dict:
    """The report's data: procedure, flags, edits, metrics (with their definitions); procedure
    None (no flags, no edits) for an input that is not a session."""
    state = review.procedure
    out = {
        "procedure": state.current.to_json() if state is not None else None,
        "flags": [f.__dict__ for f in state.flags] if state is not None else [],
        "edits": [edit.to_json() for edit in state.edits] if state is not None else [],
        "results": review.results_from,
        "metrics": review.metrics.to_json(),
        "definitions": DEFINITIONS,
    }
    if out["procedure"] is not None:
        out["procedure"].pop("legacy", None)
    if compare is not None:
        out["compare"] = {"metrics": compare.metrics.to_json(), "results": compare.results_from,
                          "deltas": deltas(review, compare, _SHOWN)}  # fmt: skip
    return out


def _format(key: str, value) -> str:
    if value is None:
        return "–"
    _, unit, decimals = _SHOWN[key]
    if key == "visible_fraction":
        return f"{100 * value:.0f} %"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = f"{value:.{decimals}f}" if decimals is not None else str(value)
    return f"{text} {unit}".strip()


def _procedure_rows(state: SessionProcedure) -> str:
    rows = []
    for key, spec in FIELDS.items():
        value = state.current.get(key)
        text = value_text(value)
        when = getattr(value, "at", "") or ""
        cell = html.escape(text) if text is not None else '<span class="none">not given</span>'
        rows.append(f"<tr><th>{html.escape(spec.label)}</th><td>{cell}</td>"
                    f"<td class=\"when\">{html.escape(when)}</td></tr>")  # fmt: skip
    return "\n".join(rows)


def _metrics_table(reviews: list[tuple[str, SessionReview]]) -> str:
    head = "".join(f"<th>{html.escape(name)}</th>" for name, _ in reviews)
    pair = len(reviews) == 2
    if pair:
        head += f"<th>difference ({html.escape(reviews[0][0])} − {html.escape(reviews[1][0])})</th>"
    rows = [f"<tr><th>metric</th>{head}<th>definition</th></tr>"]
    for key, (label, _, _) in _SHOWN.items():
        cells = "".join(f"<td>{_format(key, getattr(r.metrics, key))}</td>" for _, r in reviews)
        if pair:
            delta = metric_delta(key, reviews[0][1], reviews[1][1])
            sign = "+" if delta is not None and delta > 0 else ""
            cells += f'<td class="delta">{sign}{_format(key, delta)}</td>'
        rows.append(f"<tr><th>{html.escape(label)}</th>{cells}"
                    f"<td class=\"def\">{html.escape(DEFINITIONS[key])}</td></tr>")  # fmt: skip
    return '<table class="metrics">' + "\n".join(rows) + "</table>"


def _plots(review: SessionReview) -> str:
    track, series = review.track, review.series
    span = (0.0, float(track.t_s[-1]) if len(track) else 1.0)
    parts = []
    if series.depth_mm is not None:
        marks = [(t, f"redirection {i + 1}") for i, t in enumerate(series.redirect_at_s)]
        parts.append("<h3>Tip depth over time (redirections marked)</h3>" + line_plot_svg(
            [Series(series.t_s, series.depth_mm, "#1f77b4", "tip depth")], span, "time (s)",
            "depth (mm)", marks=marks, invert_y=True))  # fmt: skip
    states = np.where(track.measured, 2, np.where(track.present, 1, 0))
    colours = {2: ("#5cb85c", "tip measured"), 1: ("#f0ad4e", "predicted by the tracker"),
               0: ("#dddddd", "no needle")}  # fmt: skip
    parts.append(
        "<h3>Visibility timeline</h3><p class=\"legend\"><span style=\"background:#5cb85c\">"
        "&nbsp;&nbsp;</span> tip measured <span style=\"background:#f0ad4e\">&nbsp;&nbsp;</span>"
        " predicted by the tracker <span style=\"background:#ddd\">&nbsp;&nbsp;</span> no "
        "needle</p>" + line_plot_svg([], span, "time (s)", "", bands=state_bands(
            track.t_s, states, colours), height=80))  # fmt: skip
    distance = target_distances(track, review.target)
    if np.isfinite(distance).any():
        parts.append("<h3>Distance from the tip to the target</h3>" + line_plot_svg(
            [Series(track.t_s, distance, "#9467bd", "tip to target")], span, "time (s)",
            "distance (mm)", h_lines=[(TARGET_HIT_MM, f"{TARGET_HIT_MM:g} mm")]))  # fmt: skip
    return "\n".join(parts)


_STYLE = """
body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1100px; }
h1 { font-size: 22px; } h2 { font-size: 18px; border-bottom: 1px solid #ccc; }
h3 { font-size: 14px; margin: 14px 0 4px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
td.def, td.when { color: #666; font-size: 12px; } .none { color: #999; }
.flag-contradiction { color: #b00; } .flag-caution { color: #a60; } .flag-missing { color: #555; }
.frames { display: flex; gap: 12px; flex-wrap: wrap; } figure { margin: 0; }
figcaption { font-size: 12px; color: #444; } .legend span { display: inline-block; }
"""


def _procedure_section(state: SessionProcedure | None) -> tuple[str, str]:
    """The title's end and the procedure, flags and edits section."""
    if state is None:
        return "input without a procedure record", (
            '<h2>Procedure and checklist</h2><p class="none">Not a usguide session (a video, '
            "DICOM or image folder): no procedure record, checklist or edit history.</p>"
        )
    record = state.current
    case = html.escape(record.case_id or "no case ID")
    kind = html.escape(value_text(record.type) or "procedure type not given")
    flags = (
        "".join(
            f'<li class="flag-{f.kind}">[{html.escape(f.kind)}] {html.escape(f.message)}</li>'
            for f in state.flags
        )
        or "<li>none</li>"
    )
    edits = (
        "".join(
            f"<li>{html.escape(e.at)} by {html.escape(e.by)}: "
            + ", ".join(
                f"{html.escape(k)}: {html.escape(str(e.previous.get(k) or '–'))} → {html.escape(v)}"
                for k, v in e.changes.items()
            )  # fmt: skip
            + "</li>"
            for e in state.edits
        )
        or "<li>no edits since recording</li>"
    )
    legacy = (f"<p class=\"none\">{len(record.legacy)} free-form field(s) of an older usguide are "
              "not shown here (usguide session show).</p>") if record.legacy else ""  # fmt: skip
    return (
        f"{kind}, case {case}",
        f"""<h2>Procedure and checklist</h2>
<table>{_procedure_rows(state)}</table>{legacy}
<h3>Flags (missing or contradictory answers)</h3><ul>{flags}</ul>
<h3>Edit history</h3><ul>{edits}</ul>""",
    )


def _frames_html(review: SessionReview) -> str:
    return (
        "".join(
            f"<figure>{png_img_tag(png, caption)}<figcaption>{html.escape(caption)}</figcaption>"
            "</figure>"
            for caption, png in review.key_frames
        )
        or "<p>The tip was never measured: no key frames.</p>"
    )


def report_html(review: SessionReview, compare: SessionReview | None = None) -> str:
    """The self-contained HTML report (and, with ``compare``, the other session beside it)."""
    title = "Needle insertion review"
    heading, procedure = _procedure_section(review.procedure)
    frames = _frames_html(review)
    reviews = [("this session", review)] + ([("compared session", compare)] if compare else [])
    side_by_side = ""
    if compare is not None:
        side_by_side = (
            "<h2>Side by side</h2>"
            + compare_plots(review, compare, ("this session", "compared session"))
            + f'<h2>Compared session: key frames</h2><div class="frames">{_frames_html(compare)}'
            + "</div><h2>Compared session over time</h2>"
            + _plots(compare)
        )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title><style>{_STYLE}</style></head>
<body>
<h1>{title}: {heading}</h1>
<p>Needle results {html.escape(review.results_from)}. De-identified: no patient name, birth date,
folder name or recording date; pictures show the image region only. Yellow: the tip's path;
green: the needle on that frame; red cross: the target.</p>
{procedure}
<h2>Metrics</h2>
{_metrics_table(reviews)}
<h2>Key frames</h2>
<div class="frames">{frames}</div>
<h2>Over time</h2>
{_plots(review)}
{side_by_side}
</body></html>
"""
