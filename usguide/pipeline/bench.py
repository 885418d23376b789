"""Headless benchmark of the full pipeline: one configuration, flat out or paced at F fps.

As fast as possible, each frame is released the moment the worker is idle (decoded ahead, stamped on
release), so throughput is the pipeline's own and latency has no queueing in it. Paced, frames are
released on a fixed F fps clock like a live probe, and frames the worker cannot take are dropped and
counted.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from usguide.analysis.base import Analyzer
from usguide.defaults import BUDGET_MS, WARMUP_FRAMES
from usguide.errors import UsguideError
from usguide.pipeline.runner import Pipeline
from usguide.pipeline.stats import END_TO_END, INFERENCE, OVERHEAD, PipelineStats
from usguide.sources.base import FrameSource
from usguide.sources.paced import PacedSource
from usguide.types import FrameResult

PER_FRAME_CAP = 20_000  # per-frame samples kept for the JSON and the plot (thinned beyond)
_POLL_S = 0.05
_NO_PROGRESS_S = 15.0  # give up when no frame arrives for this long


@dataclass
class BenchConfig:
    """One benchmark configuration (``--compare`` overrides fields by ``key=value``)."""

    input: str | None = None  # None: the demo recording
    frames: int = 300  # measured frames, after warm-up
    fps: float | None = None  # None: as fast as possible
    detector: str = "onnx"  # onnx, classical or none (capture and display only)
    provider: str = "cpu"
    threads: int | None = None
    model: str | None = None
    warmup: int = WARMUP_FRAMES
    budget_ms: float = BUDGET_MS
    soak_s: float | None = None  # run for this long instead of ``frames``
    soak_interval_s: float = 10.0
    label: str = ""

    _CONVERT = {"frames": int, "fps": float, "threads": int, "warmup": int, "budget_ms": float}

    def with_overrides(self, spec: str) -> BenchConfig:
        """This config with ``key=value[,key=value]`` applied, labelled by ``spec``.

        Raises:
            UsguideError: unknown key or bad value.
        """
        changes: dict[str, Any] = {"label": spec}
        allowed = ("input", "fps", "detector", "provider", "threads", "model", "frames", "warmup",
                   "budget_ms")  # fmt: skip
        for part in filter(None, (p.strip() for p in spec.split(","))):
            key, sep, value = part.partition("=")
            key = key.strip().replace("-", "_")
            if not sep or key not in allowed:
                raise UsguideError(
                    f"bad --compare item {part!r}: use key=value with key one of "
                    f"{', '.join(allowed)}"
                )
            value = value.strip()
            if value.lower() in ("", "none", "max") and key in ("fps", "threads"):
                changes[key] = None
                continue
            try:
                changes[key] = self._CONVERT.get(key, str)(value)
            except ValueError:
                raise UsguideError(
                    f"bad --compare value {part!r}: {key} must be a number"
                ) from None
        return dataclasses.replace(self, **changes)

    def describe(self) -> str:
        pace = f"paced {self.fps:g} fps" if self.fps else "as fast as possible"
        threads = f", {self.threads} threads" if self.threads else ""
        return f"{self.detector}{threads}, {pace}"

    def to_json(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if not k.startswith("_")}


class FrameTimeline:
    """Per-frame samples (result time, capture-to-result, inference) for the JSON and the plot.

    Bounded: when ``cap`` samples are held, every other one is dropped and only every
    ``stride``-th frame is kept from then on, so the timeline spans the whole run at an even
    spacing and a soak's memory stays flat.
    """

    def __init__(self, cap: int = PER_FRAME_CAP) -> None:
        self.cap = max(2, int(cap))
        self.stride = 1
        self._seen = 0
        self._columns = (array("d"), array("d"), array("d"))

    def __len__(self) -> int:
        return len(self._columns[0])

    def add(self, t_result_ns: int, latency_ms: float, inference_ms: float) -> None:
        if self._seen % self.stride == 0:
            values = (t_result_ns, latency_ms, inference_ms)
            for column, value in zip(self._columns, values, strict=True):
                column.append(value)
            if len(self) >= self.cap:
                for column in self._columns:
                    del column[1::2]
                self.stride *= 2
        self._seen += 1

    def to_json(self) -> dict:
        times, latency, inference = self._columns
        origin = times[0] if times else 0.0
        return {
            "every_nth_frame": self.stride,
            "t_ms": [round((t - origin) / 1e6, 3) for t in times],
            "capture_to_result_ms": [round(v, 4) for v in latency],
            "inference_ms": [round(v, 4) for v in inference],
        }


def open_bench_source(spec: str | None) -> FrameSource:
    """The (unopened, looping) source for ``INPUT``; the demo recording when None."""
    from usguide.sources.factory import make_source

    return make_source(spec or "demo", loop=True)


def make_bench_analyzer(config: BenchConfig) -> tuple[Analyzer | None, dict]:
    """The analyzer for a configuration and a description of its detector (None for ``none``)."""
    if config.detector == "none":
        return None, {"name": "none"}
    from usguide.analysis.analyzer import FrameAnalyzer
    from usguide.detect.factory import make_detector

    detector = make_detector(config.detector, config.model, config.provider, config.threads)
    info: dict[str, Any] = {"name": getattr(detector, "name", config.detector)}
    for attribute in ("input_scale", "model_hash", "metadata", "model_path", "providers"):
        value = getattr(detector, attribute, None)
        if value is not None and not callable(value):
            info[attribute] = value if isinstance(value, (int, float, dict, list)) else str(value)
    if config.detector == "onnx" and "model_path" not in info:
        from usguide.paths import default_model_path

        info["model_path"] = str(config.model or default_model_path())
    return FrameAnalyzer(detector), info


def run_bench(
    config: BenchConfig,
    *,
    progress: Callable[[int, int, float], None] | None = None,
    source: FrameSource | None = None,
    analyzer_factory: Callable[[BenchConfig], tuple[Analyzer | None, dict]] = make_bench_analyzer,
) -> dict:
    """Runs one configuration and returns every statistic as JSON-ready data.

    Args:
        config: what to run.
        progress: called about 20 times a second with (frames done, frames wanted, elapsed s).
        source: an unopened source instead of ``config.input`` (tests).
        analyzer_factory: builds the analyzer (tests pass a fake).
    """
    import psutil

    if config.frames < 1 and not config.soak_s:
        raise UsguideError("--frames must be at least 1")
    analyzer, detector_info = analyzer_factory(config)
    paced = PacedSource(source or open_bench_source(config.input), fps=config.fps)
    pipeline = Pipeline(paced, analyzer, budget_ms=config.budget_ms, warmup_frames=config.warmup)
    if not config.fps:
        paced.gate = pipeline.wait_idle
    timeline = FrameTimeline()
    results = 0

    def on_result(result: FrameResult) -> None:
        nonlocal results
        results += 1
        timings = result.timings
        if results > config.warmup and timings.t_result_ns is not None:
            inference = timings.stages.get(INFERENCE)
            timeline.add(
                timings.t_result_ns,
                timings.capture_to_result_ms or 0.0,
                inference.ms if inference else 0.0,
            )

    pipeline.subscribe_results(on_result)
    process = psutil.Process()
    target = config.warmup + config.frames
    soak: list[dict] = []
    measured_from: tuple[float, float] | None = None
    started = last_sample = time.monotonic()
    last_count, last_change = -1, started
    pipeline.start()
    try:
        while True:
            time.sleep(_POLL_S)
            now = time.monotonic()
            # Counters only: a full snapshot every poll would compete with the worker for the GIL.
            captured = pipeline.frames_captured
            processed = pipeline.frames_processed
            if measured_from is None and processed >= config.warmup:
                measured_from = (now, time.process_time())
            if progress is not None:
                done = now - started if config.soak_s else captured
                progress(int(done), int(config.soak_s or target), now - started)
            if config.soak_s and now - last_sample >= config.soak_interval_s:
                soak.append(_soak_sample(pipeline, process, now - started))
                last_sample = now
            if captured != last_count:
                last_count, last_change = captured, now
            elif now - last_change > _NO_PROGRESS_S:
                reason = f" ({pipeline.last_error})" if pipeline.last_error else ""
                raise UsguideError(
                    f"no frame for {_NO_PROGRESS_S:.0f} s from {paced.info.name}{reason} — "
                    "check INPUT"
                )
            if (config.soak_s and now - started >= config.soak_s) or (
                not config.soak_s and captured >= target
            ):
                pipeline.wait_idle(1.0)
                break
        end_wall, end_cpu = time.monotonic(), time.process_time()
        if config.soak_s:  # the last sample while still running (stopping frees thread memory)
            soak.append(_soak_sample(pipeline, process, end_wall - started))
    finally:
        pipeline.stop()
        detector = analyzer.detector if analyzer is not None else None
        if detector is not None:
            detector.close()
    wall0, cpu0 = measured_from or (started, end_cpu)
    wall = max(end_wall - wall0, 1e-9)
    stats = pipeline.stats
    return {
        "label": config.label or config.describe(),
        "config": config.to_json(),
        "source": dataclasses.asdict(paced.info),
        "detector": detector_info,
        "summary": _summary(stats, wall, end_cpu - cpu0, pipeline.errors, pipeline.last_error),
        "stats": stats.to_json(),
        "per_frame": timeline.to_json(),
        "soak": soak or None,
    }


def _summary(
    stats: PipelineStats, wall: float, cpu: float, errors: int, last_error: str | None
) -> dict:
    stages = {name: series.run.to_json() for name, series in stats.stages.items()}
    # A frame whose analysis raised still counts as processed: the state says it did not work.
    state = stats.state
    if errors:
        state = "failed" if errors >= stats.frames_processed else "partial"
    latency = stats.latency
    empty = {"count": 0, "p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0, "mean": 0.0}
    return {
        "throughput_fps": round(stats.processed_fps, 3),
        "capture_fps": round(stats.capture_fps, 3),
        "frames_captured": stats.frames_captured,
        "frames_processed": stats.frames_processed,
        "frames_dropped": stats.frames_dropped,
        "frames_over_budget": stats.frames_over_budget,
        "final_state": state,
        "budget_state": stats.state,
        "analysis_errors": errors,
        "last_error": last_error,
        "final_input_scale": stats.input_scale,
        "stages_ms": stages,
        "capture_to_result_ms": latency[END_TO_END].run.to_json()
        if END_TO_END in latency
        else empty,
        "overhead_ms": latency[OVERHEAD].run.to_json() if OVERHEAD in latency else empty,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "cpu_percent": round(100.0 * cpu / wall, 1),
    }


def _soak_sample(pipeline: Pipeline, process: Any, elapsed_s: float) -> dict:
    stats = pipeline.snapshot(whole_run=False)
    window = stats.end_to_end.window
    return {
        "t_s": round(elapsed_s, 1),
        "rss_mb": round(process.memory_info().rss / 2**20, 1),
        "capture_to_result_p50_ms": round(window.p50, 3),
        "capture_to_result_p99_ms": round(window.p99, 3),
        "processed_fps_window": round(stats.processed_fps_window, 2),
        "frames_dropped": stats.frames_dropped,
        "threads": threading.active_count(),
    }
