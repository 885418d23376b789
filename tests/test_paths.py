"""Bundled model and demo: package resources first (wheel install), the repository otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from usguide import paths


def fake_package(root: Path) -> Path:
    """A package folder laid out as a wheel installs it (``usguide/_data/...``)."""
    package = root / "usguide"
    (package / "_data" / "models").mkdir(parents=True)
    (package / "_data" / "models" / "needle.onnx").write_bytes(b"model")
    demo = package / "_data" / "recordings" / "demo"
    demo.mkdir(parents=True)
    (demo / "meta.json").write_text("{}")
    return package


@pytest.fixture
def installed(monkeypatch, tmp_path):
    """usguide as installed from a wheel: no repository around it, resources in the package."""
    site = tmp_path / "site-packages"
    package = fake_package(site)
    monkeypatch.setattr(paths, "REPO_ROOT", site)
    monkeypatch.setattr(paths.resources, "files", lambda name: package)
    monkeypatch.delenv("USGUIDE_MODEL", raising=False)
    monkeypatch.delenv("USGUIDE_DEMO", raising=False)
    return package


def test_wheel_install_finds_resources_through_importlib(installed):
    assert paths.default_model_path() == installed / "_data" / "models" / "needle.onnx"
    assert paths.demo_recording_path() == installed / "_data" / "recordings" / "demo"


def test_environment_overrides(installed, monkeypatch, tmp_path):
    monkeypatch.setenv("USGUIDE_MODEL", str(tmp_path / "mine.onnx"))
    monkeypatch.setenv("USGUIDE_DEMO", str(tmp_path / "session"))
    assert paths.default_model_path() == tmp_path / "mine.onnx"
    assert paths.demo_recording_path() == tmp_path / "session"


def test_missing_resource_names_the_package_location(installed):
    # A wheel built without the data says where the file should have been, not site-packages/models.
    expected = installed / "_data" / "models" / "needle_int8.onnx"
    assert paths.bundled_path("models/needle_int8.onnx") == expected


def test_checkout_uses_the_repository_files(monkeypatch, tmp_path):
    monkeypatch.delenv("USGUIDE_MODEL", raising=False)
    empty_package = tmp_path / "usguide"
    empty_package.mkdir()  # editable install: nothing copied into the package
    found = paths.bundled_path(paths.MODEL_FILE, package_root=empty_package)
    assert found == paths.REPO_ROOT / "models" / "needle.onnx"
    assert found.is_file()


def test_package_copy_wins_when_present(tmp_path):
    package = fake_package(tmp_path)
    found = paths.bundled_path(paths.MODEL_FILE, package_root=package)
    assert found.read_bytes() == b"model"


def test_defaults_that_write_stay_out_of_site_packages(installed, monkeypatch, tmp_path):
    assert not paths.in_checkout()
    assert paths.output_path(paths.MODEL_FILE) == Path("needle.onnx")  # the current folder
    assert paths.output_path("docs/realism.png") == Path("realism.png")
    from usguide.cli import build_parser

    monkeypatch.chdir(tmp_path)
    out = build_parser().parse_args(["train"]).out
    assert out == Path("needle.onnx") and out.resolve() == tmp_path / "needle.onnx"


def test_a_checkout_writes_into_the_repository():
    assert paths.in_checkout()
    assert paths.output_path(paths.MODEL_FILE) == paths.REPO_ROOT / "models" / "needle.onnx"
    from usguide.cli import build_parser

    assert build_parser().parse_args(["train"]).out == paths.REPO_ROOT / "models" / "needle.onnx"
