"""Feeds every captured frame to the recorder in capture order, with its own result when any.

Frames wait here (a few, bounded) until the worker has analysed them or they were dropped by the
newest-frame slot, so a recording keeps every frame it can write and pairs each with its own
detection.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from usguide.types import Frame

log = logging.getLogger(__name__)


class Recorder(Protocol):
    """What records frames (``SessionWriter``): takes a frame and its result JSON, never blocks."""

    def write(self, frame: Frame, result: dict | None = None) -> bool:
        """Queues one frame; False when it was refused (full queue, bad frame)."""
        ...


@dataclass(slots=True)
class _Pending:
    """A captured frame waiting for its result (or for the news that it was dropped)."""

    frame: Frame
    result: dict | None
    resolved: bool


class RecorderFeed:
    """Orders frames for ``recorder.write(frame, result_json | None)``.

    Args:
        recorder: the ``Recorder`` (``SessionWriter``).
        max_pending: frames held while their result is pending; beyond that the oldest is written
            without a result, so a stuck analyzer never holds frames back for long.
        await_results: False when no analyzer runs (frames are written at once).
    """

    def __init__(
        self, recorder: Recorder, *, max_pending: int = 16, await_results: bool = True
    ) -> None:
        self.recorder = recorder
        self.max_pending = max(1, max_pending)
        self.await_results = await_results
        self.written = 0
        self.refused = 0
        self._lock = threading.Lock()
        self._pending: deque[_Pending] = deque()
        self._warned = False

    def captured(self, frame: Frame) -> None:
        """A new frame from the capture thread."""
        with self._lock:
            self._pending.append(_Pending(frame, None, not self.await_results))
            self._flush(force_over=self.max_pending)

    def resolved(self, frame: Frame, result_json: dict | None) -> None:
        """The frame was analysed (with its result) or dropped (None)."""
        with self._lock:
            for entry in self._pending:
                if entry.frame is frame:
                    entry.result, entry.resolved = result_json, True
                    break
            self._flush(force_over=self.max_pending)

    def flush_all(self) -> None:
        """Writes everything still pending (on stop or source switch)."""
        with self._lock:
            self._flush(force_over=0)

    def _flush(self, force_over: int) -> None:
        while self._pending and (self._pending[0].resolved or len(self._pending) > force_over):
            entry = self._pending.popleft()
            try:
                ok = self.recorder.write(entry.frame, entry.result)
            except Exception:  # the recorder must never break capture
                ok = False
                if not self._warned:
                    log.exception("recorder.write failed; frames are not being recorded")
                    self._warned = True
            if ok is False:
                self.refused += 1
            else:
                self.written += 1
