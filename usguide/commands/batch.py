"""``usguide batch``: ``usguide analyze`` over an archive of inputs on Dask, resumable.

An embedded ``LocalCluster`` by default, any running scheduler with ``--scheduler ADDR``. Exit
codes: 0 every input done (or already done), 1 some input failed (recorded in the manifest with
its reason; the others went on), 2 a user error (no inputs, bad option, Dask missing).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from usguide.batch.inputs import find_inputs, model_hash
from usguide.batch.segments import SEGMENT_FRAMES, WARMUP_FRAMES
from usguide.batch.worker import AnalyzeOptions
from usguide.checks import MAX_DEPTH_MM, MAX_FPS, MAX_MM_PER_PX, MIN_MM_PER_PX, number_option
from usguide.commands.analyze import result_line
from usguide.detect.factory import add_detector_arguments
from usguide.errors import UsguideError
from usguide.types import Roi


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers ``usguide batch``."""
    parser = subparsers.add_parser(
        "batch",
        help="analyse an archive of inputs on Dask (resumable; one JSONL per input)",
        description="Run `usguide analyze` on every input (session folders, videos, DICOM files, "
        "image folders, or folders searched for them) on a Dask cluster: an embedded local one "
        "by default, or --scheduler tcp://HOST:8786. Writes DIR/results/<input>.jsonl, "
        "DIR/manifest.json and DIR/summary.csv (+ .parquet with pyarrow); with --report also "
        "DIR/metrics/<input>.json and DIR/reports/<input>.html. Inputs already done with the same "
        "input and model hash are skipped. Needs `pip install 'usguide[batch]'`.",
        epilog="examples:\n"
        "  usguide batch archive --out reanalysis --glob '**/*.dcm'\n"
        "  usguide batch sessions/s1 sessions/s2 --out reanalysis --report --workers 2\n"
        "  usguide batch archive --out reanalysis --scheduler tcp://10.0.0.5:8786",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="inputs or folders of them")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="batch folder")
    parser.add_argument(
        "--glob", metavar="PATTERN", help="search folders for PATTERN (e.g. '**/*.dcm')"
    )
    # One inference thread per single-threaded worker: N workers use N cores, no more.
    add_detector_arguments(parser, threads_default=1)
    calibration = parser.add_argument_group("calibration (as for usguide analyze)")
    calibration.add_argument(
        "--roi", metavar="X,Y,W,H", help="image region in pixels (default: each input's own)"
    )
    calibration.add_argument(
        "--mm-per-px",
        type=number_option(MIN_MM_PER_PX, MAX_MM_PER_PX),
        metavar="MM",
        help="region scale (default: each input's own, else none)",
    )
    calibration.add_argument(
        "--depth-mm",
        type=number_option(0.0, MAX_DEPTH_MM, open_low=True),
        metavar="MM",
        help="region height in mm (default: none)",
    )
    calibration.add_argument(
        "--fps",
        type=number_option(0.0, MAX_FPS, open_low=True),
        help="frame rate for image folders (default: 30)",
    )
    parser.add_argument(
        "--no-track", action="store_true", help="report raw per-frame detections (no tracker)"
    )
    dask = parser.add_argument_group("Dask")
    dask.add_argument(
        "--scheduler",
        default="local",
        metavar="ADDR|local",
        help="a running scheduler (tcp://host:8786) or local: an embedded LocalCluster (default)",
    )
    dask.add_argument(
        "--workers",
        type=number_option(1, 1024, integer=True),
        metavar="N",
        help="local worker processes (default: one per core)",
    )
    dask.add_argument(
        "--segment-frames",
        type=number_option(1, 10**9, integer=True),
        default=SEGMENT_FRAMES,
        metavar="F",
        help=f"split inputs longer than 1.5 F frames into ranges of F (default {SEGMENT_FRAMES})",
    )
    dask.add_argument(
        "--warmup-frames",
        type=number_option(0, 10**6, integer=True),
        default=WARMUP_FRAMES,
        metavar="W",
        help=f"frames analysed before each range to re-seed the tracker (default {WARMUP_FRAMES})",
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="also write each input's trainer metrics (JSON) and HTML report (as usguide report; "
        "the metrics become summary columns)",
    )
    parser.add_argument("--force", action="store_true", help="redo inputs already done")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Runs the batch; prints a summary line on stderr; 1 when an input failed."""
    if args.workers is not None and args.workers < 1:
        raise UsguideError(f"bad --workers {args.workers}: must be >= 1")
    if args.segment_frames < 1 or args.warmup_frames < 0:
        raise UsguideError("bad --segment-frames/--warmup-frames: must be >= 1 and >= 0")
    inputs = find_inputs(args.inputs, args.glob)
    options = AnalyzeOptions(
        detector=args.detector,
        model=args.model,
        provider=args.provider,
        threads=args.threads or 1,
        track=not args.no_track,
        roi=Roi.parse(args.roi) if args.roi else None,
        mm_per_px=args.mm_per_px,
        depth_mm=args.depth_mm,
        fps=args.fps,
    )
    model = model_hash(args.detector, args.model)
    from usguide.batch.runner import dashboard_link, dask_client, run_batch  # needs Dask

    with dask_client(args.scheduler, args.workers) as client:
        workers = len(client.scheduler_info().get("workers", {}))
        link = dashboard_link(client)
        sys.stderr.write(
            f"batch: {len(inputs)} inputs on {workers} Dask workers ({client.scheduler.address})"
            + (f", dashboard {link}" if link else "")
            + "\n"
        )
        report = run_batch(
            client,
            inputs,
            args.out,
            options,
            result_line,
            model_hash=model,
            force=args.force,
            segment_frames=args.segment_frames,
            warmup=args.warmup_frames,
            progress=not args.quiet,
            with_reports=args.report,
        )
    for key, reason in report.failed.items():
        sys.stderr.write(f"batch: failed {key}: {reason}\n")
    rate = report.frames / report.wall_s if report.wall_s > 0 else 0.0
    sys.stderr.write(
        f"batch: {len(report.done)} done, {len(report.skipped)} already done, "
        f"{len(report.failed)} failed; {report.frames} frames in {report.wall_s:.1f} s "
        f"({rate:.1f} frames/s) -> {args.out}\n"
    )
    return 1 if report.failed else 0
