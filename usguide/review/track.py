"""A session's needle track: per-frame times, tip and entry, measured or predicted, target.

The one input of the metrics, built from a session's recorded results (``track_from_results``),
from per-frame results in order such as ``usguide batch``'s (``results_track``), from results
computed now (``usguide.review.recompute``), or written directly in tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from usguide.types import Calibration, Point


@dataclass
class NeedleTrack:
    """Per-frame arrays of one session (length N, frames in order).

    Attributes:
        t_s: seconds since the session's first frame (monotonic capture times).
        tip_px, entry_px: (N, 2) full-frame pixels; NaN on frames without a needle.
        measured: the detector saw the needle on that frame (not predicted by the tracker).
        present: a needle was reported, measured or predicted.
        angle_deg: insertion angle to the probe face; NaN without a needle.
        target_px: (N, 2) the user's target on that frame; NaN when none was set.
        latency_ms: capture-to-result latency of each frame; NaN when unknown.
        calibration: the session's scale and image region.
    """

    t_s: np.ndarray
    tip_px: np.ndarray
    entry_px: np.ndarray
    measured: np.ndarray
    present: np.ndarray
    angle_deg: np.ndarray
    target_px: np.ndarray
    latency_ms: np.ndarray
    calibration: Calibration

    def __len__(self) -> int:
        return len(self.t_s)

    @property
    def has_results(self) -> bool:
        """True when any frame carries a needle result at all."""
        return bool(np.any(self.present))


def session_times_ns(reader: Any) -> np.ndarray:
    """Each frame's time (ns) in a session (a ``SessionReader``): a live source's frames at their
    capture times; a recorded input's (a video or DICOM file, a session) at the input's own
    timestamps, because recording it ran as fast as the machine allowed, not at the input's pace.
    """
    capture = np.asarray(reader.t_capture_ns, dtype=np.int64)
    own = np.asarray(reader.source_ms, dtype=np.float64)
    live = (reader.meta.get("source") or {}).get("live", True)
    usable = len(own) == len(capture) > 1 and np.all(np.isfinite(own)) and np.all(np.diff(own) > 0)
    if live or not usable:
        return capture.copy()
    return np.round(own * 1e6).astype(np.int64)


def empty_track(t_s: np.ndarray, calibration: Calibration) -> NeedleTrack:
    """A track of ``len(t_s)`` frames without any needle (filled in by the builders)."""
    n = len(t_s)
    nan2 = np.full((n, 2), np.nan)
    return NeedleTrack(
        t_s=np.asarray(t_s, dtype=np.float64),
        tip_px=nan2.copy(),
        entry_px=nan2.copy(),
        measured=np.zeros(n, bool),
        present=np.zeros(n, bool),
        angle_deg=np.full(n, np.nan),
        target_px=nan2.copy(),
        latency_ms=np.full(n, np.nan),
        calibration=calibration,
    )


def track_from_results(
    results: dict[int, dict | None],
    t_capture_ns: np.ndarray,
    calibration: Calibration,
    target: Point | None = None,
) -> NeedleTrack:
    """The track of recorded results (``FrameResult.to_json()`` per frame index).

    Args:
        results: frame index -> result JSON (frames without one count as "no needle").
        t_capture_ns: each frame's capture time (``frames.csv``).
        calibration: the session's scale and image region.
        target: a target (full-frame pixels) to use on every frame instead of the recorded ones.
    """
    t_ns = np.asarray(t_capture_ns, dtype=np.int64)
    t_s = (t_ns - t_ns[0]) / 1e9 if len(t_ns) else np.zeros(0)
    track = empty_track(t_s, calibration)
    for index, data in results.items():
        if not 0 <= index < len(track) or not data:
            continue
        set_frame(track, index, data)
    if target is not None:
        track.target_px[:] = (target.x, target.y)
    return track


def results_track(
    results: Sequence[dict | None],
    t_s: Sequence[float] | np.ndarray,
    calibration: Calibration,
    target: Point | None = None,
) -> NeedleTrack:
    """The track of per-frame results in frame order (``FrameResult.to_json()`` objects or
    ``usguide analyze`` lines; None: no result), at times ``t_s`` (seconds, any origin).

    Raises:
        ValueError: ``results`` and ``t_s`` differ in length.
    """
    t = np.asarray(t_s, dtype=np.float64)
    if len(t) != len(results):
        raise ValueError(f"{len(results)} results but {len(t)} timestamps")
    track = empty_track(t - t[0] if len(t) else t, calibration)
    for index, data in enumerate(results):
        if data:
            set_frame(track, index, data)
    if target is not None:
        track.target_px[:] = (target.x, target.y)
    return track


def set_frame(track: NeedleTrack, index: int, data: dict) -> None:
    """Fills frame ``index`` of ``track`` from one ``FrameResult.to_json()`` object."""
    needle = data.get("needle")
    if needle:
        track.tip_px[index] = needle["tip"]
        track.entry_px[index] = needle["entry"]
        track.angle_deg[index] = float(needle.get("angle_deg", np.nan))
        track.present[index] = True
        track.measured[index] = not bool(needle.get("predicted", False))
    trajectory = data.get("trajectory") or {}
    if trajectory.get("target") is not None:
        track.target_px[index] = trajectory["target"]
    total = (data.get("latency_ms") or {}).get("total")
    if total is not None:
        track.latency_ms[index] = float(total)
