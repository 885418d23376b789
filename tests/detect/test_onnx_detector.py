"""OnnxDetector: validation and error paths on tiny hand-built graphs, plus the bundled model."""

from __future__ import annotations

import numpy as np
import pytest

from usguide.detect.base import NeedleMaps
from usguide.detect.onnx_detector import OnnxDetector
from usguide.errors import UsguideError
from usguide.paths import REPO_ROOT

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

GOOD_META = {
    "usguide.format": "usguide-needle-v1",
    "usguide.input_size": "32x32",
    "usguide.input_multiple": "2",
    "usguide.output_stride": "2",
    "usguide.normalisation": "x/255",
}


def tiny_model(path, channels=1, meta=GOOD_META, dynamic=True):
    """image [1,C,H,W] -> shaft = avgpool2(image), tip = maxpool2(image): stride 2, values 0..1."""
    h, w = ("h", "w") if dynamic else (32, 32)
    oh, ow = ("oh", "ow") if dynamic else (16, 16)
    graph = helper.make_graph(
        [
            helper.make_node(
                "AveragePool", ["image"], ["shaft"], kernel_shape=[2, 2], strides=[2, 2]
            ),
            helper.make_node("MaxPool", ["image"], ["tip"], kernel_shape=[2, 2], strides=[2, 2]),
        ],
        "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, channels, h, w])],
        [
            helper.make_tensor_value_info("shaft", TensorProto.FLOAT, [1, channels, oh, ow]),
            helper.make_tensor_value_info("tip", TensorProto.FLOAT, [1, channels, oh, ow]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in (meta or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, path)
    return path


def test_missing_file(tmp_path):
    with pytest.raises(UsguideError, match="not found"):
        OnnxDetector(tmp_path / "nope.onnx")


def test_random_bytes(tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(UsguideError, match="cannot be loaded"):
        OnnxDetector(path)


def test_wrong_input_channels(tmp_path):
    with pytest.raises(UsguideError, match="input shape"):
        OnnxDetector(tiny_model(tmp_path / "rgb.onnx", channels=3))


def test_missing_metadata(tmp_path):
    with pytest.raises(UsguideError, match="usguide.format"):
        OnnxDetector(tiny_model(tmp_path / "bare.onnx", meta={}))


def test_incompatible_format(tmp_path):
    meta = dict(GOOD_META, **{"usguide.format": "usguide-needle-v9"})
    with pytest.raises(UsguideError, match="format"):
        OnnxDetector(tiny_model(tmp_path / "v9.onnx", meta=meta))


def test_unavailable_provider(tmp_path):
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime has CUDA")
    with pytest.raises(UsguideError, match="provider 'cuda' is not available"):
        OnnxDetector(tiny_model(tmp_path / "m.onnx"), provider="cuda")


def test_unknown_provider(tmp_path):
    with pytest.raises(UsguideError, match="unknown provider"):
        OnnxDetector(tiny_model(tmp_path / "m.onnx"), provider="tpu")


def test_infer_shapes_scale_and_values(tmp_path):
    detector = OnnxDetector(tiny_model(tmp_path / "m.onnx"), threads=1)
    assert detector.name == "onnx"
    assert detector.metadata["usguide.format"] == "usguide-needle-v1"
    assert len(detector.model_hash) == 12
    assert detector.supports_input_scale
    region = np.full((60, 100), 255, np.uint8)  # H=60, W=100 -> 32x32 input -> 16x16 maps
    maps = detector.infer(region)
    assert isinstance(maps, NeedleMaps)
    assert maps.shaft.shape == (16, 16) and maps.tip.shape == (16, 16)
    assert maps.shaft.dtype == np.float32
    assert maps.scale_x == pytest.approx(100 / 16) and maps.scale_y == pytest.approx(60 / 16)
    assert np.allclose(maps.shaft, 1.0)  # x/255 normalisation
    detector.input_scale = 0.5  # dynamic model: 16x16 input -> 8x8 maps
    maps = detector.infer(region)
    assert maps.shaft.shape == (8, 8)
    assert maps.scale_x == pytest.approx(100 / 8)
    detector.close()
    detector.close()  # idempotent


def test_fixed_size_model_ignores_input_scale(tmp_path):
    detector = OnnxDetector(tiny_model(tmp_path / "fixed.onnx", dynamic=False), threads=1)
    assert not detector.supports_input_scale
    detector.input_scale = 0.5
    assert detector.infer(np.zeros((40, 50), np.uint8)).shaft.shape == (16, 16)


def test_bgr_region_is_converted(tmp_path):
    detector = OnnxDetector(tiny_model(tmp_path / "m.onnx"), threads=1)
    maps = detector.infer(np.zeros((32, 32, 3), np.uint8))
    assert maps.shaft.shape == (16, 16)


BUNDLED = REPO_ROOT / "models" / "needle.onnx"


@pytest.mark.skipif(not BUNDLED.exists(), reason="models/needle.onnx not trained yet")
def test_bundled_model_finds_simulated_needle():
    import cv2

    from usguide.simulate import SimConfig, simulate_clip

    detector = OnnxDetector(BUNDLED)
    assert detector.metadata["usguide.format"] == "usguide-needle-v1"
    # An ordinary needle (the simulator also draws phantoms, water baths, 0-80 degrees, ...): the
    # stratum and seed of the shipped-model guard in test_bundled_model.py.
    config = SimConfig(
        seed=907,
        variant="linear",
        n_frames=6,
        fps=1.0,
        needle=True,
        needle_gain=6.0,
        medium="in_vivo",
        angle_range=(15.0, 45.0),
        needle_style="plain",
        entry="edge",
    )
    frames = [
        f for f in simulate_clip(config) if f.truth.visible and f.truth.shaft_mask.sum() > 150
    ]
    assert frames, "the simulator clip should show the needle"
    sim = frames[-1]
    roi = sim.truth.roi
    region = roi.crop(sim.image)
    maps = detector.infer(region)
    high_v, high_u = np.nonzero(maps.shaft > 0.5)
    assert len(high_u) >= 5, "the needle should give confident shaft pixels"
    xs = (high_u + 0.5) * maps.scale_x - 0.5
    ys = (high_v + 0.5) * maps.scale_y - 0.5
    shaft = roi.crop(sim.truth.shaft_mask)
    distance = cv2.distanceTransform((~shaft).astype(np.uint8), cv2.DIST_L2, 5)
    near = distance[
        np.clip(ys.round().astype(int), 0, roi.h - 1), np.clip(xs.round().astype(int), 0, roi.w - 1)
    ]
    limit_px = 2.0 / sim.truth.mm_per_px  # within 2 mm of the labelled shaft
    assert np.mean(near <= limit_px) >= 0.9
