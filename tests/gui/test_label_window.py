"""usguide label: the label state (key frames, interpolation, undo, truth.json) and its window."""

from __future__ import annotations

import json

import numpy as np
import pytest

from usguide.detect.evaluation import load_truth
from usguide.errors import UsguideError
from usguide.gui.label_model import KeyFrame, LabelState
from usguide.types import Point, Roi


def make_state(**kwargs) -> LabelState:  # noqa: ANN003
    values = {"frame_count": 30, "width": 160, "height": 120, "fps": 25.0}
    values.update(kwargs)
    return LabelState(**values)


# -- the label state, without a window ---------------------------------------------------------
def test_click_sets_entry_then_tip_and_a_third_click_starts_again():
    state = make_state()
    assert state.click(3, Point(150, 10)) == "entry"
    assert state.label(3).tip is None and not state.key(3).complete
    assert state.click(3, Point(100, 40)) == "tip"
    label = state.label(3)
    assert (label.entry, label.tip, label.is_key) == (Point(150, 10), Point(100, 40), True)
    assert label.angle_deg == pytest.approx(30.96, abs=0.01)  # atan(30 / 50)
    assert state.click(3, Point(140, 20)) == "entry"
    assert state.key(3).tip is None


def test_frames_between_needle_keys_are_linearly_interpolated():
    state = make_state()
    state.set_key(KeyFrame(10, True, entry=Point(150, 10), tip=Point(120, 30)))
    state.set_key(KeyFrame(20, True, entry=Point(150, 20), tip=Point(80, 70)))
    middle = state.label(15)
    assert not middle.is_key
    assert middle.entry == Point(150, 15) and middle.tip == Point(100, 50)
    assert state.label(12).tip == Point(112, 38)
    assert state.label(9) is None and state.label(21) is None  # outside the keys: unlabelled
    assert [label.frame for label in state.labels()] == list(range(10, 21))


def test_no_needle_keys_and_mixed_neighbours():
    state = make_state()
    state.mark_no_needle(0)
    state.mark_no_needle(4)
    state.set_key(KeyFrame(8, True, entry=Point(150, 10), tip=Point(120, 30)))
    assert state.label(2).visible is False and not state.label(2).is_key
    # between "no needle" and a needle nobody knows where it appeared: left out
    assert state.label(6) is None
    assert [label.frame for label in state.labels()] == [0, 1, 2, 3, 4, 8]


def test_incomplete_keys_are_ignored_by_interpolation_and_the_file():
    state = make_state()
    state.set_key(KeyFrame(0, True, entry=Point(150, 10), tip=Point(120, 30)))
    state.click(5, Point(10, 10))  # an entry, no tip yet
    state.set_key(KeyFrame(10, True, entry=Point(150, 20), tip=Point(100, 50)))
    assert state.label(3).tip == Point(114, 36)  # between 0 and 10, not 5
    data = state.to_json()
    assert [key["frame"] for key in data["key_frames"]] == [0, 10]
    assert 5 not in [item["frame"] for item in data["frames"]]


def test_points_stay_inside_the_image_region():
    state = make_state(roi=Roi(10, 5, 100, 80))
    state.click(0, Point(200, -3))
    assert state.key(0).entry == Point(109, 5)


def test_move_an_interpolated_end_makes_a_key_frame():
    state = make_state()
    state.set_key(KeyFrame(0, True, entry=Point(150, 10), tip=Point(120, 30)))
    state.set_key(KeyFrame(10, True, entry=Point(150, 20), tip=Point(100, 50)))
    state.move(5, "tip", Point(90, 60))
    assert state.key(5) == KeyFrame(5, True, entry=Point(150, 15), tip=Point(90, 60))
    with pytest.raises(ValueError):
        state.move(20, "tip", Point(1, 1))  # nothing to move there


def test_undo_reverts_each_edit_and_clear():
    state = make_state()
    state.click(0, Point(150, 10))
    state.click(0, Point(120, 30))
    state.mark_no_needle(5)
    assert state.clear(5) and not state.clear(5)
    assert state.undo() and state.key(5).visible is False  # the clear
    assert state.undo() and state.key(5) is None  # the "no needle"
    assert state.undo() and state.key(0).tip is None
    assert state.undo() and state.key(0) is None
    assert not state.undo()


