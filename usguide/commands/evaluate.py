"""``usguide evaluate``: scores detectors on labelled clips (``clip_*/video.mkv`` + ``truth.json``,
or a ``truth.json`` whose ``source`` names a clip elsewhere), or on a suite it renders itself.

Frames go through the same ``FrameAnalyzer`` as the product, tracking included, with each clip's own
image region and scale; so the figures are those of what a user sees, not of raw detections.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from usguide.analysis.clips import evaluate_clip, find_clips, video_of
from usguide.checks import number_option
from usguide.detect.compare import compare_reports
from usguide.detect.evaluation import (
    DEFAULT_TOLERANCE_MM,
    DEFAULT_TOLERANCE_PX,
    FALSE_TRACK_FRAMES,
    ClipScore,
    ClipTruth,
    combine,
    load_truth,
)
from usguide.detect.evaluation_table import format_operating_curves, format_table
from usguide.detect.factory import add_detector_arguments, make_detector
from usguide.detect.hits import HIT_ANGLE_DEG, HIT_TIP_DIAGONAL, HIT_TIP_MM
from usguide.detect.line_probe import probe_report
from usguide.detect.strata import format_stratum_table
from usguide.detect.suite import (
    DEFAULT_CLIPS_PER_CELL,
    DEFAULT_FRAMES,
    HELDOUT_CLIPS_PER_UNIT,
    SUITES,
    render_suite,
)
from usguide.detect.uncertainty import ClipGroup, clip_groups, format_intervals, interval_report
from usguide.errors import UsguideError
from usguide.paths import default_model_path
from usguide.progress import Progress


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
        "without a visible needle is a false positive. A localised hit (the product's target) is "
        f"a detection whose line is within {HIT_ANGLE_DEG:.0f}° of the labelled one and whose tip "
        f"is within {HIT_TIP_MM:.0f} mm ({100 * HIT_TIP_DIAGONAL:.0f} % of the image region's "
        "diagonal without a scale); a miss of an obvious needle (contrast >= 3x, >= 10 mm "
        "visible) is listed as a defect. Everything is also reported per stratum (angle, "
        "contrast, visible length, gauge, needle look, geometry, medium, style) where the labels "
        "carry it, and per set (the suite's heldout / generalisation) side by side. A case whose "
        "truth.json names a 'source' clip that is absent is skipped with a note.",
        epilog="examples:\n"
        "  usguide simulate --out clips --clips 20 && usguide evaluate clips --json report.json\n"
        "  usguide evaluate --suite generalisation --out-cases suite --detector onnx\n"
        "  usguide evaluate cases/real_clip --failures pictures\n"
        "  usguide evaluate --line-probe --model models/experimental/needle_v12.onnx\n"
        "  usguide evaluate --compare old.json new.json",
    )
    parser.add_argument(
        "cases",
        metavar="CASES_DIR",
        type=Path,
        nargs="?",
        help="folder of labelled clips (or one case folder); not with --suite",
    )
    add_detector_arguments(
        parser,
        choices=("onnx", "classical", "both"),
        default=None,
        default_help="both when a model is found, else classical",
    )
    parser.add_argument("--json", type=Path, metavar="REPORT.json", help="write the figures")
    parser.add_argument("--plot", type=Path, metavar="REPORT.png", help="draw error plots")
    parser.add_argument(
        "--max-clips",
        type=number_option(1, 10**6, integer=True),
        metavar="N",
        help="evaluate at most N clips (default: all)",
    )
    parser.add_argument(
        "--tolerance-mm",
        type=number_option(0.0, 1000.0, open_low=True),
        default=DEFAULT_TOLERANCE_MM,
        metavar="MM",
        help="a detection's tip within MM of the labelled tip is a true positive, on clips with "
        f"a scale (default {DEFAULT_TOLERANCE_MM} mm)",
    )
    parser.add_argument(
        "--tolerance-px",
        type=number_option(0.0, 10000.0, open_low=True),
        default=DEFAULT_TOLERANCE_PX,
        metavar="PX",
        help="the same in pixels, on clips without a scale "
        f"(default {DEFAULT_TOLERANCE_PX:.0f} px)",
    )
    parser.add_argument("--no-track", action="store_true", help="score raw per-frame detections")
    parser.add_argument(
        "--no-tip-refine",
        action="store_true",
        help="keep the detector's tip instead of reading the shaft's end from the image",
    )
    parser.add_argument(
        "--no-crossing-check",
        action="store_true",
        help="keep fits that run across the imaged area from border to border, or lie steep "
        "along its edge or outside it (dropped by default: a needle's tip ends in tissue, a layer "
        "crosses the image, a fan's side runs along the beams)",
    )
    parser.add_argument(
        "--suite",
        choices=SUITES,
        help="render (or reuse) a fixed-seed suite into --out-cases and evaluate it: "
        "'generalisation' = the ordinary held-out set + clips outside the training ranges per "
        "angle bin x geometry x medium, and the painted set; 'heldout' = the ordinary held-out "
        "set only; 'selection' = generalisation and painted clips with seeds of their own, a "
        "development set, never for reporting",
    )
    parser.add_argument(
        "--out-cases", type=Path, metavar="DIR", help="where --suite keeps its clips"
    )
    parser.add_argument(
        "--suite-clips",
        type=number_option(1, 10**4, integer=True),
        default=DEFAULT_CLIPS_PER_CELL,
        metavar="N",
        help=f"clips per generalisation cell; {HELDOUT_CLIPS_PER_UNIT} x N held-out clips "
        f"(default {DEFAULT_CLIPS_PER_CELL})",
    )
    parser.add_argument(
        "--suite-frames",
        type=number_option(1, 10**5, integer=True),
        default=DEFAULT_FRAMES,
        metavar="F",
        help=f"frames per suite clip (default {DEFAULT_FRAMES})",
    )
    parser.add_argument(
        "--failures",
        type=Path,
        metavar="DIR",
        help="write, per stratum, a few frames of misses and hits (truth green, detection red)",
    )
    parser.add_argument(
        "--line-probe",
        action="store_true",
        help="print each detector's response to plain straight bright lines by angle, length "
        "and background (tissue speckle, water), then stop: a blind spot in one table",
    )
    parser.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("A.json", "B.json"),
        help="compare two --json reports of the same cases clip by clip (B - A per set, with a "
        "paired 95 %% interval), then stop",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Evaluates (rendering --suite first), prints the tables, writes --json, --plot, --failures."""
    if args.max_clips is not None and args.max_clips < 1:
        raise UsguideError(f"--max-clips must be at least 1, got {args.max_clips}")
    if args.line_probe:  # these two stop here: no clips to score
        print(probe_report(_detector_names(args), args.model, args.provider, args.threads))
        return 0
    if args.compare:
        print(compare_reports(*args.compare))
        return 0
    cases, skipped = _available(_case_folders(args))
    for note in skipped:
        sys.stderr.write(f"evaluate: {note}\n")
    if not cases:
        print("evaluate: nothing to score (every case was skipped)")
        return 0
    clips = [clip for clip, _ in cases]
    names = _detector_names(args)
    rows, overall = _score_all(args, clips, names)
    # Side by side: each clip's detectors together, then the overall rows, then each set's.
    rows.sort(key=lambda score: (score.name, names.index(score.detector)))
    sets = _pooled_sets(rows, names)
    print(format_table([*overall, *sets] if args.suite else [*rows, *overall, *sets]))
    columns = [(f"{row.name} ({row.detector})", row.by_stratum) for row in sets or overall]
    print()
    print(format_stratum_table(columns))
    for row in overall:
        print(_defects(row))
    print(format_operating_curves(sets or overall))
    groups = clip_groups(rows, names, by_set=bool(sets))
    print(format_intervals(groups))
    if args.json:
        _write_json(args.json, _json_report(args, rows, overall, sets, groups, skipped))
    if args.plot:
        from usguide.gui.eval_plots import save_evaluation_plot

        save_evaluation_plot(overall, args.plot)
    if args.failures:
        from usguide.gui.eval_plots import save_outcome_pictures

        groups = [(f"{row.detector}/{row.name}", row) for row in sets] or [
            (row.detector, row) for row in overall
        ]
        videos = {clip.name: (video_of(clip, truth), truth) for clip, truth in cases}
        count = save_outcome_pictures(groups, videos, args.failures)
        print(f"evaluate: {count} pictures of misses and hits in {args.failures}")
    return 0


