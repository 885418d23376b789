"""QApplication set-up and the ``usguide run`` entry.

Opens the window, or paints N frames offscreen and saves a screenshot of the whole window.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from usguide.errors import UsguideError
from usguide.gui.runtime import Runtime, RuntimeOptions

SCREENSHOT_TIMEOUT_S = 120.0
# Without a screen a window cannot be looked at: show this many frames and save a picture instead.
HEADLESS_FRAMES = 150
HEADLESS_SCREENSHOT = Path("usguide-run.png")


def has_display() -> bool:
    """False on a Linux machine with no X or Wayland display (e.g. a server or CI)."""
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        return False
    return not sys.platform.startswith("linux") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


def ensure_platform(headless: bool) -> None:
    """Uses the offscreen Qt platform when asked to, or when there is no display to draw on."""
    if headless or not has_display():
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


# Offscreen-plugin chatter that says nothing to a user.
_QT_NOISE = ("does not support propagateSizeHints", "XDG_RUNTIME_DIR not set")


def _qt_message(_mode, _context, message: str) -> None:  # noqa: ANN001 - Qt callback
    if not any(noise in message for noise in _QT_NOISE):
        sys.stderr.write(f"qt: {message}\n")


def application():  # noqa: ANN201 - returns a QApplication (Qt imported lazily)
    """The process's QApplication (created once) with the dark theme applied."""
    from PyQt5 import QtCore, QtWidgets

    from usguide.gui import theme

    QtCore.qInstallMessageHandler(_qt_message)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["usguide"])
    theme.apply(app)
    return app


def run_gui(
    options: RuntimeOptions,
    *,
    screenshot: Path | None = None,
    frames: int = 30,
    attach: Callable[[Runtime], None] | None = None,
) -> int:
    """Runs the display until the window closes, or (``screenshot``) until ``frames`` are painted.

    ``attach`` is called with the runtime once its source is open (e.g. so an OpenIGTLink server
    reports the pipeline's state).

    Returns:
        The exit code (0).

    Raises:
        UsguideError: source, model or output problems.
    """
    if screenshot is None and not has_display():
        # A window nobody can see would run forever: run headless and leave a picture instead.
        screenshot, frames = HEADLESS_SCREENSHOT.resolve(), max(frames, HEADLESS_FRAMES)
        sys.stderr.write(
            f"usguide: no display found — showing {frames} frames offscreen and saving the window "
            f"to {screenshot} (choose with --screenshot FILE --frames N)\n"
        )
    ensure_platform(headless=screenshot is not None)
    if screenshot is not None:
        screenshot = Path(screenshot)
        if not screenshot.parent.exists():
            raise UsguideError(
                f"cannot write {screenshot}: folder {screenshot.parent} does not exist"
            )
    app = application()
    from usguide.gui import log_status
    from usguide.gui.main_window import MainWindow

    runtime = Runtime(options)
    try:
        runtime.open()
        if attach is not None:
            attach(runtime)
        window = MainWindow(runtime, settings=options.settings)
    except BaseException:
        runtime.close()
        raise
    warnings_shown = log_status.attach(window.status.showMessage)  # warnings reach the window
    try:
        return _show(app, window, runtime, screenshot, frames)
    finally:
        log_status.detach(warnings_shown)


def _show(app, window, runtime: Runtime, screenshot: Path | None, frames: int) -> int:  # noqa: ANN001
    """Runs the window until it closes, or until ``frames`` are painted for a screenshot."""
    window.show()
    if screenshot is None:
        code = app.exec_()
        _report_skipped(runtime)
        runtime.close()
        return int(code)
    try:
        paint_frames(app, window, frames)
        if not window.grab().save(str(screenshot), "PNG"):
            raise UsguideError(
                f"cannot write the screenshot {screenshot} — check the folder is writable"
            )
    finally:
        window.close()  # its closeEvent stops the pipeline and releases the source
    print(f"saved {screenshot} ({window.paint_stats.frames} frames shown)")
    _report_skipped(runtime)
    return 0


def _report_skipped(runtime: Runtime) -> None:
    """One line when frames could not be decoded: a partial replay is never silent (issue 20)."""
    if runtime.skipped_frames:
        sys.stderr.write(
            f"usguide: {runtime.skipped_frames} frame(s) of {runtime.spec} could not be decoded "
            "and were skipped\n"
        )


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
