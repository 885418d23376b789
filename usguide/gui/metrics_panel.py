"""Running insertion metrics beside the latency panel, during replay and live.

The values are accumulated on the pipeline's worker thread (``add``, constant time per result,
``usguide.review.running``); the GUI thread only formats a snapshot when the numbers refresh.
"""

from __future__ import annotations

from PyQt5 import QtCore, QtWidgets

from usguide.review.metrics import TARGET_HIT_MM
from usguide.review.running import RunningMetrics, RunningValues
from usguide.types import FrameResult


def _number(value: float | None, unit: str, decimals: int = 1) -> str:
    return "–" if value is None else f"{value:.{decimals}f} {unit}"


def format_values(values: RunningValues) -> list[tuple[str, str]]:
    """(label, text) rows of the panel."""
    visible = values.visible_fraction
    hit = values.time_to_target_s
    return [
        ("elapsed", _number(values.elapsed_s, "s")),
        ("needle in image", _number(values.needle_in_image_s, "s")),
        ("tip visible", "–" if visible is None else f"{100 * visible:.0f} %"),
        ("tip lost (> 0.5 s)", str(values.lost_episodes)),
        ("redirections", str(values.redirections)),
        ("tip path", _number(values.path_length_mm, "mm")),
        ("max depth", _number(values.max_depth_mm, "mm")),
        (f"to target (≤ {TARGET_HIT_MM:g} mm)", "not yet" if hit is None else f"{hit:.1f} s"),
        ("closest to target", _number(values.closest_approach_mm, "mm")),
    ]


class MetricsPanel(QtWidgets.QWidget):
    """The running metrics, one row of label and value each (see the module docstring)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.metrics = RunningMetrics()
        self.setToolTip("Insertion metrics so far (definitions: usguide report)")
        # Smaller than the latency numbers: ten rows beside the latency plot.
        self.setStyleSheet("QLabel { font-size: 12px; }")
        grid = QtWidgets.QGridLayout(self)
        grid.setContentsMargins(6, 0, 0, 0)
        grid.setVerticalSpacing(1)
        title = QtWidgets.QLabel("<b>Insertion so far</b>")
        grid.addWidget(title, 0, 0, 1, 2)
        self._values: dict[str, QtWidgets.QLabel] = {}
        for row, (label, text) in enumerate(format_values(self.metrics.snapshot()), start=1):
            value = QtWidgets.QLabel(text)
            value.setAlignment(QtCore.Qt.AlignRight | QtCore.Qt.AlignVCenter)
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance("000.0 mm") + 8)
            grid.addWidget(QtWidgets.QLabel(label), row, 0)
            grid.addWidget(value, row, 1)
            self._values[label] = value
        grid.setRowStretch(len(self._values) + 1, 1)

    def add(self, result: FrameResult) -> None:
        """Worker thread: takes one result; touches no Qt object."""
        self.metrics.add(result)

    def refresh(self) -> None:
        """GUI thread: shows the values now (a label is set only when its text changed)."""
        for label, text in format_values(self.metrics.snapshot()):
            value = self._values[label]
            if value.text() != text:
                value.setText(text)

    def value(self, label: str) -> str:
        """The text shown for ``label`` (as in ``format_values``)."""
        return self._values[label].text()
