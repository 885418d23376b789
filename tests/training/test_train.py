"""Training package: a tiny end-to-end run exports a valid model; augmentation keeps labels."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from usguide.training import augment as aug  # noqa: E402
from usguide.training.data import shaft_target, tip_heatmap  # noqa: E402


def needle_sample(size=64):
    """A bright line from the upper right to a tip at (20, 40); shaft coverage and tip labels."""
    image = np.full((size, size), 40, np.uint8)
    shaft = np.zeros((size, size), np.uint8)
    cv2.line(shaft, (size - 1, 5), (20, 40), 255, 2)
    image[shaft > 0] = 220
    return image, shaft, (20.0, 40.0)


def test_hflip_moves_tip_with_shaft():
    image, shaft, tip = needle_sample()
    f_image, f_shaft, f_tip = aug.hflip(image, shaft, tip)
    assert f_tip == (63 - 20.0, 40.0)
    assert f_shaft[40, 43] == 255 and f_image[40, 43] == 220
    assert np.array_equal(aug.hflip(f_image, f_shaft, f_tip)[1], shaft)


def test_affine_keeps_tip_on_shaft_end():
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(20):
        image, shaft, tip = needle_sample()
        _, w_shaft, w_tip = aug.affine(image, shaft, tip, rng)
        if w_tip[0] < 0:
            continue  # the warp pushed the tip out of the image: nothing to compare
        ys, xs = np.nonzero(w_shaft > 127)
        assert np.min(np.hypot(xs - w_tip[0], ys - w_tip[1])) <= 2.0
        checked += 1
    assert checked >= 10  # most warps keep the tip in view, so the check above really ran


def test_full_augment_labels_and_types():
    rng = np.random.default_rng(0)
    image, shaft, tip = needle_sample()
    for _ in range(10):
        a_image, a_shaft, a_tip = aug.augment(image, shaft, tip, rng)
        assert a_image.dtype == np.uint8 and a_image.shape == image.shape
        assert a_shaft.shape == shaft.shape
        if a_tip[0] >= 0:
            assert 0 <= a_tip[0] <= 63 and 0 <= a_tip[1] <= 63
        else:
            assert a_tip == (-1.0, -1.0)  # the tip left the image: the "no tip" label


def test_targets_at_map_resolution():
    _, shaft, tip = needle_sample()
    heat = tip_heatmap(tip, 32, 2, 1.5)
    v, u = np.unravel_index(np.argmax(heat), heat.shape)
    assert (u, v) == (10, 20)  # (20 + 0.5) / 2 - 0.5 = 9.75 -> 10
    assert tip_heatmap((-1.0, -1.0), 32, 2, 1.5).max() == 0
    target = shaft_target(shaft, 2)
    assert target.shape == (32, 32) and target.max() == 1.0


def tiny_config(tmp_path, **overrides):
    """Two 2-frame clips at 64x64, one epoch of batches of 2: a training run of seconds."""
    from usguide.training.train import TrainConfig

    settings = dict(
        out=tmp_path / "needle.onnx",
        clips=2,
        frames_per_clip=2,
        val_clips=1,
        epochs=1,
        input_size=64,
        batch_size=2,
        cache_dir=tmp_path / "cache",
        threads=1,
    )
    return TrainConfig(**{**settings, **overrides})


def test_tiny_training_run_exports_model(tmp_path):
    from usguide.detect.onnx_detector import OnnxDetector
    from usguide.training.train import train

    config = tiny_config(tmp_path)
    lines: list[str] = []
    log = train(config, progress=lines.append)
    assert log["total_steps"] == 2
    assert any(line.startswith("epoch") for line in lines)
    saved = json.loads((tmp_path / "training_log.json").read_text())
    assert saved["config"]["seed"] == 0 and len(saved["epochs"]) == 1
    detector = OnnxDetector(config.out, threads=1)
    meta = detector.metadata
    assert meta["usguide.format"] == "usguide-needle-v1"
    assert meta["usguide.input_size"] == "64x64"
    assert meta["usguide.output_stride"] == "2"
    assert meta["usguide.normalisation"] == "x/255"
    assert json.loads(meta["usguide.training_data"])["train_seeds"] == "0..1"
    for key in ("usguide.outputs", "usguide.version", "usguide.commit"):
        assert meta[key]
    assert meta["usguide.layout"] == "letterbox" and meta["usguide.levels"] == "percentile"
    # 120x100 region: longer side to 64 px, content 64x53 padded to 64x64; maps cropped to it.
    maps = detector.infer(np.zeros((100, 120), np.uint8))
    assert maps.shaft.shape == (27, 32)
    assert maps.scale_x == pytest.approx(120 / 64 * 2) and maps.scale_y == pytest.approx(
        100 / 53 * 2
    )
    assert 0.0 <= float(maps.shaft.min()) and float(maps.shaft.max()) <= 1.0


def test_train_command_without_torch(monkeypatch, capsys):
    import builtins

    from usguide.cli import main

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "torch":
            raise ImportError("no torch")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    assert main(["train", "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "pip install -e '.[train]'" in err and err.count("\n") == 1


def test_parallel_simulation_gives_the_serial_dataset():
    from usguide.training.data import simulate_dataset

    serial = simulate_dataset([3, 4, 5], 2, 64)
    parallel = simulate_dataset([3, 4, 5], 2, 64, workers=2)
    assert len(parallel) == 6
    for key in serial.__dataclass_fields__:
        assert np.array_equal(getattr(serial, key), getattr(parallel, key), equal_nan=True), key


def test_batches_are_the_same_with_and_without_workers():
    from usguide.training.data import simulate_dataset
    from usguide.training.train import AugmentedBatches, TrainConfig, _batch_stream

    dataset = simulate_dataset([3, 4], 3, 64)
    batches = AugmentedBatches(dataset, TrainConfig(batch_size=2, seed=7))
    assert batches.steps_per_epoch == 3
    in_process = _batch_stream(batches, 0, pin=False)
    in_workers = _batch_stream(batches, 2, pin=False)
    firsts = []
    for _ in range(5):  # crosses an epoch boundary (3 batches per epoch)
        a, b = next(in_process), next(in_workers)
        for tensor_a, tensor_b in zip(a, b, strict=True):
            assert torch.equal(tensor_a, tensor_b)
        firsts.append(a[0])
    in_workers.close()
    # Augmentation differs from batch to batch and epoch to epoch (not one frozen draw).
    assert not torch.equal(firsts[0], firsts[3])
    assert firsts[0].shape == (2, 1, 64, 64)


def test_train_command_data_only(tmp_path, capsys):
    from usguide.cli import main

    args = ["train", "--clips", "2", "--frames-per-clip", "2", "--val-clips", "1", "--input-size"]
    args += ["64", "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "m.onnx")]
    assert main([*args, "--data-only", "--workers", "2"]) == 0
    assert len(list((tmp_path / "cache").glob("sim-*.npz"))) == 2
    assert not (tmp_path / "m.onnx").exists()
    with pytest.raises(SystemExit) as refused:  # argparse refuses it: one line, exit 2
        main([*args, "--width", "2"])
    assert refused.value.code == 2
    assert "--width" in capsys.readouterr().err
    assert main([*args, "--composite-backgrounds", "real,ultrasound"]) == 2
    err = capsys.readouterr().err
    assert "--composite-backgrounds real,ultrasound" in err and err.count("\n") == 1


def test_warm_start_reproduces_the_shipped_model():
    import onnxruntime as ort

    from usguide.errors import UsguideError
    from usguide.paths import REPO_ROOT
    from usguide.training.model import NeedleNet
    from usguide.training.warm_start import freeze_batchnorm, load_onnx_weights

    path = REPO_ROOT / "models" / "needle.onnx"
    model = NeedleNet(16)
    load_onnx_weights(model, path)
    model.train()
    freeze_batchnorm(model)  # frozen statistics: train mode computes what eval mode does
    image = np.random.default_rng(1).random((1, 1, 128, 160), dtype=np.float32)
    with torch.no_grad():
        shaft, tip = model(torch.from_numpy(image))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    want_shaft, want_tip = session.run(["shaft", "tip"], {"image": image})
    assert np.abs(shaft.numpy() - want_shaft).max() < 1e-4
    assert np.abs(tip.numpy() - want_tip).max() < 1e-4
    with pytest.raises(UsguideError, match="--width"):
        load_onnx_weights(NeedleNet(8), path)
    with pytest.raises(UsguideError, match="int8"):
        load_onnx_weights(NeedleNet(16), REPO_ROOT / "models" / "needle_int8.onnx")


def test_training_continues_from_a_model(tmp_path):
    from usguide.paths import REPO_ROOT
    from usguide.training.train import train

    # lr next to zero: the result must still be the model it started from.
    config = tiny_config(tmp_path, lr=1e-9, init=REPO_ROOT / "models" / "needle.onnx")
    lines: list[str] = []
    train(config, progress=lines.append)
    assert any("starting from" in line for line in lines)
    import onnxruntime as ort

    image = np.random.default_rng(2).random((1, 1, 64, 64), dtype=np.float32)
    outputs = []
    for path in (config.init, config.out):
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        outputs.append(session.run(["shaft"], {"image": image})[0])
    assert np.abs(outputs[0] - outputs[1]).max() < 1e-3


def test_default_outputs_stay_out_of_site_packages(monkeypatch, tmp_path):
    from usguide import paths
    from usguide.training import export, quantize
    from usguide.training.train import TrainConfig

    # in this checkout: the repository's models/
    assert TrainConfig().out == paths.REPO_ROOT / "models" / "needle.onnx"
    assert (
        quantize.build_parser().parse_args([]).out
        == paths.REPO_ROOT / "models" / "needle_int8.onnx"
    )
    # a wheel install (site-packages inside some other git checkout): the current folder
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path / "venv" / "site-packages")
    assert TrainConfig().out == Path("needle.onnx")
    assert quantize.build_parser().parse_args([]).out == Path("needle_int8.onnx")
    assert export.git_commit() == "unknown"


def test_weight_average_follows_the_weights_slowly():
    from usguide.training.model import NeedleNet
    from usguide.training.train import weight_average

    assert weight_average(NeedleNet(4), 0.0) is None
    model = NeedleNet(4)
    averaged = weight_average(model, 0.75)
    first = [p.detach().clone() for p in model.parameters()]
    with torch.no_grad():
        for param in model.parameters():
            param.add_(1.0)
    averaged.update_parameters(model)  # the first update copies the weights as they are
    averaged.update_parameters(model)  # then 0.75 old + 0.25 new: unchanged, both are equal
    with torch.no_grad():
        for param in model.parameters():
            param.add_(4.0)
    averaged.update_parameters(model)
    for start, mean in zip(first, averaged.module.parameters(), strict=True):
        assert torch.allclose(mean, start + 1.0 + 0.25 * 4.0, atol=1e-5)


def test_training_with_a_weight_average_exports_the_average(tmp_path):
    from usguide.training.train import train

    config = tiny_config(tmp_path, ema=0.9)
    log = train(config, progress=lambda line: None)
    assert log["config"]["ema"] == 0.9 and log["best_epoch"] == 1
    raw = tiny_config(tmp_path / "raw")
    train(raw, progress=lambda line: None)
    import onnxruntime as ort

    image = np.random.default_rng(2).random((1, 1, 64, 64), dtype=np.float32)
    outputs = [
        ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
            ["shaft"], {"image": image}
        )[0]
        for path in (config.out, raw.out)
    ]
    assert np.abs(outputs[0] - outputs[1]).max() > 1e-4  # the average is not the last weights


def test_a_painted_validation_set_of_one_sample_is_reported(tmp_path):
    from usguide.training.train import train

    lines: list[str] = []
    train(tiny_config(tmp_path, composite_val=1), progress=lines.append)
    epoch_line = next(line for line in lines if line.startswith("epoch"))
    assert "composite" in epoch_line and " hit " in epoch_line and " fp " in epoch_line


def test_bf16_on_a_gpu_is_refused_in_one_line(monkeypatch, tmp_path, capsys):
    from usguide.cli import main

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # --device auto picks the GPU
    args = ["train", "--precision", "bf16", "--out", str(tmp_path / "m.onnx")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--precision bf16" in err and "CPU only" in err and err.count("\n") == 1


def test_the_epoch_is_chosen_on_the_selection_clips(tmp_path, monkeypatch):
    from tests.commands.test_evaluate import write_clip
    from usguide.paths import REPO_ROOT
    from usguide.training import selection
    from usguide.training.train import train

    write_clip(tmp_path / "dev" / "clip_0000")
    # The selection clips prefer epoch 2, whatever the validation loss says.
    values = iter([0.5, 0.2, 0.6, 0.4])  # the starting model first
    scored: list[Path] = []

    def fake_score(self, model):
        scored.append(model)
        assert model.is_file() and model != tmp_path / "needle.onnx"  # never the output itself
        return selection.SelectionScore(next(values), 0.0, 8)

    monkeypatch.setattr(selection.CaseSelector, "score", fake_score)
    lines: list[str] = []
    config = tiny_config(
        tmp_path, epochs=3, select_cases=tmp_path / "dev", init=REPO_ROOT / "models" / "needle.onnx"
    )
    log = train(config, lines.append)
    assert log["selection_of_init"]["value"] == 0.5 and scored[0] == config.init
    assert log["best_epoch"] == 2 and len(scored) == 4
    assert [entry["selection"]["localised"] for entry in log["epochs"]] == [0.2, 0.6, 0.4]
    assert sum("-> saved" in line for line in lines) == 2  # epochs 1 and 2
    assert (tmp_path / "needle.onnx").is_file()
    assert not list(tmp_path.glob("*.candidate.onnx"))  # the last epoch's candidate is removed


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds leftover processes in /proc")
def test_sigterm_ends_a_run_with_its_worker_processes(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    import uuid

    token = uuid.uuid4().hex  # inherited by every process the run starts
    out = tmp_path / "m.onnx"
    args = [sys.executable, "-m", "usguide", "train", "--out", str(out), "--clips", "2"]
    args += ["--frames-per-clip", "2", "--val-clips", "1", "--minutes", "5", "--input-size", "64"]
    args += ["--composite-val", "2", "--workers", "2", "--cache-dir", str(tmp_path / "cache")]
    run = subprocess.Popen(
        args, env={**os.environ, "USGUIDE_TEST_TOKEN": token}, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while not out.exists() and time.monotonic() < deadline:  # the first epoch saved
        time.sleep(0.2)
    assert out.exists(), "no epoch finished"
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130 and "usguide: interrupted" in err
    time.sleep(1.0)
    assert not _processes_with(token), "worker processes outlived the run"


def _processes_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if token.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:  # gone meanwhile, or not ours to read
                continue
    return found


def test_keep_epochs_writes_every_epochs_model(tmp_path):
    from usguide.training.train import train

    config = tiny_config(tmp_path, epochs=2, keep_epochs=True, composite_edge_entry=True)
    train(config, progress=lambda line: None)
    kept = sorted(path.name for path in tmp_path.glob("needle.epoch*.onnx"))
    assert kept == ["needle.epoch001.onnx", "needle.epoch002.onnx"]
    assert (tmp_path / "needle.onnx").is_file()
