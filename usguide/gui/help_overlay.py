"""Keyboard shortcuts, and the semi-transparent help card listing them (toggled with ? or H)."""

from __future__ import annotations

from PyQt5 import QtCore, QtWidgets

from usguide.gui import theme

# (keys, description); the main window binds the same keys.
SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Space", "freeze / unfreeze the image (replay: play / pause)"),
    ("R", "start / stop recording"),
    ("T", "target mode: click to place a target, drag to move"),
    ("Esc", "clear the target (or close this help)"),
    ("F", "full screen"),
    ("S", "snapshot to PNG with the overlay"),
    ("P", "procedure panel (type, checklist) on / off"),
    ("← / →", "replay: step one frame back / forward"),
    ("? or H", "show / hide this help"),
)


class HelpOverlay(QtWidgets.QLabel):
    """A card drawn over its parent's centre; hidden until toggled."""

    def __init__(self, parent: QtWidgets.QWidget) -> None:
        super().__init__(parent)
        rows = "".join(
            f"<tr><td style='padding:4px 18px 4px 0; color:{theme.TARGET}'><b>{keys}</b></td>"
            f"<td style='padding:4px 0'>{text}</td></tr>"
            for keys, text in SHORTCUTS
        )
        self.setText(f"<h2>Keyboard shortcuts</h2><table>{rows}</table>")
        self.setTextFormat(QtCore.Qt.RichText)
        self.setStyleSheet(
            f"background-color: rgba(16,18,20,225); color: {theme.TEXT};"
            f" border: 2px solid {theme.MUTED};"
            f" border-radius: 10px; padding: 18px; font-size: {theme.BASE_POINT_SIZE + 3}pt;"
        )
        self.setAttribute(QtCore.Qt.WA_TransparentForMouseEvents)
        self.hide()

    def toggle(self) -> None:
        self.setVisible(not self.isVisible())
        if self.isVisible():
            self.place()
            self.raise_()

    def place(self) -> None:
        self.adjustSize()
        parent = self.parentWidget()
        if parent is not None:
            self.move((parent.width() - self.width()) // 2, (parent.height() - self.height()) // 2)


class Banner(QtWidgets.QLabel):
    """The red warning strip across the image (stale frame, signal lost); else hidden."""

    def __init__(self, parent: QtWidgets.QWidget) -> None:
        super().__init__(parent)
        self.setAlignment(QtCore.Qt.AlignCenter)
        self.setStyleSheet(
            f"background-color: {theme.BANNER}; color: white;"
            f" font-size: {theme.HUD_POINT_SIZE + 4}pt;"
            " font-weight: bold; padding: 10px;"
        )
        self.setAttribute(QtCore.Qt.WA_TransparentForMouseEvents)
        self.hide()

    def show_message(self, text: str) -> None:
        if self.text() != text:
            self.setText(text)
        self.place()
        if not self.isVisible():
            self.show()
        self.raise_()

    def place(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            height = self.sizeHint().height()
            self.setGeometry(0, parent.height() - height, parent.width(), height)
