"""The one interface every frame source implements: open, read, close, info (seek when recorded).

``WrappedSource`` passes that interface through to an inner source for wrappers to build on.
"""

from __future__ import annotations

import abc

from usguide.errors import UsguideError
from usguide.types import Frame, SourceInfo, SourceState


class UndecodableFrame(UsguideError):
    """One frame of a recorded source cannot be decoded (a corrupt image or packet): the source
    skips it and counts it in ``skipped``; it is never the silent end of the source."""


class FrameSource(abc.ABC):
    """A stream of frames: a capture device, a file, a DICOM cine, a recording or the simulator.

    Use as a context manager or call ``open()``/``close()``. ``read()`` returns the next frame, or
    None when no new frame is available yet (live sources) or the source has ended (see ``state``).
    Sources never import Qt and never draw; they only deliver frames.
    """

    @property
    @abc.abstractmethod
    def info(self) -> SourceInfo:
        """What this source is. Valid after ``open()``."""

    @abc.abstractmethod
    def open(self) -> None:
        """Acquires the device or file. Raises UsguideError with a clear message on failure."""

    @abc.abstractmethod
    def read(self) -> Frame | None:
        """Returns the next frame, or None (no new frame yet, or ended: see ``state``)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Releases everything. Idempotent."""

    @property
    def state(self) -> SourceState:
        """Connection state; live sources override this."""
        return SourceState.CONNECTED

    @property
    def seekable(self) -> bool:
        """True for recorded sources that support ``seek``."""
        return False

    def seek(self, index: int) -> None:
        """Positions the source so the next ``read()`` returns frame ``index`` exactly."""
        raise NotImplementedError(f"{type(self).__name__} cannot seek")

    @property
    def delivering(self) -> bool:
        """Whether frames are expected now; a paused replay says False so that the pipeline's
        stall watch leaves it alone."""
        return True

    @property
    def skipped(self) -> int:
        """Frames of a recorded source that could not be decoded and were skipped (0 when none
        or not known); commands report them so a partial result is never silent."""
        return 0

    def __enter__(self) -> FrameSource:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class WrappedSource(FrameSource):
    """A source that wraps another: ``info``, ``state``, ``open``, ``close`` and ``read`` pass
    through to ``inner``; subclasses override what they change. Not seekable unless a subclass
    says so (a wrapper that renumbers frames cannot seek).
    """

    def __init__(self, inner: FrameSource) -> None:
        self.inner = inner

    @property
    def info(self) -> SourceInfo:
        return self.inner.info

    @property
    def state(self) -> SourceState:
        return self.inner.state

    def open(self) -> None:
        self.inner.open()

    def read(self) -> Frame | None:
        return self.inner.read()

    @property
    def skipped(self) -> int:
        return self.inner.skipped

    def close(self) -> None:
        self.inner.close()
