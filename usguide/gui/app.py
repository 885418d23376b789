"""QApplication set-up and the ``usguide run`` entry.

Opens the window, or paints N frames offscreen and saves a screenshot of the whole window.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from usguide.errors import UsguideError
from usguide.gui.runtime import Runtime, RuntimeOptions

SCREENSHOT_TIMEOUT_S = 120.0


def ensure_platform(headless: bool) -> None:
    """Uses the offscreen Qt platform when asked to, or when there is no display to draw on."""
    no_display = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if headless or no_display:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def application():  # noqa: ANN201 - returns a QApplication (Qt imported lazily)
    """The process's QApplication (created once) with the dark theme applied."""
    from PyQt5 import QtWidgets

    from usguide.gui import theme

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["usguide"])
    theme.apply(app)
    return app


def run_gui(options: RuntimeOptions, *, screenshot: Path | None = None, frames: int = 30) -> int:
    """Runs the display until the window closes, or (``screenshot``) until ``frames`` are painted.

    Returns:
        The exit code (0).

    Raises:
        UsguideError: source, model or output problems.
    """
    ensure_platform(headless=screenshot is not None)
    if screenshot is not None:
        screenshot = Path(screenshot)
        if not screenshot.parent.exists():
            raise UsguideError(
                f"cannot write {screenshot}: folder {screenshot.parent} does not exist"
            )
    app = application()
    from usguide.gui.main_window import MainWindow

    runtime = Runtime(options)
    try:
        runtime.open()
        window = MainWindow(runtime)
    except BaseException:
        runtime.close()
        raise
    window.show()
    if screenshot is None:
        code = app.exec_()
        runtime.close()
        return int(code)
    try:
        paint_frames(app, window, frames)
        if not window.grab().save(str(screenshot), "PNG"):
            raise UsguideError(
                f"cannot write the screenshot {screenshot} — check the folder is writable"
            )
    finally:
        window.close()
    return 0


def paint_frames(app, window, frames: int, timeout_s: float = SCREENSHOT_TIMEOUT_S) -> None:  # noqa: ANN001
    """Runs the event loop until ``frames`` frames are painted (or the source ends, or timeout)."""
    deadline = time.monotonic() + timeout_s
    while window.paint_stats.frames < frames and time.monotonic() < deadline:
        app.processEvents()
        if window.runtime.ended and window.paint_stats.frames > 0:
            break
        time.sleep(0.002)
    # let the latency plot and numbers catch up with the last frame before the picture is taken
    window.latency.redraw()
    window._numbers_at_ns = 0
    window.tick()
    app.processEvents()
