"""GUI benchmark: display fps and GUI-thread ms per painted frame, pipeline running (offscreen).

Run ``python -m usguide.gui.bench [--source sim] [--seconds 5]``; prints one JSON line. Measured,
not asserted.
"""

from __future__ import annotations

import argparse
import json
import time

from usguide.gui.app import application, ensure_platform
from usguide.gui.runtime import Runtime, RuntimeOptions


def bench(
    spec: str = "sim",
    seconds: float = 5.0,
    detector: str = "classical",
    size: tuple[int, int] = (800, 600),
) -> dict:
    """Runs the window on ``spec`` for ``seconds``; returns display fps and GUI-thread times."""
    ensure_platform(headless=True)
    app = application()
    from usguide.gui.main_window import MainWindow

    runtime = Runtime(RuntimeOptions(spec=spec, detector=detector, depth_mm=50.0))
    runtime.open()
    window = MainWindow(runtime)
    window.image_view.setFixedSize(*size)
    window.show()
    try:
        start = time.monotonic()
        first_frames = None
        while time.monotonic() - start < seconds:
            app.processEvents()
            if first_frames is None and time.monotonic() - start > 1.0:
                first_frames = (window.paint_stats.frames, time.perf_counter_ns())  # after warm-up
            time.sleep(0.001)
        frames_now, now = window.paint_stats.frames, time.perf_counter_ns()
        summary = window.paint_stats.summary()
        fps = (
            (frames_now - first_frames[0]) / ((now - first_frames[1]) / 1e9)
            if first_frames
            else 0.0
        )
        stats = runtime.stats
        return {
            "source": spec,
            "view": list(size),
            "display_fps": round(fps, 2),
            "gui_ms_p50": round(summary.p50_ms, 3),
            "gui_ms_p95": round(summary.p95_ms, 3),
            "gui_ms_max": round(summary.max_ms, 3),
            "frames_painted": summary.frames,
            "source_fps": round(stats.capture_fps_window, 2) if stats else None,
            "dropped": stats.frames_dropped if stats else None,
        }
    finally:
        window.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", default="sim")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--detector", default="classical")
    args = parser.parse_args()
    print(json.dumps(bench(args.source, args.seconds, args.detector)))


if __name__ == "__main__":
    main()
