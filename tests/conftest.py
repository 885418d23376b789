"""Shared pytest fixtures and settings: offscreen Qt, paths to shared material and fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_REAL = REPO.parent / "shared" / "real"


@pytest.fixture(autouse=True)
def settings_dir(monkeypatch, tmp_path_factory) -> Path:  # noqa: ANN001
    """Every test gets an empty settings folder: the user's own settings are never read or
    written (``usguide.settings``)."""
    folder = tmp_path_factory.mktemp("settings")
    monkeypatch.setenv("USGUIDE_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture
def real_clip() -> Path:
    """The real Clarius needle clip from ../shared/real/, or skip when it is absent."""
    path = SHARED_REAL / "clarius_needle_inplane.mp4"
    if not path.exists():
        pytest.skip(f"real clip not available at {path} (../shared/real/ is outside the repo)")
    return path
