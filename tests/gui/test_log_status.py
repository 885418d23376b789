"""Warnings reach the window's status line, from any thread, and stop when detached."""

import logging
import threading

from PyQt5 import QtWidgets

from usguide.gui import log_status


def test_warning_from_another_thread_shows_in_the_status_line(qtbot):
    window = QtWidgets.QMainWindow()
    qtbot.addWidget(window)
    status = window.statusBar()
    handler = log_status.attach(status.showMessage)
    try:
        worker = threading.Thread(
            target=logging.getLogger("usguide.sources.device").warning,
            args=("device 0 lost — reconnecting (attempt %d)", 2),
        )
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: "reconnecting" in status.currentMessage(), timeout=2000)
        assert status.currentMessage() == "warning: device 0 lost — reconnecting (attempt 2)"
        logging.getLogger("usguide.pipeline").info("not for the status line")
        qtbot.wait(50)
        assert "not for" not in status.currentMessage()
    finally:
        log_status.detach(handler)
    status.clearMessage()
    logging.getLogger("usguide").warning("after detach")
    qtbot.wait(50)
    assert status.currentMessage() == ""
