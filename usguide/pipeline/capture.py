"""The capture thread: reads one source as fast as it delivers and hands each frame on.

It never raises (a failing device shows in the pipeline state, not as a dead thread), and it can be
stopped within a deadline even when ``read()`` hangs: the source is closed from another thread,
which releases most stuck device reads, and a thread still stuck is left behind as a daemon.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from usguide.sources.base import FrameSource
from usguide.types import Frame, SourceState

log = logging.getLogger(__name__)

_ERROR_PAUSE_S = 0.05  # pause after a failed read
_IDLE_READ_S = 0.001  # pause after a live source had no new frame
_ENDED_READ_S = 0.02  # pause while a file source has ended
_CLOSE_GRACE_S = 0.5  # a read() in progress usually returns this soon after a stop


class CaptureThread:
    """Reads ``source`` on a daemon thread until stopped.

    Args:
        source: an opened source.
        on_frame: called on the capture thread with each frame.
        on_error: called with a one-line message when ``read()`` raises.
        ended: set while the source reports ENDED, cleared when frames flow again.
    """

    def __init__(
        self,
        source: FrameSource,
        on_frame: Callable[[Frame], None],
        on_error: Callable[[str], None],
        ended: threading.Event,
    ) -> None:
        self.source = source
        self._on_frame, self._on_error, self._ended = on_frame, on_error, ended
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="usguide-capture", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self, deadline: float) -> bool:
        """Stops reading and closes the source without waiting past ``deadline`` (monotonic s).

        Returns: True when the thread ended.
        """
        self._stop.set()
        if self.thread.ident is None:
            close_quietly(self.source)
            return True
        self.thread.join(max(0.0, min(_CLOSE_GRACE_S, deadline - time.monotonic())))
        if not self.thread.is_alive():
            close_quietly(self.source)
        else:
            closer = threading.Thread(
                target=close_quietly, args=(self.source,), name="usguide-close", daemon=True
            )
            closer.start()
            closer.join(max(0.0, deadline - time.monotonic()))
            self.thread.join(max(0.0, deadline - time.monotonic()))
        return not self.thread.is_alive()

    def _loop(self) -> None:
        source, stop = self.source, self._stop
        while not stop.is_set():
            try:
                frame = source.read()
            except Exception as exc:  # a failing device must not kill the thread; state shows it
                self._on_error(f"source read failed: {exc}")
                stop.wait(_ERROR_PAUSE_S)
                continue
            if stop.is_set():
                break
            if frame is None:
                ended = source_state(source) is SourceState.ENDED
                if ended:
                    self._ended.set()
                stop.wait(_ENDED_READ_S if ended else _IDLE_READ_S)
                continue
            self._ended.clear()
            self._on_frame(frame)


def source_state(source: FrameSource) -> SourceState:
    """The source's state; CONNECTED when it cannot say."""
    try:
        return source.state
    except Exception:
        return SourceState.CONNECTED


def close_quietly(source: FrameSource) -> None:
    """Closes a source, logging instead of raising."""
    try:
        source.close()
    except Exception:
        log.exception("closing the source failed")
