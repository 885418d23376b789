"""Needle kinematics (advance, pause, withdraw, redirect, elevational drift) and its echo in beam
space: specular shaft dimming with the beam incidence angle, brighter or fading tip, reverberation
copies and comet tail below the shaft, acoustic shadow, out-of-plane drop-out; plus the exact mask.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from usguide.simulate.look import GAUGE_MM, NeedleLook, random_look  # noqa: F401 - re-exported
from usguide.simulate.probe import ProbeGeometry
from usguide.simulate.script import InsertionScript

# A shaft stretch is "visible" where its echo, averaged over ~9 beams, is at least this many times
# the mean tissue echo around it: an absolute level ignores that the same needle stands out in dark
# fat and vanishes in bright muscle, which mislabelled clearly visible needles as absent.
VISIBLE_CONTRAST = 1.5
MIN_VISIBLE_MM = 2.0


@dataclass
class NeedlePose:
    """The needle in one frame: skin puncture point, unit direction, inserted length (mm)."""

    origin: np.ndarray
    direction: np.ndarray
    length: float
    e_tip: float  # elevational offset at the tip, mm
    tilt: float  # elevational offset change per mm back along the shaft
    s_start: float = 0.0  # the shaft is out of the imaging plane before this (out-of-plane entry)

    @property
    def angle_deg(self) -> float:
        return math.degrees(math.atan2(abs(self.direction[1]), abs(self.direction[0])))


@dataclass
class NeedleRender:
    """What render() drew: visible shaft mask in beam space and the visible extent along the
    shaft."""

    mask: np.ndarray | None
    s_min: float
    s_max: float
    contrast: np.ndarray | None = None  # per hit beam: shaft echo / local tissue echo
    s_along: np.ndarray | None = None  # per hit beam: position along the shaft, mm

    def visible_contrast(self) -> float | None:
        """Median contrast over the visible part of the shaft (how easy the needle is to see)."""
        if self.contrast is None or self.s_along is None or self.s_max <= self.s_min:
            return None
        inside = (self.s_along >= self.s_min) & (self.s_along <= self.s_max)
        seen = self.contrast[inside & (self.contrast >= VISIBLE_CONTRAST)]
        return float(np.median(seen)) if seen.size else None


def _eased(keys_t: list[float], keys_v: list[float], t: np.ndarray) -> np.ndarray:
    """Piecewise cosine-eased interpolation through keyframes (smooth starts and stops)."""
    kt, kv = np.asarray(keys_t), np.asarray(keys_v)
    idx = np.clip(np.searchsorted(kt, t, side="right") - 1, 0, len(kt) - 2)
    span = np.maximum(kt[idx + 1] - kt[idx], 1e-9)
    frac = np.clip((t - kt[idx]) / span, 0, 1)
    frac = 0.5 - 0.5 * np.cos(np.pi * frac)
    return kv[idx] + (kv[idx + 1] - kv[idx]) * frac


class NeedlePlan:
    """Per-frame needle poses for a whole clip, drawn once from the clip's generator."""

    def __init__(
        self,
        rng: np.random.Generator,
        geometry: ProbeGeometry,
        angle_deg: float,
        side: str,
        n_frames: int,
        fps: float,
        target: tuple[float, float] | None,
        look: NeedleLook,
        elevation: str | None = None,
        floor: Callable[[float], float] | None = None,
        entry: str = "edge",
        extra: np.random.Generator | None = None,
        script: InsertionScript | None = None,
    ) -> None:
        extra = extra if extra is not None else np.random.default_rng(0)
        depth = geometry.depth_mm
        sign = 1.0 if side == "left" else -1.0
        z_in = float(rng.uniform(0.04, 0.3)) * depth
        half = geometry.width * geometry.mm_per_px / 2.0
        if geometry.kind == "convex":
            half = (geometry.radius_mm + z_in) * math.sin(geometry.half_angle) * 0.97
        angle = max(math.radians(angle_deg), 1e-3)
        # A shallow needle (breast biopsy: nearly parallel to the skin) is punctured far beside the
        # probe: its pivot is put under the skin at most this far back from the region's edge.
        back_max = float(extra.uniform(5.0, 25.0))
        if target is not None:
            # Aim at the target: puncture where the chosen angle leads to it, but never under the
            # probe (the skin is punctured beside it); then the angle follows from the target.
            x0 = target[0] - sign * (target[1] / math.tan(angle))
            if -sign * x0 < half + 2.0:
                x0 = -sign * (half + float(rng.uniform(2.0, 8.0)))
                angle = math.atan2(target[1], abs(target[0] - x0))
                origin = np.array([x0, 0.0])
            elif -sign * x0 > half + back_max:
                x0 = -sign * (half + back_max)
                origin = np.array([x0, target[1] - abs(target[0] - x0) * math.tan(angle)])
            else:
                origin = np.array([x0, 0.0])
        else:
            back = min(z_in / math.sin(angle), back_max / math.cos(angle))
            edge = np.array([-sign * half, z_in])
            origin = edge - back * np.array([sign * math.cos(angle), math.sin(angle)])
        self.s_start = 0.0
        if entry == "inside":
            # Out-of-plane entry: the shaft comes into the imaging plane inside the image.
            z_p = float(extra.uniform(0.08, 0.5)) * depth
            half_p = half
            if geometry.kind == "convex":
                half_p = (geometry.radius_mm + z_p) * math.sin(geometry.half_angle) * 0.9
            x_p = -sign * half_p + sign * float(extra.uniform(0.15, 0.55)) * 2 * half_p
            back = min(z_p / math.sin(angle), float(extra.uniform(5.0, 30.0)))
            origin = np.array([x_p, z_p]) - back * np.array(
                [sign * math.cos(angle), math.sin(angle)]
            )
            self.s_start = back
        self.origin, self.sign = origin, sign
        x_edge = -sign * half
        s_edge = max(0.0, (x_edge - origin[0]) * sign / math.cos(angle), self.s_start)
        room = max(0.92 * depth - float(origin[1]), 2.0) / math.sin(angle)
        s_far = min(room, s_edge + 2 * half / math.cos(angle))
        if target is not None:
            s_goal = math.hypot(target[0] - origin[0], target[1]) - 0.5
        else:
            s_goal = s_edge + float(rng.uniform(0.35, 0.9)) * max(s_far - s_edge, 5.0)
        if floor is not None:
            # Never drive the tip into bone: stop short of the first point below the floor.
            ss = np.linspace(0.0, s_goal, 400)
            below = origin[1] + ss * math.sin(angle) > (
                floor(origin[0] + sign * ss * math.cos(angle)) - 1.5
            )
            if below.any():
                s_goal = max(float(ss[int(np.argmax(below))]) - 1.5, s_edge + 2.0)
        duration = n_frames / fps
        t = np.arange(n_frames) / fps
        # Separate streams so the first frames do not depend on the clip length.
        keys_rng = np.random.default_rng(int(rng.integers(0, 2**63 - 1)))
        chunk = 600 * (n_frames // 600 + 1)
        jitter = cv2.GaussianBlur(rng.standard_normal((2, chunk)).astype(np.float32), (0, 0), 3)
        keys_t, keys_l, keys_a = [0.0], [], [0.0]
        start = (
            s_edge - float(keys_rng.uniform(1.0, 5.0))
            if keys_rng.random() < 0.35
            else s_edge + float(keys_rng.uniform(0.1, 0.5)) * (s_goal - s_edge)
        )
        keys_l.append(max(start, 1.0))
        now, length, redirect = 0.0, keys_l[0], 0.0
        while now < duration + 1.0:
            action = keys_rng.random()
            if length < s_goal - 1.0 and (action < 0.6 or length < s_edge + 3.0):
                step = min(float(keys_rng.uniform(3.0, 15.0)), s_goal - length)
                now += step / float(keys_rng.uniform(2.0, 9.0))
                length += step
            elif action < 0.78 or length < s_edge + 5:
                now += float(keys_rng.uniform(0.3, 1.5))  # pause
            else:
                back = float(keys_rng.uniform(3.0, 12.0))
                now += back / float(keys_rng.uniform(4.0, 10.0))
                length = max(1.0, length - back)
                redirect += math.radians(float(keys_rng.uniform(-6.0, 6.0)))
            keys_t.append(now)
            keys_l.append(length)
            keys_a.append(redirect)
        self.length = _eased(keys_t, keys_l, t) + 0.15 * jitter[0, :n_frames]
        turn = _eased(keys_t, keys_a, t) + math.radians(0.25) * jitter[1, :n_frames]
        self.angle = np.clip(angle + turn, 0.0, math.radians(88.0))
        sigma = look.elev_sigma
        styles = ["aligned", "drift", "tip_only", "tip_lost"]
        drawn = str(rng.choice(styles, p=[0.55, 0.25, 0.12, 0.08]))
        style = elevation or drawn
        phase = float(rng.uniform(0, 2 * np.pi))
        period = float(rng.uniform(2.5, 8.0))
        wave = np.sin(2 * np.pi * t / period + phase)
        if style == "aligned":
            self.e_tip, self.tilt = 0.25 * sigma * wave, np.full(n_frames, 0.004)
        elif style == "drift":
            self.e_tip = 1.6 * sigma * wave
            self.tilt = float(rng.uniform(-0.03, 0.03)) * np.ones(n_frames)
        elif style == "tip_only":
            self.e_tip = 0.2 * sigma * wave
            self.tilt = float(rng.uniform(0.06, 0.15)) * np.ones(n_frames)
        else:
            self.e_tip = 2.5 * sigma * np.ones(n_frames)
            self.tilt = -float(rng.uniform(0.08, 0.2)) * np.ones(n_frames)
        self.s_edge, self.s_goal, self.target = s_edge, s_goal, target
        if script is not None:
            # Written out, not drawn (the draws above still happen: the rest of the clip is the
            # same): no jitter, so the script is the truth. Its goal is the target itself (the
            # drawn goal stops short of it, and misses it when the puncture is below the skin).
            goal = s_goal
            if target is not None:
                goal = math.hypot(target[0] - origin[0], target[1] - origin[1])
            self.length = script.lengths(t, goal, s_edge)
            self.angle = np.clip(angle + script.turn_rad(t), 0.0, math.radians(88.0))
            in_plane = script.in_plane(t)
            self.e_tip = np.where(in_plane, self.e_tip, 4.0 * sigma)
            self.tilt = np.where(in_plane, self.tilt, 0.0)

    def pose(self, index: int) -> NeedlePose:
        a = float(self.angle[index])
        direction = np.array([self.sign * math.cos(a), math.sin(a)])
        return NeedlePose(
            self.origin.copy(),
            direction,
            float(self.length[index]),
            float(self.e_tip[index]),
            float(self.tilt[index]),
            self.s_start,
        )


def render(
    image: np.ndarray,
    pose: NeedlePose,
    look: NeedleLook,
    geometry: ProbeGeometry,
    origins: np.ndarray,
    dirs: np.ndarray,
    want_mask: bool = True,
    through: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> NeedleRender:
    """Adds the needle echo to a beam-space envelope image (in place); returns its visible extent.

    ``through(rows, beams)`` gives the tissue transmission above those samples (a needle under
    bone is in the shadow and not visible).
    """
    nr, nb = image.shape
    s_mm = geometry.mm_per_px
    d = pose.direction
    rel = pose.origin[None, :] - origins
    det = dirs[:, 0] * (-d[1]) + d[0] * dirs[:, 1]
    det = np.where(np.abs(det) < 1e-6, 1e-6, det)
    rho = (rel[:, 0] * (-d[1]) + d[0] * rel[:, 1]) / det
    s = (dirs[:, 0] * rel[:, 1] - dirs[:, 1] * rel[:, 0]) / det
    row = rho / s_mm - 0.5
    hit = (s >= 0) & (s <= pose.length) & (row > -2) & (row < nr + 2)
    cols = np.nonzero(hit)[0]
    if cols.size == 0:
        return NeedleRender(None, 0.0, 0.0)
    s, row, u = s[cols], row[cols], dirs[cols]
    tissue = _local_tissue(image, row, cols)
    along = np.abs(u @ d)  # cos of the angle between beam and shaft
    across = np.sqrt(np.clip(1.0 - along**2, 1e-4, 1.0))
    incidence = np.arccos(np.clip(across, 0, 1))  # angle between beam and the shaft's normal
    spec = look.floor + (1 - look.floor) * np.exp(-0.5 * (incidence / look.spec_sigma) ** 2)
    elev_off = pose.e_tip + pose.tilt * (pose.length - s)
    elev = np.exp(-0.5 * (elev_off / look.elev_sigma) ** 2)
    if pose.s_start > 0.0:
        elev = elev * np.clip((s - pose.s_start) / 2.0, 0.0, 1.0)
    to_tip = pose.length - s
    tip = 1.0 + (look.tip_gain - 1.0) * np.clip(1.0 - to_tip / 1.5, 0, 1)
    tip *= np.clip(to_tip / 0.15, 0.3, 1.0)
    tex = look.texture[np.clip((s * 10).astype(int), 0, look.texture.size - 1)]
    level = look.gain * spec * elev * tip
    if through is not None:
        level = level * through(row, cols)
    amp = level * tex
    from usguide.simulate.speckle import beam_spacing_mm  # local: avoid a cycle at import

    width_mm = beam_spacing_mm(geometry, float(np.mean(rho)))
    extent = width_mm * along / across + 0.15 * look.diameter / across
    sigma = np.sqrt((0.12 / s_mm) ** 2 + (extent / s_mm / 2.355) ** 2)
    spacing = max(0.8 * look.diameter / s_mm, 3.0) / across
    # Double wall: the back wall lies one diameter below the front wall along the beam, and the
    # reverberations are spaced by that wall distance.
    wall = np.zeros_like(sigma)
    back = np.zeros_like(sigma)
    if look.back_wall > 0.0:
        wall = np.maximum(look.diameter / s_mm / across, 2.5 * sigma)
        spacing = np.maximum(wall, 3.0 / across)
        back = look.back_wall * np.clip((spec - look.floor) / (1.0 - look.floor), 0.0, 1.0)
    bloom_sigma = np.sqrt(sigma**2 + (look.bloom_mm / s_mm) ** 2 + (wall / 2.0) ** 2)
    # Acoustic shadow below the in-plane shaft.
    rows = np.arange(nr, dtype=np.float32)[:, None]
    shade = look.shadow * elev * np.clip(spec * 1.5, 0, 1)
    depth_below = rows - (row + 2.0 * sigma)[None, :]
    # The shadow is strongest just under the shaft and fills in with depth (beam width,
    # diffraction).
    fill = np.exp(-np.clip(depth_below, 0, None) * (s_mm / 25.0))
    image[:, cols] *= np.where(depth_below > 0, 1.0 - shade[None, :] * fill, 1.0).astype(np.float32)
    # Shaft, reverberation copies and comet tail.
    # The skirt only shows (and costs) where it reaches the tissue's level.
    bloom = look.bloom if look.gain * look.bloom > 0.5 else 0.0
    above = int(np.ceil(3 * max(sigma.max(), bloom_sigma.max() if bloom > 0 else 0.0))) + 1
    span = int(np.ceil(above + wall.max() + look.reverb_count * spacing.max() + 12))
    if look.tail > 0:
        decay_px = look.tail_mm / s_mm if look.tail_mm > 0 else look.tail_len * spacing.max()
        span = max(span, int(np.ceil(3 * decay_px)))
    offs = np.arange(-above, span + 1)
    base = np.floor(row).astype(int)
    rr = base[None, :] + offs[:, None]
    o = rr - row[None, :]
    prof = np.exp(-0.5 * (o / sigma) ** 2)
    if look.back_wall > 0.0:
        prof += back * np.exp(-0.5 * ((o - wall) / sigma) ** 2)
    if bloom > 0.0:
        prof += bloom * np.exp(-0.5 * ((o - wall / 2.0) / bloom_sigma) ** 2)
    ratio = look.reverb_ratio * np.clip(spec, 0.3, 1.0)
    for k in range(1, look.reverb_count + 1):
        prof += ratio**k * np.exp(-0.5 * ((o - wall - k * spacing) / sigma) ** 2)
    vals = amp[None, :] * prof
    if look.tail > 0:
        # The comet tail rings inside the shaft: it follows the echo level, not the texture of
        # the shaft's surface (a beaded shaft has a smooth tail).
        tail_from = o - wall
        decay = look.tail_mm / s_mm if look.tail_mm > 0 else look.tail_len * spacing
        tail = np.exp(-np.clip(tail_from, 0, None) / decay) * (tail_from > 0)
        vals += (look.tail * level * float(look.texture.mean()))[None, :] * tail
    vals = vals.astype(np.float32)
    cc = np.broadcast_to(cols[None, :], rr.shape)
    ok = (rr >= 0) & (rr < nr)
    image[rr[ok], cc[ok]] += vals[ok]
    # Visible = bright enough and inside the image.
    contrast = _smooth(amp) / tissue
    vis = (contrast >= VISIBLE_CONTRAST) & (row >= 0) & (row <= nr - 1)
    if not vis.any():
        return NeedleRender(None, 0.0, 0.0, contrast, s)
    s_vis = s[vis]
    s_min, s_max = float(s_vis.min()), float(s_vis.max())
    if s_max - s_min < MIN_VISIBLE_MM:
        return NeedleRender(None, 0.0, 0.0, contrast, s)
    mask = None
    if want_mask:
        mask = np.zeros((nr, nb), bool)
        half = np.maximum(1.0, 1.2 * sigma[vis])
        if bloom > 0.0:
            # A strong echo is as wide as its skirt stays 3x above the tissue (saturated shafts
            # are the widest line in the picture).
            excess = amp[vis] * bloom / (3.0 * tissue[vis])
            reach = bloom_sigma[vis] * np.sqrt(2.0 * np.log(np.maximum(excess, 1.0)))
            half = np.maximum(half, np.minimum(reach, 2.5 * bloom_sigma[vis]) - wall[vis] / 2.0)
        top = np.clip(np.round(row[vis] - half), 0, nr - 1).astype(int)
        bottom = np.clip(np.round(row[vis] + wall[vis] + half), 0, nr - 1).astype(int)
        for c, a, b in zip(cols[vis], top, bottom, strict=True):
            mask[a : b + 1, c] = True
    return NeedleRender(mask, s_min, s_max, contrast, s)


def _smooth(values: np.ndarray, window: int = 9) -> np.ndarray:
    """Moving average along the shaft (the eye integrates a line over a few mm)."""
    if values.size < 2:
        return values.astype(np.float32)
    kernel = np.ones(min(window, values.size), np.float32)
    total = np.convolve(values, kernel, mode="same")
    count = np.convolve(np.ones_like(values), kernel, mode="same")
    return (total / count).astype(np.float32)


def _local_tissue(
    image: np.ndarray, row: np.ndarray, cols: np.ndarray, band: int = 6
) -> np.ndarray:
    """Mean tissue echo in a band around the shaft, before the needle is drawn (per hit beam)."""
    nr = image.shape[0]
    offsets = np.arange(-band, band + 1)[:, None]
    rows = np.clip(np.round(row).astype(int)[None, :] + offsets, 0, nr - 1)
    values = image[rows, np.broadcast_to(cols[None, :], rows.shape)].mean(axis=0)
    return np.maximum(_smooth(values), 1e-3)
