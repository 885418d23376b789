"""Writing a needle model: its ``usguide.*`` metadata and an atomic, checked save.

Shared by the exporter (torch) and the tools that edit exported models without torch
(``interpolate``), so every model file is written the same way.
"""

from __future__ import annotations

from pathlib import Path

import onnx

__all__ = ["save_model", "set_metadata"]


def set_metadata(proto: onnx.ModelProto, values: dict[str, str], *, keep: bool = False) -> None:
    """Writes ``values`` as metadata_props; with ``keep`` the other entries stay, else they go."""
    kept = [(p.key, p.value) for p in proto.metadata_props if keep and p.key not in values]
    del proto.metadata_props[:]
    for key, value in [*kept, *values.items()]:
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value


def save_model(proto: onnx.ModelProto, path: Path) -> None:
    """Checks the graph and writes it so that a reader never sees a half-written model."""
    proto.producer_name = "usguide"
    onnx.checker.check_model(proto)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    onnx.save(proto, tmp)
    tmp.replace(path)
