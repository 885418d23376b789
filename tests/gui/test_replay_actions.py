"""The replay bar's actions reach the runtime's replay only while a recorded source is open, and
the bar shows the replay's position (hidden for a live source)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("pytestqt")

from usguide.gui.replay_actions import ReplayActions  # noqa: E402
from usguide.gui.replay_bar import ReplayBar  # noqa: E402
from usguide.types import SourceInfo  # noqa: E402


class FakeRuntime:
    """The part of ``usguide.gui.runtime.Runtime`` the replay actions use; records the calls."""

    def __init__(self, replay: SimpleNamespace | None) -> None:
        self.replay = replay
        self.info = SourceInfo("clip", "folder", 128, 96, 10.0, live=replay is None)
        self.has_recorded_overlay = False
        self.calls: list[tuple[str, object]] = []

    def replay_set_playing(self, playing: bool) -> None:
        self.calls.append(("playing", playing))

    def replay_step(self, delta: int) -> None:
        self.calls.append(("step", delta))

    def replay_seek(self, index: int) -> None:
        self.calls.append(("seek", index))

    def replay_set_speed(self, speed: float) -> None:
        self.calls.append(("speed", speed))

    def replay_set_loop(self, loop: bool) -> None:
        self.calls.append(("loop", loop))

    def replay_set_overlay_mode(self, mode: str) -> None:
        self.calls.append(("overlay", mode))


def make_actions(qtbot, replay: SimpleNamespace | None):  # noqa: ANN001, ANN201
    bar = ReplayBar()
    qtbot.addWidget(bar)
    runtime = FakeRuntime(replay)
    changes: list[int] = []
    actions = ReplayActions(runtime, bar, lambda: changes.append(1))
    return actions, bar, runtime, changes


def test_bar_controls_reach_the_replay_and_report_each_change(qtbot) -> None:  # noqa: ANN001
    replay = SimpleNamespace(position=3, frame_count=12, playing=False)
    actions, bar, runtime, changes = make_actions(qtbot, replay)
    bar.step.emit(1)
    bar.seek.emit(7)
    bar.speed_changed.emit(2.0)
    bar.loop_changed.emit(True)
    bar.overlay_mode_changed.emit("recorded")
    bar.play_toggled.emit(True)
    actions.control(runtime.replay_step)(-1)  # as the window's ← key does
    assert runtime.calls == [
        ("step", 1),
        ("seek", 7),
        ("speed", 2.0),
        ("loop", True),
        ("overlay", "recorded"),
        ("playing", True),
        ("step", -1),
    ]
    assert len(changes) == 7


def test_nothing_runs_for_a_live_source(qtbot) -> None:  # noqa: ANN001
    actions, bar, runtime, changes = make_actions(qtbot, None)
    bar.step.emit(1)
    actions.control(runtime.replay_seek)(4)
    assert runtime.calls == [] and changes == []


def test_bar_shows_the_recorded_source_and_the_painted_frame(qtbot) -> None:  # noqa: ANN001
    replay = SimpleNamespace(position=3, frame_count=12, playing=False)
    actions, bar, runtime, changes = make_actions(qtbot, replay)
    actions.show_source()
    assert not bar.isHidden()
    assert bar.slider.value() == 3 and bar.slider.maximum() == 11
    assert not bar.overlay_mode.isEnabled()  # no recorded overlay in this source
    actions.show_frame(8)
    assert bar.slider.value() == 8 and "frame 9/12" in bar.time_label.text()
    assert runtime.calls == [] and changes == []  # showing the position asks nothing of it


def test_bar_is_hidden_for_a_live_source(qtbot) -> None:  # noqa: ANN001
    actions, bar, _runtime, _changes = make_actions(qtbot, None)
    bar.show()
    actions.show_source()
    assert bar.isHidden()
    actions.show_frame(5)  # a live frame has no replay position
    assert bar.slider.value() == 0
