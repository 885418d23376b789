"""``usguide batch`` from the command line: exit codes, files written, resume, Dask missing, and an
existing scheduler (``dask scheduler`` and ``dask worker`` started as subprocesses on loopback)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time

import pytest

from usguide.cli import main
from usguide.simulate.export import write_clips


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch-cli")
    return write_clips(root, 1, 10, "linear", 20, (320, 240))[0]


def _batch(*args):
    return main(["batch", *map(str, args), "--detector", "classical", "--quiet"])


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_corrupt_input_exits_1_then_resume_exits_0(clip, tmp_path, capsys):
    pytest.importorskip("distributed")
    broken = tmp_path / "broken.avi"
    broken.write_bytes(b"RIFF\x00\x00garbage" * 20)
    out = tmp_path / "out"
    assert _batch(clip, broken, "--out", out, "--workers", 1) == 1
    err = capsys.readouterr().err
    assert "batch: failed broken.avi: " in err and "1 done" in err and "1 failed" in err
    assert [line["frame"] for line in _lines(out / "results" / "video.mkv.jsonl")] == list(
        range(20)
    )
    rows = {row["key"]: row for row in csv.DictReader((out / "summary.csv").open())}
    assert rows["video.mkv"]["status"] == "done" and rows["broken.avi"]["status"] == "failed"
    assert _batch(clip, "--out", out, "--workers", 1) == 0
    assert "0 done, 1 already done, 0 failed" in capsys.readouterr().err


def test_report_writes_metrics_html_and_summary_columns(clip, tmp_path, capsys):
    pytest.importorskip("distributed")
    out = tmp_path / "out"
    assert _batch(clip, "--out", out, "--workers", 1, "--report") == 0
    metrics = json.loads((out / "metrics" / "video.mkv.json").read_text())
    assert metrics["metrics"]["frames"] == 20 and metrics["procedure"] is None
    assert (out / "reports" / "video.mkv.html").read_text().startswith("<!DOCTYPE html>")
    row = next(csv.DictReader((out / "summary.csv").open()))
    assert row["report"] == "reports/video.mkv.html" and float(row["duration_s"]) > 0
    capsys.readouterr()
    assert _batch(clip, "--out", out, "--workers", 1, "--report") == 0
    assert "0 done, 1 already done, 0 failed" in capsys.readouterr().err


def test_without_dask_one_line_exit_2(clip, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    monkeypatch.delitem(sys.modules, "usguide.batch.runner", raising=False)
    assert _batch(clip, "--out", tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'usguide[batch]'" in err


def test_no_inputs_exit_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert _batch(tmp_path / "empty", "--out", tmp_path / "out") == 2
    assert "no inputs found" in capsys.readouterr().err


def test_existing_scheduler_on_loopback(clip, tmp_path, capsys):
    pytest.importorskip("distributed")
    scheduler_file = tmp_path / "scheduler.json"
    dask = [sys.executable, "-m", "dask"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [*dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
         "--scheduler-file", str(scheduler_file)],
        **quiet,
    )  # fmt: skip
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        worker = subprocess.Popen(
            [*dask, "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
             "--host", "127.0.0.1"],
            **quiet,
        )  # fmt: skip
        out = tmp_path / "out"
        assert _batch(clip, "--out", out, "--scheduler", address) == 0
        assert f"({address})" in capsys.readouterr().err
        assert len(_lines(out / "results" / "video.mkv.jsonl")) == 20
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
