"""``usguide config show|reset``: the file's place and contents, forgetting, a damaged file."""

from __future__ import annotations

from pathlib import Path

import pytest

from usguide.cli import main
from usguide.settings import SettingsStore, SourceSettings
from usguide.types import Roi


def run_cli(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_show_lists_what_each_source_remembers(capsys, settings_dir: Path, tmp_path) -> None:  # noqa: ANN001
    code, out, _ = run_cli(capsys, "config", "show")
    assert code == 0
    assert f"settings file: {settings_dir / 'settings.json'} (not written yet)" in out
    assert "no source remembered yet" in out
    store = SettingsStore()
    store.remember("device:0", "any", SourceSettings(roi=Roi(10, 20, 300, 200), budget_ms=80.0))
    scan = tmp_path / "SMITH^JOHN.dcm"
    scan.write_bytes(b"\0" * 128 + b"DICM")
    store.remember(str(scan), "any", SourceSettings(mm_per_px=0.1, scale_source="user"))
    code, out, _ = run_cli(capsys, "config", "show")
    lines = out.splitlines()
    assert lines[0] == f"settings file: {settings_dir / 'settings.json'}"
    assert lines[1] == "window geometry: not remembered"
    assert lines[2].startswith("a DICOM file (dicom:") and "scale 0.1 mm/px (user)" in lines[2]
    assert lines[3] == "device:0 backend:any: region 10,20,300,200, budget 80 ms"
    assert "SMITH" not in out
    code, out, _ = run_cli(capsys, "config", "show", "--source", "/dev/video0")
    assert out.splitlines()[1] == "device:0 backend:any: region 10,20,300,200, budget 80 ms"
    code, out, _ = run_cli(capsys, "config", "show", "--source", "device:0", "--backend", "v4l2")
    assert out.splitlines()[1] == "device:0 backend:v4l2: nothing remembered"


def test_reset_one_source_then_everything(capsys, settings_dir: Path) -> None:  # noqa: ANN001
    store = SettingsStore()
    store.remember("demo", "any", SourceSettings(budget_ms=70.0))
    store.remember("sim", "any", SourceSettings(budget_ms=90.0))
    code, out, _ = run_cli(capsys, "config", "reset", "--source", "demo")
    assert code == 0 and out.startswith("forgot the settings of demo")
    assert store.recall("demo").budget_ms is None and store.recall("sim").budget_ms == 90.0
    code, out, _ = run_cli(capsys, "config", "reset", "--source", "demo")
    assert out.startswith("nothing remembered")
    code, out, _ = run_cli(capsys, "config", "reset")
    assert code == 0 and out.startswith("forgot everything")
    assert not (settings_dir / "settings.json").exists()


def test_a_damaged_file_is_one_warning_line(capsys, settings_dir: Path) -> None:  # noqa: ANN001
    (settings_dir / "settings.json").write_text('{"sources": {"demo": ')
    code, out, err = run_cli(capsys, "config", "show")
    assert code == 0 and "no source remembered yet" in out
    assert err.count("\n") == 1 and err.startswith("usguide: warning: settings not used")
    assert "Traceback" not in err
    code, out, err = run_cli(capsys, "config", "reset")  # the way out of a damaged file
    assert code == 0 and not (settings_dir / "settings.json").exists()
