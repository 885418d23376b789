"""Replay through the real runtime (image folder → ReplayController → Pipeline → window).

Step and exact seek reach the screen; speed and loop act on the controller.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

pytest.importorskip("pytestqt")

from usguide.gui.main_window import MainWindow  # noqa: E402
from usguide.gui.runtime import Runtime, RuntimeOptions  # noqa: E402

FRAMES = 12


@pytest.fixture
def replay_window(qtbot, tmp_path):  # noqa: ANN001, ANN201
    from usguide.gui.app import application

    folder = tmp_path / "clip"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(FRAMES):
        image = rng.integers(0, 80, (96, 128), dtype=np.uint8)
        cv2.putText(image, str(index), (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 255, 2)
        cv2.imwrite(str(folder / f"frame_{index:03d}.png"), image)
    application()
    runtime = Runtime(
        RuntimeOptions(spec=str(folder), detector="classical", depth_mm=40.0, output_dir=tmp_path)
    )
    runtime.open()
    window = MainWindow(runtime)
    qtbot.addWidget(window)
    window.show()
    yield window
    window.close()


def wait_for_frame(qtbot, window: MainWindow, index: int) -> None:  # noqa: ANN001
    qtbot.waitUntil(
        lambda: window.displayed is not None and window.displayed.frame.index == index, timeout=5000
    )


def test_replay_steps_and_seeks_to_the_exact_frame(qtbot, replay_window):  # noqa: ANN001
    window = replay_window
    bar = window.replay_bar
    assert bar.isVisible()
    bar.play_button.setChecked(False)  # pause (emits play_toggled)
    qtbot.waitUntil(lambda: not window.runtime.replay.playing, timeout=2000)
    bar.slider.setValue(7)  # user drags the slider: exact seek
    wait_for_frame(qtbot, window, 7)
    bar.forward_button.click()
    wait_for_frame(qtbot, window, 8)
    bar.back_button.click()
    bar.back_button.click()
    wait_for_frame(qtbot, window, 6)
    assert window.displayed.frame.calibration.mm_per_px == pytest.approx(40.0 / 96)
    qtbot.waitUntil(lambda: bar.slider.value() == 6, timeout=2000)
    assert "frame 7/12" in bar.time_label.text()
    assert not window.banner.isVisible()  # paused on purpose: no stale alarm


def test_replay_plays_at_chosen_speed_and_loops(qtbot, replay_window):  # noqa: ANN001
    window = replay_window
    bar = window.replay_bar
    bar.speed.setCurrentIndex(bar.speed.findData(4.0))
    bar.loop.setChecked(True)
    assert window.runtime.replay.speed == 4.0 and window.runtime.replay.loop
    # Watch what the controller delivers, not what is painted: the display keeps only the newest
    # frame, so on a busy machine it may never paint the last one before the loop wraps.
    replay = window.runtime.replay
    delivered: list[int] = []
    read = replay.read

    def spying_read():  # noqa: ANN202
        frame = read()
        if frame is not None:
            delivered.append(frame.index)
        return frame

    replay.read = spying_read

    def looped() -> bool:
        indices = list(delivered)
        if FRAMES - 1 not in indices:
            return False
        after_end = indices[indices.index(FRAMES - 1) + 1 :]
        return any(index < 3 for index in after_end)

    qtbot.waitUntil(looped, timeout=20000)


def test_keyboard_space_pauses_and_arrows_step(qtbot, replay_window):  # noqa: ANN001
    from PyQt5 import QtCore

    window = replay_window
    assert window.runtime.replay.playing
    qtbot.keyClick(window, QtCore.Qt.Key_Space)  # Space pauses a replay (not freeze)
    qtbot.waitUntil(lambda: not window.runtime.replay.playing, timeout=2000)
    window.runtime.replay_seek(3)
    wait_for_frame(qtbot, window, 3)
    qtbot.keyClick(window, QtCore.Qt.Key_Right)
    wait_for_frame(qtbot, window, 4)
    qtbot.keyClick(window, QtCore.Qt.Key_Left)
    qtbot.keyClick(window, QtCore.Qt.Key_Left)
    wait_for_frame(qtbot, window, 2)
