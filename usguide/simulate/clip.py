"""simulate_clip: builds one clip's anatomy, speckle and needle plan, then renders frames with
motion, attenuation/TGC, noise, log compression, scan conversion, artefacts and screen embedding.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import cv2
import numpy as np

from usguide.simulate import needle as needle_mod
from usguide.simulate.artefacts import Artefacts, random_artefacts
from usguide.simulate.config import GroundTruth, SimConfig, SimFrame, resolve
from usguide.simulate.media import add_surface_line, medium_maps, random_medium
from usguide.simulate.motion import Motion
from usguide.simulate.probe import ProbeGeometry, ScanConverter, fan_aspect, make_geometry
from usguide.simulate.screen import Screen
from usguide.simulate.speckle import random_psf, speckle_envelope, transmission
from usguide.simulate.tissue import TissueMaps, bone_floor
from usguide.types import Point, Roi


class ClipRenderer:
    """Everything fixed for one clip; ``frame(i)`` renders frame i (any order, deterministic)."""

    def __init__(self, config: SimConfig) -> None:
        config.validate()
        self.config = config
        rng = np.random.default_rng(config.seed)
        self.res = res = resolve(config, rng)
        # The breadth's own draws (media, needle look, entry, surface line) come from a second
        # generator, so adding them left the original draws, and the in vivo clips, as they were.
        extra = np.random.default_rng([config.seed, 0xB0B])
        self.screen: Screen | None = None
        width, height = config.width, config.height
        if res.screen:
            # The vendor's image box fits the image (no margins inside it unless asked for).
            aspect = res.aspect
            if res.probe == "convex":
                aspect = fan_aspect(res.fan_deg, res.radius_mm, res.depth_mm) * 1.03
            self.screen = Screen(res.screen_size, res.probe, rng, aspect, config.style)
            width, height = self.screen.roi.w, self.screen.roi.h
        self.region_size = (width, height)
        self.inner = self._inner_rect(width, height)
        width, height = self.inner.w, self.inner.h
        self.geometry: ProbeGeometry = make_geometry(
            res.probe, width, height, res.depth_mm, rng, res.fan_deg, res.radius_mm
        )
        geo = self.geometry
        if self.screen is not None:
            # A depth ruler beside the image (one mark per cm), to the scale of the image.
            self.screen.draw_ruler(geo.mm_per_px * self.screen.roi.h)
        self.converter = ScanConverter(geo)
        self.pad = max(8, int(0.1 * geo.n_beams))
        half_w = 0.4 * width * geo.mm_per_px
        target = config.target
        if target is None and res.needle and rng.random() < 0.5:
            target = (
                float(rng.uniform(-0.25, 0.25)) * width * geo.mm_per_px,
                float(rng.uniform(0.4, 0.75)) * geo.depth_mm,
            )
        build = random_medium(
            rng if res.medium == "in_vivo" else extra,
            res.medium,
            geo.depth_mm,
            half_w,
            target,
            res.texture,
            res.texture_scale,
        )
        self.build = build  # what the medium was drawn with (anatomy, phantom, container)
        maps = self._tissue(build, rng)
        if res.surface_line:
            add_surface_line(maps.specular, extra, geo.mm_per_px, res.medium != "in_vivo")
        self.psf = random_psf(rng, geo)
        self.envelope = speckle_envelope(maps, geo, self.psf, rng)
        self.transmission = transmission(maps, geo)
        self.origins, self.dirs = geo.beams()
        self.look = needle_mod.random_look(rng, res.gauge, res.needle_gain, res.needle_style, extra)
        floor = bone_floor(build["anatomy"]) if "anatomy" in build else None
        box = build.get("container")
        if box is not None and box.floor is not None:
            floor = lambda x, f=box.floor, k=box.floor_slope: f + k * x  # noqa: E731
        self.plan = (
            needle_mod.NeedlePlan(
                rng,
                geo,
                res.angle_deg,
                res.side,
                config.n_frames,
                config.fps,
                target,
                self.look,
                config.elevation,
                floor,
                res.entry,
                extra,
                config.script,
            )
            if res.needle
            else None
        )
        self.motion = Motion(rng, config.n_frames, config.fps, geo, self.pad, config.motion)
        # Depth gain: attenuation imperfectly compensated by TGC, plus near-field brightening.
        zr = (np.arange(geo.n_samples) + 0.5) / geo.n_samples
        residual_db = float(rng.uniform(-10.0, 1.0)) * zr + float(rng.uniform(0, 4)) * np.exp(
            -zr / 0.08
        )
        residual_db += float(rng.uniform(-2, 2)) * np.sin(2 * np.pi * zr * rng.uniform(0.5, 1.5))
        self.depth_gain = (10 ** (residual_db / 20)).astype(np.float32)[:, None]
        self.noise_level = float(rng.uniform(0.02, 0.07))
        noise = rng.standard_normal((2, geo.n_samples + 64, geo.n_beams + 64)).astype(np.float32)
        self.noise = cv2.magnitude(noise[0], noise[1]) * self.noise_level
        self.dynamic_range = float(rng.uniform(48.0, 62.0))
        self.brightness = float(rng.uniform(52.0, 92.0))
        # Scanner speckle reduction (most modern scanners smooth), as a blur of the log image.
        smooth = float(rng.uniform(0.2, 1.5)) if rng.random() < 0.7 else 0.0
        self.smooth = smooth if config.speckle_reduction is None else config.speckle_reduction
        self.artefacts: Artefacts | None = random_artefacts(rng) if res.artefacts else None
        self.frame_seed = int(rng.integers(0, 2**31 - 1))
        if self.screen is not None:
            self.roi = self.screen.roi
        else:
            self.roi = Roi(0, 0, *self.region_size)
        self.fan = geo.fan_mask() if geo.kind == "convex" else None

    def _inner_rect(self, width: int, height: int) -> Roi:
        """Where the ultrasound image lies in the region: all of it, or a linear image of another
        aspect ratio or a fan fitted inside (black margins around it)."""
        res = self.res
        left, top, right, bottom = res.margins
        avail_w = max(48, int(round(width * (1.0 - left - right))))
        avail_h = max(40, int(round(height * (1.0 - top - bottom))))
        aspect = res.aspect
        if res.probe == "convex":
            aspect = fan_aspect(res.fan_deg, res.radius_mm, res.depth_mm) * 1.03
        w_in, h_in = avail_w, avail_h
        if aspect is not None:
            if aspect >= avail_w / avail_h:
                h_in = max(40, min(avail_h, int(round(avail_w / aspect))))
            elif res.probe == "linear" or any(res.margins):
                w_in = max(48, min(avail_w, int(math.ceil(avail_h * aspect)) + 4))
        # A narrow image sits anywhere between the margins (off-centre fans), else centred.
        shift = res.apex_shift if any(res.margins) else 0.0
        x = int(round(width * left + (avail_w - w_in) * (shift + 1.0) / 2.0))
        y = int(round(height * top))
        x = min(max(x, 0), width - w_in)
        y = min(max(y, 0), height - h_in)
        return Roi(x, y, w_in, h_in)

    def _tissue(self, build: dict, rng: np.random.Generator) -> TissueMaps:
        """Tissue maps on the padded beam grid; large grids are evaluated at half resolution (the
        anatomy is smooth at that scale; speckle and the needle stay full resolution)."""
        geo = self.geometry
        x, z = geo.padded_grid(self.pad)
        step = 2 if x.size > 120_000 else 1
        maps = medium_maps(
            self.res.medium,
            build,
            x[::step, ::step].astype(np.float32),
            z[::step, ::step].astype(np.float32),
            rng,
            geo.mm_per_px * step,
        )
        if step == 1:
            return maps
        size = (x.shape[1], x.shape[0])
        return TissueMaps(
            *(
                cv2.resize(m, size, interpolation=cv2.INTER_LINEAR)
                for m in (maps.echo, maps.specular, maps.atten)
            )
        )

    @property
    def mm_per_px(self) -> float:
        return self.geometry.mm_per_px

    def frame(self, index: int) -> SimFrame:
        geo = self.geometry
        rng = np.random.default_rng((self.frame_seed, index))
        env = self.motion.warp(self.envelope, index)
        render = needle_mod.NeedleRender(None, 0.0, 0.0)
        pose = None
        if self.plan is not None:
            pose = self.motion.move_needle(self.plan.pose(index), index)
            render = needle_mod.render(
                env, pose, self.look, geo, self.origins, self.dirs, through=self._through(index)
            )
        gain_db = self.artefacts.gain_db(index) if self.artefacts else 0.0
        env *= self.depth_gain
        oy, ox = rng.integers(0, 64, size=2)
        env += self.noise[oy : oy + geo.n_samples, ox : ox + geo.n_beams]
        cv2.log(env, env)
        dr = self.dynamic_range + (self.artefacts.dr_change if self.artefacts else 0.0)
        alpha = 255.0 * 20.0 / (dr * math.log(10.0))
        beta = self.brightness + 255.0 * gain_db / dr
        grey = cv2.addWeighted(env, alpha, env, 0.0, beta, dtype=cv2.CV_8U)
        if self.smooth > 0.05:
            s_mm = geo.mm_per_px
            grey = cv2.GaussianBlur(
                grey,
                (0, 0),
                sigmaX=max(0.3, 0.6 * self.smooth * self.psf.lateral_focus / s_mm),
                sigmaY=max(0.3, self.smooth * self.psf.axial / s_mm),
            )
        grey = self.converter.to_image(grey)
        if self.artefacts is not None:
            grey = self.artefacts.apply(grey, rng)
        inner = self.inner
        if (inner.w, inner.h) != self.region_size:
            canvas = np.zeros(self.region_size[::-1], np.uint8)
            canvas[inner.y : inner.y + inner.h, inner.x : inner.x + inner.w] = grey
            grey = canvas
        truth = self._truth(pose, render)
        image = grey
        if self.screen is not None:
            image = self.screen.compose(grey, index, self.config.fps)
        return SimFrame(image, truth)

    def _through(self, index: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """Tissue transmission at beam-space samples of frame ``index`` (follows the motion)."""
        table, pad = self.transmission, self.pad
        dx, scale = float(self.motion.dx[index]), float(self.motion.scale[index])

        def lookup(rows: np.ndarray, beams: np.ndarray) -> np.ndarray:
            y = np.clip(np.round(rows * scale).astype(int), 0, table.shape[0] - 1)
            x = np.clip(np.round(beams + pad + dx).astype(int), 0, table.shape[1] - 1)
            return table[y, x]

        return lookup

    def _truth(
        self, pose: needle_mod.NeedlePose | None, render: needle_mod.NeedleRender
    ) -> GroundTruth:
        geo, roi, res, inner = self.geometry, self.roi, self.res, self.inner
        common = {
            "mm_per_px": geo.mm_per_px,
            "roi": roi,
            "probe": geo.kind,
            "depth_mm": geo.depth_mm,
            "gauge": res.gauge if res.needle else None,
            "medium": res.medium,
            "geometry": res.geometry,
            "needle_style": res.needle_style if res.needle else None,
        }
        if pose is None or render.mask is None:
            return GroundTruth(False, pose is not None, None, None, None, None, **common)
        mask = self.converter.to_image(render.mask.view(np.uint8), nearest=True) > 0
        shape = self.screen.shape if self.screen is not None else self.region_size[::-1]
        if mask.shape != shape:
            full = np.zeros(shape, bool)
            x0, y0 = roi.x + inner.x, roi.y + inner.y
            full[y0 : y0 + inner.h, x0 : x0 + inner.w] = mask
            mask = full
        if not mask.any():
            return GroundTruth(False, True, None, None, None, None, **common)

        def to_point(s_along: float) -> Point:
            p = pose.origin + s_along * pose.direction
            px, py = geo.mm_to_px(p[0], p[1])
            return Point(float(px) + roi.x + inner.x, float(py) + roi.y + inner.y)

        return GroundTruth(
            True,
            True,
            to_point(render.s_max),
            to_point(render.s_min),
            pose.angle_deg,
            mask,
            **common,
            contrast=render.visible_contrast(),
        )


def simulate_clip(config: SimConfig) -> Iterator[SimFrame]:
    """Yields ``config.n_frames`` labelled frames; the same config always yields the same frames."""
    renderer = ClipRenderer(config)
    for index in range(config.n_frames):
        yield renderer.frame(index)
