"""Warnings in the window's status line: usguide's log records (reconnects, dropped-frame bursts,
fallbacks) reach a physician who never looks at a terminal.

Records come from any thread (capture, worker, recorder); a queued Qt signal carries them to the
GUI thread, so no widget is touched from another thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PyQt5 import QtCore

SHOWN_MS = 10000  # how long a warning stays in the status line


class _Bridge(QtCore.QObject):
    """Owns the signal: emitted from any thread, delivered on the thread the bridge lives in."""

    message = QtCore.pyqtSignal(str)


class StatusLogHandler(logging.Handler):
    """A logging handler that shows WARNING and worse in a status line.

    Args:
        show: called on the GUI thread with the text and how long to show it (``showMessage``).
        level: the lowest level shown.
    """

    def __init__(self, show: Callable[[str, int], None], level: int = logging.WARNING) -> None:
        super().__init__(level)
        self._bridge = _Bridge()
        self._bridge.message.connect(lambda text: show(text, SHOWN_MS), QtCore.Qt.QueuedConnection)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = " ".join(record.getMessage().splitlines())
            self._bridge.message.emit(f"{record.levelname.lower()}: {text}")
        except Exception:  # noqa: BLE001 - logging must never raise into the frame path
            self.handleError(record)


def attach(show: Callable[[str, int], None], logger_name: str = "usguide") -> StatusLogHandler:
    """Installs a :class:`StatusLogHandler` on usguide's logger; ``detach`` removes it."""
    handler = StatusLogHandler(show)
    logging.getLogger(logger_name).addHandler(handler)
    return handler


def detach(handler: StatusLogHandler, logger_name: str = "usguide") -> None:
    """Removes a handler installed by :func:`attach`."""
    logging.getLogger(logger_name).removeHandler(handler)
