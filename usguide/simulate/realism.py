"""Makes ``docs/realism.png``: real B-mode frames beside simulated ones, with simple image
statistics.

Run ``python -m usguide.simulate.realism [OUT.png]``; it reads the real Clarius clip from
``../shared/real/`` and the pydicom-data OB image when available (neither is copied into the repo
beyond the downscaled picture, whose caption credits the sources).
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from usguide.paths import REPO_ROOT, output_path
from usguide.simulate.clip import ClipRenderer
from usguide.simulate.config import SimConfig

REAL_CLIP = REPO_ROOT.parent / "shared" / "real" / "clarius_needle_inplane.mp4"
TILE = (360, 287)  # (w, h) of each tile: the real clip's 1080x860 aspect
CREDIT = (
    "Real: Clarius linear, 3 cm, frames 150/330 of ph_1_3_1.mp4 from "
    "PaulOkwija/needle_segmentation (MIT, (c) 2025 Paul O. Mugume), downscaled; "
    "OBXXXX1A.dcm from pydicom-data (MIT)."
)


def grain_px(patch: np.ndarray) -> tuple[int, int]:
    """Autocorrelation half-widths (axial, lateral) in pixels: the speckle grain size."""
    p = patch.astype(np.float64) - patch.mean()
    spectrum = np.fft.fft2(p)
    ac = np.real(np.fft.ifft2(spectrum * np.conj(spectrum)))
    ac /= ac[0, 0]
    return int(np.argmax(ac[:, 0] < 0.5)), int(np.argmax(ac[0, :] < 0.5))


def real_frames(indices: tuple[int, ...] = (150, 330)) -> list[np.ndarray]:
    """Grey frames of the real clip (empty when the clip is absent)."""
    if not REAL_CLIP.exists():
        return []
    capture = cv2.VideoCapture(str(REAL_CLIP))
    frames, index = [], 0
    while index <= max(indices):
        ok, image = capture.read()
        if not ok:
            break
        if index in indices:
            frames.append(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
        index += 1
    capture.release()
    return frames


SIM_CASES = (
    (
        "linear 30 mm, 21 G from right (Clarius-like)",
        dict(
            seed=51,
            variant="linear",
            depth_mm=30.0,
            side="right",
            gauge=21,
            angle_range=(22.0, 22.0),
            needle_gain=4.0,
            elevation="aligned",
            speckle_reduction=1.0,
        ),
    ),
    (
        "linear 40 mm, 18 G, 40 deg, raw speckle",
        dict(
            seed=7,
            variant="linear",
            depth_mm=40.0,
            gauge=18,
            angle_range=(40.0, 40.0),
            needle_gain=8.0,
            elevation="aligned",
            speckle_reduction=0.0,
        ),
    ),
    ("convex 70 mm", dict(seed=5, variant="convex", depth_mm=70.0, elevation="aligned")),
    (
        "linear 35 mm, drifting out of plane",
        dict(seed=12, variant="linear", depth_mm=35.0, elevation="drift"),
    ),
    ("no needle: bone, vessel, fascia", dict(seed=3, variant="no_needle", depth_mm=45.0)),
    (
        "screen capture + artefacts",
        dict(seed=9, variant="screen", artefacts=True, width=1024, height=768),
    ),
)


def simulated(case: dict, frames: int = 150) -> np.ndarray:
    """The frame of a case where the visible shaft is longest (any frame when there is none)."""
    case.setdefault("medium", "in_vivo")  # beside real in vivo frames
    config = SimConfig(
        n_frames=frames, width=case.pop("width", 1080), height=case.pop("height", 860), **case
    )
    renderer = ClipRenderer(config)
    best, best_area = renderer.frame(frames - 1), -1
    for index in range(0, frames, 10):
        frame = renderer.frame(index)
        area = int(frame.truth.shaft_mask.sum()) if frame.truth.visible else 0
        if area > best_area:
            best, best_area = frame, area
    image = best.image
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def dicom_frame() -> np.ndarray | None:
    """The pydicom-data Philips OB frame (curved probe, scanner screen), grey, or None."""
    try:
        import pydicom
        import pydicom.data

        dataset = pydicom.dcmread(pydicom.data.get_testdata_file("OBXXXX1A.dcm"))
        pixels = dataset.pixel_array  # palette indices run dark to bright: usable as grey
    except Exception:  # noqa: BLE001 - optional illustration only
        return None
    if pixels.ndim == 3:
        pixels = cv2.cvtColor(pixels.astype(np.uint8), cv2.COLOR_RGB2GRAY)
    return pixels.astype(np.uint8)


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    out = cv2.cvtColor(tile, cv2.COLOR_GRAY2BGR)
    cv2.rectangle(out, (0, 0), (out.shape[1], 18), (0, 0, 0), -1)
    cv2.putText(out, text, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 255, 255), 1, cv2.LINE_AA)
    return out


def make_figure(out: Path) -> Path:
    """Writes the comparison figure; returns its path."""
    tiles = []
    for image, index in zip(real_frames(), (150, 330), strict=False):
        ax, lat = grain_px(image[150:350, 100:400])
        text = f"REAL frame {index}  mean {image.mean():.0f}  grain {ax}x{lat}px"
        tiles.append(_label(cv2.resize(image, TILE, interpolation=cv2.INTER_AREA), text))
    dicom = dicom_frame()
    if dicom is not None:
        text = "REAL Philips C5-1 OB screen (pydicom-data)"
        tiles.append(_label(cv2.resize(dicom, TILE, interpolation=cv2.INTER_AREA), text))
    for title, case in SIM_CASES:
        image = simulated(dict(case))
        ax, lat = grain_px(image[150:350, 100:400]) if image.shape == (860, 1080) else (0, 0)
        stats = f"  mean {image.mean():.0f}  grain {ax}x{lat}px" if ax else ""
        tiles.append(
            _label(cv2.resize(image, TILE, interpolation=cv2.INTER_AREA), "SIM " + title + stats)
        )
    while len(tiles) % 4:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.hstack(tiles[k : k + 4]) for k in range(0, len(tiles), 4)]
    figure = np.vstack(rows)
    caption = np.zeros((40, figure.shape[1], 3), np.uint8)
    cv2.putText(
        caption, CREDIT, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA
    )
    cv2.putText(
        caption,
        "Simulated: usguide.simulate (python -m usguide.simulate.realism). Grain = "
        "autocorrelation half-width axial x lateral in a 200x300 px patch at 1080x860.",
        (6, 34),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.45,
        (255, 255, 255),
        1,
        cv2.LINE_AA,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), np.vstack([figure, caption]), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return out


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else output_path("docs/realism.png")
    print(make_figure(out))


if __name__ == "__main__":
    main()
