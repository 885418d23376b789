"""A session's needle track from its recorded results, or recomputed now through the analyzer.

Recomputing replays the session's frames in order (no pacing, no drops) through a
``FrameAnalyzer`` with the current model, so a session recorded without a detector (the demo, a
plain ``usguide record``) still gets metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from usguide.analysis.analyzer import FrameAnalyzer
from usguide.detect.factory import make_detector
from usguide.errors import UsguideError
from usguide.record.reader import SessionReader
from usguide.review.track import (
    NeedleTrack,
    empty_track,
    session_times_ns,
    set_frame,
    track_from_results,
)
from usguide.sources.frames import iter_frames
from usguide.sources.recording import RecordingSource
from usguide.types import Point


def session_track(
    session: str | Path,
    *,
    recompute: bool = False,
    detector: str = "onnx",
    model_path: str | None = None,
    target: Point | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> NeedleTrack:
    """The track of a session folder.

    Args:
        session: the session folder.
        recompute: run the detector now even when the session carries recorded results.
        detector, model_path: what recomputes (``make_detector``).
        target: a target to give the analyzer when recomputing (full-frame pixels).
        progress: called with (frames done, frames in all) while recomputing.

    Raises:
        UsguideError: not a session, or a detector that cannot be built.
    """
    with SessionReader(session) as reader:
        t_ns = session_times_ns(reader)
        calibration = reader.calibration
        results = dict(reader.results)
    if results and not recompute:
        return track_from_results(results, t_ns, calibration)
    return recompute_track(
        session, t_ns, detector=detector, model_path=model_path, target=target, progress=progress
    )


def recompute_track(
    session: str | Path,
    t_capture_ns,
    *,
    detector: str = "onnx",
    model_path: str | None = None,
    target: Point | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> NeedleTrack:
    """Runs the analyzer over every frame of ``session``; times are the recorded capture times."""
    built = make_detector(detector, model_path=model_path)
    try:
        analyzer = FrameAnalyzer(built)
        analyzer.set_target(target)
        with RecordingSource(session) as source:
            reader = source.reader
            assert reader is not None
            track = empty_track((t_capture_ns - t_capture_ns[0]) / 1e9, reader.calibration)
            total = len(track)
            for frame in iter_frames(source):
                if frame.index >= total:
                    break
                set_frame(track, frame.index, analyzer.process(frame).to_json())
                if progress is not None:
                    progress(frame.index + 1, total)
    finally:
        built.close()
    if not len(track):
        raise UsguideError(f"{session} holds no frame; nothing to measure")
    return track
