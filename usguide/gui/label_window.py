"""The ``usguide label`` window: step through a clip and mark the needle's entry and tip.

Click sets the entry, the next click the tip; drag either end to move it. The label state lives in
``LabelState`` (Qt-free); this module only shows frames and turns mouse and keys into edits.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
import pyqtgraph as pg
from PyQt5 import QtCore, QtGui, QtWidgets

from usguide.gui import theme
from usguide.gui.label_model import LabelState
from usguide.types import Point

HANDLE_RADIUS_PX = 12  # screen pixels within which a press grabs an end
_KEY_COLOUR = "#39d353"
_INTERPOLATED_COLOUR = "#e3b341"
_ENTRY_COLOUR = "#58a6ff"
_HELP = (
    "click: entry, then tip · drag an end to move it · ←/→ frame · Shift+←/→ 10 frames · "
    "Home/End · N no needle · Del clear · Ctrl+Z undo · Ctrl+S save · C contrast · "
    "wheel zoom, F fit"
)


class Frames(Protocol):
    """Random access to a clip's images (grey HxW or BGR HxWx3 uint8)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> np.ndarray: ...


class LabelView(pg.GraphicsLayoutWidget):
    """The image with the label drawn on it; turns presses, drags and releases into callbacks.

    The mouse is handled at the widget level (pyqtgraph's own pan and zoom are off), so a
    press near an end starts a drag and a press elsewhere is a click on release.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ci.layout.setContentsMargins(0, 0, 0, 0)
        self.view_box = self.addViewBox(lockAspect=True, enableMouse=False, invertY=True)
        self.view_box.setMenuEnabled(False)
        self.view_box.setDefaultPadding(0.0)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view_box.addItem(self.image_item)
        self.region_item = QtWidgets.QGraphicsRectItem()
        self.region_item.setPen(theme.pen(theme.ROI_OUTLINE, 1, dashed=True))
        self.view_box.addItem(self.region_item)
        self.shaft_item = pg.PlotCurveItem()
        self.ends_item = pg.ScatterPlotItem(size=11, pxMode=True)
        for item in (self.shaft_item, self.ends_item):
            item.setZValue(10)
            self.view_box.addItem(item)
        self.handles: dict[str, Point] = {}  # "entry"/"tip" -> frame pixels, as drawn
        self.on_click: Callable[[Point], None] | None = None
        self.on_drag: Callable[[str, Point, bool], None] | None = None  # end, point, first move
        self._pressed_at: QtCore.QPoint | None = None
        self._dragging: str | None = None
        self._moved = False

    def show_image(self, image: np.ndarray, stretch: bool) -> None:
        """Shows a frame (BGR shown as RGB); ``stretch`` maps the 1st..99.5th percentile to
        black..white, for faint needles."""
        shown = image[..., ::-1] if image.ndim == 3 else image
        levels = None
        if stretch:
            low, high = np.percentile(image if image.ndim == 2 else image.mean(axis=2), (1, 99.5))
            levels = (float(low), float(max(high, low + 1)))
        self.image_item.setImage(np.ascontiguousarray(shown), autoLevels=False, levels=levels)

    def show_region(self, rect: tuple[int, int, int, int]) -> None:
        self.region_item.setRect(QtCore.QRectF(*rect))

    def fit(self) -> None:
        self.view_box.autoRange(padding=0.0)

    def show_label(self, entry: Point | None, tip: Point | None, is_key: bool) -> None:
        """Draws the shaft and its ends (green on a key frame, amber when interpolated)."""
        colour = _KEY_COLOUR if is_key else _INTERPOLATED_COLOUR
        self.handles = {}
        spots = []
        if entry is not None:
            self.handles["entry"] = entry
            spots.append({"pos": entry, "brush": pg.mkBrush(_ENTRY_COLOUR), "symbol": "o"})
        if tip is not None:
            self.handles["tip"] = tip
            spots.append({"pos": tip, "brush": pg.mkBrush(colour), "symbol": "+", "size": 15})
        self.ends_item.setData(spots, pen=pg.mkPen("k"))
        if entry is not None and tip is not None:
            self.shaft_item.setData(
                [entry.x, tip.x], [entry.y, tip.y], pen=pg.mkPen(colour, width=2)
            )
        else:
            self.shaft_item.setData([], [])

    # -- coordinates -----------------------------------------------------------------------------
    def to_frame(self, widget_pos: QtCore.QPoint) -> Point:
        """Frame pixels under a widget position."""
        mapped = self.view_box.mapSceneToView(self.mapToScene(widget_pos))
        return Point(float(mapped.x()), float(mapped.y()))

    def to_widget(self, point: Point) -> QtCore.QPoint:
        """Widget position of a frame pixel."""
        scene = self.view_box.mapViewToScene(QtCore.QPointF(point.x, point.y))
        return self.mapFromScene(scene)

    def _handle_at(self, widget_pos: QtCore.QPoint) -> str | None:
        best, best_distance = None, float(HANDLE_RADIUS_PX)
        for end in ("tip", "entry"):  # the tip first: it is the one moved most
            if end not in self.handles:
                continue
            delta = self.to_widget(self.handles[end]) - widget_pos
            distance = (delta.x() ** 2 + delta.y() ** 2) ** 0.5
            if distance <= best_distance:
                best, best_distance = end, distance
        return best

    # -- mouse -----------------------------------------------------------------------------------
    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() != QtCore.Qt.LeftButton:
            return
        self._pressed_at = event.pos()
        self._dragging = self._handle_at(event.pos())
        self._moved = False
        event.accept()

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._pressed_at is None or self._dragging is None:
            return
        if self.on_drag is not None:
            self.on_drag(self._dragging, self.to_frame(event.pos()), not self._moved)
        self._moved = True
        event.accept()

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() != QtCore.Qt.LeftButton or self._pressed_at is None:
            return
        dragging, moved = self._dragging, self._moved
        self._pressed_at, self._dragging, self._moved = None, None, False
        if dragging is not None:
            if self.on_drag is not None:
                self.on_drag(dragging, self.to_frame(event.pos()), not moved)
        elif self.on_click is not None:
            self.on_click(self.to_frame(event.pos()))
        event.accept()

    def mouseDoubleClickEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 - Qt API
        event.accept()  # two quick clicks are two clicks, not a pyqtgraph double-click

    def wheelEvent(self, event: QtGui.QWheelEvent) -> None:  # noqa: N802 - Qt API
        factor = 0.8 if event.angleDelta().y() > 0 else 1.25
        centre = self.to_frame(event.pos())
        self.view_box.scaleBy((factor, factor), center=QtCore.QPointF(centre.x, centre.y))
        event.accept()


class LabelWindow(QtWidgets.QMainWindow):
    """Frame slider, image and status line over a ``LabelState``; saves to ``truth_path``.

    Args:
        frames: the clip's images by index.
        state: the labels (new or resumed).
        truth_path: where Ctrl+S (and closing with unsaved labels) writes ``truth.json``.
    """

    def __init__(
        self,
        frames: Frames,
        state: LabelState,
        truth_path: Path,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.frames = frames
        self.state = state
        self.truth_path = Path(truth_path)
        self.index = 0
        self.stretch = False
        self.setWindowTitle(f"usguide label — {state.source or truth_path.parent}")
        self.view = LabelView()
        self.view.on_click = self._on_click
        self.view.on_drag = self._on_drag
        self.slider = QtWidgets.QSlider(QtCore.Qt.Horizontal)
        self.slider.setRange(0, len(frames) - 1)
        self.slider.setFocusPolicy(QtCore.Qt.NoFocus)  # arrows step frames, not the slider
        self.slider.valueChanged.connect(self.go_to)
        self.status = QtWidgets.QLabel()
        self.status.setFont(theme.font())
        hint = QtWidgets.QLabel(_HELP)
        hint.setWordWrap(True)
        layout = QtWidgets.QVBoxLayout()
        layout.setContentsMargins(4, 4, 4, 4)
        for widget in (self.view, self.slider, self.status, hint):
            layout.addWidget(widget)
        layout.setStretch(0, 1)
        central = QtWidgets.QWidget()
        central.setLayout(layout)
        self.setCentralWidget(central)
        self.setFocusPolicy(QtCore.Qt.StrongFocus)
        roi = state.roi
        self.view.show_region((roi.x, roi.y, roi.w, roi.h))
        self.resize(1100, 900)
        self._show(fit=True)

    # -- navigation ------------------------------------------------------------------------------
    def go_to(self, index: int) -> None:
        """Shows frame ``index`` (clamped to the clip)."""
        index = min(max(int(index), 0), len(self.frames) - 1)
        if index == self.index and self.slider.value() == index:
            return
        self.index = index
        if self.slider.value() != index:
            self.slider.setValue(index)  # re-enters go_to, which returns at once
        self._show()

    def step(self, count: int) -> None:
        self.go_to(self.index + count)

    # -- edits -----------------------------------------------------------------------------------
    def _on_click(self, point: Point) -> None:
        self.state.click(self.index, point)
        self._refresh()

    def _on_drag(self, end: str, point: Point, first: bool) -> None:
        label = self.state.label(self.index)
        if label is None or not label.visible or getattr(label, end) is None:
            return
        self.state.move(self.index, end, point, record=first)
        self._refresh()

    def mark_no_needle(self) -> None:
        self.state.mark_no_needle(self.index)
        self._refresh()

    def clear_frame(self) -> None:
        self.state.clear(self.index)
        self._refresh()

    def undo(self) -> None:
        self.state.undo()
        self._refresh()

    def save(self) -> Path:
        path = self.state.save(self.truth_path)
        self._refresh()
        self.status.setText(self.status.text() + f" · saved {path}")
        return path

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:  # noqa: N802 - Qt API
        key, modifiers = event.key(), event.modifiers()
        ctrl = bool(modifiers & QtCore.Qt.ControlModifier)
        big = 10 if modifiers & QtCore.Qt.ShiftModifier else 1
        actions = {
            QtCore.Qt.Key_Right: lambda: self.step(big),
            QtCore.Qt.Key_Left: lambda: self.step(-big),
            QtCore.Qt.Key_Home: lambda: self.go_to(0),
            QtCore.Qt.Key_End: lambda: self.go_to(len(self.frames) - 1),
            QtCore.Qt.Key_N: self.mark_no_needle,
            QtCore.Qt.Key_Delete: self.clear_frame,
            QtCore.Qt.Key_Backspace: self.clear_frame,
            QtCore.Qt.Key_C: self._toggle_stretch,
            QtCore.Qt.Key_F: self.view.fit,
        }
        if ctrl and key == QtCore.Qt.Key_Z:
            self.undo()
        elif ctrl and key == QtCore.Qt.Key_S:
            self.save()
        elif not ctrl and key in actions:
            actions[key]()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 - Qt API
        if self.state.dirty:  # labels are work: closing keeps them rather than asking
            self.state.save(self.truth_path)
        super().closeEvent(event)

    # -- display ---------------------------------------------------------------------------------
    def _toggle_stretch(self) -> None:
        self.stretch = not self.stretch
        self._show()

    def _show(self, fit: bool = False) -> None:
        self.view.show_image(self.frames[self.index], self.stretch)
        if fit:
            self.view.fit()
        self._refresh()

    def _refresh(self) -> None:
        label = self.state.label(self.index)
        key = self.state.key(self.index)
        if key is not None and key.visible:  # a key being placed shows its entry alone
            self.view.show_label(key.entry, key.tip, True)
        elif label is not None and label.visible:
            self.view.show_label(label.entry, label.tip, label.is_key)
        else:
            self.view.show_label(None, None, False)
        self.status.setText(self._status_text(label))

    def _status_text(self, label: object) -> str:
        key = self.state.key(self.index)
        if key is not None and key.visible and key.tip is None:
            what = "key frame: click the tip"
        elif label is None:
            what = "unlabelled"
        elif not label.visible:
            what = "no needle" + (" (key frame)" if label.is_key else " (between keys)")
        else:
            kind = "key frame" if label.is_key else "interpolated"
            what = (
                f"{kind}: entry ({label.entry.x:.1f}, {label.entry.y:.1f}) "
                f"tip ({label.tip.x:.1f}, {label.tip.y:.1f}) {label.angle_deg:.1f}°"
            )
        keys = len(self.state.key_frames)
        unsaved = " · unsaved" if self.state.dirty else ""
        return f"frame {self.index}/{len(self.frames) - 1} · {what} · {keys} key frames{unsaved}"
