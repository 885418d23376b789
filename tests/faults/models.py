"""Hostile ONNX models for the fault suite, built at test time: each builder takes a folder and
returns the path of a model that breaks the model contract (scalar or 2-D output, a reshape that
fails, infinite maps, an absurd input size).
"""

from __future__ import annotations

from pathlib import Path

from tests.faults.corpus import Builder


def _model(path: Path, nodes: list, output_shape: list, meta: dict | None = None, extra=()) -> Path:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        nodes,
        "hostile",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, "h", "w"])],
        [helper.make_tensor_value_info("shaft", TensorProto.FLOAT, output_shape)],
        initializer=list(extra),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    metadata = {
        "usguide.format": "usguide-needle-v1",
        "usguide.input_size": "32x32",
        "usguide.input_multiple": "2",
        "usguide.output_stride": "2",
        "usguide.normalisation": "x/255",
        **(meta or {}),
    }
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    return path


def _pool() -> object:
    from onnx import helper

    return helper.make_node(
        "AveragePool", ["image"], ["pooled"], kernel_shape=[2, 2], strides=[2, 2]
    )


def model_scalar_output(folder: Path) -> Path:
    from onnx import helper

    nodes = [helper.make_node("ReduceMean", ["image"], ["shaft"], keepdims=0)]
    return _model(folder / "scalar.onnx", nodes, [])


def model_2d_output(folder: Path) -> Path:
    from onnx import TensorProto, helper

    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [-1, 16])
    nodes = [_pool(), helper.make_node("Reshape", ["pooled", "shape"], ["shaft"])]
    return _model(folder / "flat.onnx", nodes, ["a", 16], extra=[shape])


def model_reshape_fails(folder: Path) -> Path:
    from onnx import TensorProto, helper

    shape = helper.make_tensor("shape", TensorProto.INT64, [4], [1, 1, 7, 7])
    nodes = [_pool(), helper.make_node("Reshape", ["pooled", "shape"], ["shaft"])]
    return _model(folder / "reshape.onnx", nodes, [1, 1, 7, 7], extra=[shape])


def model_infinite_maps(folder: Path) -> Path:
    from onnx import TensorProto, helper

    zero = helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])
    one = helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])
    nodes = [
        _pool(),
        helper.make_node("Add", ["pooled", "one"], ["positive"]),
        helper.make_node("Div", ["positive", "zero"], ["shaft"]),
    ]
    return _model(folder / "inf.onnx", nodes, [1, 1, "oh", "ow"], extra=[zero, one])


def model_huge_input(folder: Path) -> Path:
    nodes = [_pool()]
    nodes[0].output[0] = "shaft"
    return _model(
        folder / "huge.onnx", nodes, [1, 1, "oh", "ow"], {"usguide.input_size": "20000x20000"}
    )


MODELS: dict[str, Builder] = {
    "model_scalar_output": model_scalar_output,
    "model_2d_output": model_2d_output,
    "model_reshape_fails": model_reshape_fails,
    "model_infinite_maps": model_infinite_maps,
    "model_huge_input": model_huge_input,
}
