"""NeedleMaps → one needle shaft: weighted RANSAC line, extent, tip/entry, angle and confidence.

Used identically for the ONNX model and the classical detector, so their outputs are comparable.
All geometry here is in image-region pixels; ``ShaftFit.to_needle`` maps to full-frame pixels.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from usguide.detect.base import NeedleMaps
from usguide.detect.shaft_ends import TipSearch, orient_shaft, snap_entry
from usguide.geometry import probe_angle_deg
from usguide.types import Needle, Point, Roi

__all__ = ["PostprocessConfig", "ShaftFit", "fit_shaft", "probe_angle_deg"]


@dataclass(frozen=True)
class PostprocessConfig:
    """Tuning of the shaft fit. Distances are in image-region pixels.

    Attributes:
        threshold: shaft probability above which a map pixel is evidence.
        min_length_px: shorter segments are rejected as blobs or noise.
        inlier_px: RANSAC inlier distance to the line.
        max_gap_px: gaps along the line longer than this split the shaft into pieces (largest wins).
        min_fill: fraction of the fitted segment that must be covered by evidence.
        min_confidence: fits below this confidence are dropped.
        tip_threshold: minimum tip-heatmap peak for the tip map to decide the direction.
        tip_search_px: how far from the line (perpendicular) a tip peak may lie.
        entry_snap_px: a visible start this close to the region edge snaps onto the edge.
        ransac_iterations: hypotheses per fit (deterministic seed: same maps, same answer).
        max_points: evidence pixels beyond this are subsampled (weighted) for speed.
        clean_fraction: when this fraction of the evidence weight already lies on the weighted
            PCA line of all the evidence, that line replaces RANSAC's (a clean map has no outliers
            to reject, and the fit is about half as costly); above 1 RANSAC always runs.

    ``min_length_px`` and ``max_gap_px`` were chosen on the development set (seed 700000, never the
    held-out set) with model v4, whose maps are more continuous than v3's: 25 and 60 gave 70.7 %
    recall and 85.4 % precision there against 66.9 % and 83.9 % with the former 30 and 40.
    """

    threshold: float = 0.5
    min_length_px: float = 25.0
    inlier_px: float = 3.0
    max_gap_px: float = 60.0
    min_fill: float = 0.35
    min_confidence: float = 0.05
    tip_threshold: float = 0.3
    tip_search_px: float = 12.0
    entry_snap_px: float = 25.0
    ransac_iterations: int = 96
    max_points: int = 3000
    clean_fraction: float = 0.98

    def tip_search(self) -> TipSearch:
        """The part of this tuning that decides and places the tip (``shaft_ends``)."""
        return TipSearch(self.tip_threshold, self.tip_search_px, self.max_gap_px)


@dataclass(frozen=True)
class ShaftFit:
    """A fitted shaft in image-region pixels."""

    tip: Point  # image-region pixels
    entry: Point
    angle_deg: float  # relative to the probe face (horizontal), 0..90
    confidence: float
    length_px: float
    inliers: int
    tip_from_map: bool  # True when the tip heatmap decided the direction

    def to_needle(self, roi: Roi | None) -> Needle:
        """The fit as a ``Needle`` in full-frame pixels (``roi`` None: region == frame)."""
        dx, dy = (roi.x, roi.y) if roi is not None else (0, 0)
        return Needle(
            tip=Point(self.tip[0] + dx, self.tip[1] + dy),
            entry=Point(self.entry[0] + dx, self.entry[1] + dy),
            confidence=float(self.confidence),
            angle_deg=float(self.angle_deg),
        )


def fit_shaft(
    maps: NeedleMaps,
    region_size: tuple[int, int] | None = None,
    config: PostprocessConfig | None = None,
) -> ShaftFit | None:
    """Finds the needle shaft in the maps, or None when nothing needle-like is there.

    Args:
        maps: detector output (any resolution; ``scale_x/scale_y`` map it to region pixels).
        region_size: (width, height) of the image region; default: map size times scale.
        config: tuning; default ``PostprocessConfig()``.
    """
    # This runs on the frame path for every frame, on maps of a few hundred evidence pixels, where
    # each numpy call costs more than its arithmetic: scalars stay Python floats and each step is a
    # handful of whole-array operations.
    cfg = config or _DEFAULT_CONFIG
    shaft = np.asarray(maps.shaft, dtype=np.float32)
    map_h, map_w = shaft.shape
    sx, sy = float(maps.scale_x), float(maps.scale_y)
    width, height = region_size or (map_w * sx, map_h * sy)

    points, weights = _evidence(shaft, cfg.threshold, sx, sy)
    if len(weights) < 3:
        return None
    total_weight = float(weights.sum())
    if len(points) > cfg.max_points:
        rng = np.random.default_rng(12345)
        keep = rng.choice(len(points), cfg.max_points, replace=False, p=weights / total_weight)
        points, weights = points[keep], weights[keep]
        total_weight = float(weights.sum())

    # Map pixels are coarse: the inlier band must be at least about one map pixel wide.
    inlier_px = max(cfg.inlier_px, 1.5 * max(sx, sy))
    line = _fit_line(points, weights, total_weight, inlier_px, cfg)
    if line is None:
        return None
    centre, direction, inl = line
    inlier_points, inlier_weights = points[inl], weights[inl]

    along = inlier_points @ direction - (centre @ direction)
    along_piece, piece_weight = _largest_piece(along, inlier_weights, cfg.max_gap_px)
    if along_piece.size < 3:
        return None
    lo, hi = _sorted_quantile(along_piece, 0.01), _sorted_quantile(along_piece, 0.99)
    length = hi - lo
    if length < cfg.min_length_px:
        return None
    cx, cy = float(centre[0]), float(centre[1])
    ux, uy = float(direction[0]), float(direction[1])
    end_a = Point(cx + lo * ux, cy + lo * uy)
    end_b = Point(cx + hi * ux, cy + hi * uy)

    fill, mean_prob = _segment_evidence(shaft, end_a, end_b, sx, sy, cfg.threshold)
    if fill < cfg.min_fill:
        return None
    support = piece_weight / total_weight
    length_factor = min(1.0, length / (2.0 * cfg.min_length_px))
    confidence = min(1.0, max(0.0, mean_prob * math.sqrt(support) * length_factor))
    if confidence < cfg.min_confidence:
        return None

    tip, entry, from_map = orient_shaft(end_a, end_b, maps, sx, sy, width, height, cfg.tip_search())
    entry = snap_entry(entry, tip, width, height, cfg.entry_snap_px)
    return ShaftFit(
        tip=tip,
        entry=entry,
        angle_deg=probe_angle_deg(tip[0] - entry[0], tip[1] - entry[1]),
        confidence=confidence,
        length_px=length,
        inliers=int(along_piece.size),
        tip_from_map=from_map,
    )


_DEFAULT_CONFIG = PostprocessConfig()


def _evidence(
    shaft: np.ndarray, threshold: float, sx: float, sy: float
) -> tuple[np.ndarray, np.ndarray]:
    """Map pixels at or above ``threshold``: (N, 2) centres in region pixels and their weights."""
    flat = shaft.ravel()
    index = np.flatnonzero(flat >= threshold)  # row-major order, as np.nonzero gives
    return _pixel_centres(shaft.shape, sx, sy)[index], flat[index].astype(np.float64)


@functools.lru_cache(maxsize=8)
def _pixel_centres(shape: tuple[int, int], sx: float, sy: float) -> np.ndarray:
    """Region-pixel centre of every map pixel, row-major: (H * W, 2). Cached: the map size and scale
    of a source rarely change, and the lookup saves several array operations per frame."""
    rows, cols = np.indices(shape, dtype=np.float64).reshape(2, -1)
    # Work in region pixels so anisotropic map scales do not bend angles.
    centres = np.stack([(cols + 0.5) * sx - 0.5, (rows + 0.5) * sy - 0.5], axis=1)
    centres.setflags(write=False)
    return centres


@functools.lru_cache(maxsize=4)
def _uniforms(count: int) -> np.ndarray:
    """Fixed random numbers in [0, 1): the same maps always give the same fit, and drawing them
    once saves a generator per frame (this runs on the frame path)."""
    values = np.random.default_rng(12345).random(count)
    values.setflags(write=False)
    return values


# Drawn at import: numpy loads ``numpy.random`` on first use (about 10 ms of extension imports),
# which would otherwise land on the first frame whose map needs RANSAC.
_uniforms(2 * _DEFAULT_CONFIG.ransac_iterations)


def _sorted_quantile(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, 100 q)`` (linear interpolation) for an already sorted array."""
    rank = q * (values.size - 1)
    low = int(rank)
    high = min(low + 1, values.size - 1)
    below, above = float(values[low]), float(values[high])
    return below + (rank - low) * (above - below)


