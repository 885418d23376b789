"""``usguide bench``: the full pipeline headless; per-stage and end-to-end latency, throughput.

``--compare`` runs several configurations one after another and prints them side by side; ``--soak``
runs for a duration, sampling memory and latency (the one-hour soak test: ``--soak 3600 --fps 30``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from usguide import __version__
from usguide.checks import MAX_FPS, number_option
from usguide.defaults import BUDGET_MS
from usguide.errors import UsguideError
from usguide.pipeline.bench import BenchConfig, run_bench
from usguide.pipeline.bench_report import format_compare, format_report, system_info
from usguide.progress import Progress


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers ``usguide bench``."""
    parser = subparsers.add_parser(
        "bench",
        help="measure pipeline latency and throughput headless",
        description="Run the full pipeline headless on INPUT (default: the demo recording, "
        "looped), as fast as possible or paced at --fps like a live probe, and report per-stage "
        "and capture-to-result latency (p50/p95/p99/max, warm-up excluded), overhead, "
        "throughput, drops and CPU use.",
        epilog="examples:\n"
        "  usguide bench --frames 500\n"
        "  usguide bench clip.mp4 --fps 60 --json bench.json --plot bench.png\n"
        "  usguide bench --compare threads=1 threads=2 detector=classical fps=120",
    )
    parser.add_argument(
        "input",
        metavar="INPUT",
        nargs="?",
        default=None,
        help="any source specification (default: demo, looped)",
    )
    parser.add_argument(
        "--frames",
        type=number_option(1, 10**7, integer=True),
        default=300,
        metavar="N",
        help="measured frames",
    )
    parser.add_argument(
        "--fps",
        type=number_option(0.0, MAX_FPS, open_low=True),
        default=None,
        metavar="F",
        help="pace at F fps",
    )
    parser.add_argument(
        "--detector", choices=("onnx", "classical", "none"), default="onnx", help="default: onnx"
    )
    parser.add_argument("--model", metavar="PATH", default=None, help="ONNX model file")
    parser.add_argument("--provider", metavar="NAME", default="cpu", help="ONNX Runtime provider")
    parser.add_argument(
        "--threads",
        type=number_option(1, 256, integer=True),
        default=None,
        metavar="T",
        help="inference threads",
    )
    parser.add_argument(
        "--warmup",
        type=number_option(0, 10**6, integer=True),
        default=10,
        metavar="N",
        help="frames left out",
    )
    parser.add_argument(
        "--budget",
        type=number_option(0.0, 60000.0, open_low=True),
        default=BUDGET_MS,
        metavar="MS",
        help="latency budget",
    )
    parser.add_argument("--json", type=Path, default=None, metavar="FILE", help="write all results")
    parser.add_argument(
        "--plot", type=Path, default=None, metavar="FILE.png", help="write a figure"
    )
    parser.add_argument(
        "--compare",
        nargs="+",
        metavar="CONFIG",
        default=None,
        help="run several configurations, e.g. threads=1 threads=2 detector=classical fps=120",
    )
    parser.add_argument(
        "--soak",
        type=number_option(0.0, 7 * 86400.0, open_low=True),
        default=None,
        metavar="SECONDS",
        help="run this long; sample memory",
    )
    parser.add_argument(
        "--soak-interval",
        type=number_option(0.1, 86400.0),
        default=10.0,
        metavar="S",
        help="soak sample period",
    )
    parser.add_argument(
        "--igtl",
        nargs="?",
        type=number_option(0, 65535, integer=True),
        const=18944,
        default=None,
        metavar="PORT",
        help="also stream every result over OpenIGTLink on loopback (default port 18944; 0: any "
        "free port, so a benchmark never collides with a running server)",
    )
    parser.add_argument(
        "--igtl-stalled-client",
        action="store_true",
        help="with --igtl: connect a loopback client that never reads (the worst case)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Runs the configurations, prints the tables, writes --json and --plot."""
    if args.frames < 1 or args.warmup < 0:
        raise UsguideError("--frames must be >= 1 and --warmup >= 0")
    if args.soak is not None and args.soak <= 0:
        raise UsguideError("--soak must be a positive number of seconds")
    base = BenchConfig(
        input=args.input,
        frames=args.frames,
        fps=args.fps,
        detector=args.detector,
        provider=args.provider,
        threads=args.threads,
        model=args.model,
        warmup=args.warmup,
        budget_ms=args.budget,
        soak_s=args.soak,
        soak_interval_s=args.soak_interval,
    )
    configs = [base.with_overrides(spec) for spec in args.compare] if args.compare else [base]
    for path in (args.json, args.plot):
        if path is not None and not path.parent.exists():
            raise UsguideError(f"folder {path.parent} does not exist — create it or choose another")
    runs = []
    for index, config in enumerate(configs, 1):
        label = config.label or config.describe()
        unit = "second" if config.soak_s else "frame"
        name = f"bench [{index}/{len(configs)}] {label}"
        with Progress(name, unit=unit, enabled=not args.quiet) as bar:
            progress = _follow(bar)
            if args.igtl is not None:
                from usguide.igt.bench import run_bench_igt

                run_result = run_bench_igt(
                    config, args.igtl, stalled_client=args.igtl_stalled_client, progress=progress
                )
            else:
                run_result = run_bench(config, progress=progress)
        runs.append(run_result)
        print(format_report(run_result))
        if "igtl" in run_result:
            from usguide.igt.bench import format_igt

            print(format_igt(run_result))
        print()
    if len(runs) > 1:
        print(format_compare(runs))
    if args.json is not None:
        document = {"usguide_version": __version__, "system": system_info(), "runs": runs}
        try:
            args.json.write_text(json.dumps(document, indent=1, default=str))
        except OSError as exc:
            raise UsguideError(f"cannot write {args.json}: {exc.strerror}") from None
    if args.plot is not None:
        from usguide.gui.plots import save_bench_plot

        save_bench_plot(runs, args.plot)
    failed = [run for run in runs if run["summary"].get("analysis_errors")]
    if failed:  # figures of frames whose analysis raised are not a benchmark: say so, exit 2
        summary = failed[0]["summary"]
        raise UsguideError(
            f"analysis failed on {summary['analysis_errors']} of {summary['frames_processed']} "
            f"frames in {failed[0]['label']} ({summary['last_error']}); fix the model or detector"
        )
    return 0


def _follow(bar: Progress) -> Callable[[int, int, float], None]:
    """``run_bench``'s progress callback (done, wanted, elapsed s) drawn on ``bar``."""

    def report(done: int, total: int, elapsed: float) -> None:
        if total != bar.total:
            bar.set_total(total)
        if done > bar.count:
            bar.update(done - bar.count)

    return report
