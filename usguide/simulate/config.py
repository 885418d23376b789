"""Simulator configuration, ground truth and frame dataclasses, and random configuration drawing."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from usguide.errors import UsguideError
from usguide.simulate import ranges
from usguide.simulate.script import InsertionScript
from usguide.types import Point, Roi

VARIANTS = ("linear", "convex", "screen", "no_needle", "random")
SCREEN_SIZES = ((1024, 768), (1280, 720))
MEDIA = ("in_vivo", "ex_vivo", "phantom", "water")
NEEDLE_STYLES = ("faint", "plain", "saturated", "double_wall", "beaded")  # beaded: held out
ENTRIES = ("edge", "inside")
STYLES = ("train", "heldout")


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
    # Strata of the clip (the same in every frame): what the evaluation splits recall by.
    gauge: int | None = None  # None without a needle
    medium: str = "in_vivo"  # in_vivo | ex_vivo | phantom | water
    geometry: str = "linear"  # linear | convex | screen (a screen capture of either probe)
    needle_style: str | None = None  # faint | plain | saturated | double_wall | beaded

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
            "gauge": self.gauge,
            "medium": self.medium,
            "geometry": self.geometry,
            "needle_style": self.needle_style,
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
        needle: whether a needle is inserted; gauge: 14..27; angle_range: insertion angles in
            degrees to the probe face (0 = parallel to the skin), drawn uniformly.
        side: "left" or "right" (where the needle enters).
        entry: "edge" (the shaft comes in at the region's side or top edge) or "inside" (it enters
            the imaging plane inside the image: out-of-plane entry); None: drawn.
        medium: "in_vivo" tissue, "ex_vivo" meat, gel/agar/PVA "phantom" in a container, or
            "water" bath; None: drawn.
        needle_style: "faint" (barely visible), "plain", "saturated" (clipped, the brightest and
            widest line), "double_wall" (front and back wall with the lumen between; thick
            needles), or "beaded" (held out: textured shaft, long comet tail); None: drawn.
        fan_deg, radius_mm: convex fan opening (degrees) and probe radius (mm); None: drawn.
        margins: black margins around the image inside the region (a linear image of another
            aspect ratio, a fan placed off centre); None: drawn.
        surface_line: a bright probe-surface / coupling line along the top; None: drawn.
        style: "train" draws from the training ranges; "heldout" from settings outside them
            (unseen needle echo, tissue textures, fan shapes, aspect ratios and screen layout),
            for a generalisation test. See usguide/simulate/README.md.
        screen: embed in a vendor-style screen.
        artefacts: gain/dynamic range/JPEG/resize degradations.
        motion: scale of hand jitter, breathing and probe slide (0 = still).
        needle_gain: shaft echo amplitude relative to soft tissue (None: drawn, 3..16).
        target: (x_mm, z_mm) a point the needle aims at; a hypoechoic target is placed there.
        elevation: out-of-plane behaviour: "aligned", "drift" (parts drop out), "tip_only" (only the
            tip region in plane) or "tip_lost" (the tip leaves the plane); None: drawn.
        speckle_reduction: scanner-style smoothing of the log image, in PSF widths (0 = raw
            speckle, ~1.5 = a heavily smoothed modern scanner); None: drawn.
        script: the insertion written out (advance, withdraw, re-advance, turns, out of plane)
            instead of drawn: the truth of redirections, visibility and time to target
            (``usguide.simulate.script``); None: drawn.
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
    angle_range: tuple[float, float] = (0.0, 80.0)
    side: str | None = None
    screen: bool | None = None
    artefacts: bool | None = None
    motion: float = 1.0
    needle_gain: float | None = None
    target: tuple[float, float] | None = None
    elevation: str | None = None
    speckle_reduction: float | None = None
    entry: str | None = None
    medium: str | None = None
    needle_style: str | None = None
    fan_deg: float | None = None
    radius_mm: float | None = None
    margins: bool | None = None
    surface_line: bool | None = None
    style: str = "train"
    script: InsertionScript | None = None

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
        if self.gauge is not None and not 14 <= self.gauge <= 27:
            raise UsguideError(f"needle gauge {self.gauge} out of range: use 14..27")
        lo, hi = self.angle_range
        if not 0.0 <= lo <= hi <= 89.0:
            raise UsguideError(f"angle range {lo},{hi} out of range: use 0 <= LO <= HI <= 89")
        if self.fan_deg is not None and not 10.0 <= self.fan_deg <= 160.0:
            raise UsguideError(f"fan opening {self.fan_deg} out of range: use 10..160 degrees")
        if self.radius_mm is not None and not 3.0 <= self.radius_mm <= 200.0:
            raise UsguideError(f"probe radius {self.radius_mm} out of range: use 3..200 mm")
        for name, value, allowed in (
            ("entry", self.entry, ENTRIES),
            ("medium", self.medium, MEDIA),
            ("needle style", self.needle_style, NEEDLE_STYLES),
        ):
            if value is not None and value not in allowed:
                raise UsguideError(f"unknown {name} {value!r}: use one of {', '.join(allowed)}")
        if self.style not in STYLES:
            raise UsguideError(f"unknown style {self.style!r}: use train or heldout")
        if self.elevation not in (None, "aligned", "drift", "tip_only", "tip_lost"):
            raise UsguideError(
                f"unknown elevation {self.elevation!r}: use aligned, drift, tip_only or tip_lost"
            )
        if self.side not in (None, "left", "right"):
            raise UsguideError(f"unknown side {self.side!r}: use left or right")
        if self.script is not None:
            self.script.validate()


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
    # Breadth (drawn from a second generator, so the draws above stay as they were).
    entry: str = "edge"
    medium: str = "in_vivo"
    needle_style: str = "plain"
    surface_line: bool = False
    fan_deg: float = 60.0
    radius_mm: float = 45.0
    aspect: float | None = None  # linear footprint / depth when narrower or wider than the region
    margins: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # left, top, right, bottom
    apex_shift: float = 0.0  # -1..1: where a narrow image sits between the margins
    texture: str = "standard"  # in vivo / ex vivo texture: standard | striated | coarse_fat
    texture_scale: float = 1.0
    heldout: tuple[str, ...] = ()  # which settings come from the held-out ranges

    @property
    def geometry(self) -> str:
        return "screen" if self.screen else self.probe


def resolve(config: SimConfig, rng: np.random.Generator) -> Resolved:
    """Makes the random choices a SimConfig leaves open. Draw order is fixed (determinism)."""
    variant = config.variant
    probe_draw = "linear" if rng.random() < 0.6 else "convex"
    probe = config.probe or {"linear": "linear", "convex": "convex"}.get(variant, probe_draw)
    lo, hi = ranges.LINEAR_DEPTH_MM if probe == "linear" else ranges.CONVEX_DEPTH_MM
    depth = config.depth_mm if config.depth_mm is not None else float(rng.uniform(lo, hi))
    needle_draw = rng.random() < 0.85
    if config.needle is not None:
        needle = config.needle
    else:
        needle = False if variant == "no_needle" else (needle_draw if variant == "random" else True)
    gauge = config.gauge if config.gauge is not None else int(rng.integers(14, 28))
    a_lo, a_hi = config.angle_range
    angle = float(rng.uniform(a_lo, a_hi))
    side = config.side or ("left" if rng.random() < 0.5 else "right")
    screen_draw = rng.random() < 0.3
    screen = (
        config.screen
        if config.screen is not None
        else (variant == "screen" or (variant == "random" and screen_draw))
    )
    sizes = ranges.SCREEN_SIZES[config.style]
    size_draw = sizes[int(rng.integers(0, len(sizes)))]
    screen_size = (
        (config.width, config.height) if (config.width, config.height) in sizes else size_draw
    )
    artefacts = config.artefacts if config.artefacts is not None else variant == "random"
    gain_draw = float(np.exp(rng.uniform(np.log(3.0), np.log(16.0))))
    return _breadth(
        config,
        Resolved(
            probe, depth, needle, gauge, angle, side, screen, screen_size, artefacts, gain_draw
        ),
    )


def _breadth(config: SimConfig, res: Resolved) -> Resolved:
    """The choices added for breadth, from their own generator (in a fixed order)."""
    rng = np.random.default_rng([config.seed, 0x5EED])
    heldout = config.style == "heldout"
    spans = "heldout" if heldout else "train"
    held: list[str] = []
    entry_draw = "inside" if rng.random() < ranges.INSIDE_ENTRY_P else "edge"
    medium = config.medium or ranges.draw_choice(rng, ranges.MEDIUM_P)
    style_draw = ranges.draw_choice(rng, ranges.NEEDLE_STYLE_P)
    beaded = rng.random() < ranges.HELDOUT_NEEDLE_STYLE_P
    aspect_on = rng.random() < ranges.LINEAR_ASPECT_P[spans]
    if heldout and not _other_heldout(config, res, medium, aspect_on):
        # A held-out clip differs from training in at least one setting.
        if res.needle and config.needle_style is None:
            beaded = True
        else:
            aspect_on = True
    if style_draw == "double_wall" and res.gauge > ranges.DOUBLE_WALL_MAX_GAUGE:
        style_draw = "plain"
    if heldout and beaded:
        style_draw = "beaded"
    style = config.needle_style or style_draw
    if style == "beaded":
        held.append("needle_style")
    gain_draw = ranges.log_uniform(rng, ranges.NEEDLE_GAIN[style])
    if config.needle_gain is not None:
        gain = config.needle_gain
    elif style == "plain" and config.style == "train":
        gain = res.needle_gain  # the original draw: plain needles are as before
    else:
        gain = gain_draw
    surface_draw = rng.random() < ranges.SURFACE_LINE_P[medium]
    fan = ranges.draw_span(rng, ranges.FAN_DEG[spans])
    radius = ranges.draw_span(rng, ranges.RADIUS_MM[spans])
    if heldout:
        # Held-out fans come as probes: a wide sector from a tiny radius, or a narrow fan from a
        # large one.
        radius = ranges.held_out_radius(rng, fan)
    aspect_draw = ranges.draw_span(rng, ranges.LINEAR_ASPECT[spans])
    margins_on = rng.random() < ranges.MARGINS_P
    margins = tuple(float(v) for v in rng.uniform(0.0, ranges.MARGIN_MAX, 4))
    apex_shift = float(rng.uniform(-1.0, 1.0))
    texture_draw = str(rng.choice(ranges.HELDOUT_TEXTURES))
    texture_on = rng.random() < ranges.HELDOUT_TEXTURE_P
    texture_scale = ranges.draw_span(rng, ranges.TEXTURE_SCALE[spans])
    if res.probe == "convex":
        if heldout and (config.fan_deg is None or config.radius_mm is None):
            held.append("fan")
        fan = config.fan_deg if config.fan_deg is not None else fan
        radius = config.radius_mm if config.radius_mm is not None else radius
    aspect = None
    if res.probe == "linear" and (config.margins if config.margins is not None else aspect_on):
        aspect = aspect_draw
        if heldout:
            held.append("aspect")
    # A screen's image box is fitted to the image: no margins inside it unless asked for.
    use_margins = config.margins if config.margins is not None else margins_on and not res.screen
    # Held out: a striated or coarse lobular texture, or the usual one at a coarser scale.
    texture = texture_draw if heldout and texture_on else "standard"
    if heldout and medium in ("in_vivo", "ex_vivo"):
        held.append("texture")
    if res.screen and heldout:
        held.append("screen")
    return dataclasses.replace(
        res,
        needle_gain=gain,
        entry=config.entry or entry_draw,
        medium=medium,
        needle_style=style,
        surface_line=config.surface_line if config.surface_line is not None else surface_draw,
        fan_deg=float(fan),
        radius_mm=float(radius),
        aspect=aspect,
        margins=margins if use_margins else (0.0, 0.0, 0.0, 0.0),
        apex_shift=apex_shift,
        texture=texture if medium in ("in_vivo", "ex_vivo") else "standard",
        texture_scale=texture_scale,
        heldout=tuple(held),
    )


def _other_heldout(config: SimConfig, res: Resolved, medium: str, aspect_on: bool) -> bool:
    """Whether a held-out clip already has a held-out setting besides the needle's echo."""
    fan = res.probe == "convex" and (config.fan_deg is None or config.radius_mm is None)
    aspect = res.probe == "linear" and (config.margins if config.margins is not None else aspect_on)
    return medium in ("in_vivo", "ex_vivo") or fan or aspect or res.screen


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
