"""Training data from the simulator: region crops at model size with shaft and tip labels (cached).

Each simulated frame becomes: the image region (``truth.roi``) in grey, letterboxed into
``size`` x ``size`` (the same layout as ``OnnxDetector``), the shaft mask letterboxed the same
way (area fraction, 0..255), and the tip in model-input pixels (-1 when absent). Clips are short
and use many seeds because frames within a clip are strongly correlated.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from usguide.detect.model_input import Placement, letterbox, letterbox_placement
from usguide.errors import UsguideError

# Frame sizes drawn for non-screen clips (screen-capture clips use the simulator's screen sizes).
FRAME_SIZES = ((640, 480), (800, 600), (560, 560), (720, 540))
VALIDATION_SEED_BASE = 100_000  # validation clips use seeds never used for training
# Frames of a short clip are spread over several seconds of the insertion (a low frame rate), so
# that each clip shows different needle lengths and motion instead of near-identical frames.
CLIP_FPS = 2.0
LAYOUT = "letterbox"  # how regions become samples (part of the cache key)


@dataclass
class Dataset:
    """Region crops and labels, all at model-input resolution.

    Attributes:
        images: uint8 (N, S, S) grey regions.
        shafts: uint8 (N, S, S) shaft coverage 0..255.
        tips: float32 (N, 2) tip (x, y) in model-input pixels; -1 when not visible / absent.
        visible: bool (N,) needle visible in the frame.
        angles: float32 (N,) shaft angle to the x axis in region pixels (degrees, NaN when absent).
        mm_per_px: float32 (N, 2) millimetres per model-input pixel along x and y.
        clip_seeds: int64 (N,) the simulator seed of each frame's clip.
    """

    images: np.ndarray
    shafts: np.ndarray
    tips: np.ndarray
    visible: np.ndarray
    angles: np.ndarray
    mm_per_px: np.ndarray
    clip_seeds: np.ndarray

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def save(self, path: Path) -> None:
        np.savez(path, **{k: getattr(self, k) for k in self.__dataclass_fields__})

    @classmethod
    def load(cls, path: Path) -> Dataset:
        with np.load(path) as data:
            return cls(**{k: data[k] for k in cls.__dataclass_fields__})

    @classmethod
    def concat(cls, parts: list[Dataset]) -> Dataset:
        return cls(
            **{k: np.concatenate([getattr(p, k) for p in parts]) for k in cls.__dataclass_fields__}
        )


def to_grey(image: np.ndarray) -> np.ndarray:
    """BGR or grey uint8 -> grey uint8."""
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image


def region_sample(
    sim_frame, size: int
) -> tuple[np.ndarray, np.ndarray, tuple[float, float], float]:
    """One simulator frame -> (grey region, shaft coverage, tip (x, y) in model px, region angle).

    The region is letterboxed the way ``OnnxDetector`` letterboxes it (aspect kept, longer side
    fitted to ``size``, black padding at the bottom or right). The tip is (-1, -1) when the needle
    is not visible or its tip lies outside the region.
    """
    truth = sim_frame.truth
    roi = truth.roi
    region = to_grey(roi.crop(sim_frame.image))
    fitted = letterbox_placement(roi.w, roi.h, size, multiple=1)
    placement = Placement(fitted.content_w, fitted.content_h, size, size, fitted.scale)
    image = letterbox(region, placement)
    shaft = np.zeros((size, size), np.uint8)
    tip = (-1.0, -1.0)
    angle = math.nan
    if truth.visible and truth.shaft_mask is not None:
        mask = np.round(roi.crop(truth.shaft_mask).astype(np.float32) * 255).astype(np.uint8)
        shaft = letterbox(mask, placement)
    if truth.visible and truth.tip is not None:
        # Pixel-centre convention: model u -> region x = (u + 0.5) / scale - 0.5.
        u = (truth.tip.x - roi.x + 0.5) * placement.scale - 0.5
        v = (truth.tip.y - roi.y + 0.5) * placement.scale - 0.5
        if -0.5 <= u <= placement.content_w - 0.5 and -0.5 <= v <= placement.content_h - 0.5:
            tip = (float(u), float(v))
    if truth.visible and truth.tip is not None and truth.entry is not None:
        dx, dy = truth.tip.x - truth.entry.x, truth.tip.y - truth.entry.y
        angle = math.degrees(math.atan2(abs(dy), abs(dx)))
    return image, shaft, tip, angle


def simulate_dataset(
    seeds: Iterable[int],
    frames_per_clip: int,
    size: int,
    progress: Callable[[str], None] | None = None,
    workers: int = 1,
) -> Dataset:
    """Simulates one short random clip per seed and converts every frame.

    With ``workers`` > 1 the seeds are split into chunks simulated in worker processes; the result
    is the same dataset, in seed order, as with one process (each clip depends on its seed only).
    """
    seeds = list(seeds)
    if workers > 1 and len(seeds) > 1:
        return _simulate_parallel(seeds, frames_per_clip, size, progress, workers)
    from usguide.simulate import random_config, simulate_clip  # the simulator is heavy; import late

    images, shafts, tips, visible, angles, mmpp, clip_seeds = [], [], [], [], [], [], []
    start = time.perf_counter()
    for count, seed in enumerate(seeds):
        rng = np.random.default_rng(seed)
        width, height = FRAME_SIZES[int(rng.integers(0, len(FRAME_SIZES)))]
        config = random_config(
            rng, n_frames=frames_per_clip, width=width, height=height, fps=CLIP_FPS
        )
        for sim_frame in simulate_clip(config):
            image, shaft, tip, angle = region_sample(sim_frame, size)
            roi = sim_frame.truth.roi
            images.append(image)
            shafts.append(shaft)
            tips.append(tip)
            visible.append(bool(sim_frame.truth.visible) and shaft.any())
            angles.append(angle)
            mm = sim_frame.truth.mm_per_px
            per_px = mm * max(roi.w, roi.h) / size  # letterboxed: one scale along x and y
            mmpp.append((per_px, per_px))
            clip_seeds.append(seed)
        if progress and (count + 1) % 25 == 0:
            rate = (count + 1) / (time.perf_counter() - start)
            progress(f"  simulated {count + 1}/{len(seeds)} clips ({rate:.1f} clips/s)")
    if not images:
        raise UsguideError("no simulated frames: use at least one clip and one frame per clip")
    return Dataset(
        images=np.stack(images),
        shafts=np.stack(shafts),
        tips=np.asarray(tips, np.float32),
        visible=np.asarray(visible, bool),
        angles=np.asarray(angles, np.float32),
        mm_per_px=np.asarray(mmpp, np.float32),
        clip_seeds=np.asarray(clip_seeds, np.int64),
    )


def clean_start_method() -> str:
    """A process start method whose children do not inherit the parent's thread pools.

    A forked child of a process that has already run OpenCV in parallel can wait forever on a pool
    thread that was not copied; "forkserver" forks from a fresh server process instead.
    """
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in methods else "spawn"


def _simulate_chunk(args: tuple[list[int], int, int]) -> Dataset:
    seeds, frames_per_clip, size = args
    cv2.setNumThreads(1)  # one process per core already; OpenCV's own threads would oversubscribe
    return simulate_dataset(seeds, frames_per_clip, size)


def _simulate_parallel(
    seeds: list[int],
    frames_per_clip: int,
    size: int,
    progress: Callable[[str], None] | None,
    workers: int,
) -> Dataset:
    """``simulate_dataset`` over chunks of seeds in a process pool, concatenated in seed order."""
    # Small chunks keep all workers busy to the end (clips differ in cost: screen captures, sizes).
    chunk = max(1, min(25, len(seeds) // (4 * workers)))
    jobs = [(seeds[i : i + chunk], frames_per_clip, size) for i in range(0, len(seeds), chunk)]
    context = multiprocessing.get_context(clean_start_method())
    parts: list[Dataset] = []
    done = 0
    start = time.perf_counter()
    with context.Pool(min(workers, len(jobs))) as pool:
        for job, part in zip(jobs, pool.imap(_simulate_chunk, jobs), strict=True):
            parts.append(part)
            done += len(job[0])
            if progress and (len(parts) % max(1, len(jobs) // 10) == 0 or done == len(seeds)):
                rate = done / (time.perf_counter() - start)
                progress(f"  simulated {done}/{len(seeds)} clips ({rate:.1f} clips/s)")
    return Dataset.concat(parts)


def cache_dir_default() -> Path:
    """Where generated datasets are cached between runs (regenerating takes minutes)."""
    return Path(tempfile.gettempdir()) / "usguide-train-cache"


def cached_dataset(
    seeds: list[int],
    frames_per_clip: int,
    size: int,
    cache_dir: Path,
    progress: Callable[[str], None] | None = None,
    workers: int = 1,
) -> Dataset:
    """Returns the dataset for these seeds, simulating it only when not already cached.

    The cache key includes the simulator's source files, so a changed simulator regenerates.
    """
    import usguide.simulate as simulate

    sim_hash = hashlib.sha256()
    for path in sorted(Path(simulate.__file__).parent.glob("*.py")):
        sim_hash.update(path.read_bytes())
    key = json.dumps(
        [seeds[0], seeds[-1], len(seeds), frames_per_clip, size, sim_hash.hexdigest(), LAYOUT]
    )
    name = hashlib.sha256(key.encode()).hexdigest()[:16]
    path = cache_dir / f"sim-{name}.npz"
    if path.exists():
        if progress:
            progress(f"  using cached {path}")
        return Dataset.load(path)
    dataset = simulate_dataset(seeds, frames_per_clip, size, progress, workers)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        dataset.save(tmp)
        tmp.replace(path)
    except OSError as exc:
        if progress:
            progress(f"  (could not cache the dataset in {cache_dir}: {exc})")
    return dataset


def tip_heatmap(tip: tuple[float, float], out_size: int, stride: int, sigma: float) -> np.ndarray:
    """Gaussian tip target at map resolution (peak 1), all zeros when the tip is absent (x < 0)."""
    heat = np.zeros((out_size, out_size), np.float32)
    if tip[0] < 0:
        return heat
    u = (tip[0] + 0.5) / stride - 0.5
    v = (tip[1] + 0.5) / stride - 0.5
    grid = np.arange(out_size, dtype=np.float32)
    gx = np.exp(-((grid - u) ** 2) / (2 * sigma**2))
    gy = np.exp(-((grid - v) ** 2) / (2 * sigma**2))
    return np.outer(gy, gx).astype(np.float32)


def shaft_target(shaft: np.ndarray, stride: int) -> np.ndarray:
    """Shaft coverage (uint8 0..255 at model-input size) -> float 0..1 at map resolution."""
    out = shaft.shape[0] // stride
    target = cv2.resize(shaft.astype(np.float32) / 255.0, (out, out), interpolation=cv2.INTER_AREA)
    # Thin needles cover a map pixel only partly; count half coverage as shaft so the target is not
    # vanishingly faint, which would teach the net to hedge.
    return np.clip(target * 2.0, 0.0, 1.0)
