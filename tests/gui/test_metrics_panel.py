"""Running insertion metrics beside the latency panel: fed on the worker side, shown on refresh."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from tests.gui.test_main_window import FakeRuntime  # noqa: E402
from tests.review import synthetic as syn  # noqa: E402
from tests.review.test_running import _results  # noqa: E402
from usguide.gui.main_window import MainWindow  # noqa: E402
from usguide.gui.metrics_panel import MetricsPanel  # noqa: E402


def _value(panel: MetricsPanel, label: str) -> str:
    return panel.value(label)


def test_panel_shows_the_running_values(qtbot) -> None:  # noqa: ANN001
    panel = MetricsPanel()
    qtbot.addWidget(panel)
    assert _value(panel, "redirections") == "0" and _value(panel, "tip path") == "–"
    for result in _results(syn.synthetic_track()):
        panel.add(result)
    panel.refresh()
    assert _value(panel, "redirections") == "1"
    assert _value(panel, "tip lost (> 0.5 s)") == "1"
    assert _value(panel, "to target (≤ 3 mm)").endswith(" s")
    assert float(_value(panel, "tip path").split()[0]) > 30
    # Constant work per result: only the last 0.2 s of tips is kept for the smoothing.
    assert len(panel.metrics._recent) <= 0.2 * syn.FPS + 1


@pytest.fixture
def window(qtbot, tmp_path):  # noqa: ANN001, ANN201
    from usguide.gui.app import application

    application()
    win = MainWindow(FakeRuntime(tmp_path), paint_interval_ms=1000)
    win.timer.stop()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def test_window_feeds_the_panel_beside_the_latency(window) -> None:  # noqa: ANN001
    panel = window.metrics_panel
    assert panel.isVisible() and window.latency.isVisible()
    # Beside it: the same row, to its right.
    assert panel.geometry().left() >= window.latency.geometry().right()
    results = _results(syn.synthetic_track())
    for result in results:
        window.runtime.push(result)  # the worker's side: every result, no painting needed
    window._update_numbers(0)
    assert _value(panel, "redirections") == "1"
    window.runtime.push(results[0])  # a replay looped: starts afresh
    window._update_numbers(0)
    assert _value(panel, "redirections") == "0"
