"""Colours, pens and fonts: a dark theme with large text, legible at arm's length in a dark room."""

from __future__ import annotations

import pyqtgraph as pg
from PyQt5 import QtCore, QtGui, QtWidgets

BACKGROUND = "#101214"
PANEL = "#1a1d21"
TEXT = "#e8eaed"
MUTED = "#9aa0a6"

SHAFT = "#33ff88"  # detected needle shaft
TIP = "#ff3b5c"  # tip marker
TRAJECTORY = "#ffc933"  # projected path (dashed)
TARGET = "#40c4ff"  # target marker and readout
ON_TARGET = "#ff40ff"  # trajectory passes within ON_TARGET_MM of the target
PREDICTED = "#9e9e9e"  # tracker coasting: no measurement this frame
ROI_OUTLINE = "#5c9dff"
SCALE = "#e8eaed"
BANNER = "#d32f2f"

# Stage colours of the latency plot; end-to-end is drawn thicker in white.
STAGE_COLOURS = ("#4fc3f7", "#81c784", "#ffb74d", "#ba68c8", "#f06292", "#a1887f")
END_TO_END = "#ffffff"
BUDGET = "#ff5252"

ON_TARGET_MM = 2.0
LOW_CONFIDENCE = 0.5

BASE_POINT_SIZE = 13
HUD_POINT_SIZE = 20


def pen(colour: str, width: float = 3.0, dashed: bool = False) -> QtGui.QPen:
    """A cosmetic pen (width in screen pixels, independent of the image zoom)."""
    result = pg.mkPen(colour, width=width)
    result.setCosmetic(True)
    if dashed:
        result.setStyle(QtCore.Qt.CustomDashLine)
        result.setDashPattern([3.0, 2.0])
    return result


def font(point_size: int = BASE_POINT_SIZE, bold: bool = False) -> QtGui.QFont:
    result = QtGui.QFont()
    result.setPointSize(point_size)
    result.setBold(bold)
    return result


STYLE_SHEET = f"""
QWidget {{ background-color: {BACKGROUND}; color: {TEXT}; font-size: {BASE_POINT_SIZE}pt; }}
QGroupBox {{ border: 1px solid #33373d; border-radius: 6px; margin-top: 14px; padding: 6px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; color: {MUTED}; }}
QPushButton, QToolButton, QComboBox, QLineEdit, QDoubleSpinBox {{
    background-color: {PANEL}; border: 1px solid #3c4043; border-radius: 5px; padding: 4px 8px; }}
QPushButton:checked, QToolButton:checked {{
    background-color: #2e4a6b; border-color: {ROI_OUTLINE}; }}
QPushButton:hover, QToolButton:hover {{ border-color: {MUTED}; }}
QSlider::groove:horizontal {{ height: 8px; background: #33373d; border-radius: 4px; }}
QSlider::handle:horizontal {{
    width: 18px; margin: -6px 0; background: {TEXT}; border-radius: 9px; }}
QCheckBox::indicator {{ width: 18px; height: 18px; }}
"""


def apply(app: QtWidgets.QApplication) -> None:
    """Applies the dark theme to the whole application and to pyqtgraph defaults."""
    pg.setConfigOptions(
        antialias=True, background=BACKGROUND, foreground=TEXT, imageAxisOrder="row-major"
    )
    app.setStyle("Fusion")
    app.setStyleSheet(STYLE_SHEET)
