"""Replay controls for recorded sources: play/pause, frame steps, seek slider, speed, loop,
and whether overlays are re-computed by the current model or shown as recorded.
"""

from __future__ import annotations

from PyQt5 import QtCore, QtWidgets

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)
OVERLAY_MODES = (("model", "overlay: current model"), ("recorded", "overlay: as recorded"))


def format_time(seconds: float) -> str:
    """``m:ss.s`` for the time label."""
    minutes, rest = divmod(max(0.0, seconds), 60.0)
    return f"{int(minutes)}:{rest:04.1f}"


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
        self.back_button = self._button("⏮", "one frame back (←)", lambda: self.step.emit(-1))
        self.play_button = self._button("▶", "play / pause (Space)", None)
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._on_play)
        self.forward_button = self._button("⏭", "one frame forward (→)", lambda: self.step.emit(1))
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

    def _button(self, text: str, tip: str, slot) -> QtWidgets.QToolButton:  # noqa: ANN001
        button = QtWidgets.QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setMinimumSize(44, 36)
        if slot is not None:
            button.clicked.connect(slot)
        return button

    def _on_play(self, playing: bool) -> None:
        self.play_button.setText("⏸" if playing else "▶")
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
            rate = fps if fps > 0 else 30.0
            self.time_label.setText(
                f"{format_time(index / rate)} / {format_time(max(0, frame_count - 1) / rate)}"
                f"  frame {index + 1}/{frame_count}"
            )
        finally:
            self._updating = False
