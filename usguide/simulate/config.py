"""Simulator configuration, ground truth and frame dataclasses, and random configuration drawing."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from usguide.errors import UsguideError
from usguide.types import Point, Roi

VARIANTS = ("linear", "convex", "screen", "no_needle", "random")
SCREEN_SIZES = ((1024, 768), (1280, 720))


@dataclass
class GroundTruth:
    """Exact labels of one simulated frame, in full-frame pixels.

    ``tip`` and ``entry`` are the distal and proximal ends of the *visible* shaft (the physical tip
    unless the distal part is out of plane); ``angle_deg`` is the unsigned angle of the shaft to
    the image x axis (the probe face), 0..90; the insertion direction is entry -> tip.
    """

    visible: bool
    needle_present: bool
    tip: Point | None
    entry: Point | None
    angle_deg: float | None
    shaft_mask: np.ndarray | None
    mm_per_px: float
    roi: Roi
    probe: str
    depth_mm: float
    contrast: float | None = None  # median shaft / local tissue echo over the visible shaft

    def to_json(self, index: int) -> dict:
        """One entry of ``truth.json``'s ``frames`` list."""

        def point(value: Point | None) -> list[float] | None:
            return None if value is None else [round(float(value.x), 2), round(float(value.y), 2)]

        return {
            "frame": int(index),
            "visible": bool(self.visible),
            "needle_present": bool(self.needle_present),
            "tip": point(self.tip),
            "entry": point(self.entry),
            "angle_deg": None if self.angle_deg is None else round(float(self.angle_deg), 2),
            "contrast": None if self.contrast is None else round(float(self.contrast), 2),
        }


@dataclass
class SimFrame:
    """A simulated frame: uint8 grey HxW image (BGR HxWx3 for screen capture) and its labels."""

    image: np.ndarray
    truth: GroundTruth


@dataclass
class SimConfig:
    """What to simulate. Fields left as None are drawn from ``seed`` (deterministically).

    Attributes:
        seed: random seed; the same config always gives the same clip.
        variant: "linear", "convex", "screen" (scanner screen capture), "no_needle" or "random"
            (random geometry, screen capture, needle presence and acquisition artefacts).
        width, height: output frame size. For screen capture this is the screen size when it is
            1024x768 or 1280x720 (otherwise one of those is drawn); the image is pasted inside.
        probe: "linear" or "convex"; depth_mm: imaging depth 20..80 mm.
        needle: whether a needle is inserted; gauge: 17..25; angle_range: insertion angles in
            degrees.
        side: "left" or "right" (where the needle enters).
        screen: embed in a vendor-style screen.
        artefacts: gain/dynamic range/JPEG/resize degradations.
        motion: scale of hand jitter, breathing and probe slide (0 = still).
        needle_gain: shaft echo amplitude relative to soft tissue (None: drawn, 3..16).
        target: (x_mm, z_mm) a point the needle aims at; a hypoechoic target is placed there.
        elevation: out-of-plane behaviour: "aligned", "drift" (parts drop out), "tip_only" (only the
            tip region in plane) or "tip_lost" (the tip leaves the plane); None: drawn.
        speckle_reduction: scanner-style smoothing of the log image, in PSF widths (0 = raw
            speckle, ~1.5 = a heavily smoothed modern scanner); None: drawn.
    """

    seed: int
    variant: str = "random"
    width: int = 640
    height: int = 480
    fps: float = 30.0
    n_frames: int = 150
    probe: str | None = None
    depth_mm: float | None = None
    needle: bool | None = None
    gauge: int | None = None
    angle_range: tuple[float, float] = (10.0, 70.0)
    side: str | None = None
    screen: bool | None = None
    artefacts: bool | None = None
    motion: float = 1.0
    needle_gain: float | None = None
    target: tuple[float, float] | None = None
    elevation: str | None = None
    speckle_reduction: float | None = None

    def validate(self) -> None:
        """Raises UsguideError when a field is out of range."""
        if self.variant not in VARIANTS:
            raise UsguideError(
                f"unknown variant {self.variant!r}: use one of {', '.join(VARIANTS)}"
            )
        if self.width < 64 or self.height < 48:
            raise UsguideError(f"size {self.width}x{self.height} is too small: use at least 64x48")
        if self.width > 4096 or self.height > 4096:
            raise UsguideError(f"size {self.width}x{self.height} is too large: at most 4096x4096")
        if self.n_frames < 1:
            raise UsguideError("the number of frames must be at least 1")
        if self.fps <= 0:
            raise UsguideError("fps must be positive")
        if self.probe not in (None, "linear", "convex"):
            raise UsguideError(f"unknown probe {self.probe!r}: use linear or convex")
        if self.depth_mm is not None and not 10.0 <= self.depth_mm <= 150.0:
            raise UsguideError(f"depth {self.depth_mm} mm out of range: use 20..80 mm")
        if self.gauge is not None and not 14 <= self.gauge <= 30:
            raise UsguideError(f"needle gauge {self.gauge} out of range: use 17..25")
        if self.elevation not in (None, "aligned", "drift", "tip_only", "tip_lost"):
            raise UsguideError(
                f"unknown elevation {self.elevation!r}: use aligned, drift, tip_only or tip_lost"
            )
        if self.side not in (None, "left", "right"):
            raise UsguideError(f"unknown side {self.side!r}: use left or right")


