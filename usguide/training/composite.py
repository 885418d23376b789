"""Needles painted onto backgrounds the beam simulator never makes, with exact labels.

A second, image-space needle renderer ("cut, paste and learn"): a straight shaft of any gauge, angle
(0–80° from either side), brightness (barely visible to saturated), single line or double wall,
with or without reverberations, comet tail, shadow and a bright bevel, starting at the image edge or
inside it — painted onto real needle-free ultrasound frames (``pydicom-data``, MIT), on the
simulator's needle-free frames, or on synthetic phantoms (uniform speckle in a container, dark water
outside, probe-surface line, convex fans). Everything is drawn at model-input size from the
Generator it is given, so a seeded training run sees the same samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from usguide.simulate.real_frames import load_real_frames, valid_area
from usguide.training.augment import interface_points
from usguide.training.backgrounds import fan_mask, grid, phantom_background, real_background
from usguide.training.shaft_texture import shaft_texture

# Needle outer diameters in mm, 14 G to 27 G (ISO 9626 regular wall).
DIAMETERS_MM = (2.11, 1.83, 1.65, 1.47, 1.27, 1.07, 0.91, 0.82, 0.72, 0.64, 0.57, 0.51, 0.46, 0.41)
NO_TIP = (-1.0, -1.0)
INSIDE_MIN_MM = 8.0  # shortest visible shaft painted that starts in tissue, not at the edge
# Kinds of background and their shares: real needle-free frames (pydicom-data), the simulator's
# needle-free frames, synthetic phantoms and water baths. Kinds left out (``backgrounds``) share
# nothing; a chosen kind that is unavailable (no pydicom-data, no simulator frame at hand) passes
# its draw to the next chosen one in this order, a phantom last of all, as before the choice.
BACKGROUNDS = ("real", "sim", "phantom")
BACKGROUND_SHARES = {"real": 0.4, "sim": 0.3, "phantom": 0.3}


@dataclass
class Sample:
    """One model-size training sample: grey image, shaft coverage (0/255) and tip (or -1, -1)."""

    image: np.ndarray
    shaft: np.ndarray
    tip: tuple[float, float]


def _segment(valid: np.ndarray, mm_per_px: float, rng: np.random.Generator, edge_entry=False):
    """Entry and tip of a visible shaft inside ``valid``, or None when none fits; with
    ``edge_entry`` the shaft always runs back to the edge of ``valid`` (no start in tissue)."""
    size = valid.shape[0]
    ys, xs = np.nonzero(valid)
    if len(xs) < 200:
        return None
    # Shallow needles (breast biopsy, nearly parallel to the skin) look most like fascia: 40 %.
    angle = math.radians(rng.uniform(0, 12) if rng.random() < 0.4 else rng.uniform(0, 80))
    from_right = rng.random() < 0.5
    direction = np.array([-math.cos(angle) if from_right else math.cos(angle), math.sin(angle)])
    for _ in range(20):
        pick = int(rng.integers(0, len(xs)))
        tip = np.array([xs[pick], ys[pick]], np.float64) + rng.uniform(-0.5, 0.5, 2)
        max_len = rng.uniform(4.0, 60.0) / mm_per_px
        inside = rng.random() < 0.3  # out-of-plane entry: the shaft starts inside the image
        if edge_entry:  # walk back all the way: the shaft shows from the tissue's edge
            max_len, inside = 2.0 * size, False
        length, step, at_edge = 0.0, 1.0, False
        while length < max_len:
            x, y = tip - (length + step) * direction
            if not (0 <= x < size and 0 <= y < size and valid[int(y), int(x)]):
                at_edge = True
                break
            length += step
        if inside:
            cut = max_len * rng.uniform(0.3, 1.0)
            at_edge = at_edge and length <= cut
            length = min(length, cut)
        # A shaft that starts in tissue needs some length to be told from a specular tissue echo
        # in one frame (``paint_echoes``); one entering at the region's edge may show only its tip.
        shortest_mm = 3.0 if at_edge else INSIDE_MIN_MM
        if length * mm_per_px >= shortest_mm and length >= 8:
            return tip - length * direction, tip
    return None


def paint_needle(
    background: np.ndarray, valid: np.ndarray, rng: np.random.Generator, edge_entry: bool = False
) -> Sample:
    """Paints one needle (any look) onto ``background``; a sample without a needle if none fits.
    ``edge_entry``: the shaft is visible all the way from the edge of ``valid``."""
    size = background.shape[0]
    mm_per_px = rng.uniform(20.0, 80.0) / size  # imaging depth 2–8 cm over the canvas
    ends = _segment(valid, mm_per_px, rng, edge_entry)
    image = background.astype(np.float32)
    shaft = np.zeros((size, size), np.uint8)
    if ends is None:
        return Sample(background.copy(), shaft, NO_TIP)
    entry, tip = ends
    diameter_px = DIAMETERS_MM[int(rng.integers(0, len(DIAMETERS_MM)))] / mm_per_px
    # The echo is the specular front wall (about the axial resolution thick), and the back wall
    # too for a thick needle: two lines a diameter apart with the dark lumen between them.
    wall_px = max(0.6, rng.uniform(0.25, 0.8) / mm_per_px)
    double_wall = diameter_px >= 2.5 * wall_px and rng.random() < 0.5
    width_px = (
        min(diameter_px, wall_px) if double_wall else max(0.6, diameter_px * rng.uniform(0.4, 1.0))
    )
    shift = 16  # cv2 drawing with 4 fractional bits: sub-pixel end points
    p0 = tuple(int(round(v * shift)) for v in entry)
    p1 = tuple(int(round(v * shift)) for v in tip)
    line = np.zeros((size, size), np.float32)
    thickness = max(1, int(round(width_px)))
    if double_wall:
        normal = np.array([-(tip - entry)[1], (tip - entry)[0]]) / np.linalg.norm(tip - entry)
        for sign in (-0.5, 0.5):
            offset = normal * diameter_px * sign * shift
            a = (int(p0[0] + offset[0]), int(p0[1] + offset[1]))
            b = (int(p1[0] + offset[0]), int(p1[1] + offset[1]))
            cv2.line(line, a, b, 1.0, thickness, cv2.LINE_AA, 4)
    else:
        cv2.line(line, p0, p1, 1.0, thickness, cv2.LINE_AA, 4)
    line = cv2.GaussianBlur(line, (0, 0), rng.uniform(0.5, 1.2))
    line /= max(1e-6, float(line.max()))
    # Along-shaft texture and drop-outs (parts of the shaft leave the imaging plane).
    ys, xs = grid(size)
    axis = (tip - entry) / np.linalg.norm(tip - entry)
    along = (xs - entry[0]) * axis[0] + (ys - entry[1]) * axis[1]
    length = float(np.linalg.norm(tip - entry))
    texture = shaft_texture(along, length, mm_per_px, rng)
    visible = np.ones_like(along, bool)
    if rng.random() < 0.2 and length > 40:
        gap_at = rng.uniform(0.2, 0.7) * length
        visible = ~((along > gap_at) & (along < gap_at + rng.uniform(4, 12)))
    near = cv2.dilate((line > 0.1).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    near &= valid & ~(line > 0.1)
    local = float(np.mean(image[near])) if near.any() else 60.0  # tissue around the shaft
    # Faint needles are the most common and the easiest to lose (a model trained on bright ones
    # forgets them): 40 % of painted shafts stand only 1.2-2x above their tissue.
    faint = rng.random() < 0.4
    contrast = math.exp(rng.uniform(math.log(1.2), math.log(2.0 if faint else 8.0)))
    amplitude = max(8.0, local * (contrast - 1.0))
    if local < 15.0:  # in water or a dark gel the shaft's echo stands far above the noise
        amplitude = max(amplitude, rng.uniform(25.0, 200.0))
    if not faint and rng.random() < 0.25:
        amplitude = 400.0  # saturated: the brightest, widest line in the picture
    echo = line * texture * visible * valid
    below = np.maximum.accumulate(line > 0.3, axis=0)
    if rng.random() < 0.4:  # acoustic shadow under the shaft
        image *= np.where(below & ~(line > 0.3), rng.uniform(0.4, 0.85), 1.0)
    layer = echo.copy()
    if rng.random() < 0.5:  # reverberations: copies below, spaced by the wall distance or more
        spacing = max(2.0, width_px if double_wall else rng.uniform(2.0, 8.0))
        decay = rng.uniform(0.3, 0.7)
        for k in range(1, int(rng.integers(2, 7))):
            rolled = np.zeros_like(echo)
            offset = int(round(k * spacing))
            if offset >= size:
                break
            rolled[offset:] = echo[:-offset]
            layer += rolled * decay**k
    if rng.random() < 0.2:  # comet tail
        tail = cv2.GaussianBlur(echo, (1, 0), sigmaX=0.1, sigmaY=rng.uniform(4, 12))
        layer += tail * rng.uniform(0.5, 1.5)
    image += amplitude * layer * valid
    mask = (echo > 0.25).astype(np.uint8) * 255
    cv2.line(mask, p0, p1, 255, max(1, int(round(diameter_px if double_wall else width_px))), 8, 4)
    shaft = (mask * (visible & valid)).astype(np.uint8)
    tip_out = (float(tip[0]), float(tip[1])) if visible[int(tip[1]), int(tip[0])] else NO_TIP
    return Sample(np.clip(image, 0, 255).astype(np.uint8), shaft, tip_out)


def paint_distractor(
    background: np.ndarray, valid: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A bright line that is not a needle: fascia, tendon or bone cortex crossing the whole tissue.

    What separates it from a needle is what the model must learn: it runs from one side of the
    tissue to the other (no tip ending in tissue), mostly near horizontal, gently curved and
    uneven along its length, and a bone or tendon surface shadows what lies below it.
    """
    size = background.shape[0]
    image = background.astype(np.float32)
    points = interface_points(size, size, rng.uniform(-20, 20), rng)
    thickness = int(rng.integers(1, 6))
    line = np.zeros((size, size), np.float32)
    cv2.polylines(line, [points], False, 1.0, thickness, cv2.LINE_AA)
    line = cv2.GaussianBlur(line, (0, 0), rng.uniform(0.6, 1.5))
    line /= max(1e-6, float(line.max()))
    # Fascia is beaded and patchy along its length; bone cortex is even.
    beads = cv2.GaussianBlur(rng.random((1, size)).astype(np.float32), (0, 0), rng.uniform(1, 6))
    beads = 1.0 + rng.uniform(0.0, 1.2) * (beads / max(1e-6, float(beads.max())) - 0.5)
    amplitude = _amplitude_over_tissue(image, valid, line, (1.5, 6.0), rng)
    if rng.random() < 0.3:  # bone or tendon surface: shadow below it
        below = np.maximum.accumulate(line > 0.3, axis=0) & ~(line > 0.3)
        image *= np.where(below, rng.uniform(0.2, 0.7), 1.0)
    image += amplitude * line * beads * valid
    return np.clip(image, 0, 255).astype(np.uint8)


