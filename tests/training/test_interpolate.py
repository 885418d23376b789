"""Weight interpolation of two models of one graph: exact weights, lineage, refusals."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from usguide.errors import UsguideError
from usguide.training.interpolate import interpolate, main


def _model(path, weight: float, op: str = "Conv", version: str = "v1"):
    """A 1-channel 3x3 conv (or another op) with every weight ``weight`` and bias 0.5."""
    w = numpy_helper.from_array(np.full((1, 1, 3, 3), weight, np.float32), "w")
    b = numpy_helper.from_array(np.array([0.5], np.float32), "b")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 4, 4])
    node = (
        helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1])
        if op == "Conv"
        else helper.make_node("Add", ["x", "b"], ["y"])
    )
    graph = helper.make_graph([node], "g", [x], [y], [w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    prop = model.metadata_props.add()
    prop.key, prop.value = "usguide.model_version", version
    onnx.save(model, str(path))
    return path


def test_weights_lie_on_the_line_and_the_model_runs(tmp_path):
    parent = _model(tmp_path / "a.onnx", 1.0, version="v5")
    child = _model(tmp_path / "b.onnx", 3.0, version="v12")
    mixed = interpolate(parent, child, 0.25, "v13")
    weights = {t.name: numpy_helper.to_array(t) for t in mixed.graph.initializer}
    assert np.allclose(weights["w"], 1.5) and np.allclose(weights["b"], 0.5)
    meta = {p.key: p.value for p in mixed.metadata_props}
    assert meta["usguide.model_version"] == "v13"
    lineage = json.loads(meta["usguide.lineage"])
    assert lineage["alpha"] == 0.25
    assert lineage["parent"]["model_version"] == "v5" and lineage["child"]["file"] == "b.onnx"
    session = ort.InferenceSession(mixed.SerializeToString(), providers=["CPUExecutionProvider"])
    out = session.run(None, {"x": np.ones((1, 1, 4, 4), np.float32)})[0]
    assert out[0, 0, 1, 1] == pytest.approx(9 * 1.5 + 0.5)  # an inner pixel sees all nine taps


def test_the_ends_of_the_line_are_the_two_models(tmp_path):
    parent, child = _model(tmp_path / "a.onnx", 1.0), _model(tmp_path / "b.onnx", 3.0)
    for alpha, expected in ((0.0, 1.0), (1.0, 3.0)):
        mixed = interpolate(parent, child, alpha, "x")
        assert np.allclose(numpy_helper.to_array(mixed.graph.initializer[0]), expected)


def test_different_networks_bad_alpha_and_missing_files_are_refused(tmp_path):
    parent = _model(tmp_path / "a.onnx", 1.0)
    other = _model(tmp_path / "c.onnx", 1.0, op="Add")
    with pytest.raises(UsguideError, match="different networks"):
        interpolate(parent, other, 0.5, "x")
    with pytest.raises(UsguideError, match="between 0 and 1"):
        interpolate(parent, parent, 1.5, "x")
    with pytest.raises(UsguideError, match="not found"):
        interpolate(parent, tmp_path / "gone.onnx", 0.5, "x")
    (tmp_path / "junk.onnx").write_bytes(b"\x00not a model")
    with pytest.raises(UsguideError, match="not an ONNX model"):
        interpolate(parent, tmp_path / "junk.onnx", 0.5, "x")


def test_command_line_writes_the_model_or_exits_2(tmp_path, capsys):
    parent, child = _model(tmp_path / "a.onnx", 1.0), _model(tmp_path / "b.onnx", 3.0)
    out = tmp_path / "m.onnx"
    assert main([str(parent), str(child), "--alpha", "0.5", "--out", str(out)]) == 0
    assert np.allclose(numpy_helper.to_array(onnx.load(str(out)).graph.initializer[0]), 2.0)
    assert '"alpha": 0.5' in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main([str(parent), str(tmp_path / "gone.onnx"), "--alpha", "0.5", "--out", str(out)])
    assert exit_info.value.code == 2
    assert "interpolate: model" in capsys.readouterr().err
