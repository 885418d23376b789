"""Training loop: simulate (cached) data, train NeedleNet with augmentation, validate, export ONNX.

Seed-reproducible with ``epochs``: torch is seeded, and each epoch's order and each batch's
augmentation come from numpy Generators seeded by (seed, epoch[, batch]), whatever the number of
workers. With ``minutes`` the learning-rate schedule follows wall time, so the number of steps
depends on the machine's speed (the log records how many were run).
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from usguide.detect.model_input import normalise_levels
from usguide.paths import MODEL_FILE, output_path
from usguide.training import data as data_mod
from usguide.training.augment import augment
from usguide.training.composite import Compositor
from usguide.training.export import export_onnx, model_metadata
from usguide.training.metrics import MapMetrics
from usguide.training.model import OUTPUT_STRIDE, NeedleNet, count_parameters
from usguide.training.warm_start import freeze_batchnorm, load_onnx_weights

SHAFT_POS_WEIGHT = 10.0


@dataclass
class TrainConfig:
    """Everything that defines a training run (recorded verbatim in the training log)."""

    # models/needle.onnx in a checkout; ./needle.onnx in a wheel install (never site-packages)
    out: Path = field(default_factory=lambda: output_path(MODEL_FILE))
    log_path: Path | None = None  # default: training_log.json next to ``out``
    seed: int = 0
    clips: int = 800
    frames_per_clip: int = 8
    val_clips: int = 60
    epochs: int | None = 20
    minutes: float | None = None
    input_size: int = 256
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 1e-4
    width: int = 16
    tip_sigma: float = 1.5  # map pixels
    absent_fraction: float = 0.3  # share of needle-free samples in each epoch
    device: str = "auto"
    threads: int | None = None
    workers: int = 0  # processes that simulate and augment; 0 augments in the training process
    data_only: bool = False  # simulate and cache the data, then stop (to train variants on it)
    init: Path | None = None  # continue from this usguide ONNX model (batch norms stay frozen)
    # Share of training samples replaced by a needle painted onto a real, simulated or phantom
    # background (``training.composite``): the breadth the beam simulator alone does not give.
    composite_fraction: float = 0.4
    # Share of composites given bright tissue lines that are not needles (fascia, tendon, bone).
    distractor_fraction: float = 0.3
    # Painted samples on real/phantom backgrounds whose loss joins the simulator's validation loss
    # in choosing the epoch to export (0: the simulator's loss alone, as before v7).
    composite_val: int = 320
    cache_dir: Path = field(default_factory=data_mod.cache_dir_default)

    def resolved_log_path(self) -> Path:
        return self.log_path or self.out.parent / "training_log.json"


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def make_batch(dataset, indices, rng, tip_sigma: float, train: bool, composites=None):
    """Augments (when training) and builds the (image, shaft target, tip target) tensors.

    Args:
        composites: ``(compositor, fraction, background_indices)``: that share of training samples
            is replaced by a composite, on a needle-free dataset frame or another background.
    """
    images, shafts, tips = [], [], []
    for index in indices:
        image, shaft, tip = dataset.images[index], dataset.shafts[index], tuple(dataset.tips[index])
        if train and composites is not None and rng.random() < composites[1]:
            compositor, _, backgrounds = composites
            pick = int(backgrounds[rng.integers(0, len(backgrounds))]) if len(backgrounds) else None
            sample = compositor.sample(rng, None if pick is None else dataset.images[pick])
            image, shaft, tip = sample.image, sample.shaft, sample.tip
        if train:
            image, shaft, tip = augment(image, shaft, tip, rng)
        image = normalise_levels(image)  # what OnnxDetector does for a "percentile" model
        out_size = image.shape[0] // OUTPUT_STRIDE
        images.append(image)
        shafts.append(data_mod.shaft_target(shaft, OUTPUT_STRIDE))
        tips.append(data_mod.tip_heatmap(tip, out_size, OUTPUT_STRIDE, tip_sigma))
    x = torch.from_numpy(np.stack(images)[:, None].astype(np.float32) / 255.0)
    return x, torch.from_numpy(np.stack(shafts)), torch.from_numpy(np.stack(tips))


def loss_terms(logits: torch.Tensor, shaft_t: torch.Tensor, tip_t: torch.Tensor) -> dict:
    """Weighted BCE + soft Dice on the shaft; BCE weighted towards the peak on the tip heatmap.

    Shaft pixels are ~0.5 % of a frame: unweighted BCE lets the net sit at "no needle anywhere",
    where the Dice gradient vanishes (saturated sigmoid); the weight keeps positives heard.
    """
    shaft_logit, tip_logit = logits[:, 0], logits[:, 1]
    shaft_w = 1.0 + SHAFT_POS_WEIGHT * shaft_t
    bce = F.binary_cross_entropy_with_logits(shaft_logit, shaft_t, weight=shaft_w)
    prob = torch.sigmoid(shaft_logit)
    inter = (prob * shaft_t).sum(dim=(1, 2))
    dice = 1.0 - (2.0 * inter + 1.0) / (prob.sum(dim=(1, 2)) + shaft_t.sum(dim=(1, 2)) + 1.0)
    weight = 1.0 + 100.0 * tip_t
    tip = F.binary_cross_entropy_with_logits(tip_logit, tip_t, weight=weight, reduction="sum")
    tip = tip / weight.sum()
    return {"bce": bce, "dice": dice.mean(), "tip": 5.0 * tip}


@torch.no_grad()
def evaluate(model, dataset, device, tip_sigma: float) -> dict:
    """Validation loss and map metrics on un-augmented frames."""
    model.eval()
    metrics = MapMetrics()
    loss_sum = 0.0
    for start in range(0, len(dataset), 32):
        idx = np.arange(start, min(start + 32, len(dataset)))
        x, shaft_t, tip_t = make_batch(dataset, idx, None, tip_sigma, train=False)
        logits = model.logits(x.to(device))
        terms = loss_terms(logits, shaft_t.to(device), tip_t.to(device))
        loss_sum += float(sum(terms.values())) * len(idx)
        prob = torch.sigmoid(logits).cpu().numpy()
        for k, i in enumerate(idx):
            mm = dataset.mm_per_px[i] * OUTPUT_STRIDE
            metrics.add(
                prob[k, 0],
                prob[k, 1],
                shaft_t[k].numpy(),
                bool(dataset.visible[i]),
                tuple(dataset.tips[i]),
                float(dataset.angles[i]),
                (float(mm[0]), float(mm[1])),
                OUTPUT_STRIDE,
            )
    return {"loss": loss_sum / len(dataset), **metrics.summary()}


COMPOSITE_VALIDATION_SEED = (
    424_242  # never a training batch's seed (those are (seed, epoch, batch))
)


def composite_validation(size: int, count: int, distractor_fraction: float) -> SimpleNamespace:
    """A fixed set of needles painted on real and phantom backgrounds (no simulator frames).

    The simulator's validation loss alone chose epochs that had drifted away from real images
    (v6a: best simulated loss, real clip down from 97 % to 72 %); this set's loss joins it.
    """
    compositor = Compositor(size, distractor_fraction=distractor_fraction)
    rng = np.random.default_rng(COMPOSITE_VALIDATION_SEED)
    samples = [compositor.sample(rng) for _ in range(count)]
    return SimpleNamespace(
        images=np.stack([sample.image for sample in samples]),
        shafts=np.stack([sample.shaft for sample in samples]),
        tips=np.array([sample.tip for sample in samples], np.float32),
    )


@torch.no_grad()
def evaluate_composites(model, frames: SimpleNamespace, device, tip_sigma: float) -> dict:
    """Loss on the composite validation set, and how often the shaft map fires at all (>= 0.5)
    on its needles (``hit``) and on its needle-free samples (``fp``)."""
    model.eval()
    loss_sum, fired = 0.0, []
    count = len(frames.images)
    for start in range(0, count, 32):
        idx = np.arange(start, min(start + 32, count))
        x, shaft_t, tip_t = make_batch(frames, idx, None, tip_sigma, train=False)
        logits = model.logits(x.to(device))
        terms = loss_terms(logits, shaft_t.to(device), tip_t.to(device))
        loss_sum += float(sum(terms.values())) * len(idx)
        fired.extend((torch.sigmoid(logits[:, 0]).amax(dim=(1, 2)) >= 0.5).cpu().tolist())
    has_needle = frames.shafts.reshape(count, -1).max(axis=1) > 0
    fired_array = np.array(fired, bool)
    return {
        "loss": loss_sum / count,
        "hit": float(fired_array[has_needle].mean()) if has_needle.any() else None,
        "fp": float(fired_array[~has_needle].mean()) if (~has_needle).any() else None,
    }


class AugmentedBatches(torch.utils.data.Dataset):
    """Training batch number ``step`` of the whole run, augmented with a generator of its own.

    Each epoch's order comes from ``(seed, epoch)`` and each batch's augmentation from
    ``(seed, epoch, batch)``, so the batches are the same whether they are built in the training
    process or in any number of DataLoader workers.
    """

    def __init__(self, dataset, config: TrainConfig) -> None:
        self.arrays = {key: getattr(dataset, key) for key in ("images", "shafts", "tips")}
        self.visible = dataset.visible
        self.batch_size = config.batch_size
        self.seed = config.seed
        self.absent_fraction = config.absent_fraction
        self.tip_sigma = config.tip_sigma
        self.composites = None
        if config.composite_fraction > 0:
            self.composites = (
                Compositor(
                    int(dataset.images.shape[1]), distractor_fraction=config.distractor_fraction
                ),
                config.composite_fraction,
                np.flatnonzero(~dataset.visible),
            )
        self.steps_per_epoch = max(1, len(dataset) // config.batch_size)
        self._order: tuple[int, np.ndarray] | None = None  # (epoch, order), one epoch cached

    def share_memory(self) -> None:
        """Moves the frames to shared memory: workers then get handles to them, not copies."""
        self.arrays = {
            key: torch.from_numpy(np.ascontiguousarray(value)).share_memory_()
            for key, value in self.arrays.items()
        }

    def __len__(self) -> int:  # unbounded in principle; the caller stops by steps or wall time
        return 2**62

    def __getitem__(self, step: int):
        epoch, batch = divmod(step, self.steps_per_epoch)
        if self._order is None or self._order[0] != epoch:
            rng = np.random.default_rng([self.seed, epoch])
            self._order = (epoch, _epoch_order(self.visible, rng, self.absent_fraction))
        idx = self._order[1][batch * self.batch_size : (batch + 1) * self.batch_size]
        rng = np.random.default_rng([self.seed, epoch, batch])
        frames = SimpleNamespace(**{key: np.asarray(value) for key, value in self.arrays.items()})
        return make_batch(frames, idx, rng, self.tip_sigma, train=True, composites=self.composites)


def _batch_stream(batches: AugmentedBatches, workers: int, pin: bool):
    """Batches 0, 1, 2, ... built in-process (``workers`` = 0) or by a DataLoader's workers."""
    if workers <= 0:
        step = 0
        while True:
            yield batches[step]
            step += 1
    batches.share_memory()
    loader = torch.utils.data.DataLoader(
        batches,
        batch_size=None,  # each item already is a batch
        sampler=range(2**62),
        num_workers=workers,
        pin_memory=pin,
        prefetch_factor=4,
        worker_init_fn=_worker_init,
        multiprocessing_context=data_mod.clean_start_method(),
    )
    yield from loader


