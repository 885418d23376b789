"""Remembered settings in the display: what the user set (Auto region, a typed scale, the window's
size) is saved when the window closes, and a reopened source starts with it; the command line
wins; a remembered region that no longer fits is not used."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PyQt5 import QtWidgets  # noqa: E402

from usguide.gui.main_window import MainWindow  # noqa: E402
from usguide.gui.runtime import Runtime, RuntimeOptions  # noqa: E402
from usguide.settings import SettingsStore, SourceSettings  # noqa: E402
from usguide.types import Roi  # noqa: E402

from .test_runtime import REGION, wait_for_frames, write_clip  # noqa: E402

TYPED_MM_PER_PX = 0.25


def open_window(qtbot, options: RuntimeOptions) -> MainWindow:  # noqa: ANN001
    from usguide.gui.app import application

    application()
    runtime = Runtime(options)
    runtime.open()
    window = MainWindow(runtime, settings=options.settings)
    qtbot.addWidget(window)
    window.show()
    return window


def options_for(clip: Path, store: SettingsStore, **given: object) -> RuntimeOptions:
    return RuntimeOptions(
        spec=str(clip),
        detector="classical",
        settings=store,
        output_dir=clip.parent / "out",
        **given,
    )


def test_what_the_user_set_is_saved_and_applied_on_reopen(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    clip = write_clip(tmp_path / "clip")
    store = SettingsStore(tmp_path / "cfg" / "settings.json")
    window = open_window(qtbot, options_for(clip, store))
    assert window.runtime.remembered == "" and window.remembered_label.text() == ""
    wait_for_frames(qtbot, window, 3)
    auto = [b for b in window.controls.findChildren(QtWidgets.QPushButton) if b.text() == "Auto"]
    auto[0].click()
    found = window.runtime._calibrated.roi
    assert found is not None and abs(found.x - REGION.x) <= 4
    window.controls.depth_mm.setValue(0.0)
    window.controls.mm_per_px.setValue(TYPED_MM_PER_PX)
    apply = [
        b for b in window.controls.findChildren(QtWidgets.QPushButton) if b.text() == "Apply scale"
    ]
    apply[0].click()
    window.resize(1400, 960)  # not the 1280x900 a new window gets
    qtbot.waitUntil(lambda: window.size().width() == 1400, timeout=2000)
    size = (window.size().width(), window.size().height())
    window.close()

    saved = json.loads(store.path.read_text())
    entry = saved["sources"][f"file:{clip.resolve()}"]
    assert entry["roi"] == found.as_list()
    assert entry["mm_per_px"] == pytest.approx(TYPED_MM_PER_PX) and entry["scale_source"] == "user"
    assert saved["window"]["geometry"]

    reopened = open_window(qtbot, options_for(clip, SettingsStore(store.path)))
    runtime = reopened.runtime
    assert runtime.calibration.roi == found
    assert runtime.mm_per_px == pytest.approx(TYPED_MM_PER_PX) and runtime.scale_source == "user"
    assert (reopened.size().width(), reopened.size().height()) == size
    label = reopened.remembered_label.text()
    assert label.startswith(f"remembered for {clip.resolve()}: region {found.x},{found.y},")
    assert "scale 0.25 mm/px (user)" in label
    wait_for_frames(qtbot, reopened, 2)
    assert reopened.displayed.frame.calibration.roi == found
    reopened.close()


def test_the_command_line_wins_and_a_region_that_no_longer_fits_is_dropped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clip = write_clip(tmp_path / "clip")
    store = SettingsStore(tmp_path / "cfg" / "settings.json")
    store.remember(
        str(clip), "any", SourceSettings(roi=REGION, mm_per_px=0.3, scale_source="ruler")
    )
    given = Roi(0, 0, 100, 80)
    runtime = Runtime(options_for(clip, store, roi=given, depth_mm=40.0))
    runtime.open()
    assert runtime.calibration.roi == given
    assert runtime.mm_per_px == pytest.approx(40.0 / given.h) and runtime.scale_source == "user"
    assert runtime.remembered == ""
    runtime.close()

    store.remember(str(clip), "any", SourceSettings(roi=Roi(0, 0, 4000, 3000), budget_ms=70.0))
    runtime = Runtime(options_for(clip, store, budget_ms=70.0))
    with caplog.at_level(logging.WARNING, logger="usguide"):
        runtime.open()
    assert runtime.calibration.roi is None
    assert runtime.remembered == f"remembered for {clip.resolve()}: budget 70 ms"
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "remembered region not used" in warned[0]
    runtime.close()


def test_without_a_settings_store_nothing_is_written(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip")
    options = RuntimeOptions(spec=str(clip), detector="classical", output_dir=tmp_path / "out")
    read_only = SettingsStore(tmp_path / "ro" / "settings.json", read_only=True)
    for runtime in (Runtime(options), Runtime(options_for(clip, read_only))):
        runtime.open()
        runtime.set_calibration(roi=REGION, mm_per_px=0.2)
        runtime.close()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["clip"]
