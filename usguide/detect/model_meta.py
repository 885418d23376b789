"""What a usguide needle model file declares about itself (``usguide.*`` ONNX metadata), validated.

Read from an onnxruntime session so the runtime needs no ``onnx`` package.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from usguide.detect.model_input import LETTERBOX, PERCENTILE, RAW, STRETCH
from usguide.errors import UsguideError

FORMAT = "usguide-needle-v1"
SUPPORTED_NORMALISATION = "x/255"


@dataclass(frozen=True)
class ModelMeta:
    """The model contract the detector relies on.

    Attributes:
        input_name: name of the image input.
        input_size: (width, height) the model was trained at.
        dynamic_hw: True when the graph accepts other sizes (multiples of ``input_multiple``).
        input_multiple: H and W must be multiples of this.
        output_stride: input pixels per output-map pixel.
        shaft_output, tip_output: output names (tip may be None).
        metadata: every metadata entry of the file.
        layout: "stretch" (region resized to the input size; v1 models) or "letterbox" (aspect
            kept, the longer side fitted, black padding: ``usguide.layout``).
        levels: "raw" (grey levels as they come) or "percentile" (tissue levels normalised:
            ``usguide.levels``); see ``usguide.detect.model_input``.
    """

    input_name: str
    input_size: tuple[int, int]
    dynamic_hw: bool
    input_multiple: int
    output_stride: int
    shaft_output: str
    tip_output: str | None
    metadata: dict[str, str]
    layout: str = STRETCH
    levels: str = RAW


MAX_MODEL_INPUT = 4096  # pixels per side of a model's input (usguide models use 256..640)


def _bad(path: str, what: str) -> UsguideError:
    return UsguideError(
        f"model {path} {what} — use a model made by `usguide train` (format {FORMAT}) "
        "or the bundled models/needle.onnx"
    )


def read_model_meta(session, path: str) -> ModelMeta:
    """Validates an onnxruntime session's model against the usguide needle format.

    Raises:
        UsguideError: missing or incompatible ``usguide.format``, wrong input shape or outputs.
    """
    metadata = dict(session.get_modelmeta().custom_metadata_map)
    fmt = metadata.get("usguide.format")
    if fmt is None:
        raise _bad(path, "has no usguide.format metadata (not a usguide needle model)")
    if fmt != FORMAT:
        raise _bad(path, f"has format {fmt!r}, this usguide reads {FORMAT!r}")
    norm = metadata.get("usguide.normalisation", SUPPORTED_NORMALISATION)
    if norm != SUPPORTED_NORMALISATION:
        raise _bad(
            path, f"expects input normalisation {norm!r}, supported: {SUPPORTED_NORMALISATION}"
        )

    layout = metadata.get("usguide.layout", STRETCH)
    levels = metadata.get("usguide.levels", RAW)
    if layout not in (STRETCH, LETTERBOX) or levels not in (RAW, PERCENTILE):
        raise _bad(path, f"asks for input layout {layout!r} / levels {levels!r}, unknown here")

    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise _bad(path, f"has {len(inputs)} inputs, expected one grey image [1,1,H,W]")
    shape = list(inputs[0].shape)
    batch_ok = len(shape) == 4 and (shape[0] in (1, None) or isinstance(shape[0], str))
    if len(shape) != 4 or shape[1] != 1 or not batch_ok:
        raise _bad(path, f"has input shape {shape}, expected one grey image [1,1,H,W]")
    if inputs[0].type != "tensor(float)":
        raise _bad(path, f"has input type {inputs[0].type}, expected tensor(float)")

    try:
        width, height = (int(v) for v in metadata["usguide.input_size"].lower().split("x"))
        stride = int(metadata.get("usguide.output_stride", "1"))
        multiple = int(metadata.get("usguide.input_multiple", "1"))
    except (KeyError, ValueError):
        raise _bad(path, "has missing or malformed usguide.input_size / output_stride") from None
    fixed_h, fixed_w = shape[2], shape[3]
    dynamic = not (isinstance(fixed_h, int) and isinstance(fixed_w, int))
    if not dynamic and (fixed_w, fixed_h) != (width, height):
        raise _bad(
            path, f"declares input_size {width}x{height} but its input is {fixed_w}x{fixed_h}"
        )
    if width <= 0 or height <= 0 or stride <= 0 or multiple <= 0:
        raise _bad(path, "has non-positive sizes in its metadata")
    if max(width, height) > MAX_MODEL_INPUT or stride > MAX_MODEL_INPUT or multiple > 1024:
        # Every frame would allocate and run a network this large: refuse it at load.
        raise _bad(path, f"asks for input {width}x{height} (at most {MAX_MODEL_INPUT} per side)")

    for output in session.get_outputs():
        out_shape = output.shape
        if isinstance(out_shape, (list, tuple)) and len(out_shape) != 4:
            raise _bad(
                path, f"has output {output.name!r} of rank {len(out_shape)}, expected [1,1,h,w]"
            )
    names = [o.name for o in session.get_outputs()]
    if "shaft" in names:
        shaft, tip = "shaft", ("tip" if "tip" in names else None)
    elif len(names) >= 1:
        shaft, tip = names[0], (names[1] if len(names) > 1 else None)
    else:
        raise _bad(path, "has no outputs")
    return ModelMeta(
        input_name=inputs[0].name,
        input_size=(width, height),
        dynamic_hw=dynamic,
        input_multiple=multiple,
        output_stride=stride,
        shaft_output=shaft,
        tip_output=tip,
        metadata=metadata,
        layout=layout,
        levels=levels,
    )


def training_data(meta: ModelMeta) -> dict:
    """The decoded ``usguide.training_data`` entry ({} when absent or not JSON)."""
    try:
        return json.loads(meta.metadata.get("usguide.training_data", "{}"))
    except json.JSONDecodeError:
        return {}
