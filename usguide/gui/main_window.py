"""The main window: image with overlay, latency panel, controls, replay bar, banner and shortcuts.

Threading: the pipeline calls ``_on_result`` from its worker thread; it only stores the newest
result under a
lock. A QTimer on the GUI thread paints whatever is newest, so nothing queues behind a slow paint
and the
GUI thread never waits on capture or inference.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from PyQt5 import QtCore, QtGui, QtWidgets

from usguide.errors import UsguideError
from usguide.gui.calibration_actions import CalibrationActions
from usguide.gui.controls import ControlsPanel
from usguide.gui.freshness import banner_text, overlay_at_shown_frame
from usguide.gui.help_overlay import Banner, HelpOverlay
from usguide.gui.image_view import ImageView
from usguide.gui.latency_panel import LatencyPanel
from usguide.gui.metrics_panel import MetricsPanel
from usguide.gui.overlay import Overlay, OverlayState
from usguide.gui.paint_stats import PaintStats
from usguide.gui.procedure_panel import ProcedurePanel
from usguide.gui.replay_actions import ReplayActions
from usguide.gui.replay_bar import ReplayBar
from usguide.gui.runtime import Runtime
from usguide.gui.snapshot import grab_deidentified
from usguide.pipeline.budget import stale_after_ms
from usguide.settings import SettingsStore
from usguide.types import FrameResult, Point

PAINT_INTERVAL_MS = 8
NUMBERS_INTERVAL_NS = 250_000_000


class MainWindow(QtWidgets.QMainWindow):
    """Shows the newest ``FrameResult`` of ``runtime``'s pipeline ; drives it from the controls."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        paint_interval_ms: int = PAINT_INTERVAL_MS,
        settings: SettingsStore | None = None,
    ) -> None:
        super().__init__()
        self.runtime = runtime
        self.settings = settings  # the window's geometry, and the remembered values shown
        self.setWindowTitle("usguide — needle guidance")
        self.paint_stats = PaintStats()
        self._lock = threading.Lock()
        self._newest: FrameResult | None = None
        self.displayed: FrameResult | None = None
        self.frozen = False
        self.target_mode = True
        self.overlay_state = OverlayState()
        self.predict_overlay = True  # lowest-latency mode: move the overlay to the shown frame
        self.banner_text = ""
        self._numbers_at_ns = 0
        self._build()
        geometry = settings.load().window_geometry if settings is not None else None
        if geometry:
            self.restoreGeometry(QtCore.QByteArray(geometry))
        runtime.subscribe(self._on_result)
        runtime.subscribe(self.metrics_panel.add)  # worker thread, constant time per result
        self._install_shortcuts()
        self._sync_source_widgets()
        self.timer = QtCore.QTimer(self)
        self.timer.setTimerType(QtCore.Qt.PreciseTimer)
        self.timer.timeout.connect(self.tick)
        self.timer.start(paint_interval_ms)

    # -- layout --------------------------------------------------------------------------------
    def _build(self) -> None:
        central = QtWidgets.QWidget()
        outer = QtWidgets.QHBoxLayout(central)
        outer.setContentsMargins(6, 6, 6, 6)
        left = QtWidgets.QVBoxLayout()
        self.image_view = ImageView()
        self.image_view.render_listener = self.paint_stats.add_render
        self.overlay = Overlay(self.image_view.view, self.image_view)
        self.banner = Banner(self.image_view)
        self.help = HelpOverlay(self.image_view)
        left.addWidget(self.image_view, 1)
        self.replay_bar = ReplayBar()
        left.addWidget(self.replay_bar)
        self.latency = LatencyPanel(self.runtime.budget_ms)
        self.latency.setFixedHeight(200)
        self.metrics_panel = MetricsPanel()  # the insertion's running metrics, beside it
        numbers = QtWidgets.QHBoxLayout()
        numbers.addWidget(self.latency, 1)
        numbers.addWidget(self.metrics_panel)
        left.addLayout(numbers)
        outer.addLayout(left, 1)
        self.controls = ControlsPanel()
        outer.addWidget(self.controls)
        self.procedure = ProcedurePanel()  # before and during recording (a dock: can be closed)
        self.procedure_dock = QtWidgets.QDockWidget("Procedure", self)
        self.procedure_dock.setWidget(self.procedure)
        self.addDockWidget(QtCore.Qt.RightDockWidgetArea, self.procedure_dock)
        # Hidden until asked for (P): at the bedside the image, not a form, takes the screen.
        self.procedure_dock.hide()
        self.setCentralWidget(central)
        self.status = self.statusBar()
        self.remembered_label = QtWidgets.QLabel("")  # "remembered for <source>: region …"
        self.status.addPermanentWidget(self.remembered_label)
        self.image_view.clicked.connect(self._on_image_click)
        self.overlay.target_moved.connect(lambda x, y: self.set_target(Point(x, y)))
        self.controls.source_requested.connect(self.open_source)
        self.calibration_actions = CalibrationActions(
            self.runtime, self.controls, self.image_view, self._error, self.status.showMessage
        )
        self.controls.record_toggled.connect(self.set_recording)
        self.controls.freeze_toggled.connect(self.set_frozen)
        self.controls.snapshot.connect(self.snapshot)
        self.controls.full_capture_toggled.connect(
            lambda full: self.image_view.set_show_region_only(not full)
        )
        self.controls.toggles_changed.connect(self._on_toggles)
        self.replay_actions = ReplayActions(self.runtime, self.replay_bar, self._refresh_numbers)
        self.resize(1280, 900)

    def _install_shortcuts(self) -> None:
        bindings = {
            "Space": self._on_space,
            "R": lambda: self.controls.record_button.toggle(),
            "T": self.toggle_target_mode,
            "F": self.toggle_full_screen,
            "S": self.snapshot,
            "Esc": self._on_escape,
            "?": self.help.toggle,
            "Shift+?": self.help.toggle,
            "H": self.help.toggle,
            "P": lambda: self.procedure_dock.setVisible(not self.procedure_dock.isVisible()),
            "Left": lambda: self.replay_actions.control(self.runtime.replay_step)(-1),
            "Right": lambda: self.replay_actions.control(self.runtime.replay_step)(1),
        }
        for keys, slot in bindings.items():
            shortcut = QtWidgets.QShortcut(QtGui.QKeySequence(keys), self)
            shortcut.setContext(QtCore.Qt.ApplicationShortcut)
            shortcut.activated.connect(slot)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        QtCore.QTimer.singleShot(0, self._place_floating)

    def _place_floating(self) -> None:
        self.banner.place()
        if self.help.isVisible():
            self.help.place()

    # -- frames (worker thread side) -------------------------------------------------------------
    def _on_result(self, result: FrameResult) -> None:
        """Called by the pipeline worker: keep only the newest result; never touches Qt. The
        frame's pixels are prepared for the view here, off the GUI thread (cut, grey, scaled)."""
        self.image_view.prepare(result.frame.image, result.frame.calibration.roi)
        with self._lock:
            self._newest = result

    def take_newest(self) -> FrameResult | None:
        with self._lock:
            result, self._newest = self._newest, None
        return result

    # -- painting (GUI thread) -----------------------------------------------------------------
    def tick(self) -> None:
        """Timer slot: paint the newest result if there is one, then update banner and numbers."""
        start = time.perf_counter_ns()
        result = self.take_newest()
        if result is not None and not self.frozen:
            self.paint(result)
            self.paint_stats.add_update(time.perf_counter_ns() - start)
        now = time.perf_counter_ns()
        self._update_banner(now)
        if now - self._numbers_at_ns >= NUMBERS_INTERVAL_NS:
            self._numbers_at_ns = now
            self._update_numbers(now)

    def paint(self, result: FrameResult) -> None:
        """Draws one frame with the overlay computed on that same frame (lowest-latency mode: on
        an older frame, moved forward to this one's time, see ``ahead``)."""
        calibration = result.frame.calibration
        self.image_view.set_calibration(calibration.roi, calibration.mm_per_px)
        self.image_view.set_image(result.frame.image)
        shown, ahead_ms = self.ahead(result)
        self.overlay_state = self.overlay.update(
            shown, calibration.roi, calibration.mm_per_px, self.runtime.target, ahead_ms
        )
        self.displayed = result
        now = time.perf_counter_ns()
        result.timings.t_display_ns = now
        self.runtime.mark_displayed(result)
        self.latency.add_sample(
            result.timings.stage_ms(), (now - result.timings.t_capture_ns) / 1e6
        )
        self.replay_actions.show_frame(result.frame.index)

    def ahead(self, result: FrameResult) -> tuple[FrameResult, float | None]:
        """Lowest-latency mode (``predict_overlay``) shows the newest frame with the overlay of an
        older one, moved forward to the shown frame (``overlay_at_shown_frame``). Returns the
        result to draw and how far ahead (ms)."""
        if not self.predict_overlay:
            return result, None
        info = self.runtime.info
        return overlay_at_shown_frame(result, info.fps if info is not None else None)

    def frame_age_ms(self, now_ns: int | None = None) -> float | None:
        """Age of the frame on screen: now minus its capture time."""
        if self.displayed is None:
            return None
        now = time.perf_counter_ns() if now_ns is None else now_ns
        return (now - self.displayed.frame.t_capture_ns) / 1e6

    def stale_after_ms(self) -> float:
        """A frame on screen older than this is stale: the budget plus one source frame interval."""
        info = self.runtime.info
        return stale_after_ms(self.runtime.budget_ms, info.fps if info is not None else None)

    def _update_banner(self, now_ns: int) -> None:
        replay = self.runtime.replay
        deliberate = (
            self.frozen or (replay is not None and not replay.playing) or self.runtime.ended
        )
        text = banner_text(
            self.runtime.state, deliberate, self.frame_age_ms(now_ns), self.stale_after_ms()
        )
        if text:
            self.banner.show_message(text)
        elif self.banner.isVisible():
            self.banner.hide()
        self.banner_text = text

    def _update_numbers(self, now_ns: int) -> None:
        self.metrics_panel.refresh()
        stats = self.runtime.stats
        paint = self.paint_stats.summary()
        display = stats.latency.get("capture_to_display") if stats is not None else None
        self.latency.set_numbers(
            display_fps=self.paint_stats.display_fps(now_ns),
            source_fps=stats.capture_fps_window if stats is not None else None,
            dropped=stats.frames_dropped if stats is not None else None,
            frame_age_ms=self.frame_age_ms(now_ns),
            end_to_end_p95_ms=display.window.p95
            if display is not None and display.window.count
            else None,
            paint_p95_ms=paint.p95_ms if paint.frames > self.paint_stats.warmup else None,
        )
        flags = []
        if self.frozen:
            flags.append("FROZEN")
        if self.runtime.recording_path is not None:
            flags.append(f"● REC {self.runtime.recording_path.name}")
        flags.append("target mode: click to place" if self.target_mode else "target mode off")
        message = stats.message if stats is not None and stats.message else ""
        self.status.showMessage("   ".join(flags + ([message] if message else [])))

    # -- user actions --------------------------------------------------------------------------
    @property
    def target(self) -> Point | None:
        """The target point (full-frame pixels); the runtime owns it."""
        return self.runtime.target

    def set_target(self, point: Point | None) -> None:
        """Places (or clears, with None) the target (in the runtime, which tells the analyzers)."""
        self.runtime.set_target(point)
        self.overlay.set_target(point)
        if self.displayed is not None:
            calibration = self.displayed.frame.calibration
            self.overlay_state = self.overlay.update(
                self.displayed, calibration.roi, calibration.mm_per_px, point
            )

    def _on_image_click(self, x: float, y: float) -> None:
        if self.target_mode:
            self.set_target(Point(x, y))

    def toggle_target_mode(self) -> None:
        self.target_mode = not self.target_mode
        self._numbers_at_ns = 0

    def _on_escape(self) -> None:
        if self.help.isVisible():
            self.help.hide()
        elif self.isFullScreen():
            self.showNormal()
        else:
            self.set_target(None)

    def toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def _on_space(self) -> None:
        replay = self.runtime.replay
        if replay is not None:
            self.replay_actions.control(self.runtime.replay_set_playing)(not replay.playing)
        else:
            self.controls.freeze_button.toggle()

    def set_frozen(self, frozen: bool) -> None:
        self.frozen = frozen
        if self.controls.freeze_button.isChecked() != frozen:
            self.controls.freeze_button.setChecked(frozen)
        self._numbers_at_ns = 0

    def set_recording(self, on: bool) -> None:
        try:
            record = self.procedure.record().to_json()
            path = self.runtime.start_recording(record) if on else self.runtime.stop_recording()
            self.procedure.attach(self.runtime.recording_path)
        except UsguideError as exc:
            self._error(str(exc))
            self.controls.record_button.setChecked(False)
            return
        self.controls.record_button.setText("■ Stop" if on else "● Record")
        if path is not None:
            self.status.showMessage(f"{'recording to' if on else 'saved'} {path}", 4000)

    def snapshot(self, path: str | Path | None = None) -> Path:
        """Saves the image with its overlay as PNG; returns the file written."""
        target = (
            Path(path) if path is not None else self.runtime.new_output_path("snapshot", ".png")
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        picture = grab_deidentified(self.image_view, self.displayed, self.runtime.keep_burned_in)
        if not picture.save(str(target), "PNG"):
            self._error(f"cannot write the snapshot {target} — check the folder is writable")
        else:
            self.status.showMessage(f"snapshot saved: {target}", 4000)
        return target

    def open_source(self, spec: str) -> None:
        try:
            self.runtime.open(spec)
        except UsguideError as exc:
            self._error(str(exc))
            return
        with self._lock:
            self._newest = None
        self.displayed = None
        self._sync_source_widgets()

    def _sync_source_widgets(self) -> None:
        self.replay_actions.show_source()
        info = self.runtime.info
        self.controls.source_label.setText(
            f"{info.name} ({info.kind})" if info is not None else "no source"
        )
        self.controls.show_source(self.runtime.spec, info.kind if info is not None else None)
        self.calibration_actions.show()
        if self.settings is not None:
            self.remembered_label.setText(self.runtime.remembered)
        if self.runtime.recording_path is None and self.controls.record_button.isChecked():
            self.controls.record_button.setChecked(False)  # opening a source ended the recording

    def _refresh_numbers(self) -> None:
        """Refreshes the numbers and status line at the next tick (after a replay control)."""
        self._numbers_at_ns = 0

    def _on_toggles(self, toggles: object) -> None:
        self.overlay.toggles = toggles
        self.overlay.set_target(self.runtime.target)

    def _error(self, message: str) -> None:
        self.status.showMessage(f"error: {message}", 8000)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 - Qt API
        self.timer.stop()
        if self.settings is not None:
            geometry = bytes(self.saveGeometry())
            self.settings.update(lambda settings: setattr(settings, "window_geometry", geometry))
        self.runtime.close()  # saves the source's region, scale, budget and display mode
        super().closeEvent(event)
