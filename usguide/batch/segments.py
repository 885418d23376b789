"""Long inputs in frame ranges: each range re-seeds the tracker on a warm-up overlap, then stitches.

The tracker remembers earlier frames, so a range analysed on its own would start with no track
and differ from ``usguide analyze`` for its first frames. Each range therefore starts
``warmup`` frames early, feeds those frames to the detector and tracker, and drops their results;
the ranges then join end to end. The tracker's filters forget their start geometrically, so a
long enough warm-up gives the same numbers as one pass. Measured on two simulated clips
(``usguide simulate --clips 2 --seed 11 --frames 150 --size 320x240 --variant linear``, a needle
in 148 frames each) split at every 50 and at every 30 frames (12 seams in all), each
against one pass, needles compared as written (2 decimals): with the default ``WARMUP_FRAMES``
= 30, 0 frames differ; with 20, 17 frames differ by at most 0.01 px; with 10, 100 frames by at
most 0.15 px; with none, 89 of the 300 frames at the 50-frame split, up to 4.4 px (14 of them
gain or lose the needle or move more than 1 px: a new track was then confirmed after 3 frames,
now 2).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from usguide.analysis.analyzer import FrameAnalyzer
from usguide.sources.base import FrameSource
from usguide.sources.frames import iter_frames
from usguide.types import Calibration, FrameResult

# The JSON object of one frame: ``usguide.commands.analyze.result_line``, which the command passes
# in (this package sits below ``commands`` and does not import it).
LineFormat = Callable[[FrameResult, FrameAnalyzer], dict]

WARMUP_FRAMES = 30  # frames analysed before a range and dropped: re-seeds the tracker
SEGMENT_FRAMES = 1800  # a minute at 30 fps per task; shorter inputs are one task


@dataclass(frozen=True)
class Segment:
    """Frames ``start`` to ``stop`` (exclusive; None: the end), analysed from ``warmup_start``."""

    start: int
    stop: int | None
    warmup_start: int


@dataclass
class SegmentResult:
    """The JSON lines of one range (``usguide analyze``'s), or why it failed.

    ``frames`` counts lines, ``found`` lines with a needle; ``seconds`` is the analysis time.
    ``times_s`` is each line's source time (s) and ``calibration`` the scale and image region the
    analyzer used (the first frame's with a scale, else the first frame's): what the metrics of
    ``--report`` need besides the lines.
    """

    lines: list[str] = field(default_factory=list)
    times_s: list[float] = field(default_factory=list)
    calibration: Calibration | None = None
    frames: int = 0
    found: int = 0
    predicted: int = 0
    confidence_sum: float = 0.0
    seconds: float = 0.0
    error: str | None = None


def plan_segments(
    frame_count: int | None, segment_frames: int = SEGMENT_FRAMES, warmup: int = WARMUP_FRAMES
) -> list[Segment]:
    """Splits ``frame_count`` frames into ranges of ``segment_frames`` (one range when unknown).

    The last range runs to the end of the input (``stop`` None), so a count that is off by a
    frame or two loses nothing; a remainder shorter than half a range joins the range before it.
    """
    if not frame_count or segment_frames <= 0 or frame_count < 1.5 * segment_frames:
        return [Segment(0, None, 0)]
    starts = list(range(0, frame_count, segment_frames))
    if frame_count - starts[-1] < segment_frames / 2:
        starts.pop()
    stops: list[int | None] = [*starts[1:], None]
    return [
        Segment(start, stop, max(0, start - warmup))
        for start, stop in zip(starts, stops, strict=True)
    ]


def analyze_segment(
    source: FrameSource, analyzer: FrameAnalyzer, segment: Segment, line: LineFormat
) -> SegmentResult:
    """Analyses one range of an opened source with a fresh analyzer state.

    The source is positioned at ``segment.warmup_start`` (by seeking, or by reading and
    discarding frames when it cannot seek); frames before ``segment.start`` go through the
    analyzer and their results are dropped. ``line`` turns a result into its JSON object.
    """
    result = SegmentResult()
    begin = time.perf_counter()
    analyzer.reset()
    if segment.warmup_start > 0:
        if source.seekable:
            source.seek(segment.warmup_start)
        else:
            for _ in zip(range(segment.warmup_start), iter_frames(source), strict=False):
                pass
    for frame in iter_frames(source):
        if segment.stop is not None and frame.index >= segment.stop:
            break
        frame_result = analyzer.process(frame)
        if frame.index < segment.start:
            continue
        result.lines.append(json.dumps(line(frame_result, analyzer)))
        result.times_s.append(frame.source_ms / 1000.0)
        result.calibration = _first_scaled(
            result.calibration,
            Calibration(analyzer.mm_per_px_of(frame), analyzer.region_of(frame)),
        )
        result.frames += 1
        needle = frame_result.needle
        if needle is not None:
            result.found += 1
            result.predicted += needle.predicted
            result.confidence_sum += needle.confidence
    result.seconds = time.perf_counter() - begin
    return result


def stitch(parts: list[SegmentResult]) -> SegmentResult:
    """Joins the ranges of one input, in order, into one result (the first error wins)."""
    whole = SegmentResult()
    for part in parts:
        if part.error is not None and whole.error is None:
            whole.error = part.error
        whole.lines.extend(part.lines)
        whole.times_s.extend(part.times_s)
        whole.calibration = _first_scaled(whole.calibration, part.calibration)
        whole.frames += part.frames
        whole.found += part.found
        whole.predicted += part.predicted
        whole.confidence_sum += part.confidence_sum
        whole.seconds += part.seconds
    return whole


def _first_scaled(kept: Calibration | None, new: Calibration | None) -> Calibration | None:
    """The first calibration with a scale, else the first one."""
    if kept is None or (kept.mm_per_px is None and new is not None and new.mm_per_px is not None):
        return new
    return kept
