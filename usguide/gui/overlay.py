"""Draws one ``FrameResult`` over its own frame: shaft, tip, dashed path, angle, confidence,
target and the tip-to-target readout, with distinct looks for "not detected", "predicted" and low
confidence.

It keeps no state of its own: the target it draws is given with each frame (the runtime owns it),
the path end comes with the result's trajectory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyqtgraph as pg
from PyQt5 import QtCore, QtWidgets

from usguide.gui import theme
from usguide.track.trajectory import TargetReadout, path_end, target_readout
from usguide.types import FrameResult, Point, Roi


@dataclass
class OverlayToggles:
    """Which overlay parts are drawn (the controls panel flips these)."""

    shaft: bool = True
    trajectory: bool = True
    labels: bool = True
    target: bool = True


@dataclass
class OverlayState:
    """What the overlay showed for the last painted frame (for tests and the status bar)."""

    status: str = "waiting"  # waiting, detected, predicted, low_confidence, not_detected
    readout: TargetReadout | None = None
    on_target: bool = False
    ahead_ms: float | None = None  # the needle was moved this far forward in time (display)


class Overlay(QtCore.QObject):
    """Owns the graphics items drawn on the image view and the heads-up text in its corner.

    Signals:
        target_moved(float, float): the target was dragged to a new position (full-frame pixels).
    """

    target_moved = QtCore.pyqtSignal(float, float)

    def __init__(self, view: pg.ViewBox, hud_parent: QtWidgets.QWidget) -> None:
        super().__init__(hud_parent)
        self.toggles = OverlayToggles()
        self.state = OverlayState()
        # Plain line items: moving one is a setLine, drawn in C++ (a plot curve rebuilt its path
        # and bounds in Python every frame); same cosmetic pens, same pixels.
        self.shaft = QtWidgets.QGraphicsLineItem()
        self.trajectory = QtWidgets.QGraphicsLineItem()
        # A plain ellipse that ignores the view's zoom (18 screen pixels): moving it is a setPos,
        # where a scatter plot rebuilds its points and symbols every frame.
        self.tip = QtWidgets.QGraphicsEllipseItem(-9.0, -9.0, 18.0, 18.0)
        self.tip.setFlag(QtWidgets.QGraphicsItem.ItemIgnoresTransformations)
        self.tip.setPen(pg.mkPen("#000000", width=1.5))
        # Pens, brushes and texts are set only when they change (building them each frame cost
        # more than drawing them).
        self._looks: dict[str, object] = {}
        self._texts: dict[str, str] = {}
        self.label = pg.TextItem(
            color=theme.TEXT, anchor=(0.0, 1.2), fill=pg.mkBrush(16, 18, 20, 170)
        )
        self.label.setFont(theme.font(theme.BASE_POINT_SIZE + 2, bold=True))
        self.target = pg.TargetItem(
            size=26, symbol="crosshair", movable=True, pen=theme.pen(theme.TARGET, 3)
        )
        self.target.hide()
        self.target.sigPositionChanged.connect(self._on_target_dragged)
        for z_value, item in enumerate(
            (self.trajectory, self.shaft, self.tip, self.label, self.target)
        ):
            item.setZValue(10 + z_value)
            view.addItem(item)
        self.hud = QtWidgets.QLabel(hud_parent)
        self.hud.setAttribute(QtCore.Qt.WA_TransparentForMouseEvents)
        self.hud.setStyleSheet(
            f"background-color: rgba(16,18,20,190); color: {theme.TEXT}; padding: 6px 10px;"
            f" border-radius: 6px; font-size: {theme.HUD_POINT_SIZE}pt; font-weight: bold;"
        )
        self.hud.move(10, 10)
        self._setting_target = False

    # -- target --------------------------------------------------------------------------------
    def set_target(self, point: Point | None) -> None:
        """Moves (or hides, with None) the target marker."""
        if point is None:
            self.target.hide()
            return
        self._setting_target = True
        self.target.setPos(point.x, point.y)
        self._setting_target = False
        self.target.setVisible(self.toggles.target)

    def _on_target_dragged(self) -> None:
        if self._setting_target:
            return
        pos = self.target.pos()
        self.target_moved.emit(float(pos.x()), float(pos.y()))

    # -- painting ------------------------------------------------------------------------------
    def update(
        self,
        result: FrameResult,
        roi: Roi | None,
        mm_per_px: float | None,
        target: Point | None = None,
        ahead_ms: float | None = None,
    ) -> OverlayState:
        """Redraws every item for ``result`` and the user's ``target`` (GUI thread only);
        ``ahead_ms``: how far the display moved the needle forward in time, if it did."""
        needle = result.needle
        region = roi or Roi(0, 0, result.frame.width, result.frame.height)
        state = OverlayState(ahead_ms=ahead_ms)
        if needle is None:
            state.status = "not_detected"
        elif needle.predicted:
            state.status = "predicted"
        elif needle.confidence < theme.LOW_CONFIDENCE:
            state.status = "low_confidence"
        else:
            state.status = "detected"
        if needle is not None and target is not None and state.status != "low_confidence":
            state.readout = target_readout(needle, target, mm_per_px)
            state.on_target = state.readout is not None and state.readout.on_target(
                theme.ON_TARGET_MM
            )
        self.state = state
        self._draw_needle(result, state, region)
        self._draw_target(state, target)
        self._draw_hud(result, state)
        return state

    def _look(self, name: str, look: tuple, apply: Callable[[], None]) -> None:
        """Calls ``apply`` (a setPen, setBrush, ...) only when ``look`` differs from the last."""
        if self._looks.get(name) != look:
            self._looks[name] = look
            apply()

    def _text(self, name: str, text: str, apply: Callable[[str], None]) -> bool:
        """Calls ``apply(text)`` only when the text changed; True when it did."""
        if self._texts.get(name) == text:
            return False
        self._texts[name] = text
        apply(text)
        return True

    def _draw_needle(self, result: FrameResult, state: OverlayState, region: Roi) -> None:
        needle = result.needle
        if needle is None:
            for item in (self.shaft, self.trajectory, self.tip, self.label):
                item.hide()
            return
        coasting = state.status == "predicted"
        colour = theme.PREDICTED if coasting else theme.SHAFT
        self.shaft.setLine(needle.entry.x, needle.entry.y, needle.tip.x, needle.tip.y)
        self._look(
            "shaft",
            (colour, coasting),
            lambda: self.shaft.setPen(theme.pen(colour, 5, dashed=coasting)),
        )
        self.shaft.setVisible(self.toggles.shaft)
        tip_colour = theme.PREDICTED if coasting else theme.TIP
        self._look("tip", (tip_colour,), lambda: self.tip.setBrush(pg.mkBrush(tip_colour)))
        self.tip.setPos(needle.tip.x, needle.tip.y)
        self.tip.setVisible(self.toggles.shaft)
        end = result.trajectory.end if result.trajectory is not None else path_end(needle, region)
        show_path = self.toggles.trajectory and end is not None and state.status != "low_confidence"
        if show_path:
            path_colour = (
                theme.ON_TARGET
                if state.on_target
                else theme.PREDICTED
                if coasting
                else theme.TRAJECTORY
            )
            self.trajectory.setLine(needle.tip.x, needle.tip.y, end.x, end.y)
            self._look(
                "trajectory",
                (path_colour,),
                lambda: self.trajectory.setPen(theme.pen(path_colour, 3, dashed=True)),
            )
        self.trajectory.setVisible(show_path)
        self._text(
            "label",
            f"{needle.angle_deg:.0f}°  {needle.confidence * 100:.0f}%",
            self.label.setText,
        )
        label_colour = theme.PREDICTED if coasting else theme.TEXT
        self._look("label", (label_colour,), lambda: self.label.setColor(label_colour))
        self.label.setPos(needle.tip.x, needle.tip.y)
        self.label.setVisible(self.toggles.labels)

    def _draw_target(self, state: OverlayState, target: Point | None) -> None:
        if target is None:
            self.target.hide()
            return
        colour = theme.ON_TARGET if state.on_target else theme.TARGET
        self._look("target", (colour,), lambda: self.target.setPen(theme.pen(colour, 3)))
        self.target.setVisible(self.toggles.target)

    def _draw_hud(self, result: FrameResult, state: OverlayState) -> None:
        lines = []
        needle = result.needle
        if state.status == "not_detected":
            lines.append(f"<span style='color:{theme.TRAJECTORY}'>NEEDLE NOT DETECTED</span>")
        elif state.status == "predicted" and state.ahead_ms is not None:
            lines.append(
                f"<span style='color:{theme.PREDICTED}'>PREDICTED +{state.ahead_ms:.0f} ms "
                "(needle moving)</span>"
            )
        elif state.status == "predicted":
            lines.append(f"<span style='color:{theme.PREDICTED}'>PREDICTED (tracking lost)</span>")
        elif state.status == "low_confidence":
            lines.append(
                f"<span style='color:{theme.TRAJECTORY}'>"
                f"LOW CONFIDENCE {needle.confidence * 100:.0f}%</span>"
            )
        else:
            lines.append(
                f"<span style='color:{theme.SHAFT}'>Needle {needle.angle_deg:.0f}°</span>"
                f"<span style='color:{theme.MUTED}'>  conf {needle.confidence * 100:.0f}%</span>"
            )
        readout = state.readout
        if readout is not None and self.toggles.target:
            colour = theme.ON_TARGET if state.on_target else theme.TARGET
            if readout.along_mm is not None and readout.miss_mm is not None:
                text = f"Target {readout.along_mm:.1f} mm · miss {readout.miss_mm:.1f} mm"
            else:
                text = (
                    f"Target {readout.along_px:.0f} px · miss {readout.miss_px:.0f} px (no scale)"
                )
            if state.on_target:
                text += " · ON PATH"
            lines.append(f"<span style='color:{colour}'>{text}</span>")
        if self._text("hud", "<br>".join(lines), self.hud.setText):
            self.hud.adjustSize()
        self.hud.show()
