"""``usguide analyze``: every frame of an input, in order, flat out → one JSON line per frame.

No pacing and no drops (unlike ``usguide run``): the results file has exactly one line per frame.
Coordinates are pixels of the full input frame; ``tip_mm`` is (lateral, depth) in mm from the image
region's top-left corner when the scale is known.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import IO

from usguide.analysis.analyzer import FrameAnalyzer
from usguide.detect.factory import add_detector_arguments, detector_from_args
from usguide.errors import UsguideError
from usguide.sources.base import FrameSource
from usguide.sources.frames import iter_frames
from usguide.types import FrameResult

_PROGRESS_EVERY_S = 0.5


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers ``usguide analyze``."""
    parser = subparsers.add_parser(
        "analyze",
        help="detect the needle in every frame of an input; write JSON lines",
        description="Process every frame of INPUT in order as fast as possible (no pacing, no "
        "drops) and write one JSON object per frame to --out. Coordinates are full-frame pixels.",
    )
    parser.add_argument("input", metavar="INPUT", help="video, DICOM, image folder, recording")
    parser.add_argument(
        "--out", required=True, type=Path, metavar="RESULT.jsonl", help="JSON-lines output"
    )
    from usguide.sources.factory import add_source_arguments

    add_source_arguments(parser)
    add_detector_arguments(parser)
    parser.add_argument(
        "--no-track", action="store_true", help="report raw per-frame detections (no tracker)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    parser.add_argument(
        "--allow-partial",
        action="store_true",
        help="exit 0 even when some frames could not be decoded (they are counted and skipped)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Analyses the input; prints a one-line summary on stderr."""
    from usguide.sources.factory import source_from_args

    detector = detector_from_args(args)
    try:
        source = source_from_args(args, args.input)
        out = _open_out(args.out)
        try:
            with source:
                analyzer = FrameAnalyzer(detector, track=not args.no_track)
                total = source.info.frame_count
                count, found, seconds = _analyze(source, analyzer, out, total, not args.quiet)
                skipped = source.skipped
        finally:
            _close_out(out, args.out)
    finally:
        detector.close()
    fps = count / seconds if seconds > 0 else 0.0
    summary = (
        f"{count} frames, needle in {found}, {fps:.1f} frames/s ({detector.name}) -> {args.out}"
    )
    if skipped and not args.allow_partial:
        raise UsguideError(
            f"{skipped} frame(s) of {args.input} could not be decoded and were skipped ({summary})"
            " — repair the input, or pass --allow-partial to accept a partial result"
        )
    partial = f" ({skipped} undecodable frame(s) skipped)" if skipped else ""
    sys.stderr.write(f"analyze: {summary}{partial}\n")
    return 0


def result_line(result: FrameResult, analyzer: FrameAnalyzer) -> dict:
    """The JSON object for one frame: ``FrameResult.to_json()`` plus detector and mm fields."""
    data = result.to_json()
    data["detector"] = result.detector
    scale = analyzer.mm_per_px_of(result.frame)
    if scale is not None:
        data["mm_per_px"] = scale
        if result.needle is not None:
            roi = analyzer.region_of(result.frame)
            tip = result.needle.tip
            data["tip_mm"] = [round((tip.x - roi.x) * scale, 3), round((tip.y - roi.y) * scale, 3)]
    return data


def _open_out(path: Path) -> IO[str]:
    try:
        if path.parent and not path.parent.exists():
            raise UsguideError(f"cannot write {path}: folder {path.parent} does not exist")
        return path.open("w", encoding="utf-8")
    except OSError as exc:
        raise UsguideError(
            f"cannot write {path}: {exc.strerror or exc} — choose a writable --out"
        ) from None


def _close_out(out: IO[str], path: Path) -> None:
    """Closes the results file; a full disk or a failed write is one line, never a traceback."""
    try:
        out.close()
    except OSError as exc:
        raise UsguideError(
            f"cannot write {path}: {exc.strerror or exc} — free some space or choose another --out"
        ) from None


def _write(out: IO[str], line: str, path: Path) -> None:
    try:
        out.write(line)
    except OSError as exc:
        raise UsguideError(
            f"cannot write {path}: {exc.strerror or exc} — free some space or choose another --out"
        ) from None


def _analyze(
    source: FrameSource, analyzer: FrameAnalyzer, out: IO[str], total: int | None, progress: bool
) -> tuple[int, int, float]:
    out_path = Path(getattr(out, "name", "results"))
    count = found = 0
    start = last_report = time.perf_counter()
    shown = False
    for frame in iter_frames(source):
        result = analyzer.process(frame)
        _write(out, json.dumps(result_line(result, analyzer)) + "\n", out_path)
        count += 1
        found += result.needle is not None
        now = time.perf_counter()
        if progress and now - last_report >= _PROGRESS_EVERY_S:
            last_report = now
            shown = True
            of_total = f"/{total}" if total else ""
            rate = count / (now - start)
            sys.stderr.write(f"\ranalyze: frame {count}{of_total}, {rate:.1f} frames/s ")
            sys.stderr.flush()
    if shown:
        sys.stderr.write("\n")
    return count, found, time.perf_counter() - start
