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
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from usguide.paths import MODEL_FILE, output_path
from usguide.training import data as data_mod
from usguide.training.batches import epoch_order, make_batch, worker_init
from usguide.training.composite import BACKGROUNDS, Compositor
from usguide.training.export import export_onnx, model_metadata, model_version
from usguide.training.model import NeedleNet, count_parameters
from usguide.training.precision import (
    autocast,
    channels_last,
    machine_info,
    resolve_precision,
)
from usguide.training.selection import CaseSelector
from usguide.training.validation import (
    composite_validation,
    evaluate,
    evaluate_composites,
    fixed_batches,
    loss_terms,
)
from usguide.training.warm_start import freeze_batchnorm, load_onnx_weights


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
    precision: str = "auto"  # fp32 | bf16 (CPU autocast) | auto: bf16 on a native-bf16 CPU
    threads: int | None = None
    workers: int = 0  # processes that simulate and augment; 0 augments in the training process
    data_only: bool = False  # simulate and cache the data, then stop (to train variants on it)
    init: Path | None = None  # continue from this usguide ONNX model (batch norms stay frozen)
    # Share of training samples replaced by a needle painted onto a real, simulated or phantom
    # background (``training.composite``): the breadth the beam simulator alone does not give.
    composite_fraction: float = 0.4
    # Share of composites given bright tissue lines that are not needles (fascia, tendon, bone).
    distractor_fraction: float = 0.3
    # Which backgrounds the training composites use (validation always uses them all): to find
    # which kind teaches a habit, e.g. v14's lock on a short bright blob of the real clip.
    composite_backgrounds: tuple[str, ...] = BACKGROUNDS
    # Every painted training shaft visible from the tissue's edge (none starting in tissue): do the
    # compositor's short in-tissue shafts teach the real clip's "short bright blob" false needle?
    composite_edge_entry: bool = False
    # Painted samples on real/phantom backgrounds whose loss joins the simulator's validation loss
    # in choosing the epoch to export (0: the simulator's loss alone, as before v7).
    composite_val: int = 320
    # Decay of an exponential moving average of the weights, which is validated and exported
    # instead of the raw weights (0: off). Against the swing between neighbouring epochs that
    # GPU run v9 showed on the real clip (100 %, 69 %, 95 % localised hits).
    ema: float = 0.0
    # Weight of the loss on each frame's strongest off-needle shaft pixels (``hard_negative_term``):
    # against the lines the tracker would turn into false needles (0: off, as before v18).
    hard_negative_weight: float = 0.0
    # Labelled clips (e.g. ``usguide evaluate --suite selection``) on which each epoch's model runs
    # through the product's analyzer: the epoch with the most localised hits minus needle-free
    # false positives there is exported, instead of the one with the lowest validation loss.
    select_cases: Path | None = None
    keep_epochs: bool = False  # also write each epoch's model, e.g. needle_v25.epoch003.onnx
    cache_dir: Path = field(default_factory=data_mod.cache_dir_default)

    def resolved_log_path(self) -> Path:
        return self.log_path or self.out.parent / "training_log.json"


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


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
                    int(dataset.images.shape[1]),
                    distractor_fraction=config.distractor_fraction,
                    backgrounds=config.composite_backgrounds,
                    edge_entry=config.composite_edge_entry,
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
            self._order = (epoch, epoch_order(self.visible, rng, self.absent_fraction))
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
        worker_init_fn=worker_init,
        multiprocessing_context=data_mod.clean_start_method(),
    )
    yield from loader


