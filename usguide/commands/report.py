"""``usguide report``: a session's procedure record, insertion metrics and pictures for the trainer.

Writes a self-contained, de-identified HTML file and/or the metrics as JSON (see
``usguide.review.report``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from usguide.errors import UsguideError
from usguide.review.report import report_html, report_json, review_session
from usguide.types import Point


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers ``usguide report``."""
    parser = subparsers.add_parser(
        "report",
        help="review a session: procedure, metrics, pictures (HTML, JSON)",
        description="Measure a recorded session's needle insertion and write a self-contained, "
        "de-identified HTML report and/or the metrics as JSON.",
        epilog="examples:\n"
        "  usguide report sessions/s1 --html r.html\n"
        "  usguide report sessions/s1 --json m.json --compare sessions/expert\n"
        "  usguide report sessions/old --recompute --html r.html",
    )
    parser.add_argument("session", type=Path, metavar="SESSION", help="session folder")
    parser.add_argument("--html", type=Path, metavar="R.html", help="write the HTML report")
    parser.add_argument("--out", type=Path, metavar="R.html", help="same as --html")
    parser.add_argument("--json", type=Path, metavar="M.json", help="write the metrics as JSON")
    parser.add_argument(
        "--pdf", type=Path, metavar="R.pdf", help="write the same report as a PDF (A4, Qt)"
    )
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="OTHER",
        help="put another session (an expert's) beside it (default: none)",
    )
    parser.add_argument(
        "--recompute",
        action="store_true",
        help="detect the needle now with the current model instead of the recorded results "
        "(needed for sessions recorded without results)",
    )
    parser.add_argument(
        "--detector",
        choices=("onnx", "classical"),
        default="onnx",
        help="detector for --recompute (default: onnx)",
    )
    parser.add_argument(
        "--model", metavar="PATH", help="ONNX model for --recompute (default: the bundled model)"
    )
    parser.add_argument(
        "--target", metavar="X,Y", help="target in frame pixels (default: the recorded one)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Reviews the session(s) and writes what was asked for; prints one summary line."""
    html_path = args.html or args.out
    if html_path is None and args.json is None and args.pdf is None:
        raise UsguideError("nothing to write: give --html R.html, --pdf R.pdf and/or --json M.json")
    target = _parse_target(args.target) if args.target else None
    options = {"recompute": args.recompute, "detector": args.detector,
               "model_path": args.model, "target": target}  # fmt: skip
    review = review_session(args.session, **options)
    compare = review_session(args.compare, **options) if args.compare else None
    written = []
    if args.json is not None:
        _write(args.json, json.dumps(report_json(review, compare), indent=2) + "\n")
        written.append(str(args.json))
    if html_path is not None or args.pdf is not None:
        page = report_html(review, compare)
        if html_path is not None:
            _write(html_path, page)
            written.append(str(html_path))
        if args.pdf is not None:
            from usguide.gui.report_pdf import write_report_pdf  # Qt only when a PDF is asked for

            pages = write_report_pdf(page, args.pdf)
            written.append(f"{args.pdf} ({pages} pages)")
    m = review.metrics
    visible = "-" if m.visible_fraction is None else f"{100 * m.visible_fraction:.0f} %"
    sys.stdout.write(
        f"report: {m.duration_s:.1f} s, tip visible {visible}, {m.redirections} redirection(s), "
        f"{len(review.procedure.flags)} flag(s) -> {', '.join(written)}\n"
    )
    return 0


def _parse_target(text: str) -> Point:
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise UsguideError(f"bad --target {text!r}: expected X,Y in frame pixels") from None
    return Point(x, y)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsguideError(f"cannot write {path}: {exc.strerror}; choose another path") from None
