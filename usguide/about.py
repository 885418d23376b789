"""What ``usguide --version`` prints: the package version and which default model it would use.

The model's ``usguide.*`` metadata is read straight from the ONNX file's top-level protobuf
fields, so the answer takes milliseconds and needs neither onnxruntime nor onnx.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from usguide import __version__

# ModelProto.metadata_props: repeated StringStringEntryProto {1: key, 2: value}
_METADATA_PROPS = 14


def version_text(model: Path | None = None) -> str:
    """Two lines: ``usguide X.Y.Z`` and ``model: …`` (``model: not found (…)`` when it is absent).

    Args:
        model: the model to describe (default: ``usguide.paths.default_model_path()``).
    """
    from usguide.paths import default_model_path

    path = Path(model) if model is not None else default_model_path()
    return f"usguide {__version__}\nmodel: {describe_model(path)}"


def describe_model(path: Path) -> str:
    """One line naming the model file and what it says about itself."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return f"not found ({path})"
    except OSError as exc:
        return f"unreadable ({path}: {exc.strerror or exc})"
    digest = hashlib.sha256(data).hexdigest()[:12]
    try:
        meta = onnx_metadata(data)
    except ValueError:
        return f"{path} (not an ONNX file, sha256 {digest})"
    parts = [
        f"model {meta['usguide.model_version']}" if "usguide.model_version" in meta else None,
        meta.get("usguide.format", "no usguide.format metadata"),
        f"written by usguide {meta['usguide.version']}" if "usguide.version" in meta else None,
        f"commit {meta['usguide.commit']}" if "usguide.commit" in meta else None,
        f"sha256 {digest}",
    ]
    return f"{path} ({', '.join(p for p in parts if p)})"


def onnx_metadata(data: bytes) -> dict[str, str]:
    """The ``metadata_props`` of a serialised ONNX ``ModelProto``.

    Raises:
        ValueError: the bytes are not a well-formed protobuf message.
    """
    metadata: dict[str, str] = {}
    for field, value in _fields(data):
        if field == _METADATA_PROPS and isinstance(value, bytes):
            entry = {f: v for f, v in _fields(value) if isinstance(v, bytes)}
            key, text = entry.get(1, b""), entry.get(2, b"")
            metadata[key.decode("utf-8", "replace")] = text.decode("utf-8", "replace")
    return metadata


def _fields(data: bytes):  # noqa: ANN202 - yields (field number, int or bytes)
    """Top-level fields of a protobuf message; length-delimited values as bytes, others as ints."""
    position, end = 0, len(data)
    while position < end:
        tag, position = _varint(data, position)
        field, wire_type = tag >> 3, tag & 7
        if wire_type == 0:
            value, position = _varint(data, position)
        elif wire_type == 2:
            length, position = _varint(data, position)
            if position + length > end:
                raise ValueError("truncated field")
            value, position = data[position : position + length], position + length
        elif wire_type in (1, 5):
            size = 8 if wire_type == 1 else 4
            value = int.from_bytes(data[position : position + size], "little")
            position += size
        else:
            raise ValueError(f"unsupported wire type {wire_type}")
        if field == 0 or position > end:
            raise ValueError("malformed field")
        yield field, value


def _varint(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= len(data) or shift > 63:
            raise ValueError("malformed varint")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, position
