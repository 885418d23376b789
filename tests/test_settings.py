"""The settings file: per-source values survive a reopen, damaged files give the defaults with
one warning, writes are atomic, DICOM paths are never stored."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from usguide import settings as settings_module
from usguide.errors import UsguideError
from usguide.settings import (
    MAX_SOURCES,
    Settings,
    SettingsStore,
    SourceSettings,
    settings_dir,
    source_key,
)
from usguide.types import Roi

REMEMBERED = SourceSettings(
    roi=Roi(120, 60, 680, 458),
    mm_per_px=0.0875,
    scale_source="ruler",
    budget_ms=80.0,
    display_mode="lowest-latency",
)


@pytest.fixture
def store(tmp_path: Path) -> SettingsStore:
    return SettingsStore(tmp_path / "cfg" / "settings.json")


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_a_reopened_source_gets_what_was_remembered(store: SettingsStore, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"video")
    assert store.remember(str(clip), "any", REMEMBERED)
    other = SettingsStore(store.path)  # a new process reading the same file
    got = other.recall(str(clip))
    assert (got.roi, got.mm_per_px, got.scale_source) == (Roi(120, 60, 680, 458), 0.0875, "ruler")
    assert (got.budget_ms, got.display_mode) == (80.0, "lowest-latency")
    assert got.label == str(clip.resolve())
    # the same file named another way is the same source; another file is not
    assert other.recall(str(tmp_path / "." / "clip.mp4")).roi == Roi(120, 60, 680, 458)
    assert other.recall(str(tmp_path / "other.mp4")).describe() == ""
    assert got.describe() == (
        "region 120,60,680,458, scale 0.0875 mm/px (ruler), budget 80 ms, display lowest-latency"
    )


def test_command_line_values_are_left_out(store: SettingsStore) -> None:
    store.remember("demo", "any", REMEMBERED)
    got = store.recall("demo", given={"roi", "budget_ms"})
    assert got.roi is None and got.budget_ms is None
    assert got.mm_per_px == 0.0875 and got.display_mode == "lowest-latency"
    got = store.recall("demo", given={"scale", "display_mode"})
    assert got.mm_per_px is None and got.scale_source is None and got.display_mode is None
    with pytest.raises(ValueError):
        REMEMBERED.without({"model"})


def test_devices_are_keyed_by_index_and_backend(store: SettingsStore) -> None:
    assert source_key("device:2")[0] == source_key("/dev/video2")[0] == "device:2 backend:any"
    store.remember("device:2", "v4l2", REMEMBERED)
    assert store.recall("/dev/video2", "v4l2").roi == REMEMBERED.roi
    assert store.recall("device:2", "any").roi is None
    assert store.recall("device:3", "v4l2").roi is None


def test_dicom_files_are_keyed_by_a_salted_hash(store: SettingsStore, tmp_path: Path) -> None:
    folder = tmp_path / "DOE^JANE"
    folder.mkdir()
    named = folder / "DOE^JANE.dcm"
    named.write_bytes(b"\0" * 128 + b"DICM")
    unnamed = folder / "IM0001"  # no suffix: found by the marker
    unnamed.write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 64)
    store.remember(str(named), "any", REMEMBERED)
    store.remember(str(unnamed), "any", SourceSettings(budget_ms=70.0))
    text = store.path.read_text()
    assert "DOE" not in text and "IM0001" not in text
    keys = list(json.loads(text)["sources"])
    assert len(keys) == 2 and all(key.startswith("dicom:") for key in keys)
    assert store.recall(str(named)).roi == REMEMBERED.roi
    assert store.recall(str(unnamed)).budget_ms == 70.0
    assert store.recall(str(named)).label == "a DICOM file"
    # without the file's salt the key cannot be recomputed from a guessed path
    assert source_key(str(named))[0] not in keys


def test_defaults_are_not_stored_and_old_sources_are_forgotten(store: SettingsStore) -> None:
    store.remember("sim", "any", SourceSettings(budget_ms=50.0, display_mode="paired"))
    assert json.loads(store.path.read_text())["sources"] == {}
    settings = store.load()
    for index in range(MAX_SOURCES + 5):
        settings.remember(f"device:{index} backend:any", SourceSettings(budget_ms=60.0))
    store.save(settings)
    sources = store.load().sources
    assert len(sources) == MAX_SOURCES
    assert (
        "device:0 backend:any" not in sources and f"device:{MAX_SOURCES + 4} backend:any" in sources
    )


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[1, 2]",
        '{"sources": 3}',
        '{"sources": {"demo": {"budget_ms": NaN}}}',
        "\udcff".encode("utf-8", "surrogateescape").decode("latin-1"),
    ],
)
def test_a_damaged_file_gives_defaults_and_one_warning(
    store: SettingsStore, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text(text, encoding="latin-1")
    with caplog.at_level(logging.WARNING, logger="usguide"):
        first, second = store.load(), store.load()
    assert first.sources == {} == second.sources
    assert store.recall("demo").describe() == ""
    warned = warnings_of(caplog)
    assert len(warned) == 1 and str(store.path) in warned[0]


def test_a_bad_entry_is_left_out_and_the_rest_kept(
    store: SettingsStore, caplog: pytest.LogCaptureFixture
) -> None:
    store.path.parent.mkdir(parents=True)
    good = {"roi": [1, 2, 30, 40], "mm_per_px": 0.1, "scale_source": "user"}
    bad = [{"roi": [1, 2, 0, 40]}, {"display_mode": "fast"}, {"scale_source": "dicom"}, 7]
    sources = {"demo": good, **{f"device:{i} backend:any": entry for i, entry in enumerate(bad)}}
    store.path.write_text(json.dumps({"format": 1, "sources": sources, "window": []}))
    with caplog.at_level(logging.WARNING, logger="usguide"):
        loaded, again = store.load(), store.load()
    assert list(loaded.sources) == ["demo"] and loaded.sources["demo"].roi == Roi(1, 2, 30, 40)
    assert list(again.sources) == ["demo"]
    warned = warnings_of(caplog)
    assert len(warned) == 1 and f"(and {len(bad) - 1} more)" in warned[0], warned


def test_an_unreadable_or_huge_file_gives_defaults(
    store: SettingsStore, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.path.mkdir(parents=True)  # a folder where the file should be: reading fails
    with caplog.at_level(logging.WARNING, logger="usguide"):
        assert store.load().sources == {}
    assert len(warnings_of(caplog)) == 1
    store.path.rmdir()
    store.path.write_text("{}")
    monkeypatch.setattr(settings_module, "MAX_FILE_BYTES", 1)
    assert SettingsStore(store.path).load().sources == {}


def test_writes_replace_the_file_whole(
    store: SettingsStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store.remember("demo", "any", REMEMBERED)
    before = store.path.read_text()

    def failing_replace(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(settings_module.os, "replace", failing_replace)
    with pytest.raises(UsguideError, match="cannot write the settings file .*No space left"):
        store.save(Settings())
    with caplog.at_level(logging.WARNING, logger="usguide"):
        assert not store.remember("sim", "any", REMEMBERED)  # a closing window: one warning
    assert len(warnings_of(caplog)) == 1
    assert store.path.read_text() == before  # the old file, whole
    assert os.listdir(store.path.parent) == ["settings.json"]  # no temporary file left


def test_window_geometry_round_trip_and_read_only(store: SettingsStore) -> None:
    store.update(lambda settings: setattr(settings, "window_geometry", b"\x01\xd9\xd0\xcb"))
    assert SettingsStore(store.path).load().window_geometry == b"\x01\xd9\xd0\xcb"
    frozen = SettingsStore(store.path, read_only=True)
    assert not frozen.remember("demo", "any", REMEMBERED)
    assert frozen.recall("demo").describe() == ""


def test_reset_forgets_one_source_or_everything(store: SettingsStore) -> None:
    store.remember("demo", "any", REMEMBERED)
    store.remember("sim", "any", REMEMBERED)
    assert store.reset("demo")
    assert not store.reset("demo")
    assert store.recall("demo").roi is None and store.recall("sim").roi == REMEMBERED.roi
    assert store.reset()
    assert not store.path.exists() and not store.reset()


def test_the_folder_comes_from_the_environment_or_platformdirs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("USGUIDE_CONFIG_DIR", str(tmp_path / "mine"))
    assert settings_dir() == tmp_path / "mine"
    assert SettingsStore().path == tmp_path / "mine" / "settings.json"
    monkeypatch.delenv("USGUIDE_CONFIG_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    if os.name == "posix" and not str(settings_dir()).startswith(str(Path.home() / "Library")):
        assert settings_dir() == tmp_path / "xdg" / "usguide"
