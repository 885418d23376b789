"""Where the bundled model and demo recording live (top-level ``models/`` and ``recordings/``).

usguide is installed editable from its repository (``pip install -e .``), so the bundled files are
found next to the package. ``USGUIDE_MODEL`` overrides the default model path.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def default_model_path() -> Path:
    """The model used when ``--model`` is not given."""
    override = os.environ.get("USGUIDE_MODEL")
    return Path(override) if override else REPO_ROOT / "models" / "needle.onnx"


def demo_recording_path() -> Path:
    """The bundled demo session used when no source is given."""
    return REPO_ROOT / "recordings" / "demo"
