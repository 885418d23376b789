"""ONNX export metadata: a run's model version comes from the file name the model card gives it."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("onnx")

from usguide.training.export import UNNAMED_VERSION, model_metadata, model_version  # noqa: E402


@pytest.mark.parametrize(
    ("out", "version"),
    [
        ("models/experimental/needle_v17.onnx", "v17"),
        ("needle_v5b.onnx", "v5b"),
        ("/tmp/run/needle_v18_epoch3.onnx", "v18"),
        ("models/needle.onnx", UNNAMED_VERSION),
        ("needle_vivo.onnx", UNNAMED_VERSION),
    ],
)
def test_model_version_from_the_output_name(out, version):
    assert model_version(Path(out)) == version


def test_metadata_carries_the_version():
    meta = model_metadata(256, {"clips": 1}, 1.5, "v18")
    assert meta["usguide.model_version"] == "v18"
    assert meta["usguide.input_size"] == "256x256"
