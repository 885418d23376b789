"""The ultrasound image: a frame item in a locked-aspect view, region outline, mm scale.

Coordinates of every item in the view are full-frame pixels, so needle points from a
``FrameResult`` are drawn as they are. When only the image region is shown, the cropped image is
drawn into the region's rectangle, not re-based. The pixels themselves are prepared off the GUI
thread (``display_image``): cut, reduced to grey, scaled to the view and packed once per frame.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PyQt5 import QtCore, QtGui, QtWidgets

from usguide.gui import theme
from usguide.gui.display_image import DisplayImage, DisplayPreparer, display_rect, scaled_size
from usguide.types import Point, Roi


def depth_tick_step_mm(depth_mm: float) -> float:
    """Spacing of the depth ticks: about 4 to 10 ticks over the image depth."""
    for step in (5.0, 10.0, 20.0, 50.0):
        if depth_mm / step <= 10:
            return step
    return 100.0


class FrameItem(QtWidgets.QGraphicsItem):
    """The frame on screen: a QImage over prepared BGRX pixels, drawn into its rectangle (frame
    pixels). The painter draws that format as it is: no conversion, and no scaling when the
    pixels were prepared at the view's size."""

    def __init__(self) -> None:
        super().__init__()
        self.image: np.ndarray | None = None  # the shown pixels (grey or BGR, maybe scaled)
        self.qimage: QtGui.QImage | None = None
        self._packed: np.ndarray | None = None  # the QImage borrows this buffer
        self._rect = QtCore.QRectF()

    def set_display(self, display: DisplayImage) -> None:
        packed = display.packed
        self._packed = packed
        self.qimage = pg.functions.ndarray_to_qimage(packed, QtGui.QImage.Format_RGB32)
        self.image = display.pixels
        rect = QtCore.QRectF(*display.rect)
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
        self.update()

    def render(self) -> None:
        """Nothing to do: the QImage is made with the pixels (pyqtgraph's ImageItem API)."""

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 - Qt API
        return self._rect

    def paint(self, painter: QtGui.QPainter, *_args: object) -> None:
        if self.qimage is not None:
            painter.drawImage(self._rect, self.qimage)


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
        self.image_item = FrameItem()
        self.view.addItem(self.image_item)
        self.preparer = DisplayPreparer()
        self._raw: np.ndarray | None = None  # the captured image on screen
        # The overlay's items move every frame: keeping a spatial index of them costs more than
        # the few items it would spare a hit test.
        self.scene().setItemIndexMethod(QtWidgets.QGraphicsScene.NoIndex)
        # The view fills every pixel (background brush, then the frame): the widgets behind it
        # need not be repainted with each frame.
        self.viewport().setAttribute(QtCore.Qt.WA_OpaquePaintEvent, True)
        self.roi_outline = QtWidgets.QGraphicsRectItem()
        self.roi_outline.setPen(theme.pen(theme.ROI_OUTLINE, 2, dashed=True))
        self.roi_outline.setZValue(5)
        self.roi_outline.hide()
        self.view.addItem(self.roi_outline)
        self._scale_items: list[QtWidgets.QGraphicsItem] = []
        self._selector: pg.RectROI | None = None
        self._frame_size: tuple[int, int] | None = None  # (width, height)
        self._shown_rect: tuple[int, int, int, int] | None = None
        self.roi: Roi | None = None
        self.mm_per_px: float | None = None
        self.show_region_only = True
        self.render_listener: Callable[[int], None] | None = None  # ns per render pass
        self.scene().sigMouseClicked.connect(self._on_scene_click)

    # -- frames --------------------------------------------------------------------------------
    def prepare(self, image: np.ndarray, roi: Roi | None) -> DisplayImage:
        """Prepares ``image``'s pixels for ``set_image`` (thread-safe: the pipeline's worker calls
        it, so the GUI thread does not cut, convert or scale)."""
        return self.preparer.prepare(image, roi, self.show_region_only)

    def set_image(self, image: np.ndarray) -> None:
        """Shows one frame (grey HxW or BGR HxWx3 uint8). Cropped to the region if set.

        Uses the pixels ``prepare`` made for this very image when they still fit the region and
        the view's size; else prepares them here. A colour capture of a grey image (a video
        grabber's usual output) is shown from one channel (see ``DisplayPreparer``).
        """
        height, width = image.shape[:2]
        if self._frame_size != (width, height):
            self._frame_size = (width, height)
            self._update_decorations()
        rect = self._display_rect()
        display = self.preparer.latest_for(image)
        if (
            display is None
            or display.rect != rect
            or display.pixels.shape[1::-1] != scaled_size(rect[2], rect[3], self.preparer.view_px)
        ):
            display = self.preparer.prepare(image, self.roi, self.show_region_only)
        self._raw = image
        self.image_item.set_display(display)
        if rect != self._shown_rect:
            self._shown_rect = rect
            self.view.setRange(QtCore.QRectF(*rect), padding=0.0)

    def _display_rect(self) -> tuple[int, int, int, int]:
        return display_rect(self._frame_size or (1, 1), self.roi, self.show_region_only)

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
        if self._raw is not None:
            self.set_image(self._raw)  # at once, also while paused or frozen

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
        # The scale changes only with the region, the scale or the view's size: each item (and a
        # label's text child) is drawn once into a pixmap at screen resolution and copied on
        # every frame after that (same pixels; no Python paint and text layout per frame).
        for part in (item, *item.childItems()):
            part.setCacheMode(QtWidgets.QGraphicsItem.DeviceCoordinateCache)
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

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        preparer = getattr(self, "preparer", None)  # None while the base class is being built
        if preparer is None:
            return
        ratio = self.devicePixelRatioF()
        viewport = self.viewport()
        view_px = (int(viewport.width() * ratio), int(viewport.height() * ratio))
        if view_px != preparer.view_px:
            preparer.view_px = view_px
            if self._raw is not None:
                self.set_image(self._raw)  # the frame on screen at the new size (paused, frozen)

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 - Qt API
        return QtCore.QSize(800, 600)

    def paint_background(self, colour: str) -> None:
        self.setBackground(QtGui.QColor(colour))
