"""``make_source(spec, ...)``: turns an input spec into a FrameSource; the shared CLI options."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from usguide.checks import MAX_DEPTH_MM, MAX_FPS, MAX_MM_PER_PX, MIN_MM_PER_PX, number_option
from usguide.errors import UsguideError
from usguide.sources.base import FrameSource
from usguide.sources.calibrated import CalibratedSource
from usguide.types import Roi

__all__ = ["CalibratedSource", "add_source_arguments", "is_live", "make_source", "source_from_args"]

_DEVICE_SPEC = re.compile(r"^(device:\d+|/dev/video\d+)$")
_SIM_SPEC = re.compile(r"^(sim|simulator)(:(?P<variant>[\w-]+))?$")
_IGT_SPEC = re.compile(r"^igtl://")


def is_live(spec: str) -> bool:
    """True when ``spec`` names a live source: a capture device, the simulator (``sim``,
    ``sim:VARIANT``, ``simulator``) or an OpenIGTLink stream (``igtl://``). A file whose name
    merely starts with ``sim`` is recorded."""
    return bool(_DEVICE_SPEC.match(spec) or _SIM_SPEC.match(spec) or _IGT_SPEC.match(spec))


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
    if _IGT_SPEC.match(spec):  # OpenIGTLink IMAGE stream (PlusServer, Slicer)
        from usguide.sources.igt import IgtSource

        return IgtSource(spec)
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
    if not path.is_dir() and not path.is_file():
        # A named pipe, socket or device node: opening it as a data file could block for ever.
        raise UsguideError(
            f"{spec} is not a regular file (a pipe, socket or device?) — give a video, DICOM, "
            "image folder or recording"
        )
    if path.is_dir():
        if (path / "meta.json").exists():
            return _recording(path, realtime, loop)
        from usguide.sources.images import ImageFolderSource

        return ImageFolderSource(path, fps=fps, realtime=realtime, loop=loop)
    from usguide.sources.dicom import DicomSource, is_dicom_file

    if is_dicom_file(path):
        return DicomSource(path, fps=fps, realtime=realtime, loop=loop)
    from usguide.record.seqfile import is_sequence_file

    if is_sequence_file(path):  # PLUS/Slicer .mha, .seq.nrrd
        from usguide.sources.seqfile import SequenceFileSource

        return SequenceFileSource(path, fps=fps, realtime=realtime, loop=loop)
    from usguide.sources.video import VideoSource

    return VideoSource(path, realtime=realtime, loop=loop, fps=fps)


def _recording(path: Path, realtime: bool, loop: bool) -> FrameSource:
    from usguide.sources.recording import RecordingSource

    return RecordingSource(path, realtime=realtime, loop=loop)


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the options every command that reads frames shares."""
    group = parser.add_argument_group("input")
    group.add_argument(
        "--roi",
        metavar="X,Y,W,H",
        help="image region inside the frame, in pixels (default: the input's own region, e.g. "
        "a DICOM's or a session's, else the whole frame)",
    )
    group.add_argument(
        "--mm-per-px",
        type=number_option(MIN_MM_PER_PX, MAX_MM_PER_PX),
        metavar="MM",
        help="scale of the image region (default: the input's own, e.g. a DICOM's, else none: "
        "results in pixels only)",
    )
    group.add_argument(
        "--depth-mm",
        type=number_option(0.0, MAX_DEPTH_MM, open_low=True),
        metavar="MM",
        help="imaging depth: the region's height in mm; another way to give the scale "
        "(default: none)",
    )
    group.add_argument(
        "--fps",
        type=number_option(0.0, MAX_FPS, open_low=True),
        help="frame rate for image folders (default 30)",
    )
    group.add_argument(
        "--backend",
        default="any",
        choices=("any", "v4l2", "dshow", "msmf", "avfoundation"),
        help="capture backend for devices (default: any, OpenCV's choice for this system)",
    )
    group.add_argument(
        "--realtime", action="store_true", help="play files at recorded speed (default: flat out)"
    )
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