def test_a_drag_is_one_undo_step():
    state = make_state()
    state.set_key(KeyFrame(0, True, entry=Point(150, 10), tip=Point(120, 30)))
    state.move(0, "tip", Point(110, 35), record=True)
    state.move(0, "tip", Point(100, 40), record=False)
    state.move(0, "tip", Point(90, 45), record=False)
    state.undo()
    assert state.key(0).tip == Point(120, 30)


def test_truth_file_has_the_simulator_format_and_resumes(tmp_path):
    state = make_state(roi=Roi(0, 0, 150, 120), mm_per_px=0.25, source="../clip.mp4")
    state.set_key(KeyFrame(2, True, entry=Point(149, 10), tip=Point(120, 30)))
    state.set_key(KeyFrame(6, True, entry=Point(149, 14), tip=Point(100, 50)))
    state.mark_no_needle(8)
    state.mark_no_needle(9)
    path = state.save(tmp_path / "case" / "truth.json")
    assert not state.dirty
    assert [p.name for p in path.parent.iterdir()] == ["truth.json"]  # no temporary file left
    data = json.loads(path.read_text())
    assert data["format"] == "usguide-sim-truth" and data["version"] == 1
    assert (data["labelled_by"], data["source"], data["fps"]) == ("hand", "../clip.mp4", 25.0)
    assert (data["width"], data["height"], data["mm_per_px"], data["roi"]) == (
        160,
        120,
        0.25,
        [0, 0, 150, 120],
    )
    assert [item["frame"] for item in data["frames"]] == [2, 3, 4, 5, 6, 8, 9]
    assert data["frames"][2] == {
        "frame": 4,
        "visible": True,
        "needle_present": True,
        "tip": [110.0, 40.0],
        "entry": [149.0, 12.0],
        "angle_deg": round(float(np.degrees(np.arctan2(28, 39))), 2),
    }
    assert data["frames"][-1]["visible"] is False and data["frames"][-1]["tip"] is None
    assert len(data["key_frames"]) == 4
    # usguide evaluate reads it
    truth = load_truth(path)
    assert len(truth.frames) == 7 and truth.mm_per_px == 0.25
    resumed = LabelState.load(path, frame_count=30)
    assert resumed.key_frames == state.key_frames and resumed.source == "../clip.mp4"
    assert resumed.to_json() == data and not resumed.dirty


def test_loading_a_file_that_is_not_hand_labels_is_a_user_error(tmp_path):
    path = tmp_path / "truth.json"
    path.write_text(json.dumps({"format": "usguide-sim-truth", "width": 4, "height": 4}))
    with pytest.raises(UsguideError, match="not written by usguide label"):
        LabelState.load(path, frame_count=3)
    path.write_text("{not json")
    with pytest.raises(UsguideError, match="cannot read"):
        LabelState.load(path)


def test_save_to_an_unwritable_place_is_a_user_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UsguideError, match="cannot write"):
        make_state().save(blocker / "truth.json")


# -- the window ----------------------------------------------------------------------------------
pytest.importorskip("pytestqt")

from PyQt5 import QtCore, QtGui, QtWidgets  # noqa: E402

from usguide.gui.label_window import LabelWindow  # noqa: E402


class ListFrames(list):
    """Frames from a list, counting reads."""


@pytest.fixture
def window(qtbot, tmp_path):  # noqa: ANN001, ANN201
    frames = ListFrames(np.full((120, 160), 10 * index, np.uint8) for index in range(25))
    state = LabelState(25, 160, 120, 30.0, mm_per_px=0.2, source="clip.mp4")
    widget = LabelWindow(frames, state, tmp_path / "case" / "truth.json")
    widget.resize(500, 450)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def click(qtbot, window: LabelWindow, x: float, y: float) -> None:  # noqa: ANN001
    qtbot.mouseClick(
        window.view.viewport(), QtCore.Qt.LeftButton, pos=window.view.to_widget(Point(x, y))
    )


