"""What runs on a Dask worker: probing an input and analysing one of its frame ranges.

The detector is loaded once per worker thread and kept (a worker runs one task at a time per
thread, and the ONNX detector keeps buffers between frames); its inference threads default to
1, and OpenCV's to 1, so that N single-threaded workers use N cores without oversubscribing.
Errors become a one-line reason in the result, never an exception: only a dying worker makes a
task fail, and Dask retries it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from usguide.analysis.analyzer import FrameAnalyzer
from usguide.batch.inputs import content_hash
from usguide.batch.segments import LineFormat, Segment, SegmentResult, analyze_segment
from usguide.detect.base import Detector
from usguide.detect.factory import make_detector
from usguide.errors import UsguideError
from usguide.sources.factory import make_source
from usguide.types import Roi

_cache = threading.local()


@dataclass(frozen=True)
class AnalyzeOptions:
    """How every input of a batch is analysed (``usguide analyze``'s options)."""

    detector: str = "onnx"
    model: str | None = None
    provider: str = "cpu"
    threads: int = 1
    track: bool = True
    roi: Roi | None = None
    mm_per_px: float | None = None
    depth_mm: float | None = None
    fps: float | None = None


@dataclass(frozen=True)
class Probe:
    """An input's hash and frame count, or why it cannot be read."""

    input_hash: str | None = None
    frame_count: int | None = None
    error: str | None = None


def cached_detector(options: AnalyzeOptions) -> Detector:
    """This thread's detector for ``options``, loaded on first use and then kept."""
    key = (options.detector, options.model, options.provider, options.threads)
    if getattr(_cache, "key", None) != key:
        import cv2

        cv2.setNumThreads(1)
        old = getattr(_cache, "detector", None)
        if old is not None:
            old.close()
        _cache.detector = make_detector(
            options.detector, options.model, provider=options.provider, threads=options.threads
        )
        _cache.key = key
    return _cache.detector


def probe_input(path: Path, options: AnalyzeOptions) -> Probe:
    """Hashes an input and opens it to count its frames (a task: errors are returned)."""
    try:
        input_hash = content_hash(path)
        with open_input(path, options) as source:
            if source.read() is None:
                return Probe(input_hash, error=f"{path} has no frames")
            return Probe(input_hash, source.info.frame_count)
    except Exception as exc:  # noqa: BLE001 - any reason becomes the input's one-line failure
        return Probe(error=one_line(exc))


def run_segment(
    path: Path, segment: Segment, options: AnalyzeOptions, line: LineFormat
) -> SegmentResult:
    """Analyses one range of an input (a task: errors are returned in the result)."""
    try:
        detector = cached_detector(options)
        # As in `usguide analyze`: the region and scale reach the analyzer on the frames.
        analyzer = FrameAnalyzer(detector, track=options.track)
        with open_input(path, options) as source:
            return analyze_segment(source, analyzer, segment, line)
    except Exception as exc:  # noqa: BLE001 - any reason becomes the input's one-line failure
        return SegmentResult(error=one_line(exc))


def one_line(exc: BaseException) -> str:
    """An exception as one line: a UsguideError's message, else its type and first line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, UsguideError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


def open_input(path: Path, options: AnalyzeOptions):  # noqa: ANN202 - a FrameSource
    """The input's frame source with the batch's calibration options (open it with ``with``)."""
    return make_source(
        str(path),
        roi=options.roi,
        mm_per_px=options.mm_per_px,
        depth_mm=options.depth_mm,
        fps=options.fps,
    )
