"""The lowest-latency display mode: the newest captured frame at once, with the last overlay and
its age (the overlay was computed on an older frame, and says so)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from usguide.types import Frame, FrameResult, Timings


@dataclass
class LiveFrameResult(FrameResult):
    """``display_mode="lowest-latency"``: the newest captured frame shown at once with the last
    overlay.

    ``needle``/``trajectory`` were computed on frame ``overlay_frame_index`` (an older frame),
    captured ``overlay_age_ms`` before this frame was handed out, with source time
    ``overlay_source_ms`` (the display predicts the tip forward from it); all None before the first
    result.
    """

    overlay_frame_index: int | None = None
    overlay_age_ms: float | None = None
    overlay_source_ms: float | None = None


def live_result(frame: Frame, last: FrameResult | None) -> LiveFrameResult:
    """``frame`` with the overlay of ``last`` (the newest paired result; None before the first)."""
    now = time.perf_counter_ns()
    return LiveFrameResult(
        frame=frame,
        needle=None if last is None else last.needle,
        trajectory=None if last is None else last.trajectory,
        timings=Timings(t_capture_ns=frame.t_capture_ns, t_result_ns=now),
        detector="" if last is None else last.detector,
        overlay_frame_index=None if last is None else last.frame.index,
        overlay_age_ms=None if last is None else (now - last.frame.t_capture_ns) / 1e6,
        overlay_source_ms=None if last is None else last.frame.source_ms,
    )
