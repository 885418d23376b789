"""``usguide analyze``: every frame of an input, in order, flat out → one JSON line per frame.

No pacing and no drops (unlike ``usguide run``): the results file has exactly one line per frame,
in order, and a sidecar ``RESULT.meta.json`` says what produced it (format version, usguide and
model versions, source, calibration, target, counts). Coordinates are pixels of the full input
frame; ``tip_mm`` is (lateral, depth) in mm from the image region's top-left corner when the scale
is known; ``time_s`` is the frame's media time. The format is in README.md (*analyze output*).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from usguide import __version__
from usguide.analysis.analyzer import FrameAnalyzer
from usguide.checks import MAX_FRAME_SIDE, check_number
from usguide.detect.base import Detector
from usguide.detect.factory import add_detector_arguments, detector_from_args
from usguide.errors import RuntimeFailure, UsguideError
from usguide.progress import Progress
from usguide.record.deidentify import neutral_source
from usguide.sources.base import FrameSource
from usguide.sources.frames import iter_frames
from usguide.types import Frame, FrameResult, Point, SourceInfo, SourceState

FORMAT = "usguide-analyze"  # the sidecar's "format"; README.md describes it
FORMAT_VERSION = 1  # raised when a field of the lines or of the sidecar changes meaning


@dataclass
class _Run:
    """What one pass over the input produced (for the summary line and the sidecar)."""

    frames: int = 0
    found: int = 0
    seconds: float = 0.0
    first: Frame | None = None


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers ``usguide analyze``."""
    parser = subparsers.add_parser(
        "analyze",
        help="detect the needle in every frame of an input; write JSON lines",
        description="Process every frame of INPUT in order as fast as possible (no pacing, no "
        "drops) and write one JSON object per frame to --out, in order, with the frame's media "
        "time; RESULT.meta.json beside it names the format version, model, source and "
        "calibration. Coordinates are full-frame pixels.",
        epilog="examples:\n"
        "  usguide analyze demo --out a.jsonl\n"
        "  usguide analyze clip.mp4 --out a.jsonl --roi 120,80,800,600 --depth-mm 40 "
        "--target 500,420\n"
        "  usguide analyze cine.dcm --out a.jsonl 2> analyze.log   (plain progress lines)",
    )
    parser.add_argument(
        "input", metavar="INPUT", help="video, DICOM, image folder, recording, sequence file"
    )
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="RESULT.jsonl",
        help="JSON-lines output, one object per frame; RESULT.meta.json is written beside it",
    )
    from usguide.sources.factory import add_source_arguments

    add_source_arguments(parser)
    add_detector_arguments(parser)
    parser.add_argument(
        "--no-track", action="store_true", help="report raw per-frame detections (no tracker)"
    )
    parser.add_argument(
        "--target",
        type=target_option,
        metavar="X,Y",
        help="target point in full-frame pixels: each frame's trajectory gets along_mm and "
        "miss_mm (with a scale) (default: none)",
    )
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
                info = source.info
                _check_target(args.target, info.width, info.height)
                analyzer = FrameAnalyzer(detector, track=not args.no_track)
                analyzer.set_target(args.target)
                with Progress("analyze", info.frame_count, enabled=not args.quiet) as bar:
                    run_ = _analyze(source, analyzer, out, bar)
                skipped = source.skipped
                lost = info.live and source.state is SourceState.LOST
        finally:
            _close_out(out, args.out)
        meta = sidecar(
            info, detector, analyzer, run_, tracking=not args.no_track, skipped=skipped, lost=lost
        )
        _write_sidecar(meta_path(args.out), meta)
    finally:
        detector.close()
    count, found, seconds = run_.frames, run_.found, run_.seconds
    fps = count / seconds if seconds > 0 else 0.0
    summary = (
        f"{count} frames, needle in {found}, {fps:.1f} frames/s ({detector.name}) -> {args.out}"
    )
    if lost:
        raise RuntimeFailure(
            f"{info.name} was lost after {count} frames; the results up to then are in "
            f"{args.out} (marked partial in {meta_path(args.out).name}) — check the connection"
        )
    if skipped and not args.allow_partial:
        raise UsguideError(
            f"{skipped} frame(s) of {args.input} could not be decoded and were skipped ({summary})"
            " — repair the input, or pass --allow-partial to accept a partial result"
        )
    partial = f" ({skipped} undecodable frame(s) skipped)" if skipped else ""
    sys.stderr.write(f"analyze: {summary}{partial}\n")
    return 0