def paint_echoes(background: np.ndarray, valid: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Short bright specular tissue echoes (vessel walls, septa, calcifications): not needles.

    Real tissue is full of them; a model that never saw one unlabelled takes a bright 2-6 mm
    streak in mid-tissue for a short needle (v8 held such an echo for 100 frames of the real
    clip while the needle entered elsewhere).
    """
    size = background.shape[0]
    image = background.astype(np.float32)
    ys, xs = np.nonzero(valid)
    if len(xs) < 200:
        return background.copy()
    mm_per_px = rng.uniform(20.0, 80.0) / size
    layer = np.zeros((size, size), np.float32)
    for _ in range(int(rng.integers(1, 5))):
        pick = int(rng.integers(0, len(xs)))
        length = rng.uniform(1.5, 6.0) / mm_per_px
        angle = rng.uniform(-35, 35)
        axes = (max(1, int(length / 2)), max(1, int(rng.uniform(0.2, 0.8) / mm_per_px)))
        strength = rng.uniform(0.5, 1.0)
        cv2.ellipse(layer, (int(xs[pick]), int(ys[pick])), axes, angle, 0, 360, strength, -1)
    layer = cv2.GaussianBlur(layer, (0, 0), rng.uniform(0.6, 1.5))
    amplitude = _amplitude_over_tissue(image, valid, layer, (2.0, 8.0), rng)
    image += amplitude * layer * valid
    return np.clip(image, 0, 255).astype(np.uint8)


def paint_striations(
    background: np.ndarray, valid: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Muscle fibres seen along their length: many parallel bright streaks, often oblique.

    Pennate muscle and ex vivo meat show stacks of straight parallel lines at 10-35°; one of
    them alone looks like a shaft, so the model must learn that a needle is a single line
    (v11, trained without them, held a track on one stripe of such a texture).
    """
    size = background.shape[0]
    image = background.astype(np.float32)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    angle = math.radians(rng.uniform(-40, 40))
    across = -xs * math.sin(angle) + ys * math.cos(angle)  # distance across the fibres
    period = rng.uniform(5.0, 20.0)
    phase = (across / period + rng.uniform(0, 1)) % 1.0
    stripes = np.exp(-(((phase - 0.5) * period / rng.uniform(0.6, 2.0)) ** 2))
    # Fibres break up along their length; the patch covers part of the tissue or all of it.
    grain = cv2.GaussianBlur(rng.random((size, size)).astype(np.float32), (0, 0), 3.0)
    stripes *= np.clip(0.4 + 3.0 * (grain - grain.mean()) / (grain.std() + 1e-6) * 0.3, 0, 1.5)
    patch = np.ones((size, size), np.float32)
    if rng.random() < 0.6:
        patch = np.zeros_like(patch)
        centre = (int(rng.uniform(0.2, 0.8) * size), int(rng.uniform(0.2, 0.8) * size))
        axes = (int(rng.uniform(0.2, 0.6) * size), int(rng.uniform(0.15, 0.4) * size))
        cv2.ellipse(patch, centre, axes, float(rng.uniform(-30, 30)), 0, 360, 1.0, -1)
        patch = cv2.GaussianBlur(patch, (0, 0), 6.0)
    layer = stripes * patch
    amplitude = _amplitude_over_tissue(image, valid, layer, (1.3, 3.0), rng)
    image += amplitude * layer * valid
    return np.clip(image, 0, 255).astype(np.uint8)


def _amplitude_over_tissue(
    image: np.ndarray,
    valid: np.ndarray,
    layer: np.ndarray,
    contrast: tuple[float, float],
    rng: np.random.Generator,
) -> float:
    """Grey levels to add to ``layer`` so it stands a log-uniform ``contrast`` (ratio range)
    above the tissue around it (at least 10 levels)."""
    near = valid & (cv2.dilate((layer > 0.2).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0)
    local = float(np.mean(image[near])) if near.any() else 60.0
    low, high = contrast
    return max(10.0, local * (math.exp(rng.uniform(math.log(low), math.log(high))) - 1.0))


class Compositor:
    """Makes composite samples from three kinds of background.

    Args:
        size: model input size.
        no_needle_fraction: share of composites left without a needle (negatives on new media).
        distractor_fraction: share of composites given bright tissue that is not a needle: one
            or two lines (fascia, tendon, bone: ``paint_distractor``, 40 %), short specular echoes
            (``paint_echoes``, 40 %) or muscle fibres (``paint_striations``, 20 %), with or
            without a needle.
        edge_entry: every painted shaft is visible from the edge of the tissue (none starts in
            it, as an out-of-plane entry or a shaft fading in would).
    """

    def __init__(
        self,
        size: int,
        no_needle_fraction: float = 0.2,
        distractor_fraction: float = 0.0,
        backgrounds: tuple[str, ...] = BACKGROUNDS,
        edge_entry: bool = False,
    ) -> None:
        unknown = set(backgrounds) - set(BACKGROUNDS)
        if unknown or not backgrounds:
            raise ValueError(f"backgrounds {backgrounds!r}: choose from {', '.join(BACKGROUNDS)}")
        self.size = size
        self.no_needle_fraction = no_needle_fraction
        self.distractor_fraction = distractor_fraction
        self.edge_entry = edge_entry
        self.backgrounds = tuple(kind for kind in BACKGROUNDS if kind in backgrounds)
        self.real_frames = load_real_frames() if "real" in self.backgrounds else []

    def background(
        self, rng: np.random.Generator, sim_background: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """A real, simulated or phantom background, possibly cut to a convex fan, and where a
        needle may lie in it: None for "the imaged tissue" (``valid_area``); for a phantom or
        water bath the whole image or fan, dark water included (a needle shows in water)."""
        kind = self.background_kind(rng.random(), sim_background is not None)
        if kind == "real":
            return real_background(self.real_frames, self.size, rng), None
        if kind == "sim":
            return sim_background.copy(), None
        image = phantom_background(self.size, rng)
        medium = np.ones(image.shape, bool)
        if rng.random() < 0.4:
            medium = fan_mask(self.size, rng)
            image = image * medium.astype(np.uint8)
        return image, medium

    def background_kind(self, pick: float, have_sim: bool) -> str:
        """The background kind that a uniform draw ``pick`` in [0, 1) stands for."""
        total = sum(BACKGROUND_SHARES[kind] for kind in self.backgrounds)
        available = {"real": bool(self.real_frames), "sim": have_sim, "phantom": True}
        edge, passed_on = 0.0, False
        for kind in self.backgrounds:
            edge += BACKGROUND_SHARES[kind] / total
            passed_on = passed_on or pick < edge
            if passed_on and available[kind]:
                return kind
        return "phantom"  # the picked kinds are unavailable: a phantom can always be drawn

    def sample(self, rng: np.random.Generator, sim_background: np.ndarray | None = None) -> Sample:
        """One composite: a background and, most of the time, a painted needle."""
        image, medium = self.background(rng, sim_background)
        if rng.random() < self.distractor_fraction:
            valid = valid_area(image)
            kind = rng.random()
            if kind < 0.4:
                image = paint_echoes(image, valid, rng)
            elif kind < 0.6:
                image = paint_striations(image, valid, rng)
            else:
                for _ in range(int(rng.integers(1, 3))):
                    image = paint_distractor(image, valid, rng)
        if rng.random() < self.no_needle_fraction:
            return Sample(image, np.zeros_like(image), NO_TIP)
        valid = valid_area(image) if medium is None else medium
        return paint_needle(image, valid, rng, self.edge_entry)
