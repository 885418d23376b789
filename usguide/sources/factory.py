"""``make_source(spec, ...)``: turns an input spec into a FrameSource; the shared CLI options."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from usguide.errors import UsguideError
from usguide.sources.base import FrameSource, WrappedSource
from usguide.types import Calibration, Frame, Roi

_DEVICE_SPEC = re.compile(r"^(device:\d+|/dev/video\d+)$")
_SIM_SPEC = re.compile(r"^(sim|simulator)(:(?P<variant>[\w-]+))?$")


class CalibratedSource(WrappedSource):
    """Wraps a source and replaces each frame's calibration with the user's region and scale.

    Args:
        inner: the wrapped source.
        roi: image region; replaces the source's own when given.
        mm_per_px: scale; replaces the source's own when given.
        depth_mm: the image region's height in mm; gives ``mm_per_px = depth_mm / region height``
            (the frame height when no region is known).
    """

    def __init__(
        self,
        inner: FrameSource,
        *,
        roi: Roi | None = None,
        mm_per_px: float | None = None,
        depth_mm: float | None = None,
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
            frame.calibration = self.calibrate(frame.calibration, frame.height)
        return frame

    def calibrate(self, own: Calibration, frame_height: int) -> Calibration:
        """The calibration a frame gets: the user's values where given, the source's otherwise."""
        roi = self.roi or own.roi
        scale = own.mm_per_px
        if self.mm_per_px is not None:
            scale = self.mm_per_px
        elif self.depth_mm is not None:
            scale = self.depth_mm / (roi.h if roi is not None else frame_height)
        return Calibration(mm_per_px=scale, roi=roi)


def make_source(
    spec: str,
    *,
    roi: Roi | None = None,
    mm_per_px: float | None = None,
    depth_mm: float | None = None,
    fps: float | None = None,
    realtime: bool = False,
    loop: bool = False,
    backend: str = "any",
) -> FrameSource:
    """Builds the (unopened) source for an input spec.

    Spec forms: ``device:N`` or ``/dev/videoN`` (capture device); ``sim``, ``sim:VARIANT`` or
    ``simulator`` (simulator); ``demo`` (bundled recording); a recording folder (has ``meta.json``);
    a folder of images; a DICOM file (``.dcm`` or ``DICM`` marker); any other file (video).

    Raises:
        UsguideError: when the path does not exist or an option is invalid.
    """
    source = _make_inner(spec, fps=fps, realtime=realtime, loop=loop, backend=backend)
    if roi is None and mm_per_px is None and depth_mm is None:
        return source
    return CalibratedSource(source, roi=roi, mm_per_px=mm_per_px, depth_mm=depth_mm)


def _make_inner(
    spec: str, *, fps: float | None, realtime: bool, loop: bool, backend: str
) -> FrameSource:
    if fps is not None and not fps > 0:
        raise UsguideError(f"bad --fps {fps}: must be > 0")
    if _DEVICE_SPEC.match(spec):
        from usguide.sources.device import DeviceSource

        return DeviceSource(spec, backend=backend, fps=fps)
    sim = _SIM_SPEC.match(spec)
    if sim:
        from usguide.sources.simulator import SimulatorSource

        variant = sim.group("variant")
        return SimulatorSource(**({"variant": variant} if variant else {}), realtime=True)
    if spec == "demo":
        from usguide.paths import demo_recording_path

        path = demo_recording_path()
        if not (path / "meta.json").exists():
            raise UsguideError(f"the demo recording is missing at {path} — reinstall usguide")
        return _recording(path, realtime, loop)
    path = Path(spec).expanduser()
    if not path.exists():
        raise UsguideError(
            f"input not found: {spec} — give a video, DICOM, image folder, recording, "
            "device:N or sim"
        )
    if path.is_dir():
        if (path / "meta.json").exists():
            return _recording(path, realtime, loop)
        from usguide.sources.images import ImageFolderSource

        return ImageFolderSource(path, fps=fps, realtime=realtime, loop=loop)
    from usguide.sources.dicom import DicomSource, is_dicom_file

    if is_dicom_file(path):
        return DicomSource(path, fps=fps, realtime=realtime, loop=loop)
    from usguide.sources.video import VideoSource

    return VideoSource(path, realtime=realtime, loop=loop, fps=fps)


def _recording(path: Path, realtime: bool, loop: bool) -> FrameSource:
    from usguide.record.reader import RecordingSource

    return RecordingSource(path, realtime=realtime, loop=loop)


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the options every command that reads frames shares."""
    group = parser.add_argument_group("input")
    group.add_argument("--roi", metavar="X,Y,W,H", help="image region inside the frame (pixels)")
    group.add_argument("--mm-per-px", type=float, metavar="MM", help="scale of the image region")
    group.add_argument(
        "--depth-mm", type=float, metavar="MM", help="imaging depth: the region's height in mm"
    )
    group.add_argument("--fps", type=float, help="frame rate for image folders (default 30)")
    group.add_argument(
        "--backend",
        default="any",
        choices=("any", "v4l2", "dshow", "msmf", "avfoundation"),
        help="capture backend for devices",
    )
    group.add_argument("--realtime", action="store_true", help="play files at recorded speed")
    group.add_argument("--loop", action="store_true", help="restart files at the end")


def source_from_args(args: argparse.Namespace, spec: str) -> FrameSource:
    """``make_source`` with the options added by ``add_source_arguments``."""
    roi_text = getattr(args, "roi", None)
    return make_source(
        spec,
        roi=Roi.parse(roi_text) if roi_text else None,
        mm_per_px=getattr(args, "mm_per_px", None),
        depth_mm=getattr(args, "depth_mm", None),
        fps=getattr(args, "fps", None),
        realtime=bool(getattr(args, "realtime", False)),
        loop=bool(getattr(args, "loop", False)),
        backend=getattr(args, "backend", "any") or "any",
    )
