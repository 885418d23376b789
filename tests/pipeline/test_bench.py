"""``usguide bench``: JSON schema on a tiny video, --compare, pacing wrapper, overrides."""

from __future__ import annotations

import importlib.util
import json
import re

import cv2
import numpy as np
import pytest

from usguide.cli import main
from usguide.errors import UsguideError
from usguide.pipeline import bench as bench_module
from usguide.pipeline.bench import BenchConfig
from usguide.sources.paced import PacedSource
from usguide.types import FrameResult, Needle, Point, StageSpan, Timings

HAVE_CLASSICAL = importlib.util.find_spec("usguide.detect.classical") is not None


@pytest.fixture
def tiny_video(tmp_path):
    path = tmp_path / "tiny.mkv"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), 30, (96, 72))
    assert writer.isOpened()
    for i in range(12):
        image = np.full((72, 96, 3), 30, np.uint8)
        cv2.line(image, (5, 5), (60, 30 + i), (255, 255, 255), 2)
        writer.write(image)
    writer.release()
    return path


class FakeAnalyzer:
    """An ``Analyzer`` that finds the same needle in every frame at once."""

    name = "fake"
    detector = None

    def reset(self):
        pass

    def set_target(self, point):
        pass

    def process(self, frame):
        start = __import__("time").perf_counter_ns()
        timings = Timings(frame.t_capture_ns, {"inference": StageSpan(start, start + 1000)})
        return FrameResult(
            frame, Needle(Point(1, 1), Point(0, 0), 1.0, 45.0), None, timings, "fake"
        )


@pytest.fixture
def detector_name(monkeypatch):
    if HAVE_CLASSICAL:
        return "classical"
    monkeypatch.setattr(bench_module, "make_bench_analyzer", lambda config: (FakeAnalyzer(), {}))
    return "none"