def result_line(
    result: FrameResult, analyzer: FrameAnalyzer, origin_ms: float | None = None
) -> dict:
    """The JSON object for one frame: ``FrameResult.to_json()`` plus detector and mm fields.

    Args:
        result: the frame's result.
        analyzer: the analyzer that made it (for the frame's region and scale).
        origin_ms: the source time of the input's first frame; given, the line gets ``time_s``,
            the frame's media time in seconds from there.
    """
    data = result.to_json()
    if origin_ms is not None:
        data["time_s"] = round((result.frame.source_ms - origin_ms) / 1000.0, 6)
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


def _analyze(source: FrameSource, analyzer: FrameAnalyzer, out: IO[str], bar: Progress) -> _Run:
    out_path = Path(getattr(out, "name", "results"))
    run_ = _Run()
    start = time.perf_counter()
    for frame in iter_frames(source):
        if run_.first is None:
            run_.first = frame
        result = analyzer.process(frame)
        line = result_line(result, analyzer, run_.first.source_ms)
        _write(out, json.dumps(line) + "\n", out_path)
        run_.frames += 1
        run_.found += result.needle is not None
        bar.update()
    run_.seconds = time.perf_counter() - start
    return run_


def target_option(text: str) -> Point:
    """``--target X,Y``: two finite, non-negative pixel coordinates (argparse ``type=``)."""
    try:
        x_text, y_text = text.split(",")
        x, y = (
            check_number(value, f"--target {name}", low=0.0, high=MAX_FRAME_SIDE)
            for name, value in (("X", x_text), ("Y", y_text))
        )
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not X,Y in frame pixels, e.g. --target 500,420"
        ) from None
    except UsguideError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return Point(x, y)


def _check_target(target: Point | None, width: int, height: int) -> None:
    if target is not None and not (target.x < width and target.y < height):
        raise UsguideError(
            f"--target {target.x:g},{target.y:g} is outside the {width}x{height} frame — give "
            "full-frame pixels (usguide probe INPUT shows the frame size)"
        )


def meta_path(out: Path) -> Path:
    """The sidecar of a results file: ``a.jsonl`` → ``a.meta.json`` (other names: + .meta.json)."""
    if out.suffix == ".jsonl":
        return out.with_suffix(".meta.json")
    return out.with_name(out.name + ".meta.json")


def sidecar(
    info: SourceInfo,
    detector: Detector,
    analyzer: FrameAnalyzer,
    run_: _Run,
    *,
    tracking: bool,
    skipped: int,
    lost: bool,
) -> dict:
    """The sidecar's JSON: what produced the lines, from what, with which calibration.

    The source is named as a session would store it: never a DICOM's file name (privacy).
    """
    first = run_.first
    calibration = None
    if first is not None:
        roi = analyzer.region_of(first)
        scale = analyzer.mm_per_px_of(first)
        calibration = {
            "mm_per_px": scale,
            "scale_source": first.calibration.scale_from if scale is not None else "unknown",
            "roi": roi.as_list(),
        }
    source = neutral_source(info)
    target = analyzer.target
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "usguide_version": __version__,
        "model": _model_json(detector),
        "tracking": tracking,
        "source": {
            "name": source.name,
            "kind": source.kind,
            "width": source.width,
            "height": source.height,
            "fps": source.fps,
            "frame_count": source.frame_count,
        },
        "calibration": calibration,
        "target": None if target is None else [target.x, target.y],
        "time_origin_ms": None if first is None else first.source_ms,
        "frames": run_.frames,
        "frames_with_needle": run_.found,
        "frames_skipped": skipped,
        "partial": bool(skipped or lost),
        "source_lost": lost,
    }


def _model_json(detector: Detector) -> dict:
    """The detector and, for a model, its file name, format, version and sha256 (12 digits)."""
    model = {"detector": detector.name}
    path = getattr(detector, "path", None)
    if path is not None:
        metadata = getattr(detector, "metadata", {})
        model.update(
            file=Path(path).name,
            format=metadata.get("usguide.format"),
            version=metadata.get("usguide.model_version"),
            written_by=metadata.get("usguide.version"),
            sha256=getattr(detector, "model_hash", None),
        )
    return model


def _write_sidecar(path: Path, meta: dict) -> None:
    """Writes the sidecar atomically (a reader never sees half of it)."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise UsguideError(
            f"cannot write {path}: {exc.strerror or exc} — free some space or choose another --out"
        ) from None
