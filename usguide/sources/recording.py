"""A recorded session replayed as a ``FrameSource``: adapts ``usguide.record.reader.SessionReader``
to ``IndexedSource`` (exact seek, optional real-time pacing, loop) and exposes recorded results."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from usguide.errors import UsguideError
from usguide.record.reader import SessionReader
from usguide.sources.indexed import IndexedSource
from usguide.types import Calibration, SourceInfo


class RecordingSource(IndexedSource):
    """Replays a session as a ``FrameSource``: exact ``seek``, optional real-time pacing, looping.

    Frames carry the session position as ``index``, the time they were read now as ``t_capture_ns``
    (for latency) and the recorded source timestamp as ``source_ms``; the recorded capture times
    are in ``reader.t_capture_ns`` and pace ``realtime`` replay. ``results_for(index)`` gives the
    recorded detector output.
    """

    def __init__(self, path: str | Path, realtime: bool = False, loop: bool = False) -> None:
        super().__init__(realtime=realtime, loop=loop)
        self.path = Path(path)
        self.reader: SessionReader | None = None

    def open(self) -> None:
        if self.reader is None:
            super().open()

    @property
    def skipped(self) -> int:
        """frames.csv rows after a damaged one: listed frames the session cannot use."""
        return self.reader.rows_ignored if self.reader is not None else 0

    def results_for(self, index: int) -> dict | None:
        """The recorded result of frame ``index`` (a dict), or None."""
        return self._require_open().result(index)

    # -- IndexedSource ---------------------------------------------------------------------------
    def _open(self) -> SourceInfo:
        reader = SessionReader(self.path)
        if reader.frame_count == 0:
            reader.close()
            raise UsguideError(f"session {self.path} holds no frames; record a new one")
        self.reader = reader
        return SourceInfo(
            name=self.path.name,
            kind="recording",
            width=reader.width,
            height=reader.height,
            fps=reader.fps,
            live=False,
            frame_count=reader.frame_count,
        )

    def _decode(self, index: int) -> np.ndarray:
        reader = self._require_open()
        reader.seek(index)  # returns at once when the decoder is already there
        return reader.read_next()

    def _source_ms(self, index: int) -> float:
        return float(self._require_open().source_ms[index])

    def _pace_ms(self, index: int) -> float:
        # The recorded capture clock, relative to the first frame (keeps ns precision in a float).
        t_ns = self._require_open().t_capture_ns
        return (int(t_ns[index]) - int(t_ns[0])) / 1e6

    def _calibration(self) -> Calibration:
        return self._require_open().calibration

    def _position(self, index: int) -> None:
        self._require_open().seek(index)

    def _check_index(self, index: int) -> None:
        self._require_open().check_index(index)

    def _release(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None

    def _not_open_error(self, what: str) -> Exception:
        return UsguideError("recording source is not open; call open() first")

    def _require_open(self) -> SessionReader:
        if self.reader is None:
            raise self._not_open_error("reader")
        return self.reader