def _score_all(
    args: argparse.Namespace, clips: list[Path], names: list[str]
) -> tuple[list[ClipScore], list[ClipScore]]:
    """Every clip scored with every detector, and each detector's clips pooled."""
    rows: list[ClipScore] = []
    overall: list[ClipScore] = []
    bar = Progress("evaluate", len(clips) * len(names), "clip", enabled=not args.quiet)
    with bar:
        for name in names:
            detector = make_detector(name, args.model, args.provider, args.threads)
            try:
                scores = []
                for clip in clips:
                    score = evaluate_clip(
                        detector,
                        clip,
                        args.tolerance_mm,
                        args.tolerance_px,
                        not args.no_track,
                        tip_refine=not args.no_tip_refine,
                        crossing_check=not args.no_crossing_check,
                    )
                    scores.append(score)
                    bar.update(detail=f"{name} {clip.name}")
            finally:
                detector.close()
            rows.extend(scores)
            overall.append(combine(scores))
    return rows, overall


def _json_report(
    args: argparse.Namespace,
    rows: list[ClipScore],
    overall: list[ClipScore],
    sets: list[ClipScore],
    groups: list[ClipGroup],
    skipped: list[str],
) -> dict:
    """The ``--json`` report: the scoring rules, every clip, the overall and per-set rows."""
    return {
        "tolerance_mm": args.tolerance_mm,
        "tolerance_px": args.tolerance_px,
        "tracking": not args.no_track,
        "tip_refine": not args.no_tip_refine,
        "crossing_check": not args.no_crossing_check,
        "localised_hit": {
            "angle_deg": HIT_ANGLE_DEG,
            "tip_mm": HIT_TIP_MM,
            "tip_fraction_of_region_diagonal": HIT_TIP_DIAGONAL,
        },
        "off_needle_track_min_frames": FALSE_TRACK_FRAMES,
        "suite": args.suite,
        "skipped": skipped,
        "clips": [score.summary() for score in rows],
        "overall": {score.detector: score.summary() for score in overall},
        "sets": {
            group: {row.detector: row.summary() for row in sets if row.name == group}
            for group in dict.fromkeys(row.name for row in sets)
        },
        "intervals_95": interval_report(groups),
    }


