"""Window actions through the real runtime: file dialogs, recording and the automatic image region.

The source is a tiny generated image folder (a scanner-like screen: menu bar, text and a speckle
image region at ``REGION``); dialogs are replaced by monkeypatched ``QFileDialog`` statics.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PyQt5 import QtCore, QtWidgets  # noqa: E402

from usguide.gui.main_window import MainWindow  # noqa: E402
from usguide.gui.runtime import Runtime, RuntimeOptions  # noqa: E402
from usguide.record.reader import SessionReader  # noqa: E402
from usguide.types import Roi  # noqa: E402

WIDTH, HEIGHT = 320, 240
REGION = Roi(70, 40, 180, 140)  # where the speckle image lies in each screen frame
FRAMES = 10
DEPTH_MM = 40.0


def screen_frame(rng: np.random.Generator, index: int) -> np.ndarray:
    """A grey screen capture: static menu bar and text around a changing speckle region."""
    image = np.full((HEIGHT, WIDTH), 18, np.uint8)
    cv2.rectangle(image, (0, 0), (WIDTH, 22), 90, -1)
    cv2.putText(image, "B-MODE  GAIN 54", (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 240, 1)
    cv2.putText(image, "Depth 40mm", (4, 120), cv2.FONT_HERSHEY_SIMPLEX, 0.35, 200, 1)
    speckle = rng.rayleigh(1.0, (REGION.h, REGION.w)).astype(np.float32)
    tissue = np.clip(cv2.GaussianBlur(speckle, (0, 0), 0.8) * 70, 0, 255).astype(np.uint8)
    image[REGION.y : REGION.y + REGION.h, REGION.x : REGION.x + REGION.w] = tissue
    cv2.putText(image, str(index), (REGION.x + 10, REGION.y + 40), cv2.FONT_HERSHEY_SIMPLEX, 1, 255)
    return image


def write_clip(folder: Path) -> Path:
    """Writes ``FRAMES`` screen frames as PNG files into ``folder``; returns it."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(FRAMES):
        cv2.imwrite(str(folder / f"frame_{index:03d}.png"), screen_frame(rng, index))
    return folder


def write_video(path: Path, width: int = 160, height: int = 120, frames: int = 8) -> Path:
    """Writes a small MJPG video (a size unlike the clip's, to tell the sources apart)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (width, height))
    assert writer.isOpened(), "OpenCV cannot write MJPG video here"
    rng = np.random.default_rng(1)
    for _ in range(frames):
        writer.write(rng.integers(0, 255, (height, width, 3), dtype=np.uint8))
    writer.release()
    return path


@pytest.fixture
def window(qtbot, tmp_path):  # noqa: ANN001, ANN201
    from usguide.gui.app import application

    clip = write_clip(tmp_path / "clip")
    application()
    options = RuntimeOptions(
        spec=str(clip), detector="classical", depth_mm=DEPTH_MM, output_dir=tmp_path / "out"
    )
    runtime = Runtime(options)
    runtime.open()
    win = MainWindow(runtime)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def wait_for_frames(qtbot, window: MainWindow, count: int = 1) -> None:  # noqa: ANN001
    """Waits until ``count`` more frames have been painted."""
    start = window.paint_stats.frames
    qtbot.waitUntil(lambda: window.paint_stats.frames >= start + count, timeout=5000)


def press_open(window: MainWindow, choice: str) -> None:
    """Selects the picker entry ``choice`` and presses the panel's Open button."""
    controls = window.controls
    controls.source_combo.setCurrentIndex(controls.source_combo.findData(choice))
    buttons = [b for b in controls.findChildren(QtWidgets.QPushButton) if b.text() == "Open"]
    assert len(buttons) == 1
    buttons[0].click()


class DialogSpy:
    """Replaces a ``QFileDialog`` static; records its arguments and returns a canned answer."""

    def __init__(self, answer: object) -> None:
        self.answer = answer
        self.calls: list[tuple] = []

    def __call__(self, *args: object) -> object:
        self.calls.append(args)
        return self.answer


def sessions(folder: Path) -> list[Path]:
    """The session folders the window recorded into ``folder``, sorted by name."""
    return sorted(p for p in folder.glob("session-*") if p.is_dir())


def check_session(path: Path) -> int:
    """Asserts ``path`` is a complete, readable session of the clip; returns its frame count."""
    assert json.loads((path / "meta.json").read_text())["complete"] is True
    with SessionReader(path) as reader:
        assert reader.complete and reader.frame_count > 0
        assert reader.frame(0).shape[:2] == (HEIGHT, WIDTH)
        return reader.frame_count


