"""GUI-thread CPU per painted frame without the pipeline: real-clip frames with a moving needle
painted at 60 fps by the main window, every repaint included (offscreen).

A development tool (not part of the package) for before/after comparisons on a busy machine: no
detector competes for the cores, the same frames and overlay are painted each run, and only the
GUI thread's CPU time (``thread_time_ns``) is counted. The frame's pixels are prepared by the
window's result callback, which the pipeline's worker calls in the application; here it runs
first and is counted apart (``worker_ms``). Works on any checkout
(``PYTHONPATH=/path/to/checkout``):

    QT_QPA_PLATFORM=offscreen python tools/gui_paint_replay.py [--frames 240] [--roi]

Prints one JSON line: p50/p95/p99 of GUI-thread ms per painted frame (``gui_ms``) and of the
callback (``worker_ms``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

CLIP = Path(__file__).resolve().parents[1] / "../shared/real/clarius_needle_inplane.mp4"


class FakeRuntime:
    """What the window asks of its runtime; results are pushed by ``push``."""

    def __init__(self, fps: float) -> None:
        from usguide.types import Point, SourceInfo

        self.budget_ms = 50.0
        self.info = SourceInfo("clip", "video", 1080, 860, fps, live=True)
        self.replay = None
        self.spec = "clip"
        self.state = "ok"
        self.stats = None
        self.ended = False
        self.has_recorded_overlay = False
        self.depth_mm = 30.0
        self.mm_per_px = 0.035
        self.scale_source = "user"
        self.recording_path = None
        self.keep_burned_in = False
        self.target = Point(560.0, 520.0)
        self.output_dir = Path("/tmp")
        self._callbacks: list = []

    def __getattr__(self, name: str):  # noqa: ANN204 - any other call does nothing
        return lambda *args, **kwargs: None

    def subscribe(self, callback) -> None:  # noqa: ANN001
        self._callbacks.append(callback)

    def push(self, result) -> None:  # noqa: ANN001
        for callback in self._callbacks:
            callback(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clip", default=str(CLIP))
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--fps", type=float, default=60.0)
    parser.add_argument("--roi", action="store_true", help="show the image region only")
    parser.add_argument("--grey", action="store_true", help="grey frames (HxW)")
    parser.add_argument("--worst", action="store_true", help="also print the 20 dearest frames")
    args = parser.parse_args()

    from usguide.gui.app import application, ensure_platform

    ensure_platform(headless=True)
    app = application()
    from usguide.gui.main_window import MainWindow
    from usguide.types import Calibration, Frame, FrameResult, Needle, Point, Roi, Timings

    capture = cv2.VideoCapture(args.clip)
    images = []
    while len(images) < 60:
        ok, image = capture.read()
        if not ok:
            break
        images.append(image[:, :, 1].copy() if args.grey else image)
    runtime = FakeRuntime(args.fps)
    window = MainWindow(runtime, paint_interval_ms=1_000_000)
    window.timer.stop()  # frames are painted below, one per 1/fps
    window.resize(1280, 900)
    window.image_view.setFixedSize(800, 600)
    window.show()
    for _ in range(10):
        app.processEvents()
    window.overlay.set_target(runtime.target)
    roi = Roi(20, 40, 1000, 800) if args.roi else None
    gui, worker = [], []
    period_ns = int(1e9 / args.fps)
    next_ns = time.perf_counter_ns()
    for index in range(args.frames + 30):
        now = time.perf_counter_ns()
        frame = Frame(
            images[index % len(images)],
            index,
            now,
            index * 1000.0 / args.fps,
            Calibration(mm_per_px=0.035, roi=roi),
        )
        step = index % 40
        needle = Needle(
            tip=Point(400.0 + 4 * step, 330.0 + 2.6 * step),
            entry=Point(180.0, 200.0),
            confidence=0.6 + 0.01 * step,
            angle_deg=32.0 + 0.1 * step,
        )
        result = FrameResult(frame, needle, None, Timings(t_capture_ns=now))
        start = time.thread_time_ns()
        runtime.push(result)  # the worker's part (the result callback)
        pushed = time.thread_time_ns()
        window.tick()
        app.processEvents()  # the repaints it caused, every widget
        done = time.thread_time_ns()
        if index >= 30:  # warm-up
            worker.append((pushed - start) / 1e6)
            gui.append((done - pushed) / 1e6)
        next_ns += period_ns
        while time.perf_counter_ns() < next_ns:
            app.processEvents()  # other timers, as the event loop would
            time.sleep(0.001)
    window.close()

    def spread(values: list[float]) -> list[float]:
        return [round(float(np.percentile(values, q)), 2) for q in (50, 95, 99)]

    print(json.dumps({"frames": len(gui), "gui_ms": spread(gui), "worker_ms": spread(worker)}))
    if args.worst:
        print(json.dumps({"worst_gui_ms": sorted(round(v, 1) for v in gui)[-20:]}))


if __name__ == "__main__":
    main()
