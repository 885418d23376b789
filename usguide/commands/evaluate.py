"""``usguide evaluate``: scores detectors on labelled clips (``clip_*/video.mkv`` + ``truth.json``).

Frames go through the same ``FrameAnalyzer`` as the product, tracking included, with each clip's own
image region and scale; so the figures are those of what a user sees, not of raw detections.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from usguide.analysis.analyzer import FrameAnalyzer
from usguide.detect.base import Detector
from usguide.detect.evaluation import (
    DEFAULT_TOLERANCE_MM,
    DEFAULT_TOLERANCE_PX,
    ClipScore,
    ClipTruth,
    combine,
    format_strata,
    format_table,
    load_truth,
    score_clip,
)
from usguide.detect.factory import add_detector_arguments, make_detector
from usguide.errors import UsguideError
from usguide.paths import default_model_path
from usguide.types import Needle

_VIDEO_NAMES = ("video.mkv", "video.mp4", "video.avi")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers ``usguide evaluate``."""
    parser = subparsers.add_parser(
        "evaluate",
        help="score detectors on labelled clips",
        description="Score the needle detectors on labelled clips (CASES_DIR/clip_*/video.mkv + "
        "truth.json, as written by usguide simulate). Frames go through the product's analyzer "
        "with tracking. A detection on a frame with a visible needle is a true positive when its "
        f"tip is within --tolerance-mm (default {DEFAULT_TOLERANCE_MM} mm; --tolerance-px, default "
        f"{DEFAULT_TOLERANCE_PX:.0f} px, for clips without a scale); a detection on a frame "
        "without a visible needle is a false positive. Recall is also given by needle contrast and "
        "visible length, where the labels carry them.",
    )
    parser.add_argument("cases", metavar="CASES_DIR", type=Path, help="folder of labelled clips")
    add_detector_arguments(parser, choices=("onnx", "classical", "both"), default=None)
    parser.add_argument("--json", type=Path, metavar="REPORT.json", help="write the figures")
    parser.add_argument("--plot", type=Path, metavar="REPORT.png", help="draw error plots")
    parser.add_argument("--max-clips", type=int, metavar="N", help="evaluate at most N clips")
    parser.add_argument("--tolerance-mm", type=float, default=DEFAULT_TOLERANCE_MM, metavar="MM")
    parser.add_argument("--tolerance-px", type=float, default=DEFAULT_TOLERANCE_PX, metavar="PX")
    parser.add_argument("--no-track", action="store_true", help="score raw per-frame detections")
    parser.set_defaults(func=run)


def find_clips(cases: Path, max_clips: int | None = None) -> list[Path]:
    """Clip folders (with a truth.json) under ``cases``, sorted; ``cases`` itself if a clip."""
    if not cases.is_dir():
        raise UsguideError(f"no such folder: {cases} — give a folder of labelled clips")
    clips = [cases] if (cases / "truth.json").exists() else []
    clips = clips or sorted(p for p in cases.iterdir() if (p / "truth.json").exists())
    if not clips:
        raise UsguideError(
            f"no labelled clips in {cases} (expected clip_*/truth.json) — make some with "
            "usguide simulate"
        )
    return clips[:max_clips] if max_clips else clips


def run(args: argparse.Namespace) -> int:
    """Evaluates, prints the table, writes --json and --plot."""
    if args.max_clips is not None and args.max_clips < 1:
        raise UsguideError(f"--max-clips must be at least 1, got {args.max_clips}")
    clips = find_clips(args.cases, args.max_clips)
    names = _detector_names(args)
    rows: list[ClipScore] = []
    overall: list[ClipScore] = []
    for name in names:
        detector = make_detector(name, args.model, args.provider, args.threads)
        try:
            scores = [
                evaluate_clip(
                    detector, clip, args.tolerance_mm, args.tolerance_px, not args.no_track
                )
                for clip in clips
            ]
        finally:
            detector.close()
        rows.extend(scores)
        overall.append(combine(scores))
    # Side by side: each clip's detectors together, then the overall rows.
    rows.sort(key=lambda score: (score.name, names.index(score.detector)))
    print(format_table([*rows, *overall]))
    strata = format_strata(overall)
    if strata:
        print()
        print(strata)
    if args.json:
        report = {
            "tolerance_mm": args.tolerance_mm,
            "tolerance_px": args.tolerance_px,
            "tracking": not args.no_track,
            "clips": [score.summary() for score in rows],
            "overall": {score.detector: score.summary() for score in overall},
        }
        try:
            args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsguideError(f"cannot write {args.json}: {exc.strerror or exc}") from None
    if args.plot:
        from usguide.gui.eval_plots import save_evaluation_plot

        save_evaluation_plot(overall, args.plot)
    return 0


def _detector_names(args: argparse.Namespace) -> list[str]:
    choice = args.detector
    if choice is None:
        model = Path(args.model) if args.model else default_model_path()
        choice = "both" if model.exists() else "classical"
    return ["onnx", "classical"] if choice == "both" else [choice]


def evaluate_clip(
    detector: Detector, clip: Path, tolerance_mm: float, tolerance_px: float, track: bool = True
) -> ClipScore:
    """Runs one clip through a ``FrameAnalyzer`` and scores it against its truth."""
    truth = load_truth(clip / "truth.json")
    predictions, seconds = predict_clip(detector, _video_of(clip), truth, track)
    if len(predictions) != len(truth.frames):
        sys.stderr.write(
            f"evaluate: {clip.name}: {len(predictions)} frames decoded, {len(truth.frames)} "
            "labelled; scoring the common part\n"
        )
    return score_clip(
        predictions,
        truth,
        detector=detector.name,
        tolerance_mm=tolerance_mm,
        tolerance_px=tolerance_px,
        seconds=seconds,
    )


def predict_clip(
    detector: Detector, video: Path, truth: ClipTruth, track: bool = True
) -> tuple[list[Needle | None], float]:
    """Every frame's reported needle, and the seconds spent in the analyzer."""
    from usguide.sources.factory import make_source
    from usguide.sources.frames import iter_frames

    analyzer = FrameAnalyzer(detector, roi=truth.roi, mm_per_px=truth.mm_per_px, track=track)
    predictions: list[Needle | None] = []
    seconds = 0.0
    with make_source(str(video), fps=truth.fps) as source:
        for frame in iter_frames(source):
            start = time.perf_counter()
            result = analyzer.process(frame)
            seconds += time.perf_counter() - start
            predictions.append(result.needle)
    return predictions, seconds


def _video_of(clip: Path) -> Path:
    for name in _VIDEO_NAMES:
        if (clip / name).exists():
            return clip / name
    raise UsguideError(f"no video in {clip} (expected {' or '.join(_VIDEO_NAMES)})")
