"""Generated hostile inputs (seeded, built at test time) that grow the fault corpus past 200.

Families, each of the issue's classes: videos truncated at many points or with flipped bytes (FFV1
in Matroska, MJPEG in AVI, MPEG-4 in MP4); random bytes, bare or behind a real magic number, under
media extensions; DICOMs with one attribute set to a hostile value, or truncated; image folders
that are empty, mixed, 16-bit, 4-channel, NaN or lying about their size; sessions whose meta.json
field, frames.csv row, results.jsonl line or video segment is damaged. Every builder takes a folder
and returns the input's path; bases are built once per folder and copied.
"""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from tests.faults import corpus

Builder = Callable[[Path], Path]
CONTAINERS = {"mkv": "FFV1", "avi": "MJPG", "mp4": "mp4v"}


def _base(folder: Path, name: str, build: Callable[[Path], Path]) -> Path:
    """``build(folder/_bases)`` once per folder (the unmodified input the family copies)."""
    bases = folder / "_bases"
    bases.mkdir(exist_ok=True)
    path = bases / name
    return path if path.exists() else build(bases)


def _copy(source: Path, target: Path) -> Path:
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copyfile(source, target)
    return target


def _named(name: str, build: Builder) -> tuple[str, Builder]:
    def named(folder: Path) -> Path:
        return build(folder)

    named.__name__ = name
    return name, named


# ------------------------------------------------------------------------------------- videos
def _video_base(ext: str) -> Callable[[Path], Path]:
    return lambda bases: corpus._video(bases / f"v.{ext}", CONTAINERS[ext])


def _truncated(ext: str, fraction: float) -> Builder:
    def build(folder: Path) -> Path:
        data = _base(folder, f"v.{ext}", _video_base(ext)).read_bytes()
        path = folder / f"trunc_{int(fraction * 100):02d}.{ext}"
        path.write_bytes(data[: max(1, int(len(data) * fraction))])
        return path

    return build


