"""``usguide batch --report``: an input's trainer metrics (JSON) and HTML report, on a worker.

Built from the batch's own analysis (the stitched JSON lines, their times and calibration) with
``usguide.review``'s functions, so the numbers are those of ``usguide report`` on the same
results. A usguide session adds what only it has: its procedure record (flags, edits), its
capture times and the targets recorded with it; any other input (video, DICOM, image folder) is
measured on its frames' source times and reported without a procedure record. Errors become the
one-line reason of the result, never an exception (as for the analysis tasks).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from usguide.batch.worker import AnalyzeOptions, one_line, open_input
from usguide.errors import UsguideError
from usguide.record.format import META_FILE
from usguide.record.procedure_log import session_procedure
from usguide.record.reader import SessionReader
from usguide.review.report import (
    FrameReader,
    report_html,
    report_json,
    review_results,
    session_frames,
)
from usguide.review.track import session_times_ns
from usguide.sources.frames import iter_frames
from usguide.types import Calibration


@dataclass(frozen=True)
class ReportJob:
    """What a report is built from: an input and its stitched analysis (``SegmentResult``)."""

    path: Path
    options: AnalyzeOptions
    lines: list[str]
    times_s: list[float]
    calibration: Calibration | None


@dataclass(frozen=True)
class ReportResult:
    """The report's JSON (``usguide report --json``'s), the metric values alone (the summary's
    columns) and the HTML; or why it could not be built."""

    data: dict | None = None
    metrics: dict | None = None
    html: str | None = None
    error: str | None = None


def build_report(job: ReportJob) -> ReportResult:
    """Measures and reports one analysed input (a task: errors are returned in the result)."""
    try:
        results = [json.loads(text) for text in job.lines]
        if not results:
            raise UsguideError(f"{job.path} has no analysed frame; nothing to report")
        calibration = job.calibration or Calibration()
        indices = [int(data["frame"]) for data in results]
        if (job.path / META_FILE).is_file():
            procedure = session_procedure(job.path)
            with SessionReader(job.path) as reader:
                t_ns = session_times_ns(reader)
                recorded = dict(reader.results)
            _add_recorded_targets(results, recorded)
            t_s = (t_ns[indices] - t_ns[0]) / 1e9
            frames = _by_position(session_frames(job.path), indices)
        else:
            procedure, t_s = None, np.asarray(job.times_s, dtype=np.float64)
            frames = _by_position(_input_frames(job.path, job.options), indices)
        review = review_results(results, t_s, calibration, frames, procedure=procedure)
        metrics = review.metrics.to_json()
        return ReportResult(report_json(review), metrics, report_html(review))
    except Exception as exc:  # noqa: BLE001 - any reason becomes the input's one-line failure
        return ReportResult(error=f"report: {one_line(exc)}")


def _add_recorded_targets(results: list[dict], recorded: dict[int, dict | None]) -> None:
    """Gives frames the target recorded with the session (the batch's analyzer has none)."""
    for data in results:
        aim = ((recorded.get(data["frame"]) or {}).get("trajectory") or {}).get("target")
        trajectory = data.get("trajectory") or {}
        if aim is not None and trajectory.get("target") is None:
            data["trajectory"] = {**trajectory, "target": aim}


def _by_position(read: FrameReader, indices: list[int]) -> FrameReader:
    """Reads frames by their position in the results (``indices``: each one's frame number)."""
    return lambda positions: read([indices[i] for i in positions])


def _input_frames(path: Path, options: AnalyzeOptions) -> FrameReader:
    """Reads frames of a video, DICOM or image folder (by seeking where it can)."""

    def read(numbers: list[int]) -> list[np.ndarray]:
        wanted = set(numbers)
        images: dict[int, np.ndarray] = {}
        with open_input(path, options) as source:
            if source.seekable:
                for index in sorted(wanted):
                    source.seek(index)
                    frame = source.read()
                    if frame is not None:
                        images[frame.index] = frame.image
            else:
                for frame in iter_frames(source):
                    if frame.index in wanted:
                        images[frame.index] = frame.image
                    if len(images) == len(wanted):
                        break
        missing = sorted(wanted - images.keys())
        if missing:
            raise UsguideError(f"frame {missing[0]} of {path} could not be read again")
        return [images[number] for number in numbers]

    return read
