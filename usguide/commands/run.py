"""``usguide run``: the live guidance display.

With ``--screenshot`` it paints N frames offscreen, saves a PNG of the window and exits.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from usguide.checks import number_option
from usguide.defaults import BUDGET_MS, DISPLAY_MODES, IGTL_PORT
from usguide.detect.factory import add_detector_arguments
from usguide.errors import UsguideError
from usguide.sources.factory import add_source_arguments
from usguide.types import Roi

if TYPE_CHECKING:  # the server (and pyigtl) load only with --igtl
    from usguide.igt.server import IgtServer


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="open the guidance display",
        description="Shows the ultrasound image with the detected needle, its projected path "
        "and the latency. Without --source it plays the bundled demo recording (or the simulator).",
        epilog="examples:\n"
        "  usguide run\n"
        "  usguide run --source device:0 --roi 120,80,800,600 --depth-mm 40 --record sessions\n"
        "  usguide run --source sim --screenshot shot.png --frames 30",
    )
    parser.add_argument(
        "--source",
        metavar="SPEC",
        default=None,
        help="device:N, a video, DICOM, image folder or recording, sim, demo (default: demo)",
    )
    add_source_arguments(parser)
    add_detector_arguments(parser)
    parser.add_argument(
        "--budget-ms",
        type=number_option(0.0, 60000.0, open_low=True),
        default=None,
        help=f"latency budget (default: the one remembered for the source, else {BUDGET_MS:g})",
    )
    parser.add_argument(
        "--record", metavar="DIR", type=Path, help="folder for recordings (R starts one)"
    )
    parser.add_argument(
        "--display-mode",
        choices=DISPLAY_MODES,
        default=None,
        help="paired: overlay on its own frame; lowest-latency: newest frame with the last overlay "
        f"(default: the one remembered for the source, else {DISPLAY_MODES[0]})",
    )
    parser.add_argument(
        "--screenshot", metavar="OUT.png", type=Path, help="paint --frames frames, save, exit"
    )
    parser.add_argument(
        "--frames",
        type=number_option(1, 10**6, integer=True),
        default=30,
        help="frames to show before --screenshot",
    )
    parser.add_argument(
        "--igtl",
        nargs="?",
        type=number_option(1, 65535, integer=True),
        const=IGTL_PORT,
        default=None,
        metavar="PORT",
        help=f"stream each result over OpenIGTLink to 3D Slicer or PLUS (default port {IGTL_PORT})",
    )
    parser.add_argument(
        "--igtl-bind",
        metavar="ADDR",
        default=None,
        help="with --igtl: the address to listen on (default 127.0.0.1, this machine only)",
    )
    parser.add_argument(
        "--keep-burned-in",
        action="store_true",
        help="snapshots and recordings of a DICOM keep the text outside the image region "
        "(default: masked black)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.budget_ms is not None and args.budget_ms <= 0:
        raise UsguideError(f"bad --budget-ms {args.budget_ms}: must be > 0")
    if args.frames < 1:
        raise UsguideError(f"bad --frames {args.frames}: must be >= 1")
    from usguide.gui.app import run_gui  # Qt only when the display really starts
    from usguide.gui.recall import given_options
    from usguide.gui.runtime import RuntimeOptions, default_spec
    from usguide.settings import SettingsStore

    # What the command line leaves out comes from the settings file, as last time for this source
    # (usguide config); a screenshot run reads it and writes nothing.
    settings = SettingsStore(read_only=args.screenshot is not None)
    given = given_options(
        args.roi, args.mm_per_px, args.depth_mm, args.budget_ms, args.display_mode
    )
    remembered = settings.recall(args.source or default_spec(), args.backend, given)
    if remembered.describe():
        sys.stderr.write(
            f"usguide: remembered {remembered.describe()} for {remembered.label} "
            "(usguide config reset forgets it)\n"
        )
    options = RuntimeOptions(
        spec=args.source,
        roi=Roi.parse(args.roi) if args.roi else None,
        mm_per_px=args.mm_per_px,
        depth_mm=args.depth_mm,
        fps=args.fps,
        backend=args.backend,
        detector=args.detector,
        model=args.model,
        provider=args.provider,
        threads=args.threads,
        budget_ms=args.budget_ms or remembered.budget_ms or BUDGET_MS,
        display_mode=args.display_mode or remembered.display_mode or DISPLAY_MODES[0],
        record_dir=args.record,
        keep_burned_in=args.keep_burned_in,
        settings=settings,
    )
    server = _start_igtl(args)  # on the main thread, before the display: a bad port fails fast
    if server is None:
        return run_gui(options, screenshot=args.screenshot, frames=args.frames)
    options.result_consumers.append(server.publish)
    try:
        return run_gui(
            options,
            screenshot=args.screenshot,
            frames=args.frames,
            attach=lambda runtime: server.follow(lambda: runtime.state, runtime.stale_after_ms),
        )
    finally:
        server.stop()


def _start_igtl(args: argparse.Namespace) -> IgtServer | None:
    """The OpenIGTLink server of ``--igtl`` (None without it), listening."""
    if args.igtl is None:
        if args.igtl_bind is not None:
            raise UsguideError("--igtl-bind needs --igtl [PORT]")
        return None
    from usguide.igt.server import LOOPBACK, IgtServer

    server = IgtServer(args.igtl, args.igtl_bind or LOOPBACK).start()
    sys.stderr.write(
        f"usguide: OpenIGTLink on {server.bind}:{server.port} (Image, NeedleTipToImage, Needle, "
        "NeedleStatus)\n"
    )
    return server