def _worker_init(_worker_id: int) -> None:
    # One batch at a time per worker: torch or OpenCV thread pools of their own would oversubscribe.
    torch.set_num_threads(1)
    cv2.setNumThreads(1)


def _epoch_order(visible: np.ndarray, rng, absent_fraction: float) -> np.ndarray:
    """One epoch of sample indices, re-weighted so needle-free frames make ``absent_fraction``."""
    absent = ~visible
    n_absent, n = int(absent.sum()), len(visible)
    if n_absent == 0 or n_absent == n:
        return rng.permutation(n)
    weights = np.where(absent, absent_fraction / n_absent, (1 - absent_fraction) / (n - n_absent))
    return rng.choice(n, size=n, replace=True, p=weights / weights.sum())


def machine_info(device: torch.device) -> dict:
    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "device": str(device),
        "threads": torch.get_num_threads(),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def train(config: TrainConfig, progress: Callable[[str], None] = print) -> dict:
    """Runs the whole recipe and returns the training log (also written to disk)."""
    wall_start = time.perf_counter()
    torch.manual_seed(config.seed)
    device = pick_device(config.device)
    torch.set_num_threads(config.threads or min(2, os.cpu_count() or 1))
    model = NeedleNet(config.width)
    if config.init is not None:  # before the data: a wrong model fails in seconds, not minutes
        load_onnx_weights(model, config.init)
        progress(f"starting from {config.init} (batch norms frozen)")
    train_seeds = list(range(config.clips))
    val_seeds = [data_mod.VALIDATION_SEED_BASE + k for k in range(config.val_clips)]
    progress(f"simulating {config.clips} training clips x {config.frames_per_clip} frames ...")
    sim_workers = max(1, config.workers)
    train_set = data_mod.cached_dataset(
        train_seeds,
        config.frames_per_clip,
        config.input_size,
        config.cache_dir,
        progress,
        sim_workers,
    )
    progress(f"simulating {config.val_clips} validation clips ...")
    val_set = data_mod.cached_dataset(
        val_seeds,
        config.frames_per_clip,
        config.input_size,
        config.cache_dir,
        progress,
        sim_workers,
    )
    composite_val = None
    if config.composite_val > 0:
        composite_val = composite_validation(
            config.input_size, config.composite_val, config.distractor_fraction
        )
    data_seconds = time.perf_counter() - wall_start
    progress(
        f"data: {len(train_set)} train frames ({(~train_set.visible).mean():.0%} needle-free), "
        f"{len(val_set)} validation frames, {data_seconds:.0f} s"
    )
    training_data = {
        "simulator": "usguide.simulate.random_config(np.random.default_rng(seed), ...)",
        "train_seeds": f"0..{config.clips - 1}",
        "validation_seeds": f"{val_seeds[0]}..{val_seeds[-1]}",
        "frames_per_clip": config.frames_per_clip,
        "train_frames": len(train_set),
    }
    if config.data_only:
        return {"training_data": training_data, "data_seconds": round(data_seconds, 1)}
    metadata = model_metadata(config.input_size, training_data, config.tip_sigma)

    model = model.to(device)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    batches = AugmentedBatches(train_set, config)
    steps_per_epoch = batches.steps_per_epoch
    total_steps = (config.epochs or 0) * steps_per_epoch
    budget_s = config.minutes * 60.0 if config.minutes else None
    log = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
        "parameters": count_parameters(model),
        "machine": machine_info(device),
        "training_data": training_data,
        "data_seconds": round(data_seconds, 1),
        "epochs": [],
    }
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed input size: let cuDNN pick its fastest convs
    stream = _batch_stream(batches, config.workers, pin=device.type == "cuda")
    best_loss, step, epoch = math.inf, 0, 0
    train_start = time.perf_counter()
    done = False
    while not done:
        epoch += 1
        model.train()
        if config.init is not None:
            freeze_batchnorm(model)  # its statistics were folded away at export: keep them fixed
        # Losses stay on the device until the epoch ends: reading each one would sync every step.
        sums: dict[str, torch.Tensor] = {}
        n_batches = 0
        for _ in range(steps_per_epoch):
            elapsed = time.perf_counter() - train_start
            frac = elapsed / budget_s if budget_s else step / max(1, total_steps)
            if frac >= 1.0:
                done = True
                break
            warm = min(1.0, (step + 1) / 100)  # short linear warm-up, then cosine decay
            for group in optimiser.param_groups:
                group["lr"] = config.lr * warm * 0.5 * (1 + math.cos(math.pi * frac))
            x, shaft_t, tip_t = next(stream)
            x, shaft_t, tip_t = (t.to(device, non_blocking=True) for t in (x, shaft_t, tip_t))
            terms = loss_terms(model.logits(x), shaft_t, tip_t)
            loss = sum(terms.values())
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            for key, value in terms.items():
                sums[key] = sums.get(key, 0.0) + value.detach()
            n_batches += 1
            step += 1
        if config.epochs and epoch >= config.epochs:
            done = True
        if n_batches == 0:
            break
        metrics = evaluate(model, val_set, device, config.tip_sigma)
        score = metrics["loss"]
        extra = ""
        if composite_val is not None:
            composite = evaluate_composites(model, composite_val, device, config.tip_sigma)
            metrics["composite"] = {k: _rounded(v) for k, v in composite.items()}
            score += composite["loss"]
            extra = f"  composite {composite['loss']:.4f} hit {composite['hit']:.3f}"
            extra += f" fp {composite['fp']:.3f}"
        entry = {
            "epoch": epoch,
            "steps": step,
            "train": {k: round(float(v) / n_batches, 5) for k, v in sums.items()},
            "validation": {k: _rounded(v) for k, v in metrics.items()},
            "lr": optimiser.param_groups[0]["lr"],
            "elapsed_s": round(time.perf_counter() - train_start, 1),
        }
        log["epochs"].append(entry)
        entry["score"] = round(score, 5)
        exported = score < best_loss
        if exported:
            best_loss = score
            export_onnx(model, config.out, metadata, config.input_size)
            log["best_epoch"] = epoch
        tip_mm = metrics["tip_median_mm"]
        angle = metrics["angle_median_deg"]
        progress(
            f"epoch {epoch:3d}  step {step:6d}  train {sum(entry['train'].values()):.4f}  "
            f"val {metrics['loss']:.4f}  recall {metrics['recall']:.3f}  "
            f"fp {metrics['fp_rate']:.3f}  dice {metrics['shaft_dice']:.3f}  "
            f"tip {tip_mm if tip_mm is None else round(tip_mm, 2)} mm  "
            f"angle {angle if angle is None else round(angle, 2)} deg{extra}  "
            f"{entry['elapsed_s']:.0f} s{'  -> saved' if exported else ''}"
        )
        log["wall_seconds"] = round(time.perf_counter() - wall_start, 1)
        _write_log(config.resolved_log_path(), log)
    stream.close()  # ends the DataLoader's workers now rather than at garbage collection
    log["total_steps"] = step
    log["wall_seconds"] = round(time.perf_counter() - wall_start, 1)
    _write_log(config.resolved_log_path(), log)
    progress(
        f"wrote {config.out} (best epoch {log.get('best_epoch')}) in {log['wall_seconds']:.0f} s"
    )
    return log


def _rounded(value):
    return round(value, 5) if isinstance(value, float) else value


def _write_log(path: Path, log: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(log, indent=2) + "\n")
