"""Map-level validation metrics (numpy only): frame recall, false positives, Dice, tip, angle.

These judge the raw network maps during training and when comparing fp32 with int8; the product's
own figures come from ``usguide evaluate`` after post-processing.
"""

from __future__ import annotations

import math

import numpy as np

MIN_PIXELS = 8  # shaft-map pixels above 0.5 that make a frame "needle found"


def shaft_angle(prob: np.ndarray, mm_xy: tuple[float, float], threshold: float = 0.5) -> float:
    """Angle (degrees to the x axis, 0..90) of the weighted principal axis of the shaft pixels."""
    ys, xs = np.nonzero(prob > threshold)
    if len(xs) < 3:
        return math.nan
    weights = prob[ys, xs]
    pts = np.stack([xs * mm_xy[0], ys * mm_xy[1]], 1)
    mean = (pts * weights[:, None]).sum(0) / weights.sum()
    cov = ((pts - mean) * weights[:, None]).T @ (pts - mean)
    _, vecs = np.linalg.eigh(cov)
    dx, dy = vecs[:, 1]
    return math.degrees(math.atan2(abs(dy), abs(dx)))


class MapMetrics:
    """Accumulates per-frame results; ``summary()`` gives the figures."""

    def __init__(self) -> None:
        self.tp = self.fn = self.fp = self.tn = 0
        self.inter = self.sum_pred = self.sum_target = 0.0
        self.tip_err: list[float] = []
        self.angle_err: list[float] = []

    def add(
        self,
        shaft: np.ndarray,
        tip_map: np.ndarray | None,
        shaft_target: np.ndarray,
        visible: bool,
        tip: tuple[float, float],
        angle: float,
        mm_per_map_px: tuple[float, float],
        map_stride: float,
    ) -> None:
        """One frame. ``tip`` is in model-input pixels (-1 absent); maps are at 1/``map_stride``."""
        found = int((shaft > 0.5).sum()) >= MIN_PIXELS
        if not visible:
            self.fp += found
            self.tn += not found
            return
        self.tp += found
        self.fn += not found
        self.inter += float((shaft * shaft_target).sum())
        self.sum_pred += float(shaft.sum())
        self.sum_target += float(shaft_target.sum())
        if not found:
            return
        if tip_map is not None and tip[0] >= 0:
            v, u = np.unravel_index(int(np.argmax(tip_map)), tip_map.shape)
            tx, ty = (u + 0.5) * map_stride - 0.5, (v + 0.5) * map_stride - 0.5
            mm_in = (mm_per_map_px[0] / map_stride, mm_per_map_px[1] / map_stride)
            self.tip_err.append(math.hypot((tx - tip[0]) * mm_in[0], (ty - tip[1]) * mm_in[1]))
        if not math.isnan(angle):
            err = abs(shaft_angle(shaft, mm_per_map_px) - angle)
            if not math.isnan(err):
                self.angle_err.append(err)

    def summary(self) -> dict:
        return {
            "recall": self.tp / max(1, self.tp + self.fn),
            "fp_rate": self.fp / max(1, self.fp + self.tn),
            "shaft_dice": 2 * self.inter / max(1e-6, self.sum_pred + self.sum_target),
            "tip_median_mm": float(np.median(self.tip_err)) if self.tip_err else None,
            "angle_median_deg": float(np.median(self.angle_err)) if self.angle_err else None,
            "n_visible": self.tp + self.fn,
            "n_absent": self.fp + self.tn,
        }
