"""Running the product's analyzer over labelled clips (``usguide evaluate``, and the epoch choice
of ``usguide train --select-cases``): finding the clips and videos, each clip's needles and score.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from usguide.analysis.analyzer import FrameAnalyzer
from usguide.detect.base import Detector
from usguide.detect.crossing import CrossingConfig
from usguide.detect.evaluation import ClipScore, ClipTruth, load_truth, score_clip
from usguide.detect.tip_refine import TipRefineConfig
from usguide.errors import UsguideError
from usguide.types import Needle

_VIDEO_NAMES = ("video.mkv", "video.mp4", "video.avi")


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


def evaluate_clip(
    detector: Detector,
    clip: Path,
    tolerance_mm: float,
    tolerance_px: float,
    track: bool = True,
    *,
    tip_refine: bool = True,
    crossing_check: bool = True,
) -> ClipScore:
    """Runs one clip through a ``FrameAnalyzer`` and scores it against its truth."""
    truth = load_truth(clip / "truth.json")
    predictions, seconds = predict_clip(
        detector,
        video_of(clip, truth),
        truth,
        track,
        tip_refine=tip_refine,
        crossing_check=crossing_check,
    )
    last = max((label.frame for label in truth.frames), default=-1)
    if last >= len(predictions) or (truth.source is None and len(predictions) != len(truth.frames)):
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
    detector: Detector,
    video: Path,
    truth: ClipTruth,
    track: bool = True,
    *,
    tip_refine: bool = True,
    crossing_check: bool = True,
) -> tuple[list[Needle | None], float]:
    """Every frame's reported needle, and the seconds spent in the analyzer."""
    from usguide.sources.factory import make_source
    from usguide.sources.frames import iter_frames

    analyzer = FrameAnalyzer(
        detector,
        roi=truth.roi,
        mm_per_px=truth.mm_per_px,
        track=track,
        tip_refine=TipRefineConfig(enabled=tip_refine),
        crossing=CrossingConfig(enabled=crossing_check),
    )
    predictions: list[Needle | None] = []
    seconds = 0.0
    with make_source(str(video), fps=truth.fps) as source:
        for frame in iter_frames(source):
            start = time.perf_counter()
            result = analyzer.process(frame)
            seconds += time.perf_counter() - start
            predictions.append(result.needle)
    return predictions, seconds


def video_of(clip: Path, truth: ClipTruth | None = None) -> Path:
    """The clip's video: its ``truth.json`` source, or the video file in its folder."""
    if truth is not None and truth.source is not None:
        return truth.source  # hand labels of a clip kept elsewhere
    for name in _VIDEO_NAMES:
        if (clip / name).exists():
            return clip / name
    raise UsguideError(f"no video in {clip} (expected {' or '.join(_VIDEO_NAMES)})")
