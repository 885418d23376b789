"""Vendor-style scanner screen: the ultrasound image pasted into a screen with menus, text, a depth
ruler, a logo and grey bars, as a video capture card would grab it (1024x768 or 1280x720, BGR).
A second, held-out layout (image on the right, tick ruler on its left, side panel, thumbnails, a
dark gradient) is never used in training.
"""

from __future__ import annotations

import cv2
import numpy as np

from usguide.types import Roi

FONT = cv2.FONT_HERSHEY_SIMPLEX
VENDORS = ("SONOVIEW 7", "ECHOLINE S2", "MEDISCAN PRO", "NOVUS US")
PRESETS = ("MSK", "Nerve", "Vascular", "Abdomen", "Small Parts")
HELDOUT_VENDORS = ("AURORA X9", "KESTREL Ultra", "VIVIDUS 3")
# Depth-ruler styles (``draw_ruler(style=...)``): large dots per cm and small ones per 5 mm right
# of the image; ticks left of it; a handheld probe's dots per cm and per 2 mm drawn over the
# image's right edge; ticks per mm, 5 mm and cm right of the image; dots of one size per cm
# (ambiguous on their own).
RULER_STYLES = ("dots", "ticks", "dots_inside", "ticks_mm", "dots_alike")


class Screen:
    """Static screen background with a fixed image region; ``compose`` pastes each frame into it."""

    def __init__(
        self,
        size: tuple[int, int],
        probe: str,
        rng: np.random.Generator,
        aspect: float | None = None,
        layout: str = "train",
    ) -> None:
        """``aspect``: the image's width / height (a fan's bounding box), else the usual one;
        ``layout``: "train" or "heldout" (another vendor's screen)."""
        width, height = size
        self.shape = (height, width)
        self.layout = layout
        # The exact scale of the ruler drawn (mm per pixel), and marks drawn over the image.
        self.ruler_mm_per_px: float | None = None
        self._over_image: list[tuple[float, float, float]] = []  # (x, y, radius)
        if layout == "heldout":
            self._heldout(size, rng, aspect)
            return
        top = int(height * rng.uniform(0.06, 0.09))
        bottom = int(height * rng.uniform(0.06, 0.1))
        avail_h = height - top - bottom - 8
        img_h = int(avail_h * rng.uniform(0.85, 1.0))
        ratio = rng.uniform(1.2, 1.4) if probe == "convex" else 1.25
        ratio = ratio if aspect is None else aspect
        img_w = int(min(width * 0.7, img_h * ratio))
        if aspect is not None:
            img_h = max(40, min(img_h, int(round(img_w / aspect))))
        left = int(width * rng.uniform(0.16, 0.24))
        x = min(width - img_w - 40, left + int(rng.uniform(0, 30)))
        y = top + 4 + int(rng.uniform(0, max(1, avail_h - img_h)))
        self.roi = Roi(int(x), int(y), int(img_w), int(img_h))
        shade = int(rng.uniform(0, 25))
        bg = np.full((height, width, 3), shade, np.uint8)
        bar = tuple(int(v) for v in rng.uniform(60, 110, 3))
        bg[:top] = bar
        bg[height - bottom :] = bar
        scale = height / 768.0
        text = (225, 225, 225)
        vendor = VENDORS[int(rng.integers(0, len(VENDORS)))]
        cv2.putText(bg, vendor, (int(12 * scale), int(top * 0.7)), FONT, 0.7 * scale, text, 2)
        cv2.putText(
            bg,
            f"ID {int(rng.integers(10000, 99999))}  {PRESETS[int(rng.integers(0, 5))]}",
            (int(width * 0.35), int(top * 0.7)),
            FONT,
            0.55 * scale,
            text,
            1,
        )
        cv2.putText(
            bg, "MI 0.9  TIs 0.2", (int(width * 0.75), int(top * 0.7)), FONT, 0.5 * scale, text, 1
        )
        menu = ["Gain", "Depth", "Freq", "DR", "Focus", "Frame"]
        for k, name in enumerate(menu):
            value = int(rng.integers(20, 90))
            cv2.putText(
                bg,
                f"{name} {value}",
                (int(10 * scale), top + int((40 + 34 * k) * scale)),
                FONT,
                0.5 * scale,
                (200, 200, 160),
                1,
            )
        # Logo: a filled circle with an initial, lower left.
        cx, cy = int(40 * scale), height - bottom - int(50 * scale)
        cv2.circle(bg, (cx, cy), int(22 * scale), (170, 120, 40), -1)
        cv2.putText(
            bg, vendor[0], (cx - int(9 * scale), cy + int(9 * scale)), FONT, 0.8 * scale, text, 2
        )
        for k, label in enumerate(["Freeze", "Save", "Measure", "Review"]):
            bx = int(width * 0.2 + k * width * 0.18)
            cv2.rectangle(
                bg,
                (bx, height - bottom + 6),
                (bx + int(width * 0.14), height - 6),
                (150, 150, 150),
                1,
            )
            cv2.putText(
                bg, label, (bx + 8, height - int(bottom * 0.35)), FONT, 0.5 * scale, text, 1
            )
        self.background = bg
        self.scale = scale

    def _heldout(
        self, size: tuple[int, int], rng: np.random.Generator, aspect: float | None
    ) -> None:
        """Another vendor: the image on the right, a parameter panel with a TGC curve on the
        left, a tick ruler left of the image, thumbnails along the bottom, a gradient background."""
        width, height = size
        scale = height / 768.0
        top = int(height * rng.uniform(0.04, 0.07))
        thumbs = int(height * rng.uniform(0.12, 0.16))
        avail_h = height - top - thumbs - 16
        img_h = int(avail_h * rng.uniform(0.9, 1.0))
        img_w = int(min(width * 0.62, img_h * (aspect or 1.3)))
        if aspect is not None:
            img_h = max(40, min(img_h, int(round(img_w / aspect))))
        x = width - img_w - int(width * rng.uniform(0.02, 0.05))
        y = top + 8
        self.roi = Roi(int(x), int(y), int(img_w), int(img_h))
        ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
        dark, light = np.array([22, 14, 8], np.float32), np.array([70, 48, 30], np.float32)
        bg = np.broadcast_to(dark + (light - dark) * ramp, (height, width, 3)).astype(np.uint8)
        bg = np.ascontiguousarray(bg)
        font, text = cv2.FONT_HERSHEY_DUPLEX, (240, 220, 200)
        cv2.rectangle(bg, (0, 0), (width, top), (90, 60, 20), -1)
        cv2.putText(
            bg,
            HELDOUT_VENDORS[int(rng.integers(0, 3))],
            (8, int(top * 0.75)),
            font,
            0.6 * scale,
            text,
            1,
        )
        cv2.putText(
            bg,
            f"2026-11-30  14:{int(rng.integers(0, 60)):02d}",
            (int(width * 0.6), int(top * 0.75)),
            font,
            0.5 * scale,
            text,
            1,
        )
        panel = int(x - 60 * scale)
        for k, name in enumerate(["B-Mode", "Freq 12MHz", "Gn 54", "DR 66", "FR 28", "Map C"]):
            cv2.putText(
                bg, name, (10, top + int((40 + 30 * k) * scale)), font, 0.45 * scale, text, 1
            )
        # TGC curve in the panel.
        ys = np.linspace(y, y + img_h, 8)
        xs = panel - 40 - 25 * np.abs(np.sin(np.linspace(0, 2, 8) + rng.uniform(0, 3)))
        cv2.polylines(bg, [np.stack([xs, ys], 1).astype(np.int32)], False, (80, 200, 230), 1)
        for k in range(int(rng.integers(3, 6))):
            bx = int(x + k * (thumbs * 1.4))
            if bx + int(thumbs * 1.3) > width:  # the thumbnail (and its noise) must fit
                break
            by = height - thumbs - 4
            cv2.rectangle(bg, (bx, by), (bx + int(thumbs * 1.3), height - 6), (110, 110, 110), 1)
            noise = rng.integers(20, 120, (thumbs - 12, int(thumbs * 1.3) - 6), dtype=np.uint8)
            bg[by + 4 : by + 4 + noise.shape[0], bx + 3 : bx + 3 + noise.shape[1]] = noise[
                :, :, None
            ]
        self.background = bg
        self.scale = scale

    def draw_ruler(self, depth_mm: float, style: str | None = None) -> None:
        # The two original styles keep their drawing (so the clips rendered so far stay the same):
        # their marks span ``roi.h - 1`` pixels, hence the exact scale below.
        if style is not None and style not in ("dots", "ticks"):
            self._styled_ruler(depth_mm / self.roi.h, style)
            return
        self.ruler_mm_per_px = depth_mm / (self.roi.h - 1)
        if style == "ticks" or (style is None and self.layout == "heldout"):
            self._tick_ruler(depth_mm)
            return
        """Depth ruler right of the image: a tick per 5 mm, a large dot and label per cm."""
        roi, bg = self.roi, self.background
        x = roi.x + roi.w + 6
        for mm in range(0, int(depth_mm) + 1, 5):
            y = roi.y + int(round(mm / depth_mm * (roi.h - 1)))
            if mm % 10 == 0:
                cv2.circle(bg, (x + 3, y), 3, (220, 220, 220), -1)
                cv2.putText(
                    bg, str(mm // 10), (x + 10, y + 5), FONT, 0.4 * self.scale, (220, 220, 220), 1
                )
            else:
                cv2.circle(bg, (x + 3, y), 1, (200, 200, 200), -1)
        cv2.putText(
            bg,
            f"{depth_mm / 10:.1f} cm",
            (roi.x + roi.w - 70, roi.y + roi.h + 18),
            FONT,
            0.5 * self.scale,
            (230, 230, 230),
            1,
        )

    def _tick_ruler(self, depth_mm: float) -> None:
        """Held-out ruler: ticks left of the image (long ones with a label per cm), a focus
        marker."""
        roi, bg = self.roi, self.background
        x = roi.x - 4
        for mm in range(0, int(depth_mm) + 1):
            y = roi.y + int(round(mm / depth_mm * (roi.h - 1)))
            length = 10 if mm % 10 == 0 else (6 if mm % 5 == 0 else 0)
            if length:
                cv2.line(bg, (x - length, y), (x, y), (230, 230, 230), 1)
            if mm % 10 == 0:
                cv2.putText(
                    bg, str(mm // 10), (x - 26, y + 4), FONT, 0.4 * self.scale, (230, 230, 230), 1
                )
        fy = roi.y + roi.h // 3
        triangle = np.array([[x - 14, fy - 5], [x - 14, fy + 5], [x - 6, fy]], np.int32)
        cv2.fillPoly(bg, [triangle], (60, 200, 255))

    def _styled_ruler(self, mm_per_px: float, style: str) -> None:
        """Rulers drawn at sub-pixel positions, so that their scale is exactly ``mm_per_px``."""
        if style not in RULER_STYLES:
            raise ValueError(f"ruler style must be one of {RULER_STYLES}, not {style!r}")
        roi, bg, colour = self.roi, self.background, (235, 235, 235)
        self.ruler_mm_per_px = mm_per_px
        size = max(1.0, self.scale)
        depth_mm = mm_per_px * roi.h
        # Small dots every 2 mm while they stay apart, else every 5 mm (as handheld probes do).
        fine = 2 if 2 / mm_per_px >= 18 * size else 5
        step = {"dots_inside": fine, "ticks_mm": 1, "dots_alike": 10}[style]
        for mm in range(0, int(depth_mm) + 1, step):
            y = roi.y + mm / mm_per_px
            if y > roi.y + roi.h - 2:
                break
            major = mm % 10 == 0
            if style == "dots_inside":
                radius = (6.0 if major else 2.5) * size
                self._over_image.append((roi.x + roi.w - 10 * size, y, radius))
            elif style == "dots_alike":
                _disc(bg, roi.x + roi.w + 8 * size, y, 3.0 * size, colour)
            else:
                length = int(round((12 if major else 8 if mm % 5 == 0 else 4) * size))
                x0 = roi.x + roi.w + 3
                shift = 4
                y16 = int(round(y * 2**shift))
                cv2.line(bg, (x0 << shift, y16), ((x0 + length) << shift, y16), colour, 1, 8, shift)
            if major and style != "dots_inside":  # a handheld probe's ruler has no labels
                label_x = roi.x + roi.w + int(20 * size)
                cv2.putText(
                    bg, str(mm // 10), (label_x, int(y) + 5), FONT, 0.4 * self.scale, colour, 1
                )

    def compose(self, grey: np.ndarray, index: int, fps: float) -> np.ndarray:
        roi = self.roi
        frame = self.background.copy()
        frame[roi.y : roi.y + roi.h, roi.x : roi.x + roi.w] = grey[:, :, None]
        for x, y, radius in self._over_image:
            _disc(frame, x, y, radius, (245, 245, 245))
        h = self.shape[0]
        cv2.putText(
            frame,
            f"{index / fps:6.2f} s",
            (self.shape[1] - int(120 * self.scale), h - 12),
            FONT,
            0.5 * self.scale,
            (230, 230, 230),
            1,
        )
        return frame


def _disc(image: np.ndarray, x: float, y: float, radius: float, colour: tuple) -> None:
    """A filled, anti-aliased disc at a sub-pixel centre."""
    shift = 4
    centre = (int(round(x * 2**shift)), int(round(y * 2**shift)))
    cv2.circle(image, centre, int(round(radius * 2**shift)), colour, -1, cv2.LINE_AA, shift)
