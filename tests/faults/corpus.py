"""Hostile inputs for the fault suite, built at test time from a seed (nothing binary is committed).

Each builder takes a folder and returns the path of one input: videos that are empty, random,
truncated, a named pipe or have a damaged packet; DICOMs with missing or absurd attributes; image
folders with a corrupt or NaN image; sessions whose meta.json, frames.csv or results.jsonl break
the format. The ONNX models that break the model contract are in ``tests.faults.models``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

W, H, FRAMES = 64, 48, 24
Builder = Callable[[Path], Path]


def _frames(seed: int = 0, count: int = FRAMES) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (H, W, 3), dtype=np.uint8) for _ in range(count)]


def _video(path: Path, fourcc: str = "FFV1", count: int = FRAMES) -> Path:
    writer = cv2.VideoWriter(
        str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*fourcc), 30.0, (W, H)
    )
    for image in _frames(count=count):
        writer.write(image)
    writer.release()
    return path


# ------------------------------------------------------------------------------------- videos
def valid_video(folder: Path) -> Path:
    return _video(folder / "valid.mkv")


def zero_byte_video(folder: Path) -> Path:
    path = folder / "empty.mp4"
    path.write_bytes(b"")
    return path


def random_bytes_video(folder: Path) -> Path:
    path = folder / "random.avi"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 20000, np.uint8).tobytes())
    return path


def truncated_video(folder: Path) -> Path:
    path = _video(folder / "cut.mkv")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def fifo_video(folder: Path) -> Path:
    path = folder / "pipe.mp4"
    os.mkfifo(path)  # nobody ever writes: opening it for reading would block for ever
    return path


def corrupt_packet_video(folder: Path) -> Path:
    """60 MJPEG frames in AVI with 16 bytes overwritten 10% in: FFmpeg stops at that packet
    (5 of 60 frames) unless decoding steps over it."""
    path = _video(folder / "packet.avi", "MJPG", count=60)
    data = bytearray(path.read_bytes())
    offset = int(len(data) * 0.1)
    data[offset : offset + 16] = b"\xff" * 16
    path.write_bytes(bytes(data))
    return path


# -------------------------------------------------------------------------------------- DICOM
def _dicom(path: Path, edit: Callable | None = None, frames: int = 4) -> Path:
    from pydicom import config
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.3.1"  # US multi-frame
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "US"
    ds.Rows, ds.Columns = H, W
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.NumberOfFrames = frames
    ds.FrameTime = 33.3
    pixels = np.random.default_rng(2).integers(0, 256, (frames, H, W), dtype=np.uint8)
    ds.PixelData = pixels.tobytes()
    if edit is not None:
        previous = config.settings.writing_validation_mode
        config.settings.writing_validation_mode = config.IGNORE
        try:
            edit(ds)
        finally:
            config.settings.writing_validation_mode = previous
    ds.save_as(path, enforce_file_format=True)
    return path


def valid_dicom(folder: Path) -> Path:
    return _dicom(folder / "valid.dcm")


def dicom_without_rows(folder: Path) -> Path:
    return _dicom(folder / "norows.dcm", lambda ds: delattr(ds, "Rows"))


def dicom_frames_text(folder: Path) -> Path:
    """NumberOfFrames "ab" (pydicom refuses to write text into an IS: patch the bytes)."""
    path = _dicom(folder / "abc.dcm")
    data = path.read_bytes()
    element = b"\x28\x00\x08\x00IS\x02\x004 "  # (0028,0008) IS, 2 bytes, "4 "
    assert data.count(element) == 1
    path.write_bytes(data.replace(element, element[:-2] + b"ab"))
    return path


def dicom_zero_frames(folder: Path) -> Path:
    return _dicom(folder / "zero.dcm", lambda ds: setattr(ds, "NumberOfFrames", 0))


def dicom_palette_without_lut(folder: Path) -> Path:
    return _dicom(
        folder / "palette.dcm", lambda ds: setattr(ds, "PhotometricInterpretation", "PALETTE COLOR")
    )


def dicom_negative_frame_times(folder: Path) -> Path:
    def edit(ds) -> None:  # noqa: ANN001
        del ds.FrameTime
        ds.FrameTimeVector = [0.0, -33.0, -33.0, -33.0]

    return _dicom(folder / "negative.dcm", edit)


def dicom_huge_scale(folder: Path) -> Path:
    from pydicom.dataset import Dataset

    def edit(ds) -> None:  # noqa: ANN001
        region = Dataset()
        region.RegionSpatialFormat = 1
        region.RegionLocationMinX0, region.RegionLocationMinY0 = 0, 0
        region.RegionLocationMaxX1, region.RegionLocationMaxY1 = W - 1, H - 1
        region.PhysicalUnitsXDirection = region.PhysicalUnitsYDirection = 3
        region.PhysicalDeltaX = region.PhysicalDeltaY = 1e9
        ds.SequenceOfUltrasoundRegions = [region]

    return _dicom(folder / "huge.dcm", edit)


# ------------------------------------------------------------------------------- image folders
def _images(folder: Path, name: str, count: int = 6) -> Path:
    path = folder / name
    path.mkdir()
    for i, image in enumerate(_frames(3, count)):
        cv2.imwrite(str(path / f"img{i:02d}.png"), image)
    return path


def valid_images(folder: Path) -> Path:
    return _images(folder, "images")


def images_one_corrupt(folder: Path) -> Path:
    path = _images(folder, "images_corrupt")
    (path / "img03.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    return path


def images_nan_tiff(folder: Path) -> Path:
    path = folder / "images_nan"
    path.mkdir()
    cv2.imwrite(str(path / "a.tiff"), np.full((H, W), np.nan, np.float32))
    return path


# ------------------------------------------------------------------------------------ sessions
def _session(folder: Path, name: str) -> Path:
    from usguide.record.writer import SessionWriter
    from usguide.types import Calibration, Frame, SourceInfo

    path = folder / name
    info = SourceInfo("fixture", "video", W, H, 30.0, False, FRAMES)
    with SessionWriter(path, info, Calibration(), min_free_bytes=0) as writer:
        for i, image in enumerate(_frames(4)):
            writer.write(Frame(image, i, 1_000_000 + i * 33_000_000, i * 33.0), {"frame": i})
    return path


def valid_session(folder: Path) -> Path:
    return _session(folder, "session")


def _meta_edit(name: str, edit: Callable[[dict], None]) -> Builder:
    def build(folder: Path) -> Path:
        path = _session(folder, name)
        meta = json.loads((path / "meta.json").read_text())
        edit(meta)
        (path / "meta.json").write_text(json.dumps(meta))
        return path

    build.__name__ = name
    return build


def _set(section: str | None, key: str, value: object) -> Callable[[dict], None]:
    def edit(meta: dict) -> None:
        (meta[section] if section else meta)[key] = value

    return edit


SESSION_META_FAULTS: dict[str, Builder] = {
    name: _meta_edit(name, edit)
    for name, edit in {
        "meta_video_string": _set(None, "video", "video.mkv"),
        "meta_roi_text": _set("calibration", "roi", "abc"),
        "meta_roi_two": _set("calibration", "roi", [1, 2]),
        "meta_roi_zero": _set("calibration", "roi", [0, 0, 0, 0]),
        "meta_roi_outside": _set("calibration", "roi", [0, 0, 640, 480]),
        "meta_width_text": _set("video", "width", "wide"),
        "meta_fps_text": _set("video", "fps", "fast"),
        "meta_fps_negative": _set("video", "fps", -30),
        "meta_scale_negative": _set("calibration", "mm_per_px", -1),
        "meta_scale_huge": _set("calibration", "mm_per_px", 1e10),
        "meta_file_escapes": _set("video", "file", "../../../etc/passwd"),
    }.items()
}


def meta_deeply_nested(folder: Path) -> Path:
    path = _session(folder, "meta_deep")
    meta = (path / "meta.json").read_text()
    deep = "[" * 100_000 + "]" * 100_000
    (path / "meta.json").write_text(meta.rstrip().rstrip("}") + f', "x": {deep}}}')
    return path


def meta_infinity(folder: Path) -> Path:
    path = _session(folder, "meta_inf")
    text = (path / "meta.json").read_text().replace('"duration_s": ', '"duration_s": 1e400, "y": ')
    (path / "meta.json").write_text(text)
    return path


def frames_csv_bad_row(folder: Path) -> Path:
    """Row 5 of frames.csv damaged: the 18 rows after it are unusable (counted, reported)."""
    path = _session(folder, "frames_bad_row")
    lines = (path / "frames.csv").read_text().splitlines(keepends=True)
    lines[6] = "5,x,oops,1\n"
    (path / "frames.csv").write_text("".join(lines))
    return path


def frames_csv_infinite(folder: Path) -> Path:
    path = _session(folder, "frames_inf")
    lines = (path / "frames.csv").read_text().splitlines(keepends=True)
    parts = lines[3].split(",")
    lines[3] = ",".join(parts[:3] + ["inf\n"])
    (path / "frames.csv").write_text("".join(lines))
    return path


def results_hostile(folder: Path) -> Path:
    """results.jsonl with 1e400, NaN and a 100,000-deep line: those results are dropped."""
    path = _session(folder, "results_bad")
    lines = (path / "results.jsonl").read_text().splitlines(keepends=True)
    lines[1] = '{"index": 1, "result": {"x": 1e400}}\n'
    lines[2] = '{"index": 2, "result": {"x": NaN}}\n'
    lines[3] = '{"index": 3, "result": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
    (path / "results.jsonl").write_text("".join(lines))
    return path


# ------------------------------------------------------------------------------------ registry
INPUTS: dict[str, Builder] = {
    "valid_video": valid_video,
    "zero_byte_video": zero_byte_video,
    "random_bytes_video": random_bytes_video,
    "truncated_video": truncated_video,
    "fifo_video": fifo_video,
    "corrupt_packet_video": corrupt_packet_video,
    "valid_dicom": valid_dicom,
    "dicom_without_rows": dicom_without_rows,
    "dicom_frames_text": dicom_frames_text,
    "dicom_zero_frames": dicom_zero_frames,
    "dicom_palette_without_lut": dicom_palette_without_lut,
    "dicom_negative_frame_times": dicom_negative_frame_times,
    "dicom_huge_scale": dicom_huge_scale,
    "valid_images": valid_images,
    "images_one_corrupt": images_one_corrupt,
    "images_nan_tiff": images_nan_tiff,
    "valid_session": valid_session,
    **SESSION_META_FAULTS,
    "meta_deeply_nested": meta_deeply_nested,
    "meta_infinity": meta_infinity,
    "frames_csv_bad_row": frames_csv_bad_row,
    "frames_csv_infinite": frames_csv_infinite,
    "results_hostile": results_hostile,
}

# What a run on each input must end in: "ok" (exit 0, complete), "error" (exit 2, one line) or
# "partial" (frames skipped: counted in probe; analyze exits 2 unless --allow-partial).
EXPECTED: dict[str, str] = {
    name: (
        "ok"
        if name.startswith("valid")
        or name
        in ("dicom_negative_frame_times", "dicom_huge_scale", "results_hostile", "truncated_video")
        else "partial"
        if name
        in (
            "corrupt_packet_video",
            "images_one_corrupt",
            "frames_csv_bad_row",
            "frames_csv_infinite",
        )
        else "error"
    )
    for name in INPUTS
}


# Hostile values for meta.json fields (also used by corpus_sessions).
META_VALUES: list[object] = [
    "",
    "x",
    -1,
    0,
    1e308,
    -1e308,
    [],
    {},
    [1, 2, 3, 4, 5],
    None,
    True,
    "1e400",
    2**70,
    [[0]],
    {"a": 1},
    0.5,
]


def mutated_session_metas(folder: Path, seed: int, count: int) -> list[Path]:
    """``count`` sessions whose meta.json had one field replaced by a random hostile value
    (for the slow sweep): every one must either replay or be refused in one line."""
    rng = np.random.default_rng(seed)
    values = META_VALUES
    fields = [
        ("video", "width"),
        ("video", "height"),
        ("video", "fps"),
        ("video", "file"),
        ("video", "pixel_format"),
        ("calibration", "mm_per_px"),
        ("calibration", "roi"),
        (None, "complete"),
        (None, "frame_count"),
        (None, "video"),
        (None, "calibration"),
        ("source", "fps"),
        (None, "source"),
    ]
    paths = []
    for i in range(count):
        section, key = fields[int(rng.integers(len(fields)))]
        value = values[int(rng.integers(len(values)))]
        build = _meta_edit(f"fuzz_{i:03d}", _set(section, key, value))
        paths.append(build(folder))
    return paths
