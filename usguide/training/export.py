"""ONNX export of the needle network with the metadata that ``OnnxDetector`` checks.

The graph takes ``image`` [1,1,H,W] float (grey/255, H and W multiples of 16, dynamic) and returns
``shaft`` and ``tip`` [1,1,H/2,W/2] probabilities (sigmoid inside the graph).
"""

from __future__ import annotations

import copy
import io
import json
import re
import warnings
from pathlib import Path

import onnx
import torch

from usguide import __version__
from usguide.paths import git_commit
from usguide.training.model import OUTPUT_STRIDE, STRIDE, NeedleNet
from usguide.training.onnx_file import save_model, set_metadata

FORMAT = "usguide-needle-v1"
OPSET = 17
# A run's generation when its output file does not name one (the model card names each run
# needle_vN; every run once said "v5", the recipe's generation, whatever it was).
UNNAMED_VERSION = "unnamed"


def model_version(out: Path) -> str:
    """The model card's name for a run: ``vN`` from an output file ``needle_vN*.onnx``."""
    match = re.search(r"_(v\d+[a-z]?)(?:[_.-]|$)", Path(out).stem + ".")
    return match.group(1) if match else UNNAMED_VERSION


def model_metadata(
    input_size: int, training_data: dict, tip_sigma: float, version: str = UNNAMED_VERSION
) -> dict[str, str]:
    """The ``usguide.*`` metadata_props of the ONNX file (``version``: see ``model_version``)."""
    return {
        "usguide.format": FORMAT,
        "usguide.version": __version__,
        "usguide.input_size": f"{input_size}x{input_size}",
        "usguide.input": "image: float32 [1,1,H,W], grey region letterboxed (longer side fitted, "
        "black padding), levels normalised (usguide.detect.model_input); H, W dynamic, "
        f"multiples of {STRIDE}",
        "usguide.input_multiple": str(STRIDE),
        "usguide.dynamic_hw": "true",
        "usguide.normalisation": "x/255",
        "usguide.layout": "letterbox",
        "usguide.levels": "percentile",
        "usguide.outputs": json.dumps(
            {
                "shaft": "float32 [1,1,H/2,W/2] needle-shaft probability 0..1 (sigmoid applied)",
                "tip": f"float32 [1,1,H/2,W/2] tip heatmap 0..1, Gaussian sigma {tip_sigma} map px",
            }
        ),
        "usguide.output_stride": str(OUTPUT_STRIDE),
        "usguide.training_data": json.dumps(training_data, sort_keys=True),
        "usguide.commit": git_commit(),
        "usguide.model_version": version,
    }


def export_onnx(model: NeedleNet, path: Path, metadata: dict[str, str], input_size: int) -> None:
    """Writes ``model`` (eval mode; the exporter folds BN) to ``path`` with ``metadata``."""
    model = copy.deepcopy(model).cpu().eval()  # the caller's model keeps its device and mode
    dummy = torch.zeros(1, 1, input_size, input_size)
    buffer = io.BytesIO()
    # The TorchScript exporter is deprecated in favour of torch.export, but it handles dynamic H/W
    # of this plain conv net reliably and needs no extra packages; silence its notice.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (dummy,),
            buffer,
            input_names=["image"],
            output_names=["shaft", "tip"],
            opset_version=OPSET,
            dynamic_axes={
                "image": {2: "height", 3: "width"},
                "shaft": {2: "map_height", 3: "map_width"},
                "tip": {2: "map_height", 3: "map_width"},
            },
            do_constant_folding=True,
            dynamo=False,
        )
    proto = onnx.load_from_string(buffer.getvalue())
    set_metadata(proto, metadata)
    save_model(proto, path)
