"""Scrolling plot of per-stage and end-to-end latency and the budget line; fps, drops, age."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PyQt5 import QtCore, QtWidgets

from usguide.gui import theme

HISTORY = 300  # painted frames kept in the plot (10 s at 30 fps)


class LatencyPanel(QtWidgets.QWidget):
    """Latency history of the painted frames; numbers above the plot.

    ``add_sample`` is called once per painted frame; the plot itself is redrawn at most every
    ``redraw_interval_s`` so the panel stays cheap on the GUI thread.
    """

    def __init__(
        self,
        budget_ms: float,
        parent: QtWidgets.QWidget | None = None,
        redraw_interval_s: float = 0.25,
    ) -> None:
        super().__init__(parent)
        self.budget_ms = budget_ms
        self.redraw_interval_ns = int(redraw_interval_s * 1e9)
        self._drawn_at_ns = 0
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.numbers = QtWidgets.QLabel("–")
        self.numbers.setTextFormat(QtCore.Qt.RichText)
        layout.addWidget(self.numbers)
        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(150)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.showGrid(y=True, alpha=0.2)
        self.plot.setLabel("left", "ms")
        self.plot.setXRange(-HISTORY, 0, padding=0)
        self.plot.setYRange(0, budget_ms * 1.6, padding=0)
        self.plot.getAxis("bottom").setStyle(showValues=False)
        self.legend = self.plot.addLegend(offset=(6, 4), labelTextColor=theme.TEXT, colCount=3)
        self.budget_line = pg.InfiniteLine(
            pos=budget_ms, angle=0, pen=theme.pen(theme.BUDGET, 2, dashed=True)
        )
        self.plot.addItem(self.budget_line)
        layout.addWidget(self.plot, 1)
        self._x = np.arange(-HISTORY + 1, 1, dtype=float)
        self._series: dict[str, np.ndarray] = {}
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._count = 0
        self._end_to_end = self._new_series("end-to-end", theme.END_TO_END, 2.5)

    def _new_series(self, name: str, colour: str, width: float = 1.5) -> str:
        self._series[name] = np.full(HISTORY, np.nan)
        self._curves[name] = self.plot.plot(
            self._x, self._series[name], pen=theme.pen(colour, width), name=name
        )
        # Drawn as separate segments: the same lines, but Qt strokes a long antialiased polyline
        # wider than a pixel 3-4x slower (8 ms a repaint of the panel on the GUI thread).
        self._curves[name].curve.setSegmentedLineMode("on")
        return name

    def add_sample(self, stage_ms: dict[str, float], end_to_end_ms: float) -> None:
        """Appends one painted frame's stage durations and capture-to-display latency."""
        for name in stage_ms:
            if name not in self._series:
                colour = theme.STAGE_COLOURS[(len(self._series) - 1) % len(theme.STAGE_COLOURS)]
                self._new_series(name, colour)
        for name, series in self._series.items():
            series[:-1] = series[1:]
            series[-1] = end_to_end_ms if name == self._end_to_end else stage_ms.get(name, np.nan)
        self._count += 1
        now = time.perf_counter_ns()
        if now - self._drawn_at_ns >= self.redraw_interval_ns:
            self._drawn_at_ns = now
            self.redraw()

    def redraw(self) -> None:
        top = self.budget_ms * 1.6
        for name, series in self._series.items():
            self._curves[name].setData(self._x, series, connect="finite")
            finite = series[np.isfinite(series)]
            if finite.size:
                top = max(top, float(finite.max()) * 1.1)
        self.plot.setYRange(0, top, padding=0)

    def set_numbers(
        self,
        *,
        display_fps: float,
        source_fps: float | None,
        dropped: int | None,
        frame_age_ms: float | None,
        end_to_end_p95_ms: float | None,
        paint_p95_ms: float | None,
    ) -> None:
        """Updates the text line above the plot."""

        def fmt(value: float | int | None, spec: str) -> str:
            return "–" if value is None else format(value, spec)

        over = frame_age_ms is not None and frame_age_ms > self.budget_ms
        age_colour = theme.BUDGET if over else theme.TEXT
        self.numbers.setText(
            f"<b>{fmt(display_fps, '.0f')}</b> fps shown"
            f" <span style='color:{theme.MUTED}'>(source {fmt(source_fps, '.0f')})</span> &nbsp; "
            f"dropped <b>{fmt(dropped, 'd')}</b> &nbsp; "
            f"frame age <b style='color:{age_colour}'>{fmt(frame_age_ms, '.0f')} ms</b> &nbsp; "
            f"p95 <b>{fmt(end_to_end_p95_ms, '.0f')} ms</b> / {self.budget_ms:g} &nbsp; "
            f"<span style='color:{theme.MUTED}'>GUI {fmt(paint_p95_ms, '.1f')} ms</span>"
        )
