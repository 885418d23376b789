"""GUI benchmark: display fps and GUI-thread ms per painted frame, pipeline running (offscreen).

Run ``python -m usguide.gui.bench [--source sim] [--seconds 5] [--detector onnx]
[--display-mode lowest-latency] [--size 800x600]``; prints one JSON line (and, on stderr, what
each figure means). Any source and detector. Measured, not asserted. The first second is warm-up
and left out. On a loaded machine compare runs made back to back; ``gui_cpu_ms_p50/p95`` (CPU
time of the GUI thread per painted frame) are the figures least disturbed by other processes.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

from usguide.gui.app import application, ensure_platform
from usguide.gui.runtime import Runtime, RuntimeOptions

MEANING = {
    "source_fps": "the source's own frame rate (its nominal rate, e.g. 60 for the real clip)",
    "captured_fps": "frames read from the source per second",
    "display_fps": "frames painted (shown) per second (after the warm-up)",
    "dropped_pct": "captured frames never shown (pipeline or display drops), % of captured",
    "delivered_fps": "results the pipeline handed to the window per second",
    "display_dropped": "results replaced in the window's slot before they were painted",
    "pipeline_dropped": "captured frames the worker never analysed (newest frame wins)",
    "gui_ms_p50/p95/max": "GUI-thread wall time per painted frame: update + render passes",
    "gui_cpu_ms_p50/p95": "CPU time of the GUI thread per painted frame, everything included",
    "gui_cpu_ms_per_frame": "the same, mean",
    "gui_cpu_share": "GUI thread CPU seconds per wall second",
}


class _Counter:
    """Counts results handed to the window (called on the pipeline's worker thread)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, _result: object) -> None:
        with self._lock:
            self.count += 1


def bench(
    spec: str = "sim",
    seconds: float = 5.0,
    detector: str = "classical",
    size: tuple[int, int] = (800, 600),
    display_mode: str = "paired",
) -> dict:
    """Runs the window on ``spec`` for ``seconds`` in a real event loop; returns display fps,
    drops and GUI-thread times (see ``MEANING``)."""
    ensure_platform(headless=True)
    app = application()  # held: the application must outlive the window
    from PyQt5 import QtCore

    from usguide.gui.main_window import MainWindow

    options = RuntimeOptions(spec=spec, detector=detector, depth_mm=50.0, display_mode=display_mode)
    runtime = Runtime(options)
    runtime.open()
    delivered = _Counter()
    runtime.subscribe(delivered)
    window = MainWindow(runtime)
    window.image_view.setFixedSize(*size)
    window.show()
    marks: list[tuple[int, int, int, int, int, int]] = []

    def mark() -> None:
        stats = runtime.stats
        marks.append(
            (
                time.perf_counter_ns(),
                time.thread_time_ns(),
                window.paint_stats.frames,
                delivered.count,
                stats.frames_dropped if stats else 0,
                stats.frames_captured if stats else 0,
            )
        )
        if len(marks) == 1:
            window.paint_stats.reset()  # the costs of the warm-up left out
            QtCore.QTimer.singleShot(int(max(seconds - 1.0, 0.5) * 1000), mark)
        else:
            loop.quit()

    loop = QtCore.QEventLoop(app)
    QtCore.QTimer.singleShot(1000, mark)  # after the warm-up; it schedules the end's mark
    try:
        loop.exec_()
        (t0, cpu0, painted0, got0, drop0, cap0), (t1, cpu1, painted1, got1, drop1, cap1) = marks
        wall_s = (t1 - t0) / 1e9
        painted = painted1 - painted0
        captured = cap1 - cap0
        summary = window.paint_stats.summary()
        info = runtime.info
        return {
            "source": spec,
            "detector": detector,
            "display_mode": display_mode,
            "view": list(size),
            "seconds": round(wall_s, 2),
            "source_fps": round(info.fps, 2) if info is not None and info.fps else None,
            "captured_fps": round(captured / wall_s, 2),
            "delivered_fps": round((got1 - got0) / wall_s, 2),
            "display_fps": round(painted / wall_s, 2),
            "dropped_pct": round(100.0 * max(0, captured - painted) / max(captured, 1), 2),
            "display_dropped": max(0, (got1 - got0) - painted),
            "pipeline_dropped": drop1 - drop0,
            "gui_cpu_ms_p50": round(summary.cpu_p50_ms, 3),
            "gui_cpu_ms_p95": round(summary.cpu_p95_ms, 3),
            "gui_ms_p50": round(summary.p50_ms, 3),
            "gui_ms_p95": round(summary.p95_ms, 3),
            "gui_ms_max": round(summary.max_ms, 3),
            "gui_cpu_ms_per_frame": round((cpu1 - cpu0) / 1e6 / max(painted, 1), 3),
            "gui_cpu_share": round((cpu1 - cpu0) / 1e9 / wall_s, 3),
            "frames_painted": painted,
        }
    finally:
        window.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", default="sim")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--detector", default="classical")
    parser.add_argument("--display-mode", default="paired", choices=("paired", "lowest-latency"))
    parser.add_argument("--size", default="800x600", help="the image view's size, WxH pixels")
    args = parser.parse_args()
    width, _, height = args.size.partition("x")
    result = bench(
        args.source,
        args.seconds,
        args.detector,
        size=(int(width), int(height)),
        display_mode=args.display_mode,
    )
    for name, meaning in MEANING.items():
        print(f"  {name}: {meaning}", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
