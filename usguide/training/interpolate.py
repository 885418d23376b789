"""Weight interpolation between a needle model and one fine-tuned from it (WiSE-FT).

A model fine-tuned on new material gains there and forgets part of what its parent did well (v12
finds more shallow and painted needles than v5b but loses the real clip); weights on the straight
line between the two often keep most of both (Wortsman et al., "Robust fine-tuning of zero-shot
models", CVPR 2022). Run ``python -m usguide.training.interpolate PARENT CHILD --alpha A --out M``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from usguide.errors import UsguideError
from usguide.paths import git_commit
from usguide.training.onnx_file import save_model, set_metadata

__all__ = ["interpolate", "main"]


def interpolate(parent: Path, child: Path, alpha: float, version: str) -> onnx.ModelProto:
    """``(1 - alpha) * parent + alpha * child``, weight by weight, as a new model.

    Both must be one graph (the same nodes and the same weight names and shapes), as two exports
    of one architecture are; the result keeps the parent's graph and metadata, with
    ``usguide.model_version`` set to ``version`` and ``usguide.lineage`` naming both parents.

    Raises:
        UsguideError: an unreadable model, ``alpha`` outside 0..1, or two different graphs.
    """
    if not 0.0 <= alpha <= 1.0:
        raise UsguideError(f"--alpha must be between 0 and 1, got {alpha}")
    first, second = _load(parent), _load(child)
    if [node.op_type for node in first.graph.node] != [node.op_type for node in second.graph.node]:
        raise UsguideError(f"{parent} and {child} are different networks: nothing to interpolate")
    weights = {tensor.name: numpy_helper.to_array(tensor) for tensor in second.graph.initializer}
    for index, tensor in enumerate(first.graph.initializer):
        mine = numpy_helper.to_array(tensor)
        theirs = weights.get(tensor.name)
        if theirs is None or theirs.shape != mine.shape or theirs.dtype != mine.dtype:
            raise UsguideError(
                f"{parent} and {child} differ in weight {tensor.name!r}: nothing to interpolate"
            )
        if mine.dtype.kind != "f":
            continue  # shapes and indices, not weights
        mixed = ((1.0 - alpha) * mine.astype(np.float64) + alpha * theirs).astype(mine.dtype)
        first.graph.initializer[index].CopyFrom(numpy_helper.from_array(mixed, tensor.name))
    lineage = {
        "method": "weight interpolation (WiSE-FT): (1 - alpha) * parent + alpha * child",
        "alpha": alpha,
        "parent": _describe(parent, first),
        "child": _describe(child, second),
    }
    set_metadata(
        first,
        {
            "usguide.model_version": version,
            "usguide.lineage": json.dumps(lineage),
            "usguide.commit": git_commit(),
        },
        keep=True,
    )
    return first


def _load(path: Path) -> onnx.ModelProto:
    if not path.is_file():
        raise UsguideError(f"model {path} not found")
    try:
        return onnx.load(str(path))
    except Exception as exc:  # noqa: BLE001 - protobuf raises its own DecodeError
        raise UsguideError(f"{path} is not an ONNX model ({type(exc).__name__})") from None


def _describe(path: Path, model: onnx.ModelProto) -> dict:
    """A parent as the lineage names it: file, content hash, its own version and commit."""
    meta = {prop.key: prop.value for prop in model.metadata_props}
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return {
        "file": path.name,
        "sha256_16": digest,
        "model_version": meta.get("usguide.model_version"),
        "commit": meta.get("usguide.commit"),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: writes the interpolated model and prints its lineage."""
    parser = argparse.ArgumentParser(
        prog="python -m usguide.training.interpolate", description=__doc__.splitlines()[0]
    )
    parser.add_argument("parent", type=Path, help="the model the child was fine-tuned from")
    parser.add_argument("child", type=Path, help="the fine-tuned model")
    parser.add_argument("--alpha", type=float, required=True, help="the child's share, 0..1")
    parser.add_argument("--version", default="interpolated", help="usguide.model_version")
    parser.add_argument("--out", type=Path, required=True, help="where to write the model")
    args = parser.parse_args(argv)
    try:
        model = interpolate(args.parent, args.child, args.alpha, args.version)
        save_model(model, args.out)
    except UsguideError as exc:
        parser.exit(2, f"interpolate: {exc}\n")
    except OSError as exc:
        parser.exit(2, f"interpolate: cannot write {args.out}: {exc.strerror or exc}\n")
    except onnx.checker.ValidationError as exc:
        parser.exit(2, f"interpolate: the mixed model fails the ONNX checker: {exc}\n")
    meta = {prop.key: prop.value for prop in model.metadata_props}
    print(f"wrote {args.out}: {meta['usguide.lineage']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
