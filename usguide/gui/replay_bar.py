"""Replay controls for recorded sources: play/pause, frame steps, seek slider, speed, loop,
and whether overlays are re-computed by the current model or shown as recorded.
"""

from __future__ import annotations

from PyQt5 import QtCore, QtGui, QtWidgets

from usguide.defaults import FALLBACK_FPS

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)
OVERLAY_MODES = (("model", "overlay: current model"), ("recorded", "overlay: as recorded"))


def format_time(seconds: float) -> str:
    """``m:ss.s`` for the time label."""
    minutes, rest = divmod(max(0.0, seconds), 60.0)
    return f"{int(minutes)}:{rest:04.1f}"


def media_icon(kind: str, size: int = 24) -> QtGui.QIcon:
    """A light media-control icon: "play", "pause", "back" or "forward" (a step: bar + triangle)."""
    pixmap = QtGui.QPixmap(size, size)
    pixmap.fill(QtCore.Qt.transparent)
    painter = QtGui.QPainter(pixmap)
    painter.setRenderHint(QtGui.QPainter.Antialiasing)
    painter.setPen(QtCore.Qt.NoPen)
    painter.setBrush(QtGui.QColor(230, 230, 230))
    low, high, mid = size * 0.2, size * 0.8, size * 0.5
    if kind == "pause":
        painter.drawRect(QtCore.QRectF(low, low, size * 0.2, high - low))
        painter.drawRect(QtCore.QRectF(size * 0.6, low, size * 0.2, high - low))
    else:
        left, right = (size * 0.3, high) if kind in ("play", "forward") else (high, size * 0.3)
        triangle = [
            QtCore.QPointF(left, low),
            QtCore.QPointF(right, mid),
            QtCore.QPointF(left, high),
        ]
        painter.drawPolygon(QtGui.QPolygonF(triangle))
        if kind != "play":  # the bar on the far side says "one frame"
            bar_x = high if kind == "forward" else low - size * 0.12
            painter.drawRect(QtCore.QRectF(bar_x, low, size * 0.12, high - low))
    painter.end()
    return QtGui.QIcon(pixmap)


class ReplayBar(QtWidgets.QWidget):
    """A row of replay widgets; emits what the user asks for, shows where the replay is.

    Signals:
        play_toggled(bool), step(int) (-1 or +1), seek(int) (exact frame index),
        speed_changed(float),
        loop_changed(bool), overlay_mode_changed(str) ("model" or "recorded").
    """

    play_toggled = QtCore.pyqtSignal(bool)
    step = QtCore.pyqtSignal(int)
    seek = QtCore.pyqtSignal(int)
    speed_changed = QtCore.pyqtSignal(float)
    loop_changed = QtCore.pyqtSignal(bool)
    overlay_mode_changed = QtCore.pyqtSignal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        # Drawn icons: media glyphs (⏮ ⏯) are missing from many fonts, and the style's own
        # icons are dark on a dark theme.
        self._play_icon, self._pause_icon = media_icon("play"), media_icon("pause")
        self.back_button = self._button(
            media_icon("back"), "one frame back (←)", lambda: self.step.emit(-1)
        )
        self.play_button = self._button(self._play_icon, "play / pause (Space)", None)
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._on_play)
        self.forward_button = self._button(
            media_icon("forward"), "one frame forward (→)", lambda: self.step.emit(1)
        )
        for button in (self.back_button, self.play_button, self.forward_button):
            layout.addWidget(button)
        self.slider = QtWidgets.QSlider(QtCore.Qt.Horizontal)
        self.slider.setMinimum(0)
        self.slider.setTracking(True)
        self.slider.valueChanged.connect(self._on_slider)
        layout.addWidget(self.slider, 1)
        self.time_label = QtWidgets.QLabel("0:00.0 / 0:00.0")
        self.time_label.setMinimumWidth(260)
        layout.addWidget(self.time_label)
        self.speed = QtWidgets.QComboBox()
        for speed in SPEEDS:
            self.speed.addItem(f"{speed:g}×", speed)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.currentIndexChanged.connect(
            lambda i: self.speed_changed.emit(float(self.speed.itemData(i)))
        )
        layout.addWidget(self.speed)
        self.loop = QtWidgets.QCheckBox("loop")
        self.loop.toggled.connect(self.loop_changed.emit)
        layout.addWidget(self.loop)
        self.overlay_mode = QtWidgets.QComboBox()
        for key, label in OVERLAY_MODES:
            self.overlay_mode.addItem(label, key)
        self.overlay_mode.currentIndexChanged.connect(
            lambda i: self.overlay_mode_changed.emit(str(self.overlay_mode.itemData(i)))
        )
        layout.addWidget(self.overlay_mode)
        self._updating = False

    def _button(self, icon: QtGui.QIcon, tip: str, slot) -> QtWidgets.QToolButton:  # noqa: ANN001
        button = QtWidgets.QToolButton()
        button.setIcon(icon)
        button.setIconSize(QtCore.QSize(22, 22))
        button.setToolTip(tip)
        button.setMinimumSize(44, 36)
        if slot is not None:
            button.clicked.connect(slot)
        return button

    def _on_play(self, playing: bool) -> None:
        self.play_button.setIcon(self._pause_icon if playing else self._play_icon)
        if not self._updating:
            self.play_toggled.emit(playing)

    def _on_slider(self, value: int) -> None:
        if not self._updating:
            self.seek.emit(int(value))

    def set_recorded_overlay_available(self, available: bool) -> None:
        self.overlay_mode.setEnabled(available)
        if not available:
            self.overlay_mode.setCurrentIndex(0)

    def show_position(self, index: int, frame_count: int, fps: float, playing: bool) -> None:
        """Moves the slider and labels to the frame on screen without emitting ``seek``."""
        self._updating = True
        try:
            self.slider.setMaximum(max(0, frame_count - 1))
            if not self.slider.isSliderDown():
                self.slider.setValue(index)
            self.play_button.setChecked(playing)
            rate = fps if fps > 0 else FALLBACK_FPS
            self.time_label.setText(
                f"{format_time(index / rate)} / {format_time(max(0, frame_count - 1) / rate)}"
                f"  frame {index + 1}/{frame_count}"
            )
        finally:
            self._updating = False
