"""``run_batch`` on a LocalCluster of two single-threaded worker processes over simulated clips:
outputs equal ``usguide analyze``, resume, a corrupt input failing alone, a killed worker's task."""

from __future__ import annotations

import csv
import functools
import json
import os

import pytest

pytest.importorskip("distributed")

from usguide.batch.inputs import find_inputs, model_hash  # noqa: E402
from usguide.batch.manifest import TEMP_PREFIX  # noqa: E402
from usguide.batch.runner import dask_client, output_path, run_batch  # noqa: E402
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
