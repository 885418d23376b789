"""The classical (no learning) needle detector: an oriented ridge filter bank.

It is the fallback (``--detector classical``) and the baseline that evaluation compares the model
against. It finds bright straight lines; tissue interfaces (fascia, bone) are bright straight lines
too, so it locks onto them when they are stronger than the needle. That is its known limitation.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from usguide.detect.base import Detector, NeedleMaps

_BORDER_PX = 3  # map pixels cleared along the region border


def _line_kernels(count: int, length: int) -> list[tuple[float, np.ndarray]]:
    """Normalised one-pixel line kernels at ``count`` angles over 180 degrees (angle in radians)."""
    kernels = []
    centre = length // 2
    for index in range(count):
        theta = math.pi * index / count
        dx, dy = math.cos(theta), math.sin(theta)
        kernel = np.zeros((length, length), np.float32)
        cv2.line(
            kernel,
            (round(centre - dx * centre), round(centre - dy * centre)),
            (round(centre + dx * centre), round(centre + dy * centre)),
            1.0,
            1,
        )
        kernels.append((theta, kernel / kernel.sum()))
    return kernels


class ClassicalDetector(Detector):
    """Steerable second-derivative ridge filter bank with along-line averaging.

    Steps (on the region downscaled by ``input_scale``): Gaussian smoothing (speckle suppression) →
    Hessian (Gxx, Gxy, Gyy) → for each of ``angles`` orientations, the second derivative across the
    line (steered from the Hessian, bright ridges only) averaged along the line over ``line_length``
    pixels (speckle is short, shafts are long) → maximum over orientations → robust z-score against
    the image's own response distribution (median/MAD: gain independent, flat speckle scores low) →
    mapped to 0..1 evidence. No tip map: the post-processing takes the deeper end as the tip.

    Args:
        input_scale: region downscale factor before filtering (like the ONNX model's); None:
            automatic, so that the longer side of the filtered image is 320 px (speed and a
            filter scale that does not depend on the frame size).
        angles: number of orientations in the bank.
        line_length: along-line averaging length in downscaled pixels (odd; <= 11 keeps OpenCV's
            direct, fast convolution).
        sigma: Gaussian smoothing in downscaled pixels.
        z_low: z-score mapped to evidence 0.
        z_high: smallest z-score mapped to evidence 1 (the 99.9th percentile when higher).
    """

    name = "classical"

    def __init__(
        self,
        input_scale: float | None = None,
        angles: int = 12,
        line_length: int = 11,
        sigma: float = 1.5,
        z_low: float = 4.0,
        z_high: float = 16.0,
    ) -> None:
        if input_scale is not None and not 0.05 <= input_scale <= 1.0:
            raise ValueError("input_scale must be in 0.05..1")
        self.input_scale = input_scale
        self.target_side = 320
        self.sigma = float(sigma)
        self.z_low = float(z_low)
        self.z_high = float(z_high)
        self._bank = _line_kernels(angles, line_length | 1)

    def infer(self, region: np.ndarray) -> NeedleMaps:
        """Returns the shaft evidence map (reduced resolution, 0..1) for a grey uint8 region."""
        height, width = region.shape[:2]
        scale = self.input_scale or min(1.0, self.target_side / max(width, height))
        map_w = max(8, round(width * scale))
        map_h = max(8, round(height * scale))
        small = cv2.resize(region, (map_w, map_h), interpolation=cv2.INTER_AREA).astype(np.float32)
        smooth = cv2.GaussianBlur(small, (0, 0), self.sigma)
        gxx = cv2.Sobel(smooth, cv2.CV_32F, 2, 0, ksize=3)
        gyy = cv2.Sobel(smooth, cv2.CV_32F, 0, 2, ksize=3)
        gxy = cv2.Sobel(smooth, cv2.CV_32F, 1, 1, ksize=3)
        best: np.ndarray | None = None
        for theta, kernel in self._bank:
            # Normal to a line at angle theta; a bright ridge curves down across it.
            nx, ny = -math.sin(theta), math.cos(theta)
            across = -(nx * nx * gxx + (2.0 * nx * ny) * gxy + ny * ny * gyy)
            np.maximum(across, 0.0, out=across)
            along = cv2.filter2D(across, -1, kernel, borderType=cv2.BORDER_REPLICATE)
            best = along if best is None else np.maximum(best, along, out=best)
        assert best is not None
        median = float(np.median(best))
        spread = 1.4826 * float(np.median(np.abs(best - median)))
        # A floor keeps a blank or nearly uniform region from turning rounding noise into evidence.
        spread = max(spread, 0.5)
        z_score = (best - median) / spread
        # Scale to the strongest ridges in the image: along-line averaging ramps the response down
        # over half a kernel past a shaft's end, and the half-way point of that ramp (evidence 0.5,
        # the post-processing threshold) is the true end only when the shaft is not saturated.
        rank = max(1, z_score.size // 1000)  # the 99.9th percentile
        strongest = float(np.partition(z_score.ravel(), -rank)[-rank])
        top = max(self.z_high, strongest)
        shaft = np.clip((z_score - self.z_low) / (top - self.z_low), 0.0, 1.0)
        # The region's own border (probe face, frame edge, UI lines) is a strong straight edge that
        # is never the needle; the post-processing extends a shaft to the edge anyway.
        border = _BORDER_PX
        shaft[:border], shaft[-border:], shaft[:, :border], shaft[:, -border:] = 0, 0, 0, 0
        return NeedleMaps(
            shaft=shaft.astype(np.float32),
            tip=None,
            scale_x=width / map_w,
            scale_y=height / map_h,
        )
