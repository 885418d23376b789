"""``usguide probe INPUT``: print what an input is (size, rate, frames, calibration) as JSON."""

from __future__ import annotations

import argparse
import itertools
import json

from usguide.sources.factory import add_source_arguments, source_from_args
from usguide.sources.frames import iter_frames
from usguide.types import Calibration

_DETECT_FRAMES = 8  # frames read for region detection (speckle changes across them)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers ``probe``."""
    parser = subparsers.add_parser(
        "probe",
        help="describe an input (video, DICOM, folder, recording, device) as JSON",
        description="Open INPUT and print one JSON object: source kind, frame size, fps, frame "
        "count, skipped frames, mm per pixel and where it came from (dicom, ruler, user, source, "
        "unknown) and the image region. Nothing is analysed.",
        epilog="examples:\n"
        "  usguide probe cine.dcm\n"
        "  usguide probe capture.mp4 --detect-roi\n"
        "  usguide probe device:0 --backend v4l2",
    )
    parser.add_argument(
        "input",
        metavar="INPUT",
        help="video, DICOM, image folder, recording, device:N, sim, demo",
    )
    parser.add_argument(
        "--detect-roi",
        action="store_true",
        help="detect the ultrasound image region and read the scale off a depth ruler in the "
        "first frames",
    )
    add_source_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Opens the input, reads its first frame(s) and prints one JSON object."""
    print(json.dumps(probe(args)))
    return 0


def probe(args: argparse.Namespace) -> dict:
    """The description ``usguide probe`` prints."""
    source = source_from_args(args, args.input)
    with source:
        info = source.info
        wanted = _DETECT_FRAMES if args.detect_roi else 1
        # A live source gets a bounded number of reads, back to back, to deliver its first frames.
        reads = iter_frames(source, end_on_lost=False, idle_s=0.0, max_reads=wanted * 50)
        frames = list(itertools.islice(reads, wanted))
        calibration = frames[0].calibration if frames else None
        result = {
            "kind": info.kind,
            "name": info.name,
            "width": info.width,
            "height": info.height,
            "fps": round(float(info.fps), 3),
            "frame_count": info.frame_count,
            "live": info.live,
            "mm_per_px": (
                round(calibration.mm_per_px, 6)
                if calibration is not None and calibration.mm_per_px is not None
                else None
            ),
            "scale_source": calibration.scale_from if calibration is not None else "unknown",
            "roi": calibration.roi.as_list()
            if calibration is not None and calibration.roi
            else None,
        }
        if frames:  # what the frames really are, whatever a file's header or meta.json claims
            result["height"], result["width"] = (int(v) for v in frames[0].image.shape[:2])
        if source.skipped:
            result["frames_skipped"] = source.skipped  # undecodable or unusable, counted
        if args.detect_roi:
            result.update(_detect(args, [f.image for f in frames], calibration))
    return result


def _detect(args: argparse.Namespace, images: list, calibration: Calibration | None) -> dict:
    """The detected image region and the depth ruler's scale (which fills an unknown scale)."""
    from usguide.sources.roi_detect import detect_roi
    from usguide.sources.ruler import check_depth, read_ruler

    if not images:
        return {"roi_detected": None, "ruler": None}
    roi = detect_roi(images)
    region = calibration.roi if calibration is not None and calibration.roi else roi
    reading = read_ruler(images, region, depth_mm=getattr(args, "depth_mm", None))
    out: dict = {
        "roi_detected": roi.as_list(),
        "ruler": reading.scale.to_json() if reading.scale is not None else None,
        "ruler_message": reading.message,
    }
    scale = reading.scale
    if scale is None:
        return out
    if calibration is None or calibration.mm_per_px is None:
        out["mm_per_px"] = round(scale.mm_per_px, 6)
        out["scale_source"] = "ruler"
    else:
        # A typed or recorded scale stays; the ruler only checks it.
        typed = getattr(args, "depth_mm", None)
        depth = typed if typed else calibration.mm_per_px * region.h
        warning = check_depth(scale.mm_per_px, region.h, depth)
        if warning:
            out["scale_warning"] = warning
    return out