def test_bench_json_schema_and_plot(tiny_video, tmp_path, capsys, detector_name):
    out, plot = tmp_path / "bench.json", tmp_path / "bench.png"
    args = [str(tiny_video), "--frames", "30", "--warmup", "3", "--detector", detector_name]
    assert main(["bench", *args, "--json", str(out), "--plot", str(plot)]) == 0
    printed = capsys.readouterr()
    assert "capture->result" in printed.out and "throughput" in printed.out
    assert "\r" not in printed.err  # stderr is not a terminal: plain lines at most
    document = json.loads(out.read_text())
    assert document.keys() >= {"usguide_version", "system", "runs"}
    system = document["system"]
    for key in ("cpu", "cores_logical", "os", "python", "numpy", "opencv", "onnxruntime_providers"):
        assert key in system
    (run,) = document["runs"]
    assert run.keys() >= {"label", "config", "source", "detector", "summary", "stats", "per_frame"}
    assert run["config"]["frames"] == 30 and run["config"]["fps"] is None
    summary = run["summary"]
    assert summary["frames_captured"] >= 33 and summary["frames_processed"] >= 33
    assert isinstance(summary["throughput_fps"], float) and summary["throughput_fps"] > 0
    assert isinstance(summary["cpu_percent"], float) and summary["frames_dropped"] >= 0
    for series in (summary["capture_to_result_ms"], summary["overhead_ms"]):
        assert series.keys() >= {"p50", "p95", "p99", "max", "count"}
        assert 0 <= series["p50"] <= series["p95"] <= series["p99"] <= series["max"]
    assert "inference" in summary["stages_ms"]
    assert summary["capture_to_result_ms"]["count"] == summary["frames_processed"] - 3
    assert len(run["per_frame"]["capture_to_result_ms"]) == len(run["per_frame"]["t_ms"])
    assert run["stats"]["latency"]["capture_to_result"]["window"]["count"] > 0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_compare_side_by_side(tiny_video, tmp_path, capsys):
    out = tmp_path / "compare.json"
    args = [str(tiny_video), "--frames", "8", "--warmup", "2", "--detector", "none", "--quiet"]
    assert main(["bench", *args, "--compare", "fps=200", "fps=max", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "fps=200" in printed and "fps=max" in printed and "(x" in printed
    runs = json.loads(out.read_text())["runs"]
    assert [run["config"]["fps"] for run in runs] == [200.0, None]
    assert all(run["detector"] == {"name": "none"} for run in runs)


def test_bench_bad_options_are_one_line_errors(tiny_video, capsys):
    assert main(["bench", str(tiny_video), "--compare", "speed=2"]) == 2
    assert "bad --compare item" in capsys.readouterr().err
    assert main(["bench", str(tiny_video / "missing.mkv"), "--detector", "none", "--quiet"]) == 2


def test_config_overrides():
    base = BenchConfig(detector="onnx", threads=4)
    config = base.with_overrides("threads=1,detector=classical,fps=120,model=models/x.onnx")
    assert (config.threads, config.detector, config.fps) == (1, "classical", 120.0)
    assert config.model == "models/x.onnx"
    assert config.label == "threads=1,detector=classical,fps=120,model=models/x.onnx"
    assert base.threads == 4
    with pytest.raises(UsguideError):
        base.with_overrides("threads=two")
    with pytest.raises(UsguideError):
        base.with_overrides("threads")


def test_paced_source_renumbers_and_restamps():
    from usguide.sources.base import FrameSource
    from usguide.types import Frame, SourceInfo

    class Repeating(FrameSource):
        info = SourceInfo("rep", "video", 4, 4, 30.0, live=False, frame_count=2)

        def open(self):
            self.count = 0

        def close(self):
            pass

        def read(self):
            self.count += 1
            return Frame(np.zeros((4, 4), np.uint8), self.count % 2, 0, 0.0)

    paced = PacedSource(Repeating(), fps=500.0)
    paced.open()
    frames = [paced.read() for _ in range(5)]
    assert [f.index for f in frames] == [0, 1, 2, 3, 4]
    stamps = [f.t_capture_ns for f in frames]
    assert stamps == sorted(stamps) and stamps[0] > 0
    # on a fixed 2 ms clock: frame k is never released before k * 2 ms (lateness is not asserted)
    assert all(stamp - stamps[0] >= k * 2_000_000 for k, stamp in enumerate(stamps))
    with pytest.raises(UsguideError):
        PacedSource(Repeating(), fps=0)


def test_progress_to_a_file_is_plain_lines():
    """run_bench's (done, wanted, elapsed) callback drives the shared progress: plain lines."""
    import io

    from usguide.commands.bench import _follow
    from usguide.progress import Progress

    stream = io.StringIO()
    bar = Progress("run", stream=stream, terminal=False, every_s=0)
    report = _follow(bar)
    for done in (0, 5, 10, 10, 20):
        report(done, 20, done / 10)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert [line.split(", ")[0] for line in lines] == [
        "run: 5/20 frames (25 %)",
        "run: 10/20 frames (50 %)",
        "run: 20/20 frames (100 %)",
    ]


def test_frame_timeline_is_bounded_and_spans_the_run():
    """Past its cap the timeline thins itself evenly: memory stays flat during a soak."""
    from usguide.pipeline.bench import FrameTimeline

    timeline = FrameTimeline(cap=8)
    for frame in range(100):
        timeline.add(frame * 1_000_000, float(frame), 1.0)
    data = timeline.to_json()
    assert len(timeline) < 8 and timeline.stride == 16
    assert data["every_nth_frame"] == 16
    # Frames 0, 16, 32, ..., 96: even spacing from the start to the end of the run.
    assert data["capture_to_result_ms"] == [0.0, 16.0, 32.0, 48.0, 64.0, 80.0, 96.0]
    assert data["t_ms"] == [0.0, 16.0, 32.0, 48.0, 64.0, 80.0, 96.0]


def test_soak_samples_memory_while_running(tiny_video, tmp_path, monkeypatch):
    """A short soak: samples every interval, the last one taken before the pipeline stops."""
    monkeypatch.setattr(bench_module, "make_bench_analyzer", lambda config: (FakeAnalyzer(), {}))
    config = BenchConfig(
        input=str(tiny_video), detector="none", fps=60.0, soak_s=1.0, soak_interval_s=0.25
    )
    run = bench_module.run_bench(config)
    samples = run["soak"]
    assert 4 <= len(samples) <= 6
    assert all(sample["rss_mb"] > 0 for sample in samples)
    assert samples[-1]["threads"] >= 2  # capture and worker threads still alive
    assert samples[-1]["processed_fps_window"] > 30


class FailingAnalyzer(FakeAnalyzer):
    """An ``Analyzer`` whose every frame raises (a model that breaks at run time)."""

    def process(self, frame):
        raise RuntimeError("shape mismatch in node 7")


def test_bench_reports_failed_analysis_and_exits_2(tiny_video, capsys, monkeypatch):
    import usguide.commands.bench as bench_command

    def failing_bench(config, **kwargs):
        return bench_module.run_bench(
            config, analyzer_factory=lambda config: (FailingAnalyzer(), {}), **kwargs
        )

    monkeypatch.setattr(bench_command, "run_bench", failing_bench)
    code = main(["bench", str(tiny_video), "--frames", "6", "--warmup", "2", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "state failed" in out and "state ok" not in out
    counted = re.search(r"analysis failed on (\d+) of (\d+) frames \(last: analysis failed", out)
    assert counted and counted[1] == counted[2] and int(counted[1]) >= 8, out
    lines = err.strip().splitlines()
    assert len(lines) <= 2  # the first failure's warning (once), then the error
    assert lines[-1].startswith(f"usguide: error: analysis failed on {counted[1]} of {counted[1]}")
    assert "shape mismatch in node 7" in lines[-1]