def weight_average(model: torch.nn.Module, decay: float):
    """An exponential moving average of ``model``'s weights and buffers, or None for ``decay`` 0."""
    if decay <= 0:
        return None
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def train(config: TrainConfig, progress: Callable[[str], None] = print) -> dict:
    """Runs the whole recipe and returns the training log (also written to disk)."""
    wall_start = time.perf_counter()
    torch.manual_seed(config.seed)
    device = pick_device(config.device)
    precision = resolve_precision(config.precision, device)
    torch.set_num_threads(config.threads or min(2, os.cpu_count() or 1))
    model = NeedleNet(config.width)
    if config.init is not None:  # before the data: a wrong model fails in seconds, not minutes
        load_onnx_weights(model, config.init)
        progress(f"starting from {config.init} (batch norms frozen)")
    selector = None
    if config.select_cases is not None:  # the same: a folder without clips fails at once
        selector = CaseSelector(config.select_cases, config.threads)
        progress(f"choosing the epoch on {len(selector.clips)} clips in {config.select_cases}")
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
    val_batches = fixed_batches(val_set, config.tip_sigma)
    composite_val, composite_batches = None, []
    if config.composite_val > 0:
        composite_val = composite_validation(
            config.input_size, config.composite_val, config.distractor_fraction
        )
        composite_batches = fixed_batches(composite_val, config.tip_sigma)
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
    metadata = model_metadata(
        config.input_size, training_data, config.tip_sigma, model_version(config.out)
    )

    model = model.to(device)
    layout = torch.channels_last if channels_last(device) else torch.contiguous_format
    model = model.to(memory_format=layout)
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
        "machine": machine_info(device, precision),
        "training_data": training_data,
        "data_seconds": round(data_seconds, 1),
        "epochs": [],
    }
    if selector is not None and config.init is not None:  # the mark each epoch has to beat
        log["selection_of_init"] = selector.score(config.init).as_dict()
        progress(f"selection of {config.init}: {log['selection_of_init']['value']:.3f}")
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed input size: let cuDNN pick its fastest convs
    stream = _batch_stream(batches, config.workers, pin=device.type == "cuda")
    averaged = weight_average(model, config.ema)
    judged = model if averaged is None else averaged.module  # what is validated and exported
    best: tuple[float, float] = (-math.inf, -math.inf)  # larger is better: (selection, -loss)
    step, epoch = 0, 0
    candidate = config.out.with_name(config.out.stem + ".candidate.onnx")
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
            with autocast(precision, device):
                logits = model.logits(x.contiguous(memory_format=layout))
            # The losses in float32: bfloat16's 8-bit mantissa would round small terms away.
            terms = loss_terms(logits.float(), shaft_t, tip_t, config.hard_negative_weight)
            loss = sum(terms.values())
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            if averaged is not None:
                averaged.update_parameters(model)
            for key, value in terms.items():
                sums[key] = sums.get(key, 0.0) + value.detach()
            n_batches += 1
            step += 1
        if config.epochs and epoch >= config.epochs:
            done = True
        if n_batches == 0:
            break
        metrics = evaluate(judged, val_set, device, val_batches)
        score = metrics["loss"]
        extra = ""
        if composite_val is not None:
            composite = evaluate_composites(judged, composite_val, device, composite_batches)
            metrics["composite"] = {k: _rounded(v) for k, v in composite.items()}
            score += composite["loss"]
            extra = f"  composite {composite['loss']:.4f} hit {_fraction(composite['hit'])}"
            extra += f" fp {_fraction(composite['fp'])}"
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
        rank = (0.0, -score)
        if selector is not None:
            export_onnx(judged, candidate, metadata, config.input_size)
            chosen = selector.score(candidate)
            entry["selection"] = chosen.as_dict()
            rank = (chosen.value, -score)
            extra += f"  selection {chosen.value:.3f}"
        if config.keep_epochs:  # every epoch beside the chosen one, to compare or mix later
            epoch_file = config.out.with_name(f"{config.out.stem}.epoch{epoch:03d}.onnx")
            export_onnx(judged, epoch_file, metadata, config.input_size)
        exported = rank > best
        if exported:
            best = rank
            if selector is not None:
                candidate.replace(config.out)
            else:
                export_onnx(judged, config.out, metadata, config.input_size)
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
    candidate.unlink(missing_ok=True)
    log["total_steps"] = step
    log["wall_seconds"] = round(time.perf_counter() - wall_start, 1)
    _write_log(config.resolved_log_path(), log)
    progress(
        f"wrote {config.out} (best epoch {log.get('best_epoch')}) in {log['wall_seconds']:.0f} s"
    )
    return log


def _fraction(value: float | None) -> str:
    # None: the painted set had no sample of that kind (a tiny --composite-val)
    return "-" if value is None else f"{value:.3f}"


def _rounded(value):
    return round(value, 5) if isinstance(value, float) else value


def _write_log(path: Path, log: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(log, indent=2) + "\n")
