"""The one frame loop the commands share: every frame of a source, in order, until it ends.

``usguide analyze``, ``evaluate``, ``record`` and ``probe`` read through ``iter_frames``; the
end rule lives here once: a recorded source ends with its last frame; a live source ends when it
reports ENDED (or LOST, unless the caller waits for a reconnect) and is polled, not spun, while it
has no new frame.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from usguide.sources.base import FrameSource
from usguide.types import Frame, SourceState

IDLE_READ_S = 0.001  # pause after a live source had no new frame yet


def iter_frames(
    source: FrameSource,
    *,
    end_on_lost: bool = True,
    idle_s: float = IDLE_READ_S,
    max_reads: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[Frame]:
    """Yields the frames of an opened source in order until it ends.

    Args:
        source: an opened source.
        end_on_lost: a live source that reports LOST ends the loop (False: wait for it to
            reconnect, as a recording does).
        idle_s: pause after a read that gave no frame (a live source between frames).
        max_reads: give up after this many ``read()`` calls, frames or not (None: no limit).
        should_stop: asked before every read; True ends the loop (a time limit).
    """
    reads = 0
    while max_reads is None or reads < max_reads:
        if should_stop is not None and should_stop():
            return
        frame = source.read()
        reads += 1
        if frame is not None:
            yield frame
            continue
        state = source.state
        if not source.info.live or state is SourceState.ENDED:
            return
        if end_on_lost and state is SourceState.LOST:
            return
        if idle_s > 0:
            time.sleep(idle_s)