@dataclass(frozen=True)
class Resolved:
    """A SimConfig with every random choice made (internal to the simulator)."""

    probe: str
    depth_mm: float
    needle: bool
    gauge: int
    angle_deg: float
    side: str
    screen: bool
    screen_size: tuple[int, int]
    artefacts: bool
    needle_gain: float


def resolve(config: SimConfig, rng: np.random.Generator) -> Resolved:
    """Makes the random choices a SimConfig leaves open. Draw order is fixed (determinism)."""
    variant = config.variant
    probe_draw = "linear" if rng.random() < 0.6 else "convex"
    probe = config.probe or {"linear": "linear", "convex": "convex"}.get(variant, probe_draw)
    lo, hi = (20.0, 50.0) if probe == "linear" else (40.0, 80.0)
    depth = config.depth_mm if config.depth_mm is not None else float(rng.uniform(lo, hi))
    needle_draw = rng.random() < 0.85
    if config.needle is not None:
        needle = config.needle
    else:
        needle = False if variant == "no_needle" else (needle_draw if variant == "random" else True)
    gauge = config.gauge if config.gauge is not None else int(rng.integers(17, 26))
    a_lo, a_hi = config.angle_range
    angle = float(rng.uniform(a_lo, a_hi))
    side = config.side or ("left" if rng.random() < 0.5 else "right")
    screen_draw = rng.random() < 0.3
    screen = (
        config.screen
        if config.screen is not None
        else (variant == "screen" or (variant == "random" and screen_draw))
    )
    size_draw = SCREEN_SIZES[int(rng.integers(0, len(SCREEN_SIZES)))]
    screen_size = (
        (config.width, config.height)
        if (config.width, config.height) in SCREEN_SIZES
        else size_draw
    )
    artefacts = config.artefacts if config.artefacts is not None else variant == "random"
    gain = (
        config.needle_gain
        if config.needle_gain is not None
        else float(np.exp(rng.uniform(np.log(3.0), np.log(16.0))))
    )
    return Resolved(probe, depth, needle, gauge, angle, side, screen, screen_size, artefacts, gain)


def random_config(rng: np.random.Generator, **overrides: object) -> SimConfig:
    """Draws a SimConfig (seed, variant "random") from ``rng``; keyword arguments override fields.

    Example: ``random_config(rng, width=256, height=256, n_frames=60)``.
    """
    names = {f.name for f in dataclasses.fields(SimConfig)}
    unknown = set(overrides) - names
    if unknown:
        raise UsguideError(f"unknown simulator option(s) {sorted(unknown)}: use {sorted(names)}")
    values: dict[str, object] = {"seed": int(rng.integers(0, 2**31 - 1)), "variant": "random"}
    values.update(overrides)
    config = SimConfig(**values)  # type: ignore[arg-type]
    config.validate()
    return config
