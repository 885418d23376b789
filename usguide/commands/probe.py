"""``usguide probe INPUT``: print what an input is (size, rate, frames, calibration) as JSON."""

from __future__ import annotations

import argparse
import itertools
import json

from usguide.sources.factory import add_source_arguments, source_from_args
from usguide.sources.frames import iter_frames

_DETECT_FRAMES = 8  # frames read for region detection (speckle changes across them)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers ``probe``."""
    parser = subparsers.add_parser(
        "probe", help="describe an input (video, DICOM, folder, recording, device) as JSON"
    )
    parser.add_argument("input", help="video, DICOM, image folder, recording, device:N, sim, demo")
    parser.add_argument(
        "--detect-roi",
        action="store_true",
        help="detect the ultrasound image region in the first frames",
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
            "roi": calibration.roi.as_list()
            if calibration is not None and calibration.roi
            else None,
        }
        if args.detect_roi:
            from usguide.sources.roi_detect import detect_roi

            result["roi_detected"] = (
                detect_roi([f.image for f in frames]).as_list() if frames else None
            )
    return result
