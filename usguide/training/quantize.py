"""Static int8 quantisation (QDQ) of the needle model, and an fp32-vs-int8 speed and accuracy check.

Run ``python -m usguide.training.quantize``: calibrates on simulator frames, measures both models
with 2 intra-op threads on held-out simulator clips, and keeps the int8 file only when it is
faster at equal accuracy (the numbers are printed either way).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx

from usguide.detect.onnx_detector import OnnxDetector
from usguide.paths import default_model_path, output_path
from usguide.training.data import Dataset, shaft_target, simulate_dataset
from usguide.training.metrics import MapMetrics

CALIBRATION_SEED_BASE = 200_000
TEST_SEED_BASE = 300_000  # never used for training (0..N) or validation (100000+)


class _Reader:
    """onnxruntime CalibrationDataReader over model-size grey frames."""

    def __init__(self, images: np.ndarray, input_name: str) -> None:
        self._iter = iter(images)
        self._name = input_name

    def get_next(self) -> dict | None:
        image = next(self._iter, None)
        if image is None:
            return None
        return {self._name: (image.astype(np.float32) / 255.0)[None, None]}


def quantize(fp32: Path, int8: Path, calibration: Dataset) -> None:
    """Writes a static int8 QDQ model calibrated on ``calibration``, with the usguide metadata."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
        quantize_static(
            str(pre),
            str(int8),
            _Reader(calibration.images, "image"),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )
    source = onnx.load(str(fp32))
    model = onnx.load(str(int8))
    del model.metadata_props[:]
    for prop in source.metadata_props:
        model.metadata_props.add().CopyFrom(prop)
    note = model.metadata_props.add()
    note.key = "usguide.quantization"
    note.value = (
        f"static int8 QDQ, per-channel weights, MinMax calibration on {len(calibration)} simulator "
        f"frames (seeds {CALIBRATION_SEED_BASE}+)"
    )
    onnx.save(model, str(int8))


def measure(path: Path, test: Dataset, threads: int, runs: int) -> dict:
    """Inference time (ms, 2 threads, model-size input) and map metrics on the test frames."""
    detector = OnnxDetector(path, threads=threads)
    stride = int(detector.output_stride)
    metrics = MapMetrics()
    for i in range(len(test)):
        maps = detector.infer(test.images[i])
        mm = test.mm_per_px[i] * stride
        metrics.add(
            maps.shaft,
            maps.tip,
            shaft_target(test.shafts[i], stride),
            bool(test.visible[i]),
            tuple(test.tips[i]),
            float(test.angles[i]),
            (float(mm[0]), float(mm[1])),
            stride,
        )
    times = []
    for k in range(runs):
        image = test.images[k % len(test)]
        start = time.perf_counter_ns()
        detector.infer(image)
        times.append((time.perf_counter_ns() - start) / 1e6)
    detector.close()
    return {
        "ms_p50": float(np.percentile(times, 50)),
        "ms_p95": float(np.percentile(times, 95)),
        **metrics.summary(),
    }


def build_parser() -> argparse.ArgumentParser:
    """The options; the int8 model goes to models/ in a checkout, the current folder otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=default_model_path())
    parser.add_argument("--out", type=Path, default=output_path("models/needle_int8.onnx"))
    parser.add_argument("--calib-clips", type=int, default=25)
    parser.add_argument("--test-clips", type=int, default=40)
    parser.add_argument("--frames-per-clip", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=200)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    size = _input_size(args.model)
    calibration = simulate_dataset(
        range(CALIBRATION_SEED_BASE, CALIBRATION_SEED_BASE + args.calib_clips),
        args.frames_per_clip,
        size,
    )
    test = simulate_dataset(
        range(TEST_SEED_BASE, TEST_SEED_BASE + args.test_clips), args.frames_per_clip, size
    )
    quantize(args.model, args.out, calibration)
    fp32 = measure(args.model, test, args.threads, args.runs)
    int8 = measure(args.out, test, args.threads, args.runs)
    # Equal accuracy: recall and false positives within 1 point, tip error within 0.1 mm.
    same = (
        int8["recall"] >= fp32["recall"] - 0.01
        and int8["fp_rate"] <= fp32["fp_rate"] + 0.01
        and (int8["tip_median_mm"] or 99) <= (fp32["tip_median_mm"] or 0) + 0.1
    )
    faster = int8["ms_p50"] < 0.9 * fp32["ms_p50"]
    keep = same and faster
    if not keep:
        args.out.unlink(missing_ok=True)
    report = {
        "fp32": fp32,
        "int8": int8,
        "test_frames": len(test),
        "calibration_frames": len(calibration),
        "threads": args.threads,
        "kept_int8": keep,
    }
    print(json.dumps(report, indent=2))
    return 0


def _input_size(path: Path) -> int:
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    return int(props["usguide.input_size"].split("x")[0])


if __name__ == "__main__":
    raise SystemExit(main())