# -- file dialogs ------------------------------------------------------------------------------
def test_open_video_file_from_the_dialog(qtbot, window, tmp_path, monkeypatch):  # noqa: ANN001
    video = write_video(tmp_path / "other.avi")
    spy = DialogSpy((str(video), "Video and images"))
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", spy)
    wait_for_frames(qtbot, window)
    press_open(window, "?file")
    assert len(spy.calls) == 1 and "*.mp4" in spy.calls[0][3]
    runtime = window.runtime
    assert runtime.spec == str(video)
    assert (runtime.info.kind, runtime.info.width, runtime.info.height) == ("video", 160, 120)
    qtbot.waitUntil(
        lambda: (
            window.displayed is not None and window.displayed.frame.image.shape[:2] == (120, 160)
        ),
        timeout=5000,
    )
    assert window.controls.source_label.text() == "other.avi (video)"
    assert window.controls.source_combo.currentData() == "?file"


def test_cancelled_dialog_keeps_the_source(qtbot, window, monkeypatch):  # noqa: ANN001
    spy = DialogSpy(("", ""))
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", spy)
    spec, source = window.runtime.spec, window.runtime.replay
    press_open(window, "?file")
    assert len(spy.calls) == 1
    assert window.runtime.spec == spec and window.runtime.replay is source
    wait_for_frames(qtbot, window)
    assert window.displayed.frame.image.shape[:2] == (HEIGHT, WIDTH)


def test_open_dicom_file_from_the_dialog(qtbot, window, monkeypatch):  # noqa: ANN001
    data = pytest.importorskip("pydicom.data")
    path = data.get_testdata_file("OBXXXX1A.dcm")
    spy = DialogSpy((path, "DICOM"))
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", spy)
    press_open(window, "?dicom")
    assert "*.dcm" in spy.calls[0][3]
    assert window.runtime.spec == path and window.runtime.info.kind == "dicom"
    assert window.controls.source_combo.currentData() == "?dicom"
    qtbot.waitUntil(
        lambda: (
            window.displayed is not None and window.displayed.frame.image.shape[:2] == (600, 800)
        ),
        timeout=5000,
    )
    assert window.displayed.frame.calibration.roi == Roi(120, 60, 680, 458)  # the file's own


def test_open_recording_folder_from_the_dialog(qtbot, window, monkeypatch):  # noqa: ANN001
    window.controls.record_button.click()
    wait_for_frames(qtbot, window, 3)
    window.controls.record_button.click()
    (session,) = sessions(window.runtime.options.output_dir)
    spy = DialogSpy(str(session))
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory", spy)
    press_open(window, "?recording")
    assert len(spy.calls) == 1
    runtime = window.runtime
    assert runtime.spec == str(session) and runtime.info.kind == "recording"
    assert runtime.has_recorded_overlay and window.replay_bar.isVisible()
    assert window.controls.source_combo.currentData() == "?recording"
    wait_for_frames(qtbot, window)
    assert window.displayed.frame.image.shape[:2] == (HEIGHT, WIDTH)


# -- recording ---------------------------------------------------------------------------------
def test_record_start_and_stop_writes_a_complete_session(qtbot, window):  # noqa: ANN001
    out = window.runtime.options.output_dir
    button = window.controls.record_button
    wait_for_frames(qtbot, window)
    qtbot.keyClick(window, QtCore.Qt.Key_R)  # the R shortcut presses the button
    assert button.isChecked() and button.text() == "■ Stop"
    path = window.runtime.recording_path
    assert path is not None and path.parent == out
    wait_for_frames(qtbot, window, 5)
    window._numbers_at_ns = 0
    window.tick()
    assert f"REC {path.name}" in window.status.currentMessage()
    button.click()
    assert not button.isChecked() and button.text() == "● Record"
    assert window.runtime.recording_path is None
    assert f"saved {path}" in window.status.currentMessage()
    assert sessions(out) == [path]
    assert check_session(path) >= 3


def test_a_recording_carries_the_procedure_record(qtbot, window):  # noqa: ANN001
    from usguide.record.procedure_log import session_procedure

    window.procedure.set_answer("type", "infiltration")
    window.procedure.set_answer("checklist.skin_disinfected", "yes")
    wait_for_frames(qtbot, window)
    window.controls.record_button.click()
    path = window.runtime.recording_path
    window.procedure.set_answer("checklist.local_anaesthesia", "yes")  # during the recording
    wait_for_frames(qtbot, window, 3)
    window.controls.record_button.click()
    state = session_procedure(path)
    assert state.recorded.type == "infiltration"
    assert state.recorded.checklist.skin_disinfected.value == "yes"
    assert state.recorded.checklist.local_anaesthesia is None  # answered after the start ...
    assert state.current.checklist.local_anaesthesia.value == "yes"  # ... so it is in the log
    window.procedure.set_answer("checklist.file_reviewed", "yes")  # stopped: no longer logged
    assert len(session_procedure(path).edits) == 1


