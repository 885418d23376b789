"""The runtime's options: their defaults, the source opened when none is given, and the old
import path (``usguide.gui.runtime``) still giving the same names."""

from __future__ import annotations

from pathlib import Path

from usguide.defaults import BUDGET_MS, DISPLAY_MODES
from usguide.gui import runtime
from usguide.gui.runtime_options import RuntimeOptions, default_spec


def test_defaults_follow_the_project_defaults_and_the_working_folder(
    monkeypatch,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    options = RuntimeOptions()
    assert options.spec is None and options.detector == "onnx" and options.loop
    assert options.budget_ms == BUDGET_MS and options.display_mode == DISPLAY_MODES[0]
    assert options.output_dir == tmp_path / "usguide-output"


def test_each_options_object_has_its_own_result_consumers() -> None:
    first, second = RuntimeOptions(), RuntimeOptions()
    first.result_consumers.append(print)
    assert second.result_consumers == []


def test_default_spec_is_the_demo_when_its_recording_is_present(
    monkeypatch,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("USGUIDE_DEMO", str(tmp_path))
    assert default_spec() == "sim"  # no meta.json: no demo recording
    (tmp_path / "meta.json").write_text("{}")
    assert default_spec() == "demo"


def test_runtime_module_still_offers_the_options() -> None:
    assert runtime.RuntimeOptions is RuntimeOptions
    assert runtime.default_spec is default_spec
