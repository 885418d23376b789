"""The main window driven by a fake runtime.

Frames shown, overlay position, target readout, banner, freeze, snapshot and help.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PyQt5 import QtCore, QtGui  # noqa: E402

from usguide.gui import theme  # noqa: E402
from usguide.gui.main_window import MainWindow  # noqa: E402
from usguide.types import Calibration, Frame, FrameResult, Needle, Point, Roi, SourceInfo, Timings  # noqa: E402

WIDTH, HEIGHT = 400, 300


class FakeRuntime:
    """Stands in for ``usguide.gui.runtime.Runtime``: the test pushes results."""

    def __init__(self, output_dir: Path, budget_ms: float = 50.0) -> None:
        self.budget_ms = budget_ms
        self.info = SourceInfo("fake", "simulator", WIDTH, HEIGHT, 30.0, live=True)
        self.replay = None
        self.spec = "sim"
        self.state = "ok"
        self.stats = None
        self.ended = False
        self.has_recorded_overlay = False
        self.depth_mm = 30.0
        self.mm_per_px = 0.1
        self.scale_source = "user"
        self.recording_path = None
        self.keep_burned_in = False
        self.target: Point | None = None
        self.targets: list[Point | None] = []
        self.displayed: list[FrameResult] = []
        self.output_dir = output_dir
        self._callbacks = []

    def subscribe(self, callback) -> None:  # noqa: ANN001
        self._callbacks.append(callback)

    def push(self, result: FrameResult) -> None:
        for callback in self._callbacks:
            callback(result)

    def mark_displayed(self, result: FrameResult) -> None:
        self.displayed.append(result)

    def set_target(self, point: Point | None) -> None:
        self.target = point
        self.targets.append(point)

    def new_output_path(self, stem: str, suffix: str = "") -> Path:
        return self.output_dir / f"{stem}{suffix}"

    def close(self) -> None:
        pass


def make_result(index: int, needle: Needle | None, age_ms: float = 0.0) -> FrameResult:
    image = np.full((HEIGHT, WIDTH), 20, np.uint8)
    t_capture = time.perf_counter_ns() - int(age_ms * 1e6)
    frame = Frame(
        image,
        index,
        t_capture,
        index * 33.3,
        Calibration(mm_per_px=0.1, roi=Roi(0, 0, WIDTH, HEIGHT)),
    )
    return FrameResult(frame, needle, None, Timings(t_capture_ns=t_capture))


@pytest.fixture
def window(qtbot, tmp_path):  # noqa: ANN001, ANN201
    from usguide.gui.app import application

    application()
    runtime = FakeRuntime(tmp_path)
    win = MainWindow(runtime, paint_interval_ms=1000)  # the tests call tick() themselves
    win.timer.stop()
    qtbot.addWidget(win)
    win.resize(1100, 800)
    win.show()
    qtbot.waitExposed(win)
    return win


def show(window: MainWindow, result: FrameResult) -> QtGui.QImage:
    window.runtime.push(result)
    window.tick()
    QtCore.QCoreApplication.processEvents()
    return window.image_view.grab().toImage()


def colour_near(
    image: QtGui.QImage, point: QtCore.QPoint, colour: str, radius: int = 3, tol: int = 60
) -> bool:
    wanted = QtGui.QColor(colour)
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            pixel = image.pixelColor(point.x() + dx, point.y() + dy)
            if (
                abs(pixel.red() - wanted.red()) < tol
                and abs(pixel.green() - wanted.green()) < tol
                and abs(pixel.blue() - wanted.blue()) < tol
            ):
                return True
    return False


NEEDLE = Needle(tip=Point(250.0, 150.0), entry=Point(50.0, 50.0), confidence=0.9, angle_deg=26.6)


def test_window_shows_each_pushed_frame(window):  # noqa: ANN001
    for index in range(3):
        show(window, make_result(index, NEEDLE))
    assert window.displayed.frame.index == 2
    assert [r.frame.index for r in window.runtime.displayed] == [0, 1, 2]
    assert window.image_view.image_item.image.shape == (HEIGHT, WIDTH)
    assert window.paint_stats.frames == 3


def test_only_the_newest_result_is_painted(window):  # noqa: ANN001
    for index in range(5):
        window.runtime.push(make_result(index, NEEDLE))
    window.tick()
    window.tick()
    assert [r.frame.index for r in window.runtime.displayed] == [4]


def test_overlay_lies_on_the_detected_needle(window):  # noqa: ANN001
    image = show(window, make_result(0, NEEDLE))
    view = window.image_view
    middle = Point((NEEDLE.tip.x + NEEDLE.entry.x) / 2, (NEEDLE.tip.y + NEEDLE.entry.y) / 2)
    assert colour_near(image, view.image_to_widget(middle), theme.SHAFT)
    assert colour_near(image, view.image_to_widget(NEEDLE.tip), theme.TIP)
    beyond = Point(NEEDLE.tip.x + 60, NEEDLE.tip.y + 30)  # on the projected path, past the tip
    assert colour_near(image, view.image_to_widget(beyond), theme.TRAJECTORY, radius=5)
    # far from the needle there is only the dark image
    assert not colour_near(image, view.image_to_widget(Point(350, 40)), theme.SHAFT)
    assert window.overlay_state.status == "detected"


def test_states_not_detected_predicted_and_low_confidence(window):  # noqa: ANN001
    show(window, make_result(0, None))
    assert window.overlay_state.status == "not_detected"
    assert "NOT DETECTED" in window.overlay.hud.text()
    assert not window.overlay.shaft.isVisible()
    coasting = Needle(NEEDLE.tip, NEEDLE.entry, 0.8, 26.6, predicted=True)
    image = show(window, make_result(1, coasting))
    assert window.overlay_state.status == "predicted"
    middle = window.image_view.image_to_widget(Point(150, 100))
    assert colour_near(image, middle, theme.PREDICTED, radius=5)
    assert not colour_near(image, middle, theme.SHAFT, radius=5)
    weak = Needle(NEEDLE.tip, NEEDLE.entry, 0.2, 26.6)
    show(window, make_result(2, weak))
    assert window.overlay_state.status == "low_confidence"
    assert not window.overlay.trajectory.isVisible()


def test_click_sets_target_and_readout_matches_geometry(window, qtbot):  # noqa: ANN001
    needle = Needle(
        tip=Point(150.0, 100.0), entry=Point(50.0, 100.0), confidence=0.9, angle_deg=0.0
    )
    show(window, make_result(0, needle))
    click = window.image_view.image_to_widget(Point(250.0, 115.0))
    qtbot.mouseClick(window.image_view.viewport(), QtCore.Qt.LeftButton, pos=click)
    assert window.target is not None
    assert window.target.x == pytest.approx(250.0, abs=1.0)
    assert window.target.y == pytest.approx(115.0, abs=1.0)
    readout = window.overlay_state.readout
    # 0.1 mm/px: 100 px ahead of the tip = 10 mm, 15 px beside the path = 1.5 mm
    assert readout.along_mm == pytest.approx(10.0, abs=0.15)
    assert readout.miss_mm == pytest.approx(1.5, abs=0.15)
    assert window.overlay_state.on_target  # within 2 mm
    assert f"{readout.along_mm:.1f} mm" in window.overlay.hud.text()
    assert window.runtime.targets[-1] == window.target
    window.set_target(Point(250.0, 160.0))  # 6 mm off the path
    assert not window.overlay_state.on_target
    qtbot.keyClick(window, QtCore.Qt.Key_Escape)
    assert window.target is None and window.runtime.targets[-1] is None
    assert not window.overlay.target.isVisible()


def test_banner_when_stale_or_lost_and_gone_when_frames_resume(window):  # noqa: ANN001
    show(window, make_result(0, NEEDLE))
    assert not window.banner.isVisible()
    show(window, make_result(1, NEEDLE, age_ms=900.0))
    assert window.banner.isVisible() and "NOT LIVE" in window.banner_text
    show(window, make_result(2, NEEDLE))
    assert not window.banner.isVisible()
    window.runtime.state = "signal_lost"
    window.tick()
    assert window.banner.isVisible() and window.banner_text == "SIGNAL LOST — reconnecting"
    window.runtime.state = "ok"
    show(window, make_result(3, NEEDLE))
    assert not window.banner.isVisible()


def test_freeze_keeps_the_image(window):  # noqa: ANN001
    show(window, make_result(0, NEEDLE))
    window.set_frozen(True)
    show(window, make_result(1, NEEDLE, age_ms=900.0))
    assert window.displayed.frame.index == 0
    assert not window.banner.isVisible()  # frozen on purpose: no alarm
    window.set_frozen(False)
    show(window, make_result(2, NEEDLE))
    assert window.displayed.frame.index == 2


def test_snapshot_writes_png_with_overlay(window, tmp_path):  # noqa: ANN001
    show(window, make_result(0, NEEDLE))
    path = window.snapshot(tmp_path / "snap.png")
    image = QtGui.QImage(str(path))
    assert not image.isNull()
    middle = window.image_view.image_to_widget(Point(150, 100))
    assert colour_near(image, middle, theme.SHAFT)


def test_help_overlay_toggles(window, qtbot):  # noqa: ANN001
    assert not window.help.isVisible()
    qtbot.keyClick(window, QtCore.Qt.Key_H)
    assert window.help.isVisible() and "Space" in window.help.text()
    qtbot.keyClick(window, QtCore.Qt.Key_Escape)
    assert not window.help.isVisible()


def live_result(index: int, needle: Needle, overlay_index: int) -> FrameResult:
    """Lowest-latency mode: frame ``index`` shown with the overlay of frame ``overlay_index``."""
    from usguide.pipeline.live import LiveFrameResult

    shown = make_result(index, None)
    return LiveFrameResult(
        shown.frame,
        needle,
        None,
        shown.timings,
        overlay_frame_index=overlay_index,
        overlay_age_ms=0.0,
        overlay_source_ms=overlay_index * 33.3,
    )


def test_lowest_latency_overlay_moves_with_the_needle(window):  # noqa: ANN001
    window.runtime.info = SourceInfo("fake", "device", WIDTH, HEIGHT, 60.0, live=True)
    moving = Needle(NEEDLE.tip, NEEDLE.entry, 0.9, 26.6, velocity=Point(300.0, 0.0))  # px/s
    show(window, live_result(10, moving, 9))  # one frame (33 ms) behind: moved, drawn as measured
    tip = window.overlay.tip.pos()
    assert tip.x() == pytest.approx(NEEDLE.tip.x + 300.0 * 0.0333, abs=0.05)
    assert window.overlay_state.status == "detected"
    assert window.overlay_state.ahead_ms == pytest.approx(33.3)
    show(window, live_result(13, moving, 10))  # 100 ms behind: more than a few frames
    assert window.overlay.tip.pos().x() == pytest.approx(NEEDLE.tip.x + 30.0, abs=0.05)
    assert window.overlay_state.status == "predicted"
    assert "PREDICTED +100 ms" in window.overlay.hud.text()
    show(window, live_result(20, moving, 10))  # 333 ms behind: no guess that far
    assert window.overlay.tip.pos().x() == pytest.approx(NEEDLE.tip.x)
    assert window.overlay_state.ahead_ms is None
    window.predict_overlay = False
    show(window, live_result(11, moving, 10))
    assert window.overlay.tip.pos().x() == pytest.approx(NEEDLE.tip.x)


def test_procedure_panel_is_hidden_until_asked_for(qtbot, window):  # noqa: ANN001
    from PyQt5 import QtCore

    assert not window.procedure_dock.isVisible()  # the image takes the screen at the bedside
    qtbot.keyClick(window, QtCore.Qt.Key_P)
    qtbot.waitUntil(window.procedure_dock.isVisible, timeout=2000)
    qtbot.keyClick(window, QtCore.Qt.Key_P)
    qtbot.waitUntil(lambda: not window.procedure_dock.isVisible(), timeout=2000)