def drag(window: LabelWindow, start: Point, end: Point) -> None:
    viewport = window.view.viewport()
    begin, finish = window.view.to_widget(start), window.view.to_widget(end)
    QtWidgets.QApplication.sendEvent(
        viewport,
        QtGui.QMouseEvent(
            QtCore.QEvent.MouseButtonPress,
            QtCore.QPointF(begin),
            QtCore.Qt.LeftButton,
            QtCore.Qt.LeftButton,
            QtCore.Qt.NoModifier,
        ),
    )
    middle = (begin + finish) / 2
    for pos in (middle, finish):
        QtWidgets.QApplication.sendEvent(
            viewport,
            QtGui.QMouseEvent(
                QtCore.QEvent.MouseMove,
                QtCore.QPointF(pos),
                QtCore.Qt.NoButton,
                QtCore.Qt.LeftButton,
                QtCore.Qt.NoModifier,
            ),
        )
    QtWidgets.QApplication.sendEvent(
        viewport,
        QtGui.QMouseEvent(
            QtCore.QEvent.MouseButtonRelease,
            QtCore.QPointF(finish),
            QtCore.Qt.LeftButton,
            QtCore.Qt.NoButton,
            QtCore.Qt.NoModifier,
        ),
    )


def near(point: Point, x: float, y: float, tolerance: float = 1.0) -> bool:
    return abs(point.x - x) <= tolerance and abs(point.y - y) <= tolerance


def test_clicks_place_entry_then_tip_and_a_drag_moves_the_tip(qtbot, window):  # noqa: ANN001
    click(qtbot, window, 150, 20)
    click(qtbot, window, 100, 60)
    key = window.state.key(0)
    assert near(key.entry, 150, 20) and near(key.tip, 100, 60)
    assert "key frame" in window.status.text() and "unsaved" in window.status.text()
    assert set(window.view.handles) == {"entry", "tip"}
    drag(window, key.tip, Point(80, 80))
    key = window.state.key(0)
    assert near(key.entry, 150, 20) and near(key.tip, 80, 80)
    qtbot.keyClick(window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)  # the whole drag undone
    assert near(window.state.key(0).tip, 100, 60)


def test_keys_step_interpolate_mark_clear_and_save(qtbot, window):  # noqa: ANN001
    click(qtbot, window, 150, 20)
    click(qtbot, window, 130, 30)
    qtbot.keyClick(window, QtCore.Qt.Key_Right, QtCore.Qt.ShiftModifier)
    assert window.index == 10 and window.slider.value() == 10
    assert window.view.image_item.image[0, 0] == 100  # frame 10's image is shown
    click(qtbot, window, 150, 40)
    click(qtbot, window, 90, 70)
    qtbot.keyClick(window, QtCore.Qt.Key_Left)
    assert window.index == 9
    label = window.state.label(9)
    assert not label.is_key and "interpolated" in window.status.text()
    assert near(label.tip, 130 + (90 - 130) * 0.9, 30 + 40 * 0.9)
    qtbot.keyClick(window, QtCore.Qt.Key_End)
    assert window.index == 24
    qtbot.keyClick(window, QtCore.Qt.Key_N)
    assert window.state.key(24).visible is False and "no needle" in window.status.text()
    qtbot.keyClick(window, QtCore.Qt.Key_Delete)
    assert window.state.key(24) is None
    qtbot.keyClick(window, QtCore.Qt.Key_Home)
    assert window.index == 0
    window.slider.setValue(5)
    assert window.index == 5
    qtbot.keyClick(window, QtCore.Qt.Key_S, QtCore.Qt.ControlModifier)
    data = json.loads(window.truth_path.read_text())
    assert [item["frame"] for item in data["frames"]] == list(range(11))
    assert [key["frame"] for key in data["key_frames"]] == [0, 10]
    assert not window.state.dirty and "saved" in window.status.text()


def test_a_saved_case_reloads_into_a_new_window(qtbot, window):  # noqa: ANN001
    click(qtbot, window, 150, 20)
    click(qtbot, window, 120, 40)
    window.go_to(4)
    click(qtbot, window, 150, 25)
    click(qtbot, window, 110, 50)
    window.close()  # closing with unsaved labels saves them
    state = LabelState.load(window.truth_path, frame_count=25)
    again = LabelWindow(window.frames, state, window.truth_path)
    qtbot.addWidget(again)
    again.go_to(2)
    label = again.state.label(2)
    assert not label.is_key and near(label.tip, 115, 45)
    assert "interpolated" in again.status.text()
