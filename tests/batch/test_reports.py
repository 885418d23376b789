"""``--report``'s task without Dask: a session keeps its procedure and recorded target and measures
as ``usguide report`` does; a video is measured on its own times, without a procedure record."""

from __future__ import annotations

import json

import pytest

from tests.review import synthetic as syn
from tests.review.test_report import ROI, _session
from usguide.batch.reports import ReportJob, build_report
from usguide.batch.worker import AnalyzeOptions
from usguide.record.reader import SessionReader
from usguide.review.report import review_session
from usguide.types import Calibration

OPTIONS = AnalyzeOptions(threads=1)


def test_session_report_equals_usguide_report(tmp_path):
    folder = _session(tmp_path / "s")
    with SessionReader(folder) as reader:
        recorded = dict(reader.results)
        count = reader.frame_count
    lines = []  # what the batch computes: the same needles, no target (its analyzer has none)
    for index in range(count):
        data = dict(recorded.get(index) or {"needle": None}, frame=index)
        if data.get("trajectory"):
            data["trajectory"] = dict(data["trajectory"], target=None)
        lines.append(json.dumps(data))
    # Times the session's own capture times replace (i / 7 s would change every duration).
    times = [i / 7 for i in range(count)]
    job = ReportJob(folder, OPTIONS, lines, times, Calibration(syn.MM_PER_PX, ROI))
    result = build_report(job)
    assert result.error is None
    expected = review_session(folder).metrics.to_json()
    assert result.metrics == expected and result.data["metrics"] == expected
    assert result.metrics["target_hit"] is True  # the target recorded with the session
    assert result.metrics["redirections"] == 1 and result.metrics["lost_episodes"] == 1
    assert result.data["procedure"]["case_id"] == "CASE-7" and result.data["edits"] == []
    assert "CASE-7" in result.html and "Procedure and checklist" in result.html
    assert result.html.count("data:image/png;base64,") == 3  # the key frames


def test_video_report_has_no_procedure(archive, reference):
    key = "clip_0001/video.mkv"
    lines = [json.dumps(line) for line in reference[key]]
    times = [i / 30 for i in range(len(lines))]
    job = ReportJob(archive / key, OPTIONS, lines, times, Calibration(None, None))
    result = build_report(job)
    assert result.error is None
    assert result.data["procedure"] is None and result.data["flags"] == []
    assert result.metrics["frames"] == len(lines)
    assert result.metrics["duration_s"] == pytest.approx((len(lines) - 1) / 30, abs=1e-3)
    assert result.metrics["path_length_mm"] is None  # no scale
    assert "Not a usguide session" in result.html
    assert "data:image/png;base64," in result.html  # key frames read back from the video


def test_report_failure_is_one_line(archive, tmp_path):
    empty = build_report(ReportJob(archive / "clip_0001" / "video.mkv", OPTIONS, [], [], None))
    assert empty.error.startswith("report: ") and "\n" not in empty.error
    (tmp_path / "meta.json").write_text("{ broken")
    lines = [json.dumps({"frame": 0, "needle": None})]
    damaged = build_report(ReportJob(tmp_path, OPTIONS, lines, [0.0], None))
    assert damaged.error.startswith("report: ") and damaged.data is None and damaged.html is None