def _write_json(path: Path, report: dict) -> None:
    try:
        path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsguideError(f"cannot write {path}: {exc.strerror or exc}") from None


def _case_folders(args: argparse.Namespace) -> list[Path]:
    """The case folders to score: CASES_DIR's, or the --suite's (rendered first if needed)."""
    if args.suite is None:
        if args.out_cases is not None:
            raise UsguideError("--out-cases goes with --suite: add --suite generalisation")
        if args.cases is None:
            raise UsguideError(
                "no CASES_DIR: give a folder of labelled clips, or --suite NAME --out-cases DIR"
            )
        return find_clips(args.cases, args.max_clips)
    if args.cases is not None:
        raise UsguideError("give either CASES_DIR or --suite, not both")
    if args.out_cases is None:
        raise UsguideError(f"--suite {args.suite} needs --out-cases DIR to keep its clips in")

    # Rendering takes seconds a clip: a line for each one rendered.
    with Progress("suite", unit="clip", enabled=not args.quiet, every_s=0) as bar:
        folders = render_suite(
            args.suite,
            args.out_cases,
            args.suite_clips,
            args.suite_frames,
            lambda text: bar.update(detail=text.removeprefix("suite: ")),
        )
    return folders[: args.max_clips] if args.max_clips else folders


def _available(folders: list[Path]) -> tuple[list[tuple[Path, ClipTruth]], list[str]]:
    """The cases whose video is at hand, and a one-line note for each one skipped."""
    cases, skipped = [], []
    for folder in folders:
        truth = load_truth(folder / "truth.json")
        if truth.source is not None and not truth.source.exists():
            skipped.append(
                f"skipping {folder}: its source clip {truth.source} is not here (the labels "
                "keep only coordinates; put the clip there to score them)"
            )
            continue
        cases.append((folder, truth))
    return cases, skipped


def _pooled_sets(rows: list[ClipScore], names: list[str]) -> list[ClipScore]:
    """One pooled score per (set, detector) when the clips belong to more than one set."""
    groups = list(dict.fromkeys(row.group for row in rows))
    if len(groups) < 2:
        return []
    return [
        combine([row for row in rows if row.group == group and row.detector == name], group or "-")
        for group in groups
        for name in names
    ]


def _defects(score: ClipScore) -> str:
    """One line: obvious needles missed (defects) and off-needle tracks, with where they are."""
    misses = ", ".join(f"{clip} f{frame}" for clip, frame in score.obvious_misses[:8])
    tracks = ", ".join(f"{clip} f{first}-{last}" for clip, first, last in score.false_tracks[:4])
    more = len(score.obvious_misses) > 8 or len(score.false_tracks) > 4
    return (
        f"{score.detector}: obvious-needle misses {len(score.obvious_misses)}"
        f"{' (' + misses + ')' if misses else ''}; off-needle tracks of >= {FALSE_TRACK_FRAMES} "
        f"frames {len(score.false_tracks)}{' (' + tracks + ')' if tracks else ''}"
        f"{'; all in --json' if more else ''}"
    )


def _detector_names(args: argparse.Namespace) -> list[str]:
    choice = args.detector
    if choice is None:
        model = Path(args.model) if args.model else default_model_path()
        choice = "both" if model.exists() else "classical"
    return ["onnx", "classical"] if choice == "both" else [choice]
