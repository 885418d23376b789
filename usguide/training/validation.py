"""Validation during training: the simulator's held-out clips and a fixed painted set.

Both are scored every epoch on un-augmented batches built once per run; their summed loss picks
the epoch that is exported.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F

from usguide.training.batches import make_batch
from usguide.training.composite import Compositor
from usguide.training.metrics import MapMetrics
from usguide.training.model import OUTPUT_STRIDE

SHAFT_POS_WEIGHT = 10.0
HARD_NEGATIVE_PIXELS = 32  # the k strongest off-needle shaft pixels of each frame
HARD_NEGATIVE_MARGIN = 3  # map pixels around the true shaft that are never a hard negative


def hard_negative_term(shaft_logit: torch.Tensor, shaft_t: torch.Tensor) -> torch.Tensor:
    """BCE towards 0 on each frame's ``HARD_NEGATIVE_PIXELS`` strongest pixels away from the shaft.

    The pixel BCE averages a false line's few dozen pixels into a whole frame and barely hears
    them, yet one such line is what the tracker turns into a confident false needle (a fascia,
    a muscle stripe); this term is spent on exactly those pixels.
    """
    size = 2 * HARD_NEGATIVE_MARGIN + 1
    near = F.max_pool2d(shaft_t[:, None], size, stride=1, padding=HARD_NEGATIVE_MARGIN)[:, 0]
    away = shaft_logit.masked_fill(near > 0, -1e4).flatten(1)
    top = away.topk(min(HARD_NEGATIVE_PIXELS, away.shape[1]), dim=1).values
    return F.softplus(top).mean()  # softplus(z) = BCE(z, target 0)


def loss_terms(
    logits: torch.Tensor,
    shaft_t: torch.Tensor,
    tip_t: torch.Tensor,
    hard_negative_weight: float = 0.0,
) -> dict:
    """Weighted BCE + soft Dice on the shaft; BCE weighted towards the peak on the tip heatmap.

    Shaft pixels are ~0.5 % of a frame: unweighted BCE lets the net sit at "no needle anywhere",
    where the Dice gradient vanishes (saturated sigmoid); the weight keeps positives heard.
    ``hard_negative_weight`` adds ``hard_negative_term`` (a "hard" entry, 0: left out).
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
    terms = {"bce": bce, "dice": dice.mean(), "tip": 5.0 * tip}
    if hard_negative_weight > 0:
        terms["hard"] = hard_negative_weight * hard_negative_term(shaft_logit, shaft_t)
    return terms


def fixed_batches(dataset, tip_sigma: float, batch_size: int = 32) -> list[tuple]:
    """Un-augmented ``(indices, image, shaft target, tip target)`` batches of a validation set.

    Built once per run: they are the same every epoch, and building them (level normalisation,
    targets) cost as much as a fast device's training epoch.
    """
    count = len(dataset.images)
    return [
        (idx, *make_batch(dataset, idx, None, tip_sigma, train=False))
        for idx in (
            np.arange(start, min(start + batch_size, count))
            for start in range(0, count, batch_size)
        )
    ]


@torch.no_grad()
def evaluate(model, dataset, device, batches: list[tuple]) -> dict:
    """Validation loss and map metrics on un-augmented frames (``batches``: ``fixed_batches``)."""
    model.eval()
    metrics = MapMetrics()
    loss_sum = 0.0
    for idx, x, shaft_t, tip_t in batches:
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
def evaluate_composites(model, frames: SimpleNamespace, device, batches: list[tuple]) -> dict:
    """Loss on the composite validation set, and how often the shaft map fires at all (>= 0.5)
    on its needles (``hit``) and on its needle-free samples (``fp``)."""
    model.eval()
    loss_sum, fired = 0.0, []
    count = len(frames.images)
    for idx, x, shaft_t, tip_t in batches:
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
