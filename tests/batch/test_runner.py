"""``run_batch`` on a LocalCluster of two single-threaded worker processes over simulated clips:
outputs equal ``usguide analyze``, resume, a corrupt input failing alone, a killed worker's task,
reports (``--report``) written, summarised and resumed, a failed report failing its input alone."""

from __future__ import annotations

import csv
import functools
import json
import os

import pytest

pytest.importorskip("distributed")

from usguide.batch.inputs import find_inputs, model_hash  # noqa: E402
from usguide.batch.manifest import TEMP_PREFIX  # noqa: E402
from usguide.batch.reports import ReportResult, build_report  # noqa: E402
from usguide.batch.runner import (  # noqa: E402
    dask_client,
    metrics_path,
    output_path,
    report_path,
    run_batch,
)
from usguide.batch.summary import METRIC_COLUMNS  # noqa: E402
from usguide.batch.worker import AnalyzeOptions, run_segment  # noqa: E402
from usguide.commands.analyze import result_line  # noqa: E402

from .conftest import needles, read_jsonl  # noqa: E402

OPTIONS = AnalyzeOptions(threads=1)
MODEL = model_hash("onnx", None)


@pytest.fixture(scope="module")
def client():
    with dask_client("local", workers=2, dashboard=":0") as dask:
        yield dask


def _batch(client, inputs, out_dir, **kwargs):
    kwargs.setdefault("segment_frames", 15)  # 40 frames: three ranges per input
    return run_batch(
        client, inputs, out_dir, OPTIONS, result_line, model_hash=MODEL, progress=False, **kwargs
    )


def _no_temp_files(out_dir):
    return not [path for path in out_dir.rglob("*") if path.name.startswith(TEMP_PREFIX)]


def test_outputs_equal_analyze_resume_and_force(client, archive, reference, tmp_path):
    inputs = find_inputs([archive])
    assert [item.key for item in inputs] == sorted(reference)
    # A partial output left by a crash, without a manifest entry, is not taken as done.
    partial = output_path(tmp_path, inputs[0].key)
    partial.parent.mkdir(parents=True)
    partial.write_text('{"frame": 0, "needle": null}\n')

    report = _batch(client, inputs, tmp_path)
    assert sorted(report.done) == sorted(reference) and not report.failed
    for key, expected in reference.items():
        assert needles(read_jsonl(output_path(tmp_path, key))) == needles(expected)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert {entry["status"] for entry in manifest["inputs"]} == {"done"}
    assert {entry["segments"] for entry in manifest["inputs"]} == {3}
    assert all(entry["model_hash"] == MODEL for entry in manifest["inputs"])
    rows = list(csv.DictReader((tmp_path / "summary.csv").open()))
    assert [row["key"] for row in rows] == sorted(reference)
    expected_found = [sum(line["needle"] is not None for line in reference[k]) for k in reference]
    assert [int(row["needle_frames"]) for row in rows] == expected_found
    assert (tmp_path / "summary.parquet").is_file() and _no_temp_files(tmp_path)

    stamps = {key: output_path(tmp_path, key).stat().st_mtime_ns for key in reference}
    again = _batch(client, inputs, tmp_path)
    assert sorted(again.skipped) == sorted(reference) and not again.done
    assert {key: output_path(tmp_path, key).stat().st_mtime_ns for key in reference} == stamps

    forced = _batch(client, inputs[:1], tmp_path, force=True)
    assert forced.done == [inputs[0].key]


def test_corrupt_input_fails_alone(client, archive, reference, tmp_path):
    broken = tmp_path / "in" / "broken.mkv"
    broken.parent.mkdir()
    broken.write_bytes(b"\x1a\x45\xdf\xa3 truncated matroska" * 50)
    inputs = find_inputs([archive / "clip_0002" / "video.mkv", broken])
    report = _batch(client, inputs, tmp_path / "out")
    assert report.done == ["video.mkv"] and list(report.failed) == ["broken.mkv"]
    reason = report.failed["broken.mkv"]
    assert reason and "\n" not in reason
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    entries = {entry["key"]: entry for entry in manifest["inputs"]}
    assert entries["broken.mkv"]["status"] == "failed" and entries["broken.mkv"]["reason"] == reason
    assert not output_path(tmp_path / "out", "broken.mkv").exists()
    expected = needles(reference["clip_0002/video.mkv"])
    assert needles(read_jsonl(output_path(tmp_path / "out", "video.mkv"))) == expected


