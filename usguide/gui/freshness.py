"""How current the window's image is: the banner for a lost, stalled or stale image, and the
lowest-latency overlay moved forward to the shown frame's time.
"""

from __future__ import annotations

import dataclasses

from usguide.defaults import FALLBACK_FPS
from usguide.pipeline.budget import PipelineState
from usguide.pipeline.live import LiveFrameResult
from usguide.track.tracker import predict_needle
from usguide.types import FrameResult

PREDICTED_LOOK_FRAMES = 3  # an overlay moved further ahead than this is drawn as predicted
LOST_STATES = {
    "signal_lost": "SIGNAL LOST — reconnecting",
    "stalled": "NO NEW FRAMES — image frozen",
}


def state_name(state: object) -> str:
    """``PipelineState`` (a str enum) or a plain string as its lower-case value."""
    return str((state.value if isinstance(state, PipelineState) else state) or "ok").lower()


def banner_text(state: object, deliberate: bool, age_ms: float | None, stale_ms: float) -> str:
    """The banner's message, or "" for none.

    Args:
        state: the pipeline's state (``PipelineState`` or its name).
        deliberate: the user froze or paused the image, or the source ended: no banner.
        age_ms: age of the frame on screen, None when none is shown.
        stale_ms: a frame on screen older than this is stale.
    """
    if deliberate:
        return ""
    name = state_name(state)
    if name in LOST_STATES:
        return LOST_STATES[name]
    if age_ms is not None and age_ms > stale_ms:
        return f"IMAGE NOT LIVE — frame is {age_ms / 1000:.1f} s old"
    return ""


def overlay_at_shown_frame(
    result: FrameResult, fps: float | None
) -> tuple[FrameResult, float | None]:
    """``result`` with its needle moved forward from the overlay's frame to the shown frame.

    Lowest-latency mode shows the newest frame with the overlay of an older one: the tip and
    shaft are moved forward to the shown frame's time along the tip's velocity (at most
    ``PREDICT_MAX_MS``, never for a coasting track) and drawn as predicted when that is more
    than ``PREDICTED_LOOK_FRAMES`` frames at ``fps`` (``FALLBACK_FPS`` when unknown).

    Returns:
        The result to draw and how far ahead it was moved (ms), or ``result`` and None when
        there is nothing to move.
    """
    if (
        not isinstance(result, LiveFrameResult)
        or result.needle is None
        or result.overlay_source_ms is None
    ):
        return result, None
    ahead_ms = result.frame.source_ms - result.overlay_source_ms
    moved = predict_needle(result.needle, ahead_ms)
    if moved is None:
        return result, None
    frame_rate = fps if fps is not None and fps > 0 else FALLBACK_FPS
    if ahead_ms > PREDICTED_LOOK_FRAMES * 1000.0 / frame_rate:
        moved.predicted = True
    return dataclasses.replace(result, needle=moved, trajectory=None), ahead_ms
