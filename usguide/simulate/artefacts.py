"""Acquisition artefacts: gain and dynamic-range changes, resizing blur, JPEG-like compression."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class Artefacts:
    """Degradations fixed per clip (gain drifts slowly over the clip)."""

    gain_step_db: float
    gain_step_frame: int
    dr_change: float
    resize: float  # < 1: downscale then upscale (blur); 1: none
    jpeg_quality: int  # 0: none

    def gain_db(self, index: int) -> float:
        return self.gain_step_db if index >= self.gain_step_frame else 0.0

    def apply(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h, w = image.shape[:2]
        if self.resize < 0.99:
            small = cv2.resize(
                image,
                (max(8, int(w * self.resize)), max(8, int(h * self.resize))),
                interpolation=cv2.INTER_AREA,
            )
            image = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        if self.jpeg_quality:
            ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
            if ok:
                image = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
        return image


def random_artefacts(rng: np.random.Generator) -> Artefacts:
    return Artefacts(
        gain_step_db=float(rng.uniform(-6, 6)) if rng.random() < 0.4 else 0.0,
        gain_step_frame=int(rng.integers(0, 200)),
        dr_change=float(rng.uniform(-8, 8)),
        resize=float(rng.uniform(0.5, 0.95)) if rng.random() < 0.5 else 1.0,
        jpeg_quality=int(rng.integers(35, 92)) if rng.random() < 0.6 else 0,
    )
