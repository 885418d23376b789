"""Training and validation batches: augment, normalise levels, build the map targets; each epoch's
sample order and the set-up of the processes that build them."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from usguide.detect.model_input import normalise_levels
from usguide.training import data as data_mod
from usguide.training.augment import augment
from usguide.training.model import OUTPUT_STRIDE


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


def worker_init(_worker_id: int) -> None:
    """A DataLoader worker's set-up: one thread for torch and OpenCV."""
    # One batch at a time per worker: torch or OpenCV thread pools of their own would oversubscribe.
    torch.set_num_threads(1)
    cv2.setNumThreads(1)


def epoch_order(visible: np.ndarray, rng, absent_fraction: float) -> np.ndarray:
    """One epoch of sample indices, re-weighted so needle-free frames make ``absent_fraction``."""
    absent = ~visible
    n_absent, n = int(absent.sum()), len(visible)
    if n_absent == 0 or n_absent == n:
        return rng.permutation(n)
    weights = np.where(absent, absent_fraction / n_absent, (1 - absent_fraction) / (n - n_absent))
    return rng.choice(n, size=n, replace=True, p=weights / weights.sum())
