"""Metrics of a needle insertion, each defined once (``DEFINITIONS``), computed from a track.

In the spirit of Perk Tutor (3D Slicer): elapsed time, path length, targets hit (tip within 3 mm),
path inefficiency; plus what an in-plane ultrasound-guided insertion needs: how long the tip was
seen, lost episodes, redirections, depth, angle and the final trajectory's miss.
``session_metrics(session)`` is the one call other packages (batch, gui, report) use;
``results_metrics(results, t_s, calibration)`` measures per-frame results of any input.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from usguide.defaults import WARMUP_FRAMES
from usguide.errors import UsguideError
from usguide.geometry import point_line_distance
from usguide.review.track import NeedleTrack, results_track, session_times_ns
from usguide.types import Calibration, Point

LOST_GAP_S = 0.5  # a gap in the tip's measurements longer than this is a lost episode
REDIRECT_WITHDRAW_MM = 2.0  # a redirection: a withdrawal of at least this much ...
REDIRECT_READVANCE_MM = 1.0  # ... followed by a re-advance of at least this much
TARGET_HIT_MM = 3.0  # the tip within this distance of the target: target reached (Perk Tutor)
SMOOTH_S = 0.2  # the tip path is smoothed over this window (detector jitter is not motion)

DEFINITIONS: dict[str, str] = {
    "duration_s": "time from the session's first frame to its last (s)",
    "needle_in_image_s": "time with a needle reported, measured or predicted (s)",
    "inserted_s": "time from the first to the last frame the tip was measured (s)",
    "visible_fraction": "fraction of the inserted time on which the tip was measured, not "
    "predicted by the tracker (0..1)",
    "lost_episodes": f"gaps longer than {LOST_GAP_S} s between two measurements of the tip "
    "while inserted",
    "lost_s": "total time of those gaps (s)",
    "redirections": f"withdrawals of at least {REDIRECT_WITHDRAW_MM:g} mm along the shaft "
    f"followed by a re-advance of at least {REDIRECT_READVANCE_MM:g} mm",
    "path_length_mm": f"length of the measured tip's path, smoothed over {SMOOTH_S} s (mm)",
    "path_inefficiency": "path length divided by the straight distance from the first to the "
    "last measured tip position (Perk Tutor's path inefficiency; 1 is a straight push)",
    "max_depth_mm": "deepest measured tip below the image region's top edge (mm)",
    "angle_median_deg": "median insertion angle to the probe face over measured frames (deg)",
    "angle_spread_deg": "interquartile range of that angle (deg)",
    "time_to_target_s": f"from the first measured tip to the first one within {TARGET_HIT_MM:g} "
    "mm of the target (s; none when never reached)",
    "target_hit": f"the tip came within {TARGET_HIT_MM:g} mm of the target",
    "closest_approach_mm": "smallest tip-to-target distance (mm)",
    "final_miss_mm": "distance from the target to the needle's line on the last measured frame "
    "(mm): where the trajectory passes the target",
    "latency_p50_ms": f"capture-to-result latency, median (first {WARMUP_FRAMES} frames excluded)",
    "latency_p95_ms": "... 95th percentile",
    "latency_p99_ms": "... 99th percentile",
    "latency_max_ms": "... maximum",
}


@dataclass(frozen=True)
class SessionMetrics:
    """The metrics of one session (see ``DEFINITIONS``); None where they cannot be known
    (no scale for mm values, no target, no needle)."""

    frames: int
    duration_s: float
    needle_in_image_s: float
    inserted_s: float
    visible_fraction: float | None
    lost_episodes: int
    lost_s: float
    redirections: int
    path_length_mm: float | None
    path_inefficiency: float | None
    max_depth_mm: float | None
    angle_median_deg: float | None
    angle_spread_deg: float | None
    time_to_target_s: float | None
    target_hit: bool | None
    closest_approach_mm: float | None
    final_miss_mm: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    latency_max_ms: float | None

    def to_json(self) -> dict:
        """Plain numbers, rounded for people (mm to 0.01, s to 0.001)."""
        out = {}
        for key, value in dataclasses.asdict(self).items():
            out[key] = round(value, 4) if isinstance(value, float) else value
        return out


def frame_durations(t_s: np.ndarray) -> np.ndarray:
    """How long each frame stands: the interval to the next one (the last: the median one)."""
    if len(t_s) < 2:
        return np.zeros(len(t_s))
    dt = np.diff(t_s)
    return np.append(dt, float(np.median(dt)))


def smooth_positions(points: np.ndarray, t_s: np.ndarray, window_s: float = SMOOTH_S) -> np.ndarray:
    """Centred moving average over ``window_s``; the window shrinks symmetrically at the ends so
    the first and last positions stay where they were and a straight motion stays straight."""
    n = len(points)
    if n < 3:
        return points.copy()
    step = float(np.median(np.diff(t_s))) if n > 1 else 0.0
    half = int(round(window_s / 2 / step)) if step > 0 else 0
    if half < 1:
        return points.copy()
    csum = np.vstack([np.zeros((1, points.shape[1])), np.cumsum(points, axis=0)])
    idx = np.arange(n)
    reach = np.minimum(np.minimum(idx, n - 1 - idx), half)
    return (csum[idx + reach + 1] - csum[idx - reach]) / (2 * reach + 1)[:, None]


def insertion_depth(tips: np.ndarray, entries: np.ndarray) -> np.ndarray:
    """Cumulative advance of the tip along the shaft (same units as the points): each step's
    motion projected on the needle's direction (entry to tip), so sliding sideways is not
    advancing and a withdrawal counts negative."""
    if len(tips) == 0:
        return np.zeros(0)
    axis = tips - entries
    norm = np.linalg.norm(axis, axis=1, keepdims=True)
    axis = np.divide(axis, norm, out=np.zeros_like(axis), where=norm > 1e-9)
    mean_axis = axis[1:] + axis[:-1]
    mean_norm = np.linalg.norm(mean_axis, axis=1, keepdims=True)
    mean_axis = np.divide(mean_axis, mean_norm, out=np.zeros_like(mean_axis), where=mean_norm > 0)
    steps = np.sum(np.diff(tips, axis=0) * mean_axis, axis=1)
    return np.concatenate([[0.0], np.cumsum(steps)])


def count_redirections(
    depth_mm: np.ndarray,
    withdraw_mm: float = REDIRECT_WITHDRAW_MM,
    readvance_mm: float = REDIRECT_READVANCE_MM,
) -> tuple[int, list[int]]:
    """Withdrawals of ``withdraw_mm`` followed by a re-advance of ``readvance_mm`` (hysteresis, so
    jitter never counts). Returns the count and the sample index where each re-advance began."""
    count, marks = 0, []
    if len(depth_mm) == 0:
        return 0, marks
    withdrawing = False
    peak = valley = float(depth_mm[0])
    valley_at = 0
    for i, value in enumerate(depth_mm):
        value = float(value)
        if not withdrawing:
            peak = max(peak, value)
            if peak - value >= withdraw_mm:
                withdrawing, valley, valley_at = True, value, i
        else:
            if value < valley:
                valley, valley_at = value, i
            if value - valley >= readvance_mm:
                count += 1
                marks.append(valley_at)
                withdrawing, peak = False, value
    return count, marks


def lost_gaps(t_s: np.ndarray, measured: np.ndarray, gap_s: float = LOST_GAP_S) -> list[tuple]:
    """(start s, end s) of the gaps longer than ``gap_s`` between two measurements of the tip."""
    times = t_s[measured]
    if len(times) < 2:
        return []
    gaps = np.diff(times)
    return [(float(times[i]), float(times[i + 1])) for i in np.flatnonzero(gaps > gap_s)]


@dataclass(frozen=True)
class TipSeries:
    """The measured tip over time, smoothed: what the path, depth and redirections come from.

    Attributes:
        index: the frames the tip was measured on; t_s their times.
        tips_px: smoothed tip positions (full-frame pixels).
        depth_mm: below the image region's top edge; insertion_mm: cumulative advance along the
            shaft (both None without a scale).
        redirect_at_s: when each redirection's re-advance began.
    """

    index: np.ndarray
    t_s: np.ndarray
    tips_px: np.ndarray
    depth_mm: np.ndarray | None
    insertion_mm: np.ndarray | None
    redirect_at_s: list[float]


def tip_series(track: NeedleTrack) -> TipSeries:
    """The smoothed measured tip of ``track`` (see ``TipSeries``)."""
    measured = track.measured & np.all(np.isfinite(track.tip_px), axis=1)
    m_idx = np.flatnonzero(measured)
    t_s = track.t_s[m_idx]
    tips = smooth_positions(track.tip_px[m_idx], t_s)
    scale = track.calibration.mm_per_px
    if not scale or len(m_idx) == 0:
        return TipSeries(m_idx, t_s, tips, None, None, [])
    top = track.calibration.roi.y if track.calibration.roi is not None else 0
    entries = smooth_positions(track.entry_px[m_idx], t_s)
    insertion = insertion_depth(tips, entries) * scale
    _, marks = count_redirections(insertion)
    return TipSeries(
        m_idx, t_s, tips, (tips[:, 1] - top) * scale, insertion, [float(t_s[i]) for i in marks]
    )


def compute_metrics(track: NeedleTrack, target: Point | None = None) -> SessionMetrics:
    """All metrics of ``track`` (see ``DEFINITIONS``); ``target`` overrides the recorded one."""
    t_s, n = track.t_s, len(track)
    duration = float(t_s[-1] - t_s[0]) if n > 1 else 0.0
    dt = frame_durations(t_s)
    scale = track.calibration.mm_per_px
    measured = track.measured & np.all(np.isfinite(track.tip_px), axis=1)
    in_image = float(np.sum(dt[track.present]))
    m_idx = np.flatnonzero(measured)
    inserted = visible = None
    lost: list[tuple] = []
    path = inefficiency = depth_max = None
    redirections = 0
    if len(m_idx):
        span = slice(m_idx[0], m_idx[-1] + 1)
        inserted = float(np.sum(dt[span]))
        visible = float(np.sum(dt[span][measured[span]])) / inserted if inserted > 0 else None
        lost = lost_gaps(t_s, measured)
        series = tip_series(track)
        tips = series.tips_px
        if scale and series.depth_mm is not None:
            steps = np.linalg.norm(np.diff(tips, axis=0), axis=1) * scale
            path = float(np.sum(steps))
            straight = float(np.linalg.norm(tips[-1] - tips[0])) * scale
            inefficiency = path / straight if straight >= 1.0 else None
            depth_max = float(np.max(series.depth_mm))
            redirections = len(series.redirect_at_s)
    angles = track.angle_deg[measured]
    angles = angles[np.isfinite(angles)]
    target_values = _target_metrics(track, measured, target)
    latency = _latency(track.latency_ms)
    return SessionMetrics(
        frames=n,
        duration_s=duration,
        needle_in_image_s=in_image,
        inserted_s=inserted or 0.0,
        visible_fraction=visible,
        lost_episodes=len(lost),
        lost_s=float(sum(end - start for start, end in lost)),
        redirections=redirections,
        path_length_mm=path,
        path_inefficiency=inefficiency,
        max_depth_mm=depth_max,
        angle_median_deg=float(np.median(angles)) if len(angles) else None,
        angle_spread_deg=float(np.subtract(*np.percentile(angles, [75, 25])))
        if len(angles)
        else None,
        **target_values,
        **latency,
    )


def target_distances(track: NeedleTrack, target: Point | None = None) -> np.ndarray:
    """Per-frame distance (mm) from the smoothed measured tip to the target; NaN elsewhere."""
    out = np.full(len(track), np.nan)
    scale = track.calibration.mm_per_px
    measured = track.measured & np.all(np.isfinite(track.tip_px), axis=1)
    targets = track.target_px.copy()
    if target is not None:
        targets[:] = (target.x, target.y)
    idx = np.flatnonzero(measured & np.all(np.isfinite(targets), axis=1))
    if not scale or len(idx) == 0:
        return out
    m_idx = np.flatnonzero(measured)
    tips = smooth_positions(track.tip_px[m_idx], track.t_s[m_idx])
    smooth = np.full_like(track.tip_px, np.nan)
    smooth[m_idx] = tips
    out[idx] = np.linalg.norm(smooth[idx] - targets[idx], axis=1) * scale
    return out


def _target_metrics(track: NeedleTrack, measured: np.ndarray, target: Point | None) -> dict:
    none = {"time_to_target_s": None, "target_hit": None, "closest_approach_mm": None,
            "final_miss_mm": None}  # fmt: skip
    distance = target_distances(track, target)
    idx = np.flatnonzero(np.isfinite(distance))
    if len(idx) == 0:
        return none
    first_seen = float(track.t_s[np.flatnonzero(measured)[0]])
    hits = idx[distance[idx] <= TARGET_HIT_MM]
    last = idx[-1]
    aim = Point(*(target if target is not None else track.target_px[last]))
    scale = float(track.calibration.mm_per_px or 0.0)
    miss = point_line_distance(aim, Point(*track.entry_px[last]), Point(*track.tip_px[last]))
    return {
        "time_to_target_s": float(track.t_s[hits[0]]) - first_seen if len(hits) else None,
        "target_hit": bool(len(hits)),
        "closest_approach_mm": float(np.min(distance[idx])),
        "final_miss_mm": float(miss * scale) if math.isfinite(miss) else None,
    }


def _latency(latency_ms: np.ndarray) -> dict:
    values = latency_ms[WARMUP_FRAMES:]
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return dict.fromkeys(
            ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "latency_max_ms")
        )
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"latency_p50_ms": float(p50), "latency_p95_ms": float(p95),
            "latency_p99_ms": float(p99), "latency_max_ms": float(np.max(values))}  # fmt: skip


def results_metrics(
    results: Sequence[dict | None],
    t_s: Sequence[float] | np.ndarray,
    calibration: Calibration,
    *,
    target: Point | None = None,
) -> SessionMetrics:
    """The metrics of per-frame results in frame order, for inputs that are not sessions (a
    video, DICOM, images analysed by ``usguide batch``) as for sessions.

    Args:
        results: one ``FrameResult.to_json()`` object (or ``usguide analyze`` line) per frame;
            None for a frame without a result.
        t_s: each frame's time in seconds (any origin), ascending.
        calibration: the scale and image region the results were computed with.
        target: a target (full-frame pixels) for every frame instead of the results' own.

    Raises:
        UsguideError: no frame.
    """
    if not len(results):
        raise UsguideError("no frame; nothing to measure")
    return compute_metrics(results_track(results, t_s, calibration, target), target)


def session_metrics(
    session: str | Path,
    *,
    target: Point | None = None,
    recompute: bool = False,
    detector: str = "onnx",
    model_path: str | None = None,
) -> SessionMetrics:
    """The metrics of a session folder: from its recorded results, or (``recompute``, or when it
    has none) from results computed now with ``detector``.

    Raises:
        UsguideError: not a session, or no needle results and no way to compute them.
    """
    from usguide.record.reader import SessionReader
    from usguide.review.recompute import session_track

    if not recompute:
        with SessionReader(session) as reader:
            t_ns = session_times_ns(reader)
            calibration = reader.calibration
            recorded = dict(reader.results)
        if recorded and len(t_ns):
            results = [recorded.get(index) for index in range(len(t_ns))]
            t_s = (t_ns - t_ns[0]) / 1e9
            return results_metrics(results, t_s, calibration, target=target)
    track = session_track(
        session, recompute=True, detector=detector, model_path=model_path, target=target
    )
    if not len(track):
        raise UsguideError(f"{session} holds no frame; nothing to measure")
    return compute_metrics(track, target)
