"""The ultrasound image: pyqtgraph ImageItem in a locked-aspect view, region outline, mm scale.

Coordinates of every item in the view are full-frame pixels, so needle points from a
``FrameResult`` are
drawn as they are. When only the image region is shown, the cropped image is placed at the region's
position (``setRect``), not re-based.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import cv2
import numpy as np
import pyqtgraph as pg
from PyQt5 import QtCore, QtGui, QtWidgets

from usguide.gui import theme
from usguide.types import Point, Roi

GREY_RECHECK = 120  # colour frames between two checks that they are still grey


def is_grey(image: np.ndarray) -> bool:
    """True when a BGR image's channels are equal (checked on every 4th row and column: a
    colour overlay of a few pixels is missed there, and found at the next check or not at all,
    which only shows it grey)."""
    sample = image[::4, ::4]
    return bool(
        np.array_equal(sample[:, :, 0], sample[:, :, 1])
        and np.array_equal(sample[:, :, 0], sample[:, :, 2])
    )


def depth_tick_step_mm(depth_mm: float) -> float:
    """Spacing of the depth ticks: about 4 to 10 ticks over the image depth."""
    for step in (5.0, 10.0, 20.0, 50.0):
        if depth_mm / step <= 10:
            return step
    return 100.0


class ImageView(pg.GraphicsLayoutWidget):
    """Shows frames and hosts the overlay items; emits image clicks and region selections.

    Signals:
        clicked(float, float): left click on the image, full-frame pixels.
        region_selected(object): a ``Roi`` chosen by dragging the selection rectangle.
    """

    clicked = QtCore.pyqtSignal(float, float)
    region_selected = QtCore.pyqtSignal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ci.layout.setContentsMargins(0, 0, 0, 0)
        self.view = self.addViewBox(lockAspect=True, enableMouse=False, invertY=True)
        self.view.setMenuEnabled(False)
        self.view.setDefaultPadding(0.0)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image_item)
        # The overlay's items move every frame: keeping a spatial index of them costs more than
        # the few items it would spare a hit test.
        self.scene().setItemIndexMethod(QtWidgets.QGraphicsScene.NoIndex)
        self.roi_outline = QtWidgets.QGraphicsRectItem()
        self.roi_outline.setPen(theme.pen(theme.ROI_OUTLINE, 2, dashed=True))
        self.roi_outline.setZValue(5)
        self.roi_outline.hide()
        self.view.addItem(self.roi_outline)
        self._scale_items: list[QtWidgets.QGraphicsItem] = []
        self._selector: pg.RectROI | None = None
        self._frame_size: tuple[int, int] | None = None  # (width, height)
        self._grey_colour = False  # colour frames whose channels are equal (shown as grey)
        self._grey_checked = -GREY_RECHECK  # frames until the next check (counts up to 0)
        self._shown_rect: tuple[int, int, int, int] | None = None
        self.roi: Roi | None = None
        self.mm_per_px: float | None = None
        self.show_region_only = True
        self.render_listener: Callable[[int], None] | None = None  # ns per render pass
        self.scene().sigMouseClicked.connect(self._on_scene_click)

    # -- frames --------------------------------------------------------------------------------
    def set_image(self, image: np.ndarray) -> None:
        """Shows one frame (grey HxW or BGR HxWx3 uint8). Cropped to the region if set.

        A colour capture of a grey image (a video grabber's usual output) is shown from one
        channel: no colour conversion and a third of the pixels to draw. Whether the frames are
        grey is decided once per source (frame size) and re-checked every ``GREY_RECHECK`` frames.
        """
        height, width = image.shape[:2]
        if self._frame_size != (width, height):
            self._frame_size = (width, height)
            self._grey_checked = -GREY_RECHECK
            self._update_decorations()
        rect = self._display_rect()
        x, y, w, h = rect
        shown = image[y : y + h, x : x + w] if (w, h) != (width, height) else image
        if shown.ndim == 3:
            self._grey_checked += 1
            if self._grey_checked >= 0 or self._grey_checked == -GREY_RECHECK + 1:
                self._grey_checked = -GREY_RECHECK
                self._grey_colour = is_grey(shown)
            if self._grey_colour:
                shown = shown[:, :, 0]
        if shown.ndim == 3:
            # Qt wants RGB; cvtColor converts a strided crop in one vectorised pass (a reversed
            # channel view copied by numpy cost 4 ms on a 1030x860 frame).
            shown = cv2.cvtColor(shown, cv2.COLOR_BGR2RGB)
        shown = np.ascontiguousarray(shown, dtype=np.uint8)
        # levels=None: uint8 data is shown as is. Levels (0, 255) are the same mapping, but for RGB
        # they make pyqtgraph rescale every pixel (8 ms a frame at 1030x860).
        self.image_item.setImage(shown, autoLevels=False, levels=None)
        if rect != self._shown_rect:
            self._shown_rect = rect
            self.image_item.setRect(QtCore.QRectF(x, y, w, h))
            self.view.setRange(QtCore.QRectF(x, y, w, h), padding=0.0)

    def _display_rect(self) -> tuple[int, int, int, int]:
        width, height = self._frame_size or (1, 1)
        roi = self.roi
        if (
            self.show_region_only
            and roi is not None
            and roi.x + roi.w <= width
            and roi.y + roi.h <= height
        ):
            return roi.x, roi.y, roi.w, roi.h
        return 0, 0, width, height

    # -- calibration and region ----------------------------------------------------------------
    def set_calibration(self, roi: Roi | None, mm_per_px: float | None) -> None:
        """Sets the image region (outlined when the full capture is shown) and the mm scale."""
        if roi == self.roi and mm_per_px == self.mm_per_px:
            return
        self.roi, self.mm_per_px = roi, mm_per_px
        self._shown_rect = None
        self._update_decorations()

    def set_show_region_only(self, region_only: bool) -> None:
        self.show_region_only = region_only
        self._shown_rect = None
        self._update_decorations()

    def _region(self) -> Roi | None:
        if self.roi is not None:
            return self.roi
        if self._frame_size is None:
            return None
        return Roi(0, 0, *self._frame_size)

    def _update_decorations(self) -> None:
        for item in self._scale_items:
            self.view.removeItem(item)
        self._scale_items = []
        region = self._region()
        outline = self.roi is not None and not self.show_region_only
        self.roi_outline.setVisible(outline)
        if region is None:
            return
        if outline:
            self.roi_outline.setRect(QtCore.QRectF(region.x, region.y, region.w, region.h))
        if self.mm_per_px:
            self._add_depth_ticks(region, self.mm_per_px)
            self._add_scale_bar(region, self.mm_per_px)

    def _add_item(self, item: QtWidgets.QGraphicsItem) -> None:
        item.setZValue(4)
        self.view.addItem(item)
        self._scale_items.append(item)

    def _add_depth_ticks(self, region: Roi, mm_per_px: float) -> None:
        depth_mm = region.h * mm_per_px
        step = depth_tick_step_mm(depth_mm)
        right = region.x + region.w - 1
        tick_px = max(6.0, region.w * 0.02)
        xs, ys, connect = [], [], []
        depth = step
        while depth < depth_mm - step * 0.25:  # no half-cut label at the very bottom
            y = region.y + depth / mm_per_px
            xs += [right - tick_px, right]
            ys += [y, y]
            connect += [1, 0]
            label = pg.TextItem(f"{depth:g}", color=theme.SCALE, anchor=(1.0, 0.5))
            label.setFont(theme.font(theme.BASE_POINT_SIZE))
            label.setPos(right - tick_px - 2, y)
            self._add_item(label)
            depth += step
        if xs:
            ticks = pg.PlotCurveItem(np.array(xs), np.array(ys), connect=np.array(connect, bool))
            ticks.setPen(theme.pen(theme.SCALE, 2))
            self._add_item(ticks)
            unit = pg.TextItem("mm", color=theme.MUTED, anchor=(1.0, 0.0))
            unit.setFont(theme.font(theme.BASE_POINT_SIZE - 2))
            unit.setPos(right, region.y + 2)
            self._add_item(unit)

    def _add_scale_bar(self, region: Roi, mm_per_px: float) -> None:
        length_mm = 10.0 if region.w * mm_per_px >= 25 else 5.0
        length_px = length_mm / mm_per_px
        margin = max(8.0, region.w * 0.03)
        x0, y0 = region.x + margin, region.y + region.h - margin
        bar = pg.PlotCurveItem(np.array([x0, x0 + length_px]), np.array([y0, y0]))
        bar.setPen(theme.pen(theme.SCALE, 4))
        self._add_item(bar)
        label = pg.TextItem(f"{length_mm:g} mm", color=theme.SCALE, anchor=(0.0, 1.0))
        label.setFont(theme.font(theme.BASE_POINT_SIZE, bold=True))
        label.setPos(x0, y0 - 4)
        self._add_item(label)

    # -- region selection ----------------------------------------------------------------------
    def begin_region_selection(self) -> None:
        """Shows a draggable rectangle over the full capture (see ``finish_region_selection``)."""
        self.set_show_region_only(False)
        region = self._region() or Roi(0, 0, 100, 100)
        if self._selector is None:
            self._selector = pg.RectROI(
                [region.x, region.y], [region.w, region.h], pen=theme.pen("#ffeb3b", 2)
            )
            self._selector.setZValue(20)
            self.view.addItem(self._selector)
        self._selector.setPos([region.x, region.y])
        self._selector.setSize([region.w, region.h])
        self._selector.show()

    @property
    def selecting_region(self) -> bool:
        return self._selector is not None and self._selector.isVisible()

    def finish_region_selection(self) -> Roi | None:
        """Hides the rectangle and emits ``region_selected`` with the chosen region."""
        if not self.selecting_region or self._frame_size is None:
            return None
        self._selector.hide()
        pos, size = self._selector.pos(), self._selector.size()
        width, height = self._frame_size
        x, y = max(0, int(round(pos.x()))), max(0, int(round(pos.y())))
        w = min(width - x, int(round(size.x())))
        h = min(height - y, int(round(size.y())))
        self.set_show_region_only(True)
        if w < 8 or h < 8:
            return None
        roi = Roi(x, y, w, h)
        self.region_selected.emit(roi)
        return roi

    # -- mapping and input ---------------------------------------------------------------------
    def image_to_widget(self, point: Point) -> QtCore.QPoint:
        """Widget pixel position of a full-frame image point (used by tests and snapshots)."""
        scene = self.view.mapViewToScene(QtCore.QPointF(point.x, point.y))
        return self.mapFromScene(scene)

    def _on_scene_click(self, event) -> None:  # noqa: ANN001 - pyqtgraph MouseClickEvent
        if event.button() != QtCore.Qt.LeftButton or self.selecting_region or event.double():
            return
        if not self.view.sceneBoundingRect().contains(event.scenePos()):
            return
        pos = self.view.mapSceneToView(event.scenePos())
        self.clicked.emit(float(pos.x()), float(pos.y()))

    def paintEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt API
        start = time.perf_counter_ns()
        super().paintEvent(event)
        if self.render_listener is not None:
            self.render_listener(time.perf_counter_ns() - start)

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 - Qt API
        return QtCore.QSize(800, 600)

    def paint_background(self, colour: str) -> None:
        self.setBackground(QtGui.QColor(colour))