def _flipped(ext: str, seed: int) -> Builder:
    def build(folder: Path) -> Path:
        data = bytearray(_base(folder, f"v.{ext}", _video_base(ext)).read_bytes())
        rng = np.random.default_rng(100 + seed)
        for offset in rng.integers(len(data) // 10, len(data), 8):
            data[int(offset)] ^= int(rng.integers(1, 256))
        path = folder / f"flip_{seed}.{ext}"
        path.write_bytes(bytes(data))
        return path

    return build


MAGIC = {
    "avi": b"RIFF\x00\x10\x00\x00AVI LIST",
    "mkv": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01",
    "dcm": bytes(128) + b"DICM",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR",
}


def _random_file(ext: str, seed: int, magic: bytes = b"") -> Builder:
    def build(folder: Path) -> Path:
        rng = np.random.default_rng(200 + seed)
        path = folder / f"random_{seed}{'_magic' if magic else ''}.{ext}"
        path.write_bytes(magic + rng.integers(0, 256, 3000 + seed * 997, np.uint8).tobytes())
        return path

    return build


# -------------------------------------------------------------------------------------- DICOM
DICOM_EDITS: dict[str, tuple[str, object]] = {
    "rows_0": ("Rows", 0),
    "rows_60000": ("Rows", 60000),
    "rows_1": ("Rows", 1),
    "columns_0": ("Columns", 0),
    "columns_60000": ("Columns", 60000),
    "bits_0": ("BitsAllocated", 0),
    "bits_7": ("BitsAllocated", 7),
    "bits_16": ("BitsAllocated", 16),
    "bits_32": ("BitsAllocated", 32),
    "samples_0": ("SamplesPerPixel", 0),
    "samples_2": ("SamplesPerPixel", 2),
    "samples_3": ("SamplesPerPixel", 3),
    "samples_4": ("SamplesPerPixel", 4),
    "frames_minus1": ("NumberOfFrames", -1),
    "frames_999": ("NumberOfFrames", 999),
    "frames_1": ("NumberOfFrames", 1),
    "frame_time_0": ("FrameTime", 0),
    "frame_time_negative": ("FrameTime", -33.0),
    "frame_time_huge": ("FrameTime", 1e300),
    "photometric_rgb": ("PhotometricInterpretation", "RGB"),
    "photometric_ybr": ("PhotometricInterpretation", "YBR_FULL_422"),
    "photometric_empty": ("PhotometricInterpretation", ""),
    "photometric_monochrome1": ("PhotometricInterpretation", "MONOCHROME1"),
    "signed": ("PixelRepresentation", 1),
    "planar_1": ("PlanarConfiguration", 1),
    "high_bit_15": ("HighBit", 15),
    "bits_stored_16": ("BitsStored", 16),
    "pixels_half": ("PixelData", "half"),
    "pixels_empty": ("PixelData", b""),
    "pixels_none": ("PixelData", None),
    "modality_ct": ("Modality", "CT"),
    "frame_vector_short": ("FrameTimeVector", [0.0, 33.0]),
}


def _dicom_edit(key: str, value: object) -> Builder:
    def edit(ds) -> None:  # noqa: ANN001
        if value is None:
            delattr(ds, key)
        elif value == "half":
            ds.PixelData = ds.PixelData[: len(ds.PixelData) // 2]
        else:
            setattr(ds, key, value)

    def build(folder: Path) -> Path:
        return corpus._dicom(folder / f"{key}_{str(value)[:8]}.dcm", edit)

    return build


def _dicom_truncated(fraction: float) -> Builder:
    def build(folder: Path) -> Path:
        data = _base(folder, "d.dcm", lambda bases: corpus._dicom(bases / "d.dcm")).read_bytes()
        path = folder / f"dicom_cut_{int(fraction * 100):02d}.dcm"
        path.write_bytes(data[: int(len(data) * fraction)])
        return path

    return build


# ------------------------------------------------------------------------------- image folders
def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` with almost no data behind it."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + header
    ihdr = struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    data = b"IDAT" + zlib.compress(bytes(64))
    idat = struct.pack(">I", len(data) - 4) + data + struct.pack(">I", zlib.crc32(data))
    return b"\x89PNG\r\n\x1a\n" + ihdr + idat


def _image_folder(kind: str) -> Builder:
    def build(folder: Path) -> Path:
        path = folder / f"images_{kind}"
        path.mkdir()
        rng = np.random.default_rng(7)
        image = rng.integers(0, 256, (corpus.H, corpus.W, 3), dtype=np.uint8)
        if kind == "mixed_sizes":
            cv2.imwrite(str(path / "a.png"), image)
            cv2.imwrite(str(path / "b.png"), cv2.resize(image, (corpus.W * 2, corpus.H * 2)))
        elif kind == "one_pixel":
            cv2.imwrite(str(path / "a.png"), image[:1, :1])
        elif kind == "sixteen_bit":
            cv2.imwrite(str(path / "a.png"), (image[:, :, 0].astype(np.uint16) * 257))
        elif kind == "four_channel":
            cv2.imwrite(str(path / "a.png"), np.dstack([image, image[:, :, :1]]))
        elif kind == "grey_and_colour":
            cv2.imwrite(str(path / "a.png"), image[:, :, 0])
            cv2.imwrite(str(path / "b.png"), image)
        elif kind == "text_as_png":
            (path / "a.png").write_text("not an image\n")
        elif kind == "huge_header":
            (path / "a.png").write_bytes(_png_claiming(100_000, 100_000))
        elif kind == "inf_tiff":
            cv2.imwrite(str(path / "a.tiff"), np.full((corpus.H, corpus.W), np.inf, np.float32))
        elif kind == "truncated_jpeg":
            ok, data = cv2.imencode(".jpg", image)
            (path / "a.jpg").write_bytes(data.tobytes()[: len(data) // 2])
        elif kind == "zero_byte_png":
            (path / "a.png").write_bytes(b"")
        elif kind == "subfolder_only":
            (path / "inner").mkdir()
            cv2.imwrite(str(path / "inner" / "a.png"), image)
        # "empty": nothing at all
        return path

    return build


IMAGE_KINDS = (
    "empty",
    "mixed_sizes",
    "one_pixel",
    "sixteen_bit",
    "four_channel",
    "grey_and_colour",
    "text_as_png",
    "huge_header",
    "inf_tiff",
    "truncated_jpeg",
    "zero_byte_png",
    "subfolder_only",
)


# ------------------------------------------------------------------------------------ registry
def generated() -> dict[str, Builder]:
    """Every generated input by name (seeded: the same names and bytes on every run)."""
    from tests.faults.corpus_sessions import session_builders

    builders: dict[str, Builder] = {}
    for ext in CONTAINERS:
        for fraction in (0.02, 0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 0.95, 0.99):
            builders[f"trunc_{ext}_{int(fraction * 100):02d}"] = _truncated(ext, fraction)
        for seed in range(6):
            builders[f"flip_{ext}_{seed}"] = _flipped(ext, seed)
    for seed, ext in enumerate(("mp4", "avi", "mkv", "mov", "dcm", "png", "tiff", "jpg")):
        builders[f"random_{ext}"] = _random_file(ext, seed)
        builders[f"random_{ext}_long"] = _random_file(ext, seed + 10)
    for ext, magic in MAGIC.items():
        builders[f"magic_{ext}"] = _random_file(ext, 30, magic)
    for name, (key, value) in DICOM_EDITS.items():
        builders[f"dicom_{name}"] = _dicom_edit(key, value)
    for fraction in (0.05, 0.2, 0.5, 0.8, 0.97):
        builders[f"dicom_cut_{int(fraction * 100):02d}"] = _dicom_truncated(fraction)
    for kind in IMAGE_KINDS:
        builders[f"images_{kind}"] = _image_folder(kind)
    builders.update(session_builders())
    return dict(_named(name, build) for name, build in builders.items())


def fast_subset(names: list[str], every: int = 6, seed: int = 3) -> list[str]:
    """About one in ``every`` of ``names``, seeded, from every family (``trunc``, ``flip``,
    ``random``, ``magic``, ``dicom``, ``images``, ``sess``): the default run's share."""
    rng = np.random.default_rng(seed)
    families: dict[str, list[str]] = {}
    for name in names:
        families.setdefault(name.split("_")[0], []).append(name)
    chosen: set[str] = set()
    for members in families.values():
        count = -(-len(members) // every)
        chosen.update(str(m) for m in rng.choice(members, count, replace=False))
    return [name for name in names if name in chosen]


# ----------------------------------------------------------------------------------- evaluate
def _clips_base(bases: Path) -> Path:
    from usguide.simulate.export import write_clips

    write_clips(bases / "clips", 1, 11, "linear", 8, (160, 120))
    return bases / "clips"


def _truth_edit(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def edit(case: Path) -> None:
        truth = json.loads((case / "truth.json").read_text())
        change(truth)
        (case / "truth.json").write_text(json.dumps(truth))

    return edit


def _set_frames(key: str, value: object) -> Callable[[dict], None]:
    def change(truth: dict) -> None:
        for frame in truth["frames"]:
            frame[key] = value

    return change


EVALUATE_EDITS: dict[str, Callable[[Path], None]] = {
    "valid": lambda case: None,
    "truth_not_json": lambda case: (case / "truth.json").write_text("{oops"),
    "truth_missing": lambda case: (case / "truth.json").unlink(),
    "truth_no_frames": _truth_edit(lambda truth: truth.pop("frames")),
    "truth_frames_text": _truth_edit(lambda truth: truth.update(frames=["a", "b"])),
    "truth_fewer_frames": _truth_edit(lambda truth: truth.update(frames=truth["frames"][:3])),
    "truth_nan_tip": _truth_edit(_set_frames("tip", [float("nan"), 1e400])),
    "truth_roi_outside": _truth_edit(lambda truth: truth.update(roi=[0, 0, 9000, 9000])),
    "truth_scale_negative": _truth_edit(lambda truth: truth.update(mm_per_px=-1)),
    "truth_huge_tip": _truth_edit(_set_frames("tip", [1e300, 1e300])),
    "video_truncated": lambda case: (case / "video.mkv").write_bytes(
        (case / "video.mkv").read_bytes()[:2000]
    ),
    "video_missing": lambda case: (case / "video.mkv").unlink(),
}


def evaluate_cases(name: str) -> Builder:
    """A cases folder holding one labelled clip damaged by ``EVALUATE_EDITS[name]``."""

    def build(folder: Path) -> Path:
        path = folder / f"eval_{name}"
        _copy(_base(folder, "clips", _clips_base), path)
        EVALUATE_EDITS[name](path / "clip_0000")
        return path

    return build
