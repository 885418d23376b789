"""The one-word needle status a receiver sees: the display's states, in OpenIGTLink STRING form.

``ok`` (measured on this frame), ``predicted`` (the tracker coasts), ``lost`` (no needle),
``stale`` (no new frame for longer than the display tolerates, or the pipeline stalled) and
``signal lost`` (the source is lost or reconnecting): a receiver can never mistake a coasting or
stale needle for a measured one.
"""

from __future__ import annotations

from usguide.pipeline.budget import PipelineState
from usguide.types import FrameResult

OK, PREDICTED, LOST, STALE, SIGNAL_LOST = "ok", "predicted", "lost", "stale", "signal lost"
STATUSES = (OK, PREDICTED, LOST, STALE, SIGNAL_LOST)


def needle_status(result: FrameResult) -> str:
    """``ok``, ``predicted`` or ``lost`` for one processed frame."""
    needle = result.needle
    if needle is None:
        return LOST
    return PREDICTED if needle.predicted else OK


def stream_status(state: PipelineState | None, age_ms: float | None, stale_after_ms: float) -> str:
    """The status between frames: ``signal lost``, ``stale``, or None-like ``""`` when fine.

    Args:
        state: the pipeline's state now (None: unknown).
        age_ms: time since the last published frame was captured (None: none yet).
        stale_after_ms: the display's tolerance (budget plus one frame interval).
    """
    if state is PipelineState.SIGNAL_LOST:
        return SIGNAL_LOST
    if state is PipelineState.STALLED or (age_ms is not None and age_ms > stale_after_ms):
        return STALE
    return ""
