"""Vendor-style scanner screen: the ultrasound image pasted into a screen with menus, text, a depth
ruler, a logo and grey bars, as a video capture card would grab it (1024x768 or 1280x720, BGR).
"""

from __future__ import annotations

import cv2
import numpy as np

from usguide.types import Roi

FONT = cv2.FONT_HERSHEY_SIMPLEX
VENDORS = ("SONOVIEW 7", "ECHOLINE S2", "MEDISCAN PRO", "NOVUS US")
PRESETS = ("MSK", "Nerve", "Vascular", "Abdomen", "Small Parts")


class Screen:
    """Static screen background with a fixed image region; ``compose`` pastes each frame into it."""

    def __init__(
        self,
        size: tuple[int, int],
        probe: str,
        rng: np.random.Generator,
        aspect: float | None = None,
    ) -> None:
        """``aspect``: the image's width / height (a fan's bounding box), else the usual one."""
        width, height = size
        self.shape = (height, width)
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

    def draw_ruler(self, depth_mm: float) -> None:
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

    def compose(self, grey: np.ndarray, index: int, fps: float) -> np.ndarray:
        roi = self.roi
        frame = self.background.copy()
        frame[roi.y : roi.y + roi.h, roi.x : roi.x + roi.w] = grey[:, :, None]
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
