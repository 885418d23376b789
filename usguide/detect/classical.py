"""The classical (no learning) needle detector: an oriented ridge filter bank with needle priors.

It is the fallback (``--detector classical``) and the baseline that evaluation compares the model
against. Bright straight tissue interfaces (fascia, bone) look like needles to a ridge filter; the
priors here (insertion angle, thinness, the shaft ending inside the image, motion) push them down.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from usguide.detect.base import Detector, NeedleMaps
from usguide.detect.imaged import lit_hull, run_to_edge
from usguide.detect.postprocess import PostprocessConfig, fit_shaft

_BORDER_PX = 3  # map pixels cleared along the region border
# Below this share of the frame inside the hull of its lit pixels, the frame is water, not a fan.
_WATER_FRACTION = 0.15


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


def angle_prior(theta: float) -> float:
    """Weight of a line orientation (radians, image x axis) as a needle direction, 0..1.

    Needles go in at 10-70 degrees to the probe face; near-horizontal lines are the probe face and
    tissue layers, near-vertical ones are shadow edges and the fan sides of convex images.
    """
    probe_deg = math.degrees(min(theta % math.pi, math.pi - theta % math.pi))
    rise = np.clip((probe_deg - 4.0) / 10.0, 0.0, 1.0)  # 0 at <= 4 deg, 1 from 14 deg
    fall = np.clip((84.0 - probe_deg) / 10.0, 0.0, 1.0)  # 1 up to 74 deg, 0 from 84 deg
    return float(rise * fall)


class ClassicalDetector(Detector):
    """Steerable second-derivative ridge filter bank, needle priors and a line-level check.

    Steps (on the region downscaled by ``input_scale``): Gaussian smoothing (speckle suppression) →
    Hessian → for each of ``angles`` orientations, the second derivative across the line (bright
    ridges only) averaged along the line over ``line_length`` pixels → maximum over orientations,
    weighted by the insertion-angle prior → robust z-score against the imaged area's own response
    (median/MAD over the pixels that are image, not the black outside a convex fan) → 0..1
    evidence. Then a line-level check: lines fitted to the evidence that run from one side of the
    image to the other (tissue layers, bone) are erased, up to ``max_rejections`` of them. A needle
    ends inside the tissue at its tip.

    No tip map: the post-processing takes the deeper end as the tip.

    Args:
        input_scale: region downscale factor before filtering (like the ONNX model's); None:
            automatic, so that the longer side of the filtered image is 320 px.
        angles: number of orientations in the bank.
        line_length: along-line averaging length in downscaled pixels (odd; <= 11 keeps OpenCV's
            direct, fast convolution).
        sigma: Gaussian smoothing in downscaled pixels.
        z_low: z-score mapped to evidence 0.
        z_high: smallest z-score mapped to evidence 1 (the 99.9th percentile when higher).
        max_rejections: layer-like lines erased per frame.
    """

    name = "classical"

    def __init__(
        self,
        input_scale: float | None = None,
        angles: int = 12,
        line_length: int = 11,
        sigma: float = 1.5,
        z_low: float = 3.0,
        z_high: float = 8.0,
        max_rejections: int = 5,
        hold_decay: float = 2.0,
        credit_decay: float = 0.97,
        static_weight: float = 0.5,
        min_motion: float = 0.5,
        z_cap: float = 8.0,
    ) -> None:
        if input_scale is not None and not 0.05 <= input_scale <= 1.0:
            raise ValueError("input_scale must be in 0.05..1")
        self.input_scale = input_scale
        self.target_side = 320
        self.sigma = float(sigma)
        self.z_low = float(z_low)
        self.z_high = float(z_high)
        self.max_rejections = int(max_rejections)
        self._bank = [
            (theta, kernel, angle_prior(theta))
            for theta, kernel in _line_kernels(angles, line_length | 1)
        ]
        self.postprocess_config = PostprocessConfig()
        # Candidate lines are only screened here; a lighter fit is enough and keeps the time down.
        self._screen_config = PostprocessConfig(ransac_iterations=48, max_points=1500)
        self.hold_decay = hold_decay
        self.credit_decay = credit_decay
        self.static_weight = static_weight
        self.min_motion = min_motion
        self.z_cap = z_cap
        self.reset()

    def reset(self) -> None:
        """Forgets the motion memory (new clip, seek, new source)."""
        self._held: np.ndarray | None = None
        self._credit: np.ndarray | None = None

    def infer(self, region: np.ndarray) -> NeedleMaps:
        """Returns the shaft evidence map (reduced resolution, 0..1) for a grey uint8 region."""
        height, width = region.shape[:2]
        scale = self.input_scale or min(1.0, self.target_side / max(width, height))
        map_w = max(8, round(width * scale))
        map_h = max(8, round(height * scale))
        small = cv2.resize(region, (map_w, map_h), interpolation=cv2.INTER_AREA).astype(np.float32)
        smooth = cv2.GaussianBlur(small, (0, 0), self.sigma)
        valid = self._imaged(smooth)
        best = self._ridge(smooth)
        best *= self._motion_weight(smooth, valid)
        shaft = self._evidence(best, valid)
        shaft *= valid
        border = _BORDER_PX
        shaft[:border], shaft[-border:], shaft[:, :border], shaft[:, -border:] = 0, 0, 0, 0
        maps = NeedleMaps(
            shaft=shaft.astype(np.float32),
            tip=None,
            scale_x=width / map_w,
            scale_y=height / map_h,
        )
        self._erase_layers(maps, valid, (width, height))
        return maps

    def _motion_weight(self, smooth: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Per-pixel weight static_weight..1: 1 where new bright structure appeared recently.

        A peak-hold image (decaying by ``hold_decay`` grey levels a frame, dilated so that hand
        jitter and breathing do not count as change) remembers what was bright; a pixel brighter
        than anything held around it is new, like the shaft behind an advancing tip. The credit
        decays slowly (``credit_decay`` a frame), so a needle that paused keeps its advantage
        over layers that never moved.
        """
        if self._held is None or self._held.shape != smooth.shape:
            self._held = smooth.copy()
            self._credit = np.zeros_like(smooth)
        held = cv2.dilate(self._held, np.ones((3, 5), np.uint8))
        fresh = cv2.GaussianBlur(np.maximum(smooth - held, 0.0) * valid, (0, 0), 1.0)
        level = max(float(np.percentile(fresh, 99.5)), 4.0)
        fresh = np.clip(fresh / level, 0.0, 1.0)
        self._credit = np.maximum(self._credit * self.credit_decay, fresh)
        self._held = np.maximum(self._held - self.hold_decay, smooth)
        credit = cv2.dilate(self._credit, np.ones((3, 3), np.uint8))
        return self.static_weight + (1.0 - self.static_weight) * credit

    def _imaged(self, smooth: np.ndarray) -> np.ndarray:
        """Mask (float 0/1) of the imaged area: not the black outside a fan or a screen's margin.

        The area is the convex hull of everything above black (fans and screen regions are
        convex), not those pixels themselves: water and anechoic gel image black too, and a
        needle lying in them must stay inside the mask.
        """
        lit = smooth > 3.0
        if not lit.any():
            return np.zeros(smooth.shape, np.float32)
        mask = lit_hull(lit, _WATER_FRACTION)
        if mask.all():  # a water bath (or an image filling the region): all imaged
            return np.ones(smooth.shape, np.float32)
        mask = cv2.erode(mask, np.ones((5, 5), np.uint8), borderType=cv2.BORDER_REPLICATE)
        return mask.astype(np.float32)

    def _ridge(self, smooth: np.ndarray) -> np.ndarray:
        """Angle-weighted oriented ridge response, maximum over the bank."""
        gxx = cv2.Sobel(smooth, cv2.CV_32F, 2, 0, ksize=3)
        gyy = cv2.Sobel(smooth, cv2.CV_32F, 0, 2, ksize=3)
        gxy = cv2.Sobel(smooth, cv2.CV_32F, 1, 1, ksize=3)
        best: np.ndarray | None = None
        for theta, kernel, prior in self._bank:
            # Normal to a line at angle theta; a bright ridge curves down across it.
            nx, ny = -math.sin(theta), math.cos(theta)
            across = -(nx * nx * gxx + (2.0 * nx * ny) * gxy + ny * ny * gyy)
            np.maximum(across, 0.0, out=across)
            along = cv2.filter2D(across, -1, kernel, borderType=cv2.BORDER_REPLICATE)
            along *= prior
            best = along if best is None else np.maximum(best, along, out=best)
        assert best is not None
        return best

    def _evidence(self, best: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Robust z-score over the imaged area, scaled to the strongest ridges, clipped to 0..1."""
        inside = best[valid > 0]
        if inside.size < 64:
            inside = best.ravel()
        median = float(np.median(inside))
        spread = 1.4826 * float(np.median(np.abs(inside - median)))
        # A floor keeps a blank or nearly uniform region from turning rounding noise into evidence.
        spread = max(spread, 0.5)
        z_score = (best - median) / spread
        # Scale to the strongest ridges: along-line averaging ramps the response down over half a
        # kernel past a shaft's end, and the half-way point of that ramp (evidence 0.5, the
        # post-processing threshold) is the true end only when the shaft is not saturated.
        rank = max(1, inside.size // 1000)  # the 99.9th percentile
        strongest = float(np.partition(((inside - median) / spread).ravel(), -rank)[-rank])
        top = max(self.z_high, min(strongest, self.z_cap))
        return np.clip((z_score - self.z_low) / (top - self.z_low), 0.0, 1.0)

    def _erase_layers(
        self, maps: NeedleMaps, valid: np.ndarray, region_size: tuple[int, int]
    ) -> None:
        """Erases (in place) fitted lines that run across the imaged area from side to side."""
        if self.min_motion > 0 and float(self._credit.max()) < self.min_motion:
            maps.shaft[:] = 0.0  # nothing moved recently: no needle to confirm
            return
        for _ in range(self.max_rejections):
            fit = fit_shaft(maps, region_size, self._screen_config)
            if fit is None:
                return
            ends = (np.array(fit.tip), np.array(fit.entry))
            direction = ends[0] - ends[1]
            direction /= max(float(np.hypot(*direction)), 1e-9)
            reach = [
                run_to_edge(valid, end, sign * direction, maps.scale_x, maps.scale_y)
                for end, sign in zip(ends, (1.0, -1.0), strict=True)
            ]
            span = float(np.hypot(*(ends[0] - ends[1])))
            steep = 6.0 <= fit.angle_deg <= 84.0
            moved = _band_max(self._credit, ends[1], ends[0], maps.scale_x, maps.scale_y)
            inside = max(reach) > 0.08 * (span + sum(reach))
            if steep and inside and moved >= self.min_motion:
                return  # one end stops inside the image and it moved: a needle, not a layer
            _erase_band(maps, ends[1], ends[0])
        if self.min_motion > 0:
            maps.shaft[:] = 0.0  # nothing needle-like that moved


def _band_max(image: np.ndarray, start: np.ndarray, end: np.ndarray, sx: float, sy: float) -> float:
    """Largest value of a map-resolution image in a band a few map pixels wide along a segment."""
    mask = np.zeros(image.shape, np.uint8)
    a = ((start[0] + 0.5) / sx - 0.5, (start[1] + 0.5) / sy - 0.5)
    b = ((end[0] + 0.5) / sx - 0.5, (end[1] + 0.5) / sy - 0.5)
    cv2.line(mask, (round(a[0]), round(a[1])), (round(b[0]), round(b[1])), 1, 5)
    values = image[mask > 0]
    return float(values.max()) if values.size else 0.0


def _erase_band(maps: NeedleMaps, start: np.ndarray, end: np.ndarray) -> None:
    """Clears the evidence in a band a few map pixels wide around a segment (extended a little)."""
    sx, sy = maps.scale_x, maps.scale_y
    a = ((start[0] + 0.5) / sx - 0.5, (start[1] + 0.5) / sy - 0.5)
    b = ((end[0] + 0.5) / sx - 0.5, (end[1] + 0.5) / sy - 0.5)
    cv2.line(maps.shaft, (round(a[0]), round(a[1])), (round(b[0]), round(b[1])), 0.0, 7)
