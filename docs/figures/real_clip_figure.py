"""Draws docs/figures/real_clip.jpg: six frames of the real clip with the overlay usguide computed.

Usage (the clip is not in this repository; see ../shared/real/README.md)::

    usguide analyze ../shared/real/clarius_needle_inplane.mp4 --roi 0,0,1030,860 --out real.jsonl
    python docs/figures/real_clip_figure.py ../shared/real/clarius_needle_inplane.mp4 real.jsonl

Green: measured shaft; orange: predicted (coasting); yellow: projected trajectory; red ring: tip.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

FRAMES = (60, 150, 240, 330, 400, 440)
MEASURED, PREDICTED, TRAJECTORY, TIP = (80, 220, 80), (0, 165, 255), (60, 220, 220), (40, 40, 255)


def _point(values: list[float], scale: float) -> tuple[int, int]:
    return int(round(values[0] * scale)), int(round(values[1] * scale))


def draw(image: np.ndarray, row: dict, scale: float) -> np.ndarray:
    """The frame downscaled by ``scale`` with the needle of one analyze row drawn on it."""
    out = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    needle = row.get("needle")
    if needle:
        tip, entry = _point(needle["tip"], scale), _point(needle["entry"], scale)
        trajectory = row.get("trajectory") or {}
        if trajectory.get("end"):
            cv2.line(out, tip, _point(trajectory["end"], scale), TRAJECTORY, 1, cv2.LINE_AA)
        colour = PREDICTED if needle.get("predicted") else MEASURED
        cv2.line(out, entry, tip, colour, 2, cv2.LINE_AA)
        cv2.circle(out, tip, 4, TIP, 1, cv2.LINE_AA)
    cv2.putText(
        out, f"frame {row['frame']}", (8, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("results", type=Path, help="usguide analyze output (JSON lines)")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("real_clip.jpg"))
    parser.add_argument("--scale", type=float, default=1 / 3)
    args = parser.parse_args()
    rows = {}
    for line in args.results.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        rows[row["frame"]] = row
    capture = cv2.VideoCapture(str(args.clip))
    tiles, index = {}, 0
    while len(tiles) < len(FRAMES):
        ok, image = capture.read()
        if not ok:
            raise SystemExit(f"{args.clip} ended at frame {index}")
        if index in FRAMES:
            tiles[index] = draw(image, rows[index], args.scale)
        index += 1
    ordered = [tiles[i] for i in FRAMES]
    grid = np.vstack([np.hstack(ordered[:3]), np.hstack(ordered[3:])])
    cv2.imwrite(str(args.out), grid, [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(f"wrote {args.out} ({grid.shape[1]}x{grid.shape[0]})")


if __name__ == "__main__":
    main()
