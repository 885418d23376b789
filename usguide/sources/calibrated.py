"""``CalibratedSource``: the user's image region and scale stamped on every frame of a source.

The one place where a frame's calibration is decided: the user's choices (``--roi``,
``--mm-per-px``, ``--depth-mm``, or the display's region and depth controls) over the source's own.
"""

from __future__ import annotations

from usguide.errors import UsguideError
from usguide.sources.base import FrameSource, WrappedSource
from usguide.types import Calibration, Frame, Roi


class CalibratedSource(WrappedSource):
    """Wraps a source and replaces each frame's calibration with the user's region and scale.

    Args:
        inner: the wrapped source.
        roi: image region; replaces the source's own when given.
        mm_per_px: scale; replaces the source's own when given.
        depth_mm: the image region's height in mm; gives ``mm_per_px = depth_mm / region height``
            (the frame height when no region is known).
        scale_source: where the given scale came from ("user": typed; "ruler": read off the
            screen's depth ruler).
    """

    def __init__(
        self,
        inner: FrameSource,
        *,
        roi: Roi | None = None,
        mm_per_px: float | None = None,
        depth_mm: float | None = None,
        scale_source: str = "user",
    ) -> None:
        if mm_per_px is not None and not mm_per_px > 0:
            raise UsguideError(f"bad --mm-per-px {mm_per_px}: the scale must be > 0")
        if depth_mm is not None and not depth_mm > 0:
            raise UsguideError(f"bad --depth-mm {depth_mm}: the depth must be > 0")
        if mm_per_px is not None and depth_mm is not None:
            raise UsguideError("give either --mm-per-px or --depth-mm, not both")
        super().__init__(inner)
        self.roi = roi
        self.mm_per_px = mm_per_px
        self.depth_mm = depth_mm
        self.scale_source = scale_source
        # The source's own calibration and height of the newest frame (one tuple: read and
        # replaced whole, so another thread never sees half of it).
        self._latest: tuple[Calibration, int] | None = None

    @property
    def seekable(self) -> bool:
        return self.inner.seekable

    def seek(self, index: int) -> None:
        self.inner.seek(index)

    def open(self) -> None:
        self.inner.open()
        if self.roi is not None:
            try:
                self.roi.check_inside(self.inner.info.width, self.inner.info.height)
            except UsguideError:
                self.inner.close()
                raise

    def read(self) -> Frame | None:
        frame = self.inner.read()
        if frame is not None:
            self._latest = (frame.calibration, frame.height)
            frame.calibration = self.calibrate(frame.calibration, frame.height)
        return frame

    @property
    def current(self) -> Calibration:
        """The calibration a frame gets now: the user's values (as changed since the newest frame)
        over the source's own for that frame; before any frame, the user's alone."""
        latest = self._latest
        if latest is None:
            return self.calibrate(Calibration(), self.inner.info.height)
        return self.calibrate(*latest)

    def calibrate(self, own: Calibration, frame_height: int) -> Calibration:
        """The calibration a frame gets: the user's values where given, the source's otherwise."""
        roi = self.roi or own.roi
        scale, source = own.mm_per_px, own.scale_source
        if self.mm_per_px is not None:
            scale, source = self.mm_per_px, self.scale_source
        elif self.depth_mm is not None:
            scale = self.depth_mm / (roi.h if roi is not None else frame_height)
            source = self.scale_source
        return Calibration(mm_per_px=scale, roi=roi, scale_source=source)