def _ransac_line(
    points: np.ndarray,
    weights: np.ndarray,
    inlier_px: float,
    iterations: int,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Weighted RANSAC (pairs drawn by weight, scored by inlier weight) -> (centre, unit dir)."""
    cdf = np.cumsum(weights)
    draws = np.searchsorted(cdf, _uniforms(2 * iterations) * cdf[-1], side="right")
    np.minimum(draws, len(points) - 1, out=draws)
    pairs = points[draws]
    first, delta = pairs[:iterations], pairs[iterations:] - pairs[:iterations]
    norm = np.hypot(delta[:, 0], delta[:, 1])
    # Distance of every point to every hypothesis line, |n.p - n.p0| with n the unnormalised
    # normal (-dy, dx), compared with inlier_px * |n|: one (hypotheses, points) matrix product
    # instead of many small operations on the frame path.
    normals = delta[:, ::-1] * (-1.0, 1.0)
    dist = normals @ points.T
    dist -= np.einsum("ij,ij->i", normals, first)[:, None]
    np.abs(dist, out=dist)
    scores = (dist <= (inlier_px * norm)[:, None]) @ weights
    scores[norm <= 2.0] = -1.0  # pairs too close give a poorly defined direction
    best = int(np.argmax(scores))
    if scores[best] < 0.0:
        return None
    return first[best], delta[best] / norm[best]


def _fit_line(
    points: np.ndarray,
    weights: np.ndarray,
    total_weight: float,
    inlier_px: float,
    cfg: PostprocessConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The shaft line: RANSAC's, or on a clean map the PCA line of all the evidence, then refined
    twice by weighted PCA on its inliers.

    Returns: (centre, unit direction, inlier mask of the final line), or None.
    """
    centre, direction = _weighted_pca(points, weights)
    inl = _line_distance(points, centre, direction) <= inlier_px
    # A clean map (nearly all the evidence on the PCA line of all of it) has no outliers for
    # RANSAC to reject.
    if float(weights @ ~inl) > (1.0 - cfg.clean_fraction) * total_weight:
        line = _ransac_line(points, weights, inlier_px, cfg.ransac_iterations)
        if line is None:
            return None
        centre, direction = line
        inl = _line_distance(points, centre, direction) <= inlier_px
    for _ in range(2):
        if np.count_nonzero(inl) < 3:
            return None
        centre, direction = _weighted_pca(points[inl], weights[inl])
        inl = _line_distance(points, centre, direction) <= inlier_px
    return centre, direction, inl


def _line_distance(points: np.ndarray, centre: np.ndarray, direction: np.ndarray) -> np.ndarray:
    normal = np.array([direction[1], -direction[0]])
    distance = points @ normal
    distance -= float(centre @ normal)
    return np.abs(distance, out=distance)


def _weighted_pca(points: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted centre and principal direction (closed form for 2x2: no LAPACK call per frame)."""
    centre = (weights @ points) / float(weights.sum())
    offsets = points - centre
    # The angle of the principal axis does not depend on the covariance's scale: no division.
    (cxx, cxy), (_, cyy) = ((offsets * weights[:, None]).T @ offsets).tolist()
    theta = 0.5 * math.atan2(2.0 * cxy, cxx - cyy)
    return centre, np.array([math.cos(theta), math.sin(theta)])


def _largest_piece(
    along: np.ndarray, weights: np.ndarray, max_gap: float
) -> tuple[np.ndarray, float]:
    """The heaviest run of positions with no gap longer than ``max_gap`` (gap tolerant).

    Returns: (its positions, sorted; its total weight).
    """
    order = np.argsort(along)
    sorted_along = along[order]
    breaks = np.flatnonzero(np.diff(sorted_along) > max_gap)
    if breaks.size == 0:  # the usual case: one unbroken shaft
        return sorted_along, float(weights.sum())
    breaks += 1
    starts = [0, *breaks.tolist()]
    ends = [*breaks.tolist(), len(sorted_along)]
    sorted_weights = np.add.reduceat(weights[order], starts)
    best = int(np.argmax(sorted_weights))
    return sorted_along[starts[best] : ends[best]], float(sorted_weights[best])


_ACROSS = np.array([[-1.0], [0.0], [1.0]])  # one map pixel either side of a sampled line


def _segment_evidence(
    shaft: np.ndarray,
    end_a: Point,
    end_b: Point,
    sx: float,
    sy: float,
    threshold: float,
) -> tuple[float, float]:
    """(fraction of the segment above threshold, mean probability) sampled about once per map pixel.

    The max over a one-map-pixel band across the line tolerates a line that falls between pixels.
    """
    dx, dy = end_b[0] - end_a[0], end_b[1] - end_a[1]
    length = math.hypot(dx, dy)
    step = max(0.5, min(sx, sy))
    count = max(2, int(length / step) + 1)
    t = np.arange(count) / (count - 1)
    unit_x, unit_y = dx / max(length, 1e-9), dy / max(length, 1e-9)
    # Nearest map pixel of each sample, in map coordinates: (x + 0.5) / sx - 0.5 along the segment,
    # shifted by one map pixel across it; all three rows gathered at once.
    cols = _ACROSS * -unit_y + (t * (dx / sx) + ((end_a[0] + 0.5) / sx - 0.5))
    rows = _ACROSS * unit_x + (t * (dy / sy) + ((end_a[1] + 0.5) / sy - 0.5))
    values = shaft[_nearest_index(rows, shaft.shape[0]), _nearest_index(cols, shaft.shape[1])]
    values = values.max(axis=0)
    return np.count_nonzero(values >= threshold) / count, float(values.sum()) / count


def _nearest_index(coordinates: np.ndarray, size: int) -> np.ndarray:
    """Nearest pixel indices of map coordinates, clipped to ``[0, size - 1]``."""
    # Clipping before rounding equals rounding before clipping (the bounds are integers).
    np.maximum(coordinates, 0.0, out=coordinates)
    np.minimum(coordinates, size - 1, out=coordinates)
    return np.rint(coordinates, out=coordinates).astype(np.intp)
