"""The ONNX needle model behind the ``Detector`` interface (onnxruntime, explicit provider).

The grey image region is brought to the model's input size (times ``input_scale`` when the model has
dynamic H/W) the way the model declares — stretched (v1 models) or letterboxed with normalised
levels (``usguide.detect.model_input``) — scaled by 1/255, and the shaft and tip maps come back at
the model's output stride, cropped to the region.
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path

import cv2
import numpy as np

from usguide.detect import model_input
from usguide.detect.base import Detector, NeedleMaps
from usguide.detect.model_meta import ModelMeta, read_model_meta
from usguide.errors import UsguideError
from usguide.paths import default_model_path

PROVIDERS = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "directml": "DmlExecutionProvider",
}
INSTALL_HINT = {
    "cuda": "install onnxruntime-gpu",
    "tensorrt": "install onnxruntime-gpu with TensorRT",
    "openvino": "install onnxruntime-openvino",
    "coreml": "use the macOS onnxruntime build",
    "directml": "install onnxruntime-directml",
}
WARMUP_RUNS = 3


def _import_ort():
    import onnxruntime as ort  # imported here so that `usguide --help` stays fast

    return ort


class OnnxDetector(Detector):
    """Runs a usguide needle model (format ``usguide-needle-v1``) with onnxruntime.

    Args:
        model_path: the .onnx file; default ``usguide.paths.default_model_path()``.
        provider: cpu, cuda, tensorrt, openvino, coreml or directml.
        threads: intra-op threads (default min(2, cores)); idle threads do not spin.

    Attributes:
        input_scale: factor applied to the model input size (e.g. 0.75 under overload), rounded
            to the network's size multiple. Ignored when ``supports_input_scale`` is False
            (fixed-size model).
        metadata: the model's ``usguide.*`` metadata.
        model_hash: first 12 hex digits of the file's sha256.

    Raises:
        UsguideError: missing/corrupt/incompatible model or an unavailable provider.
    """

    name = "onnx"

    def __init__(
        self,
        model_path: Path | str | None = None,
        provider: str = "cpu",
        threads: int | None = None,
    ) -> None:
        self.path = Path(model_path) if model_path is not None else default_model_path()
        if not self.path.is_file():
            raise UsguideError(
                f"model file {self.path} not found — "
                "train one with `usguide train` or give --model PATH"
            )
        if provider not in PROVIDERS:
            raise UsguideError(f"unknown provider {provider!r} — use one of {', '.join(PROVIDERS)}")
        ort = _import_ort()
        ort_name = PROVIDERS[provider]
        available = ort.get_available_providers()
        if ort_name not in available:
            raise self._unavailable(provider, available)
        blob = self.path.read_bytes()
        self.model_hash = hashlib.sha256(blob).hexdigest()[:12]
        self.threads = int(threads) if threads else min(2, os.cpu_count() or 1)
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Idle ORT threads spin by default and steal CPU from capture and display.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        options.log_severity_level = 4  # failures are reported by usguide, in one line
        providers = (
            [ort_name] if ort_name == "CPUExecutionProvider" else [ort_name, PROVIDERS["cpu"]]
        )
        try:
            self._session = ort.InferenceSession(blob, sess_options=options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own types (InvalidProtobuf, Fail, ...)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UsguideError(
                f"model {self.path} cannot be loaded ({first[:160]}) — is it a valid ONNX file? "
                "Re-export it with `usguide train`"
            ) from None
        if ort_name not in self._session.get_providers():  # ORT falls back to CPU silently
            raise self._unavailable(provider, available)
        self.provider = provider
        self._run_options = ort.RunOptions()
        self._run_options.log_severity_level = 4  # ORT's own error lines would add to ours
        self._meta: ModelMeta = read_model_meta(self._session, str(self.path))
        self.metadata = dict(self._meta.metadata)
        self.input_scale = 1.0
        self._buffer: np.ndarray | None = None
        self._canvas: np.ndarray | None = None
        for _ in range(WARMUP_RUNS):  # the first runs allocate and tune: keep them out of timings
            self.infer(np.zeros((self._meta.input_size[1], self._meta.input_size[0]), np.uint8))

    @staticmethod
    def _unavailable(provider: str, available: list[str]) -> UsguideError:
        hint = INSTALL_HINT.get(provider, "install the matching onnxruntime build")
        return UsguideError(
            f"provider {provider!r} is not available in this onnxruntime "
            f"(available: {', '.join(p for p in available if p != 'AzureExecutionProvider')})"
            f" — {hint} or use --provider cpu"
        )

    @property
    def supports_input_scale(self) -> bool:
        """True when the model has dynamic H/W, so ``input_scale`` can shrink the input."""
        return self._meta.dynamic_hw

    @property
    def output_stride(self) -> int:
        return self._meta.output_stride

    def input_size(self) -> tuple[int, int]:
        """The (width, height) fed to the network now, after ``input_scale``."""
        width, height = self._meta.input_size
        if not self._meta.dynamic_hw or self.input_scale == 1.0:
            return width, height
        multiple = self._meta.input_multiple
        scale = float(np.clip(self.input_scale, 0.1, 4.0))

        def rounded(value: int) -> int:
            return max(multiple, int(round(value * scale / multiple)) * multiple)

        return rounded(width), rounded(height)

    def infer(self, region: np.ndarray) -> NeedleMaps:
        """Shaft and tip maps for one grey uint8 region (BGR is converted)."""
        if self._session is None:
            raise UsguideError("the ONNX detector was closed — create a new one")
        if region.ndim == 3:
            region = cv2.cvtColor(region, cv2.COLOR_BGR2GRAY)
        height, width = region.shape
        if self._meta.layout == model_input.LETTERBOX:
            image, content_w, content_h = self._letterboxed(region)
        else:
            image, content_w, content_h = self._stretched(region)
        if self._meta.levels == model_input.PERCENTILE:
            image = model_input.normalise_levels(image)
        in_h, in_w = image.shape
        if self._buffer is None or self._buffer.shape[2:] != (in_h, in_w):
            self._buffer = np.empty((1, 1, in_h, in_w), np.float32)
        np.multiply(image, np.float32(1.0 / 255.0), out=self._buffer[0, 0])
        names = [self._meta.shaft_output]
        if self._meta.tip_output:
            names.append(self._meta.tip_output)
        outputs = self._run(names)
        # Maps of a letterboxed input are cropped to the region's part (padding is no image).
        stride_x = in_w / outputs[0].shape[3]
        stride_y = in_h / outputs[0].shape[2]
        map_w = max(1, math.ceil(content_w / stride_x))
        map_h = max(1, math.ceil(content_h / stride_y))
        shaft = np.ascontiguousarray(outputs[0][0, 0, :map_h, :map_w], dtype=np.float32)
        tip = None
        if len(outputs) > 1:
            tip = np.ascontiguousarray(outputs[1][0, 0, :map_h, :map_w], dtype=np.float32)
        return NeedleMaps(
            shaft=shaft,
            tip=tip,
            scale_x=width / content_w * stride_x,
            scale_y=height / content_h * stride_y,
        )

    def _run(self, names: list[str]) -> list[np.ndarray]:
        """Runs the network and checks its outputs against the model contract: [1,1,h,w] maps of
        finite numbers. A model that breaks it is a bad model, reported in one line."""
        try:
            outputs = self._session.run(
                names, {self._meta.input_name: self._buffer}, self._run_options
            )
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types at run time
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UsguideError(
                f"model {self.path} failed to run ({first[:160]}) — re-export it with "
                "`usguide train`"
            ) from None
        for name, output in zip(names, outputs, strict=True):
            array = np.asarray(output)
            if array.ndim != 4 or array.shape[0] < 1 or array.shape[1] < 1 or 0 in array.shape:
                raise UsguideError(
                    f"model {self.path} returned {name!r} of shape {list(array.shape)}, expected "
                    "[1,1,h,w] — not a usguide needle model"
                )
            if not np.isfinite(array).all():
                raise UsguideError(
                    f"model {self.path} returned non-finite values (NaN or inf) in {name!r} — "
                    "the model is broken; re-export it with `usguide train`"
                )
        return outputs

    def _stretched(self, region: np.ndarray) -> tuple[np.ndarray, int, int]:
        """The region resized to the input size whatever its aspect (v1 models)."""
        height, width = region.shape
        in_w, in_h = self.input_size()
        shrink = in_w <= width and in_h <= height
        resized = cv2.resize(
            region, (in_w, in_h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        )
        return resized, in_w, in_h

    def _letterboxed(self, region: np.ndarray) -> tuple[np.ndarray, int, int]:
        """The region with its longer side fitted to the input size, padded to the size multiple."""
        height, width = region.shape
        long_side = max(self.input_size())
        multiple = self._meta.input_multiple if self._meta.dynamic_hw else long_side
        placement = model_input.letterbox_placement(width, height, long_side, multiple)
        if not self._meta.dynamic_hw:  # a fixed-size model takes its own size, padded
            in_w, in_h = self.input_size()
            placement = model_input.Placement(
                placement.content_w, placement.content_h, in_w, in_h, placement.scale
            )
        self._canvas = model_input.letterbox(region, placement, self._canvas)
        return self._canvas, placement.content_w, placement.content_h

    def close(self) -> None:
        self._session = None
