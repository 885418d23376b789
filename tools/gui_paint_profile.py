"""GUI-thread CPU per painted frame, split by step, with the real pipeline running (offscreen).

A development tool, not part of the package: it wraps the window's methods with
``time.thread_time_ns`` spans (CPU time of the GUI thread only, so a busy machine disturbs it
little), so it measures any checkout the same way (``PYTHONPATH=/path/to/other/checkout``).

    QT_QPA_PLATFORM=offscreen python tools/gui_paint_profile.py \
        --source ../shared/real/clarius_needle_inplane.mp4 --detector onnx --seconds 8 \
        [--profile gui.prof]

Prints one JSON line: painted frames, and per step the p50/p95 ms of GUI-thread CPU per painted
frame; ``frame`` is everything the GUI thread spent from one painted frame to the next.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import time
from collections import defaultdict

import numpy as np

STEPS = (
    ("usguide.gui.image_view", "ImageView", "set_image"),
    ("usguide.gui.image_view", "ImageView", "set_calibration"),
    ("usguide.gui.image_view", "ImageView", "paintEvent"),
    ("usguide.gui.overlay", "Overlay", "update"),
    ("usguide.gui.latency_panel", "LatencyPanel", "add_sample"),
    ("usguide.gui.main_window", "MainWindow", "paint"),
    ("usguide.gui.main_window", "MainWindow", "_update_banner"),
    ("usguide.gui.main_window", "MainWindow", "_update_numbers"),
)


class Spans:
    """CPU ns per step, summed over each painted frame."""

    def __init__(self) -> None:
        self.current: dict[str, int] = defaultdict(int)
        self.frames: list[dict[str, int]] = []
        self.last_cpu: int | None = None
        self.on = False

    def wrap(self, name: str, method):  # noqa: ANN001, ANN201
        spans = self

        def wrapped(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            start = time.thread_time_ns()
            try:
                return method(*args, **kwargs)
            finally:
                spans.current[name] += time.thread_time_ns() - start

        return wrapped

    def painted(self) -> None:
        """Called at the start of each painted frame: closes the previous one."""
        now = time.thread_time_ns()
        if self.on and self.last_cpu is not None:
            self.current["frame"] = now - self.last_cpu
            self.frames.append(dict(self.current))
        self.current = defaultdict(int)
        self.last_cpu = now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", default="sim")
    parser.add_argument("--detector", default="onnx")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--size", default="800x600")
    parser.add_argument("--display-mode", default="paired")
    parser.add_argument("--profile", help="write a cProfile of the GUI thread here")
    parser.add_argument(
        "--events", action="store_true", help="also time paint/timer events per receiver class"
    )
    args = parser.parse_args()

    import importlib

    from usguide.gui.app import application, ensure_platform

    ensure_platform(headless=True)
    from PyQt5 import QtCore, QtWidgets

    spans = Spans()
    if args.events:
        kinds = {
            QtCore.QEvent.Paint: "paint",
            QtCore.QEvent.Timer: "timer",
            QtCore.QEvent.UpdateRequest: "sync",
        }

        class TimedApp(QtWidgets.QApplication):
            def notify(self, receiver, event):  # noqa: ANN001, ANN202
                kind = kinds.get(event.type())
                if kind is None:
                    return super().notify(receiver, event)
                start = time.thread_time_ns()
                try:
                    return super().notify(receiver, event)
                finally:
                    owner = receiver
                    if type(owner) is QtWidgets.QWidget and owner.parent() is not None:
                        owner = owner.parent()  # a view's viewport: name the view
                    name = f"{kind}:{type(owner).__name__}"
                    spans.current[name] += time.thread_time_ns() - start

        keep = TimedApp(["usguide"])  # noqa: F841 - application() picks it up
    app = application()
    for module_name, class_name, method_name in STEPS:
        cls = getattr(importlib.import_module(module_name), class_name)
        if hasattr(cls, method_name):
            setattr(cls, method_name, spans.wrap(method_name, getattr(cls, method_name)))
    from usguide.gui.main_window import MainWindow
    from usguide.gui.runtime import Runtime, RuntimeOptions

    original_paint = MainWindow.paint

    statuses: dict[str, int] = defaultdict(int)

    def paint(self, result):  # noqa: ANN001, ANN202
        spans.painted()
        try:
            return original_paint(self, result)
        finally:
            if spans.on:
                statuses[self.overlay_state.status] += 1

    MainWindow.paint = paint
    options = RuntimeOptions(
        spec=args.source, detector=args.detector, depth_mm=50.0, display_mode=args.display_mode
    )
    runtime = Runtime(options)
    runtime.open()
    window = MainWindow(runtime)
    width, height = (int(v) for v in args.size.split("x"))
    window.image_view.setFixedSize(width, height)
    window.show()
    profiler = cProfile.Profile() if args.profile else None

    def start() -> None:
        spans.on = True
        if profiler is not None:
            profiler.enable()

    loop = QtCore.QEventLoop(app)
    QtCore.QTimer.singleShot(1500, start)
    QtCore.QTimer.singleShot(int(args.seconds * 1000), loop.quit)
    loop.exec_()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    window.close()
    names = sorted({name for frame in spans.frames for name in frame})
    out: dict[str, object] = {
        "source": args.source,
        "painted": len(spans.frames),
        "overlay": dict(statuses),
    }
    for name in names:
        values = np.array([frame.get(name, 0) for frame in spans.frames]) / 1e6
        out[name] = [round(float(np.percentile(values, q)), 2) for q in (50, 95)]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
