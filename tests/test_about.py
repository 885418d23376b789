"""``usguide --version`` text: the package version and the default model's ONNX metadata."""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper

from usguide import __version__
from usguide.about import describe_model, onnx_metadata, version_text


def tiny_model(path, metadata: dict[str, str]):
    graph = helper.make_graph(
        [helper.make_node("Identity", ["image"], ["shaft"])],
        "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, 16, 16])],
        [helper.make_tensor_value_info("shaft", TensorProto.FLOAT, [1, 1, 16, 16])],
    )
    model = helper.make_model(graph)
    helper.set_model_props(model, metadata)
    onnx.save(model, path)
    return path


def test_metadata_read_without_onnxruntime(tmp_path):
    meta = {"usguide.format": "usguide-needle-v1", "usguide.version": "9.8.7", "note": "é ✓"}
    path = tiny_model(tmp_path / "m.onnx", meta)
    assert onnx_metadata(path.read_bytes()) == meta


def test_version_names_package_and_model(tmp_path):
    meta = {
        "usguide.format": "usguide-needle-v1",
        "usguide.version": "9.8.7",
        "usguide.commit": "abc1234",
        "usguide.model_version": "v4",
    }
    path = tiny_model(tmp_path / "needle.onnx", meta)
    first, second = version_text(path).splitlines()
    assert first == f"usguide {__version__}"
    assert second.startswith(
        f"model: {path} (model v4, usguide-needle-v1, written by usguide 9.8.7"
    )
    assert "commit abc1234" in second and "sha256 " in second


def test_default_model_is_described(monkeypatch, tmp_path):
    path = tiny_model(tmp_path / "env.onnx", {"usguide.format": "usguide-needle-v1"})
    monkeypatch.setenv("USGUIDE_MODEL", str(path))
    assert version_text().splitlines()[1].startswith(f"model: {path} (usguide-needle-v1, sha256 ")


def test_missing_and_foreign_files(tmp_path):
    assert describe_model(tmp_path / "absent.onnx") == f"not found ({tmp_path / 'absent.onnx'})"
    text = tmp_path / "notes.onnx"
    text.write_text("not a model\n")
    assert describe_model(text).startswith(f"{text} (not an ONNX file, sha256 ")