def test_two_quick_recordings_give_two_sessions(qtbot, window):  # noqa: ANN001
    button = window.controls.record_button
    wait_for_frames(qtbot, window)
    paths = []
    for _ in range(2):
        button.click()
        assert button.isChecked(), window.status.currentMessage()
        paths.append(window.runtime.recording_path)
        # Painted frames may have been captured before the click: wait for recorded ones.
        writer = window.runtime._writer
        qtbot.waitUntil(lambda writer=writer: writer.written >= 2, timeout=5000)
        button.click()
    assert paths[0] != paths[1]
    assert sessions(window.runtime.options.output_dir) == sorted(paths)
    for path in paths:
        check_session(path)


def test_switching_source_ends_the_recording(qtbot, window, monkeypatch):  # noqa: ANN001
    button = window.controls.record_button
    wait_for_frames(qtbot, window)
    button.click()
    path = window.runtime.recording_path
    wait_for_frames(qtbot, window, 3)
    press_open(window, "sim")
    assert window.runtime.recording_path is None
    assert not button.isChecked() and button.text() == "● Record"
    check_session(path)


# -- automatic image region --------------------------------------------------------------------
def test_auto_finds_the_image_region(qtbot, window):  # noqa: ANN001
    runtime = window.runtime
    wait_for_frames(qtbot, window, 3)
    assert runtime.calibration.roi is None  # an image folder has no region of its own
    assert runtime.mm_per_px == pytest.approx(DEPTH_MM / HEIGHT)
    buttons = [b for b in window.controls.findChildren(QtWidgets.QPushButton) if b.text() == "Auto"]
    assert len(buttons) == 1
    buttons[0].click()
    found = runtime._calibrated.roi
    assert found is not None
    for got, want in zip(found.as_list(), REGION.as_list(), strict=True):
        assert abs(got - want) <= 4, f"found {found}, expected {REGION}"
    qtbot.waitUntil(
        lambda: window.displayed is not None and window.displayed.frame.calibration.roi == found,
        timeout=5000,
    )
    # the depth now spans the region, not the whole capture
    assert runtime.mm_per_px == pytest.approx(DEPTH_MM / found.h)
    assert window.controls.mm_per_px.value() == pytest.approx(DEPTH_MM / found.h, abs=1e-4)
    assert window.controls.depth_mm.value() == pytest.approx(DEPTH_MM, abs=0.1)
    assert not window.status.currentMessage().startswith("error")
    # no depth ruler on this screen: the typed depth stays, and says so
    assert runtime.scale_source == "user"
    assert window.controls.scale_source.text() == "scale: typed"


def ruler_window(qtbot, spec: str, tmp_path: Path) -> MainWindow:  # noqa: ANN001
    from usguide.gui.app import application

    application()
    options = RuntimeOptions(spec=spec, detector="classical", output_dir=tmp_path / "out")
    runtime = Runtime(options)
    runtime.open()
    win = MainWindow(runtime)
    qtbot.addWidget(win)
    win.show()
    return win


def press_auto(window: MainWindow) -> None:
    buttons = [b for b in window.controls.findChildren(QtWidgets.QPushButton) if b.text() == "Auto"]
    buttons[0].click()


def test_auto_reads_the_depth_ruler(qtbot, tmp_path):  # noqa: ANN001
    from usguide.simulate.screen import Screen

    rng = np.random.default_rng(5)
    screen = Screen((1024, 768), "linear", rng)
    screen.draw_ruler(35.0, "dots_inside")
    folder = tmp_path / "screens"
    folder.mkdir()
    for index in range(4):
        grains = rng.rayleigh(1.0, (screen.roi.h, screen.roi.w)).astype(np.float32)
        tissue = np.clip(cv2.GaussianBlur(grains, (0, 0), 1.0) * 70, 0, 255).astype(np.uint8)
        cv2.imwrite(str(folder / f"{index:03d}.png"), screen.compose(tissue, index, 30.0))
    window = ruler_window(qtbot, str(folder), tmp_path)
    try:
        runtime = window.runtime
        assert runtime.scale_source == "unknown"
        wait_for_frames(qtbot, window, 3)
        press_auto(window)
        assert runtime.scale_source == "ruler"
        assert runtime.mm_per_px == pytest.approx(screen.ruler_mm_per_px, rel=0.01)
        assert window.controls.scale_source.text() == "scale: depth ruler"
        assert "depth ruler" in window.status.currentMessage()
        qtbot.waitUntil(
            lambda: (
                window.displayed is not None
                and window.displayed.frame.calibration.scale_from == "ruler"
            ),
            timeout=5000,
        )
        window.controls.depth_mm.setValue(30.0)  # typing a depth takes over again
        window.controls._on_apply_calibration()
        assert runtime.scale_source == "user"
    finally:
        window.close()


def test_auto_on_the_real_clip(qtbot, tmp_path, real_clip):  # noqa: ANN001
    window = ruler_window(qtbot, str(real_clip), tmp_path)
    try:
        wait_for_frames(qtbot, window, 3)
        press_auto(window)
        assert window.runtime.scale_source == "ruler"
        assert window.runtime.mm_per_px == pytest.approx(0.035383, rel=0.01)
    finally:
        window.close()
