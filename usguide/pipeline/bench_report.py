"""System information and the text tables of ``usguide bench`` (one run, or side by side)."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

ROWS = (  # (label, path in a run's summary, unit)
    ("throughput", ("throughput_fps",), "fps"),
    ("capture->result p50", ("capture_to_result_ms", "p50"), "ms"),
    ("capture->result p95", ("capture_to_result_ms", "p95"), "ms"),
    ("capture->result p99", ("capture_to_result_ms", "p99"), "ms"),
    ("capture->result max", ("capture_to_result_ms", "max"), "ms"),
    ("overhead p95", ("overhead_ms", "p95"), "ms"),
    ("inference p50", ("stages_ms", "inference", "p50"), "ms"),
    ("inference p99", ("stages_ms", "inference", "p99"), "ms"),
    ("frames dropped", ("frames_dropped",), ""),
    ("CPU", ("cpu_percent",), "%"),
)


def system_info() -> dict:
    """CPU, OS, Python and library versions, ONNX Runtime providers."""
    info: dict = {
        "cpu": _cpu_model(),
        "cores_logical": os.cpu_count(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
    }
    try:
        import psutil

        info["cores_physical"] = psutil.cpu_count(logical=False)
        info["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:  # psutil is a dependency; stay useful without it
        pass
    import cv2
    import numpy

    info["numpy"] = numpy.__version__
    info["opencv"] = cv2.__version__
    try:
        import onnxruntime

        info["onnxruntime"] = onnxruntime.__version__
        info["onnxruntime_providers"] = list(onnxruntime.get_available_providers())
    except ImportError:
        info["onnxruntime"] = None
        info["onnxruntime_providers"] = []
    return info


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def format_report(run: dict) -> str:
    """The table of one run: each stage, end to end, overhead, then throughput, drops and CPU."""
    summary = run["summary"]
    config = run["config"]
    warm = f"+{config['warmup']} warm-up"
    lines = [
        f"{run['label']} on {run['source']['name']} ({run['source']['width']}x"
        f"{run['source']['height']}), {summary['frames_processed']} frames processed ({warm})",
        f"{'ms':<22}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}",
    ]
    rows = [(name, values) for name, values in summary["stages_ms"].items()]
    rows += [
        ("capture->result", summary["capture_to_result_ms"]),
        ("overhead (not infer.)", summary["overhead_ms"]),
    ]
    for name, values in rows:
        cells = "".join(f"{values[key]:>9.2f}" for key in ("p50", "p95", "p99", "max"))
        lines.append(f"{name:<22}{cells}")
    lines.append(
        f"throughput {summary['throughput_fps']:.1f} fps | captured {summary['frames_captured']}"
        f" | dropped {summary['frames_dropped']} | over budget {summary['frames_over_budget']}"
        f" | CPU {summary['cpu_percent']:.0f} % | state {summary['final_state']}"
    )
    if summary.get("analysis_errors"):
        lines.append(
            f"analysis failed on {summary['analysis_errors']} of "
            f"{summary['frames_processed']} frames (last: {summary['last_error']})"
        )
    if run.get("soak"):
        first, last = run["soak"][0], run["soak"][-1]
        lines.append(
            f"soak {last['t_s']:.0f} s: RSS {first['rss_mb']:.1f} -> {last['rss_mb']:.1f} MB, "
            f"p99 {first['capture_to_result_p99_ms']:.2f} -> "
            f"{last['capture_to_result_p99_ms']:.2f} ms"
        )
    return "\n".join(lines)


def format_compare(runs: list[dict]) -> str:
    """Runs side by side; every column after the first also shows its ratio to the first."""
    labels = [run["label"] for run in runs]
    width = max(14, *(len(label) + 2 for label in labels))
    lines = [f"{'':<22}" + "".join(f"{label:>{width}}" for label in labels)]
    for name, path, unit in ROWS:
        values = [_lookup(run["summary"], path) for run in runs]
        cells = []
        for index, value in enumerate(values):
            if value is None:
                cells.append(f"{'-':>{width}}")
                continue
            text = f"{value:.1f}" if isinstance(value, float) else str(value)
            base = values[0]
            if index and isinstance(base, (int, float)) and base:
                text += f" (x{value / base:.2f})"
            cells.append(f"{text:>{width}}")
        label = f"{name} ({unit})" if unit else name
        lines.append(f"{label:<22}" + "".join(cells))
    return "\n".join(lines)


def _lookup(data: dict, path: tuple[str, ...]) -> float | int | None:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data if isinstance(data, (int, float)) else None
