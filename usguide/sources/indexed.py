"""Recorded sources of a known number of frames addressed by index: pacing, loop, exact seek.

Video files, image folders, DICOM cines and recorded sessions share this machinery; each only says
how to open, how to decode frame ``i``, its source time and its calibration.
"""

from __future__ import annotations

import abc
import logging
import time

import numpy as np

from usguide.errors import UsguideError
from usguide.sources.base import FrameSource, UndecodableFrame
from usguide.sources.pacing import Pacer
from usguide.types import Calibration, Frame, SourceInfo, SourceState

log = logging.getLogger(__name__)


class IndexedSource(FrameSource):
    """A recorded source of ``info.frame_count`` frames addressed by index.

    ``read()`` returns the frames in order from the position set by ``seek`` (frame 0 after
    ``open()``), at their recorded speed when ``realtime``, from frame 0 again after the last one
    when ``loop``; otherwise the source is ``ENDED`` after the last frame until the next ``seek``.
    Frames carry their index, ``t_capture_ns`` taken when delivered, their source time and the
    source's calibration.

    Subclasses implement ``_open`` (returns the SourceInfo), ``_decode(i)``, ``_source_ms(i)`` and,
    when they have them, ``_calibration()``, ``_release()`` and ``_position(i)``. ``seek``
    checks the index, then calls ``_position`` at once, so a sequential decoder can reposition
    there and keep its fast path for ``i == last + 1`` in ``_decode``.

    Args:
        realtime: deliver frames at their recorded times (see ``Pacer``).
        loop: start again from the first frame at the end.
    """

    def __init__(self, *, realtime: bool = False, loop: bool = False) -> None:
        self.loop = loop
        self._pacer = Pacer(realtime)
        self._info: SourceInfo | None = None
        self._frame_count = 0
        self._is_open = False
        self._next = 0  # index of the frame the next read() returns
        self._ended = False
        self._skipped: set[int] = set()  # indices that raised UndecodableFrame

    # -- subclass hooks -----------------------------------------------------------------------
    @abc.abstractmethod
    def _open(self) -> SourceInfo:
        """Opens the file(s) and returns what the source is (with ``frame_count`` >= 1).

        Raises UsguideError with a clear message on failure, having released what it acquired.
        """

    @abc.abstractmethod
    def _decode(self, index: int) -> np.ndarray | None:
        """The image of frame ``index`` (a valid index); None when it unexpectedly cannot be
        decoded (the source then ends). Raises ``UndecodableFrame`` for a frame to skip (counted),
        UsguideError for a user-facing problem with the whole file."""

    @abc.abstractmethod
    def _source_ms(self, index: int) -> float:
        """Frame ``index``'s time in the source, in ms."""

    def _pace_ms(self, index: int) -> float:
        """The time ``realtime`` pacing follows for frame ``index`` (default: the source time)."""
        return self._source_ms(index)

    def _calibration(self) -> Calibration:
        """The calibration frames carry (default: none known)."""
        return Calibration()

    def _position(self, index: int) -> None:
        """Called by ``seek`` with a valid index: sequential decoders reposition here."""

    def _release(self) -> None:
        """Releases what ``_open`` acquired. Idempotent."""

    def _check_index(self, index: int) -> None:
        """Raises UsguideError when ``index`` is not a frame of the source."""
        if not 0 <= index < self._frame_count:
            raise UsguideError(
                f"frame {index} is outside {self.info.name} (0..{self._frame_count - 1})"
            )

    def _not_open_error(self, what: str) -> Exception:
        """The error for using ``what`` (``info``, ``read()``, ``seek()``) before ``open()``."""
        name = type(self).__name__
        if what == "info":
            return RuntimeError(f"{name}.info is valid after open()")
        return RuntimeError(f"{name}.{what} before open()")

    # -- FrameSource --------------------------------------------------------------------------
    @property
    def info(self) -> SourceInfo:
        if self._info is None:
            raise self._not_open_error("info")
        return self._info

    @property
    def state(self) -> SourceState:
        return SourceState.ENDED if self._ended else SourceState.CONNECTED

    @property
    def seekable(self) -> bool:
        return True

    @property
    def skipped(self) -> int:
        """Distinct frames that could not be decoded and were skipped."""
        return len(self._skipped)

    @property
    def realtime(self) -> bool:
        """Whether frames are delivered at their recorded speed."""
        return self._pacer.realtime

    @realtime.setter
    def realtime(self, value: bool) -> None:
        self._pacer.realtime = value

    def open(self) -> None:
        info = self._open()
        self._info = info
        self._frame_count = int(info.frame_count or 0)
        self._is_open = True
        self._next = 0
        self._ended = False
        self._pacer.reset()

    def read(self) -> Frame | None:
        self._check_open("read()")
        for _ in range(self._frame_count + 1):  # bounded: each pass skips one frame or returns
            if self._next >= self._frame_count:
                if not self.loop:
                    self._ended = True
                    return None
                if len(self._skipped) >= self._frame_count:
                    break  # looping over a source none of whose frames decode
                self.seek(0)
            index = self._next
            try:
                return self._deliver(index)
            except UndecodableFrame as exc:
                if index not in self._skipped:
                    self._skipped.add(index)
                    log.warning("skipping frame %d: %s", index, exc)
                self._next = index + 1
        raise UsguideError(
            f"none of the {self._frame_count} frames of {self.info.name} can be decoded — "
            "the file is corrupt"
        )

    def _deliver(self, index: int) -> Frame | None:
        image = self._decode(index)
        if image is None:
            self._ended = True
            return None
        self._next = index + 1
        self._pacer.wait(self._pace_ms(index))
        return Frame(
            image=image,
            index=index,
            t_capture_ns=time.perf_counter_ns(),
            source_ms=self._source_ms(index),
            calibration=self._calibration(),
        )

    def seek(self, index: int) -> None:
        self._check_open("seek()")
        self._check_index(index)
        self._ended = False
        self._pacer.reset()  # no catch-up after a jump: the next frame is delivered at once
        self._position(index)
        self._next = index

    def close(self) -> None:
        self._release()
        self._is_open = False
        self._ended = True

    def _check_open(self, what: str) -> None:
        if not self._is_open:
            raise self._not_open_error(what)
