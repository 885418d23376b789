"""Drives a batch on a Dask client: probe every input, analyse its frame ranges, write as they end.

Tasks return their results to this process, which alone writes ``DIR``: an input's JSONL is
written (atomically) only once all its ranges have come back, and only then is it marked done,
so a worker that dies mid-task leaves nothing behind; Dask runs the task again on another worker
(``distributed.scheduler.allowed-failures`` times, then the input is recorded as failed).
With reports, an input's stitched results go back to a worker for its metrics and HTML report
(``reports.build_report``: the worker reads the input's key frames), and its JSONL, metrics and
report are written together when that task returns; a report that cannot be built fails the input.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from usguide import __version__
from usguide.batch.inputs import BatchInput
from usguide.batch.manifest import DONE, FAILED, Entry, Manifest, write_atomic
from usguide.batch.reports import ReportJob, ReportResult, build_report
from usguide.batch.segments import (
    SEGMENT_FRAMES,
    WARMUP_FRAMES,
    LineFormat,
    SegmentResult,
    plan_segments,
    stitch,
)
from usguide.batch.summary import write_summary
from usguide.batch.worker import AnalyzeOptions, Probe, one_line, probe_input, run_segment
from usguide.errors import UsguideError
from usguide.progress import Progress

DASK_MISSING = (
    "usguide batch needs Dask — install it with `pip install 'usguide[batch]'` "
    "(or `pip install 'dask[distributed]'`)"
)
try:
    import distributed
except ImportError:  # the optional `batch` extra
    raise UsguideError(DASK_MISSING) from None

RESULTS_DIR, METRICS_DIR, REPORTS_DIR = "results", "metrics", "reports"
SegmentTask = Callable[[Path, object, AnalyzeOptions, LineFormat], SegmentResult]
ReportTask = Callable[[ReportJob], ReportResult]


@dataclass
class BatchReport:
    """What a batch did: the keys done now, skipped (done before) and failed (with reasons)."""

    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    frames: int = 0
    wall_s: float = 0.0
    summary: list[Path] = field(default_factory=list)


@contextmanager
def dask_client(
    scheduler: str = "local", workers: int | None = None, dashboard: str | None = ":8787"
) -> Iterator[distributed.Client]:
    """A client of a new ``LocalCluster`` (``local``: ``workers`` single-threaded worker
    processes, default one per core) or of the scheduler at ``scheduler`` (``tcp://host:8786``).

    Raises:
        UsguideError: the scheduler cannot be reached.
    """
    if scheduler == "local":
        with (
            distributed.LocalCluster(
                n_workers=workers or _cores(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=dashboard,
                silence_logs=logging.ERROR,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = distributed.Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsguideError(
            f"cannot reach the Dask scheduler {scheduler} ({one_line(exc)}) — start one with "
            "`dask scheduler` or use --scheduler local"
        ) from None
    with client:
        yield client


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def dashboard_link(client: distributed.Client) -> str | None:
    """The dashboard's address when the scheduler serves one (it needs bokeh), else None."""
    services = client.scheduler_info().get("services", {})
    return client.dashboard_link if "dashboard" in services else None


def run_batch(
    client: distributed.Client,
    inputs: list[BatchInput],
    out_dir: Path,
    options: AnalyzeOptions,
    line: LineFormat,
    *,
    model_hash: str,
    force: bool = False,
    segment_frames: int = SEGMENT_FRAMES,
    warmup: int = WARMUP_FRAMES,
    progress: bool = True,
    with_reports: bool = False,
    task: SegmentTask = run_segment,
    report_task: ReportTask = build_report,
) -> BatchReport:
    """Analyses every input not yet done; writes outputs, manifest and summary under ``out_dir``.

    Args:
        client: the Dask client whose workers run the tasks.
        inputs: from ``find_inputs``.
        out_dir: the batch folder (created).
        options: how to analyse (detector, model, threads, calibration).
        line: the JSON object of one frame (``usguide.commands.analyze.result_line``).
        model_hash: from ``inputs.model_hash``; with the input's hash, what makes an input done.
        force: redo inputs already done.
        segment_frames, warmup: the frame ranges of long inputs (``segments``).
        progress: inputs finished so far on stderr (``usguide.progress``: a bar on a terminal,
            plain lines otherwise).
        with_reports: also write each input's trainer metrics (JSON) and HTML report; an input done
            without them is done again.
        task, report_task: the segment and report tasks (tests wrap them).
    """
    start = time.perf_counter()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or exc
        raise UsguideError(f"cannot create {out_dir}: {reason} — choose --out") from None
    manifest = Manifest(out_dir)
    report = BatchReport()
    by_key = {item.key: item for item in inputs}

    bar = Progress("batch", len(inputs), "input", enabled=progress)
    probes = client.map(probe_input, [item.path for item in inputs], options=options, pure=False)
    planned: dict[str, list[distributed.Future]] = {}
    submitted_at: dict[str, float] = {}
    hashes: dict[str, str | None] = {}
    for item, future in zip(inputs, probes, strict=True):
        probe = _result(future, lambda reason: Probe(error=reason))
        hashes[item.key] = probe.input_hash
        if probe.error is not None:
            _finish(manifest, item, probe.input_hash, model_hash, stitch([]), probe.error, 0, 0.0)
            report.failed[item.key] = probe.error
            bar.update(detail=f"{item.key} failed")
        elif not force and manifest.is_done(
            item.key, probe.input_hash, model_hash, report=with_reports
        ):
            report.skipped.append(item.key)
            bar.update(detail=f"{item.key} already done")
        else:
            segments = plan_segments(probe.frame_count, segment_frames, warmup)
            submitted_at[item.key] = time.perf_counter()
            planned[item.key] = [
                client.submit(task, item.path, segment, options, line, pure=False)
                for segment in segments
            ]
    del probes

    owner = {future.key: key for key, futures in planned.items() for future in futures}
    parts: dict[str, dict[str, SegmentResult]] = {key: {} for key in planned}
    reporting: dict[str, tuple[str, SegmentResult]] = {}  # report task -> its input and results
    finished = distributed.as_completed([f for futures in planned.values() for f in futures])
    for future in finished:
        if future.key in reporting:
            key, whole = reporting.pop(future.key)
            reported = _result(future, lambda reason: ReportResult(error=f"report: {reason}"))
            future.release()
        else:
            key = owner[future.key]
            parts[key][future.key] = _result(future, _lost)
            future.release()
            if len(parts[key]) < len(planned[key]):
                continue
            done_parts = parts.pop(key)
            whole = stitch([done_parts[f.key] for f in planned[key]])
            reported = None
            if with_reports and whole.error is None:
                path = by_key[key].path
                job = ReportJob(path, options, whole.lines, whole.times_s, whole.calibration)
                # In the task itself (not scattered to one worker), so a retry after that
                # worker dies still has it.
                pending = client.submit(report_task, job, pure=False)
                reporting[pending.key] = (key, whole)
                finished.add(pending)
                continue
        error = whole.error or (reported.error if reported is not None else None)
        wall = time.perf_counter() - submitted_at[key]
        count = len(planned[key])
        _finish(manifest, by_key[key], hashes[key], model_hash, whole, error, count, wall, reported)
        if error is None:
            report.done.append(key)
            report.frames += whole.frames
        else:
            report.failed[key] = error
        bar.update(detail=key if error is None else f"{key} failed")
    bar.close()
    entries = [manifest.entries[item.key] for item in inputs if item.key in manifest.entries]
    report.summary = write_summary(out_dir, entries)
    report.wall_s = time.perf_counter() - start
    return report


def output_path(out_dir: Path, key: str) -> Path:
    """Where the JSONL of the input named ``key`` goes."""
    return out_dir / RESULTS_DIR / f"{key}.jsonl"


def metrics_path(out_dir: Path, key: str) -> Path:
    """Where the metrics JSON of the input named ``key`` goes (``--report``)."""
    return out_dir / METRICS_DIR / f"{key}.json"


def report_path(out_dir: Path, key: str) -> Path:
    """Where the HTML report of the input named ``key`` goes (``--report``)."""
    return out_dir / REPORTS_DIR / f"{key}.html"


def _finish(
    manifest: Manifest,
    item: BatchInput,
    input_hash: str | None,
    model_hash: str,
    whole: SegmentResult,
    error: str | None,
    segments: int,
    wall_s: float,
    reported: ReportResult | None = None,
) -> None:
    """Writes a finished input's JSONL, and its metrics and report when there are (each
    atomically, when it succeeded), then its manifest entry."""
    root = manifest.out_dir
    out = output_path(root, item.key)
    metrics, html = metrics_path(root, item.key), report_path(root, item.key)
    written: list[Path] = []
    if error is None:
        write_atomic(out, lambda handle: handle.writelines(text + "\n" for text in whole.lines))
        written.append(out)
        if reported is not None:
            write_atomic(metrics, lambda handle: json.dump(reported.data, handle, indent=1))
            write_atomic(html, lambda handle: handle.write(reported.html or ""))
            written += [metrics, html]
    for path in {out, metrics, html} - set(written):
        path.unlink(missing_ok=True)  # an earlier run's output no longer matches the manifest

    def relative(path: Path) -> str | None:
        return path.relative_to(root).as_posix() if path in written else None

    manifest.record(
        Entry(
            key=item.key,
            input=str(item.path),
            output=relative(out),
            input_hash=input_hash,
            model_hash=model_hash,
            usguide_version=__version__,
            status=DONE if error is None else FAILED,
            reason=error,
            frames=whole.frames,
            needle_frames=whole.found,
            predicted_frames=whole.predicted,
            mean_confidence=round(whole.confidence_sum / whole.found, 4) if whole.found else None,
            segments=segments,
            analysis_s=round(whole.seconds, 3),
            wall_s=round(wall_s, 3),
            finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            metrics=relative(metrics),
            report=relative(html),
            metric_values=reported.metrics if reported is not None and error is None else None,
        )
    )


def _result(future: distributed.Future, on_error: Callable[[str], object]):  # noqa: ANN202
    """A task's result; a task that could not complete (its workers kept dying) as a failure."""
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - KilledWorker, a lost scheduler, ...
        return on_error(one_line(exc))


def _lost(reason: str) -> SegmentResult:
    return SegmentResult(error=f"task did not complete: {reason}")