def _dies_first_time(marker, path, segment, options, line):
    """The middle range's first attempt kills its worker process mid-task."""
    if segment.start == 15 and not marker.exists():
        marker.write_text(str(os.getpid()))
        os._exit(1)
    return run_segment(path, segment, options, line)


def test_killed_worker_task_is_retried(client, archive, reference, tmp_path):
    marker = tmp_path / "killed"
    inputs = find_inputs([archive / "clip_0001" / "video.mkv"])
    task = functools.partial(_dies_first_time, marker)
    report = _batch(client, inputs, tmp_path / "out", task=task)
    assert marker.exists()  # a worker did die
    assert report.done == ["video.mkv"] and not report.failed
    expected = needles(reference["clip_0001/video.mkv"])
    assert needles(read_jsonl(output_path(tmp_path / "out", "video.mkv"))) == expected
    assert _no_temp_files(tmp_path / "out")


def test_reports_written_summarised_and_resumed(client, archive, reference, tmp_path):
    inputs = find_inputs([archive])
    first = inputs[0].key
    assert _batch(client, inputs[:1], tmp_path).done == [first]  # done without a report
    assert not metrics_path(tmp_path, first).exists()

    report = _batch(client, inputs, tmp_path, with_reports=True)
    assert sorted(report.done) == sorted(reference) and not report.failed  # `first` redone
    manifest = {
        entry["key"]: entry
        for entry in json.loads((tmp_path / "manifest.json").read_text())["inputs"]
    }
    rows = {row["key"]: row for row in csv.DictReader((tmp_path / "summary.csv").open())}
    for key, lines in reference.items():
        entry = manifest[key]
        assert (
            entry["metrics"] == f"metrics/{key}.json" and entry["report"] == f"reports/{key}.html"
        )
        data = json.loads(metrics_path(tmp_path, key).read_text())
        assert data["procedure"] is None and data["metrics"]["frames"] == len(lines)
        assert data["metrics"] == entry["metric_values"]
        html = report_path(tmp_path, key).read_text()
        assert html.startswith("<!DOCTYPE html>") and "Not a usguide session" in html
        assert set(METRIC_COLUMNS) <= set(rows[key])
        assert float(rows[key]["duration_s"]) == data["metrics"]["duration_s"] > 0
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(tmp_path / "summary.parquet")
    assert str(table.schema.field("target_hit").type) == "bool"
    assert str(table.schema.field("redirections").type) == "int64"
    assert str(table.schema.field("visible_fraction").type) == "double"
    assert _no_temp_files(tmp_path)

    written = [output_path, metrics_path, report_path]
    stamps = {(k, f): f(tmp_path, k).stat().st_mtime_ns for k in reference for f in written}
    again = _batch(client, inputs, tmp_path, with_reports=True)
    assert sorted(again.skipped) == sorted(reference) and not again.done
    assert {(k, f): f(tmp_path, k).stat().st_mtime_ns for k in reference for f in written} == stamps


def _fails_for(name, job):
    """The report of the input in folder ``name`` cannot be built; the others are."""
    if job.path.parent.name == name:
        return ReportResult(error="report: cannot draw the key frames")
    return build_report(job)


def test_failed_report_fails_its_input_alone(client, archive, reference, tmp_path):
    inputs = find_inputs([archive])
    task = functools.partial(_fails_for, "clip_0001")
    report = _batch(client, inputs, tmp_path, with_reports=True, report_task=task)
    bad = "clip_0001/video.mkv"
    assert report.failed == {bad: "report: cannot draw the key frames"}
    assert sorted(report.done) == sorted(set(reference) - {bad})
    entries = {e["key"]: e for e in json.loads((tmp_path / "manifest.json").read_text())["inputs"]}
    assert entries[bad]["status"] == "failed" and entries[bad]["output"] is None
    for path in (output_path, metrics_path, report_path):
        assert not path(tmp_path, bad).exists()
    assert all(report_path(tmp_path, key).is_file() for key in report.done)
