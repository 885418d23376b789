"""``usguide simulate``: writes labelled simulated clips (FFV1 video + truth.json) or the demo."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from usguide.checks import number_option
from usguide.errors import UsguideError
from usguide.progress import Progress


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UsguideError(f"bad --size {text!r}: expected WxH, e.g. --size 640x480") from None
    return width, height


def _angle_range(text: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise UsguideError(
            f"bad --angle-range {text!r}: expected LO,HI in degrees, e.g. --angle-range 0,15"
        ) from None
    return low, high


def _options(args: argparse.Namespace) -> dict[str, object]:
    """The SimConfig fields the command line fixes for every clip (a stratified suite)."""
    options: dict[str, object] = {"style": args.style}
    if args.angle_range is not None:
        options["angle_range"] = _angle_range(args.angle_range)
    for name in ("medium", "gauge", "probe", "needle_style", "entry", "fan_deg", "radius_mm"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    return options


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers ``usguide simulate``."""
    parser = subparsers.add_parser(
        "simulate",
        help="write simulated labelled needle-insertion clips",
        description="Simulate B-mode in-plane needle insertions with exact ground truth. "
        "Each clip is "
        "DIR/clip_NNNN/video.mkv (FFV1, lossless) + truth.json; deterministic for a seed.",
        epilog="examples:\n"
        "  usguide simulate --out clips --clips 20 --seed 0\n"
        "  usguide simulate --out clips --clips 5 --variant convex --angle-range 20,40\n"
        "  usguide simulate --demo demo_session",
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="output folder (required unless --demo)"
    )
    parser.add_argument(
        "--clips",
        type=number_option(1, 10**6, integer=True),
        default=1,
        metavar="N",
        help="number of clips (default: 1)",
    )
    parser.add_argument(
        "--seed",
        type=number_option(0, 2**32 - 1, integer=True),
        default=0,
        metavar="S",
        help="seed of the first clip; clip k gets seed S + k (default: 0)",
    )
    parser.add_argument(
        "--variant",
        default="random",
        help="linear | convex | screen | no_needle | random (default: random)",
    )
    parser.add_argument(
        "--frames",
        type=number_option(1, 10**6, integer=True),
        default=150,
        metavar="F",
        help="frames per clip (default: 150)",
    )
    parser.add_argument(
        "--size",
        default="640x480",
        metavar="WxH",
        help="frame size, 64x48 to 4096x4096 (default: 640x480); screen capture: 1024x768 or "
        "1280x720, else one is drawn",
    )
    parser.add_argument(
        "--style",
        default="train",
        choices=("train", "heldout"),
        help="train: the training ranges (default); heldout: settings outside them (unseen needle "
        "echo, textures, fan shapes, aspect ratios, screen layout) for a generalisation suite",
    )
    strata = parser.add_argument_group("fix a stratum for every clip (default: drawn per clip)")
    strata.add_argument(
        "--angle-range", metavar="LO,HI", help="insertion angles in degrees (default 0,80)"
    )
    strata.add_argument(
        "--medium",
        choices=("in_vivo", "ex_vivo", "phantom", "water"),
        help="what the needle goes through",
    )
    strata.add_argument(
        "--gauge", type=number_option(14, 27, integer=True), metavar="G", help="needle gauge 14..27"
    )
    strata.add_argument("--probe", choices=("linear", "convex"), help="probe geometry")
    strata.add_argument(
        "--needle-style",
        choices=("faint", "plain", "saturated", "double_wall", "beaded"),
        help="how the shaft's echo looks",
    )
    strata.add_argument("--entry", choices=("edge", "inside"), help="where the shaft comes in")
    strata.add_argument(
        "--fan-deg", type=number_option(1.0, 180.0), metavar="DEG", help="convex fan opening"
    )
    strata.add_argument(
        "--radius-mm", type=number_option(1.0, 500.0), metavar="MM", help="convex probe radius"
    )
    parser.add_argument(
        "--demo", type=Path, metavar="DIR", help="write the bundled demo session to DIR instead"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Writes the clips; progress goes to stderr (redirected: a line per clip)."""
    from usguide.sources.video import quiet_opencv

    total = None if args.demo is not None else args.clips
    bar = Progress("simulate", total, "clip", enabled=not args.quiet, every_s=0)
    try:
        # A failed write is reported once, by usguide, not per frame.
        with quiet_opencv(), bar:
            demo = args.demo is not None  # one line at the end, not a count
            return _write(args, bar.note if demo else lambda text: bar.update(detail=text))
    except OSError as exc:  # a full disk, a read-only or vanished folder: one line, exit 2
        raise UsguideError(
            f"cannot write to {args.out or args.demo}: {exc.strerror or exc} — free some space "
            "or choose another folder"
        ) from None


def _write(args: argparse.Namespace, progress: Callable[[str], None]) -> int:
    from usguide.simulate.config import VARIANTS
    from usguide.simulate.export import write_clips, write_demo

    if args.demo is not None:
        write_demo(args.demo, progress)
        return 0
    if args.out is None:
        raise UsguideError("no --out folder: give --out DIR (or --demo DIR)")
    if args.variant not in VARIANTS:
        raise UsguideError(f"unknown --variant {args.variant!r}: use one of {', '.join(VARIANTS)}")
    if args.clips < 1:
        raise UsguideError(f"--clips must be at least 1, got {args.clips}")
    if args.frames < 1:
        raise UsguideError(f"--frames must be at least 1, got {args.frames}")
    if args.out.exists() and not args.out.is_dir():
        raise UsguideError(f"--out {args.out} is a file: give a folder")
    write_clips(
        args.out,
        args.clips,
        args.seed,
        args.variant,
        args.frames,
        _size(args.size),
        progress,
        _options(args),
    )
    return 0
