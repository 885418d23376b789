"""Warm start: continue training from a needle model that usguide exported to ONNX.

The exported graph has each batch norm folded into its convolution, so the import puts the folded
weights in the convolutions, turns each batch norm into a fixed identity plus the folded bias, and
asks the training loop to keep those batch norms frozen (statistics no longer updated).
"""

from __future__ import annotations

from pathlib import Path

import onnx
import torch
from onnx import numpy_helper
from torch import nn

from usguide.errors import UsguideError
from usguide.training.model import NeedleNet


def _conv_layers(model: NeedleNet) -> list[tuple[nn.Conv2d, nn.BatchNorm2d | None]]:
    """Each convolution with the batch norm after it (None for the head), in forward order."""
    layers: list[tuple[nn.Conv2d, nn.BatchNorm2d | None]] = []
    for module in model.modules():
        if isinstance(module, nn.Sequential) and isinstance(module[0], nn.Conv2d):
            layers.append((module[0], module[1]))
    layers.append((model.head, None))
    return layers


def load_onnx_weights(model: NeedleNet, path: Path) -> None:
    """Copies the weights of a usguide needle ONNX file into ``model`` (same width).

    Raises:
        UsguideError: the file is unreadable or its layers do not match ``model``.
    """
    try:
        proto = onnx.load(str(path))
    except Exception as exc:  # noqa: BLE001 - protobuf raises several unrelated types
        raise UsguideError(f"--init {path}: not a readable ONNX model ({exc})") from None
    # Copies: numpy_helper may return read-only views of the protobuf buffers.
    values = {init.name: numpy_helper.to_array(init).copy() for init in proto.graph.initializer}
    convs = [node for node in proto.graph.node if node.op_type == "Conv"]
    layers = _conv_layers(model)
    if len(convs) != len(layers):
        raise UsguideError(
            f"--init {path}: {len(convs)} convolutions, the network has {len(layers)}: "
            "use a model made by usguide train"
        )
    with torch.no_grad():
        for node, (conv, norm) in zip(convs, layers, strict=True):
            weight = values.get(node.input[1])
            bias = values.get(node.input[2]) if len(node.input) > 2 else None
            if weight is None or bias is None:  # e.g. int8: weights behind DequantizeLinear
                raise UsguideError(
                    f"--init {path}: its convolutions have no float weights: use the fp32 model "
                    "(an int8 model cannot be trained further)"
                )
            if tuple(weight.shape) != tuple(conv.weight.shape):
                raise UsguideError(
                    f"--init {path}: layer shape {tuple(weight.shape)} does not match "
                    f"{tuple(conv.weight.shape)}: give the model's --width"
                )
            conv.weight.copy_(torch.from_numpy(weight))
            if norm is None:
                conv.bias.copy_(torch.from_numpy(bias))
                continue
            # Identity normalisation: (x - 0) / sqrt((1 - eps) + eps) * 1 + folded bias.
            norm.running_mean.zero_()
            norm.running_var.fill_(1.0 - norm.eps)
            norm.weight.fill_(1.0)
            norm.bias.copy_(torch.from_numpy(bias))


def freeze_batchnorm(model: nn.Module) -> None:
    """Puts every batch norm in eval mode (call after ``model.train()``): fixed statistics."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.eval()
