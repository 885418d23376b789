"""PLUS/Slicer sequence files (``.mha`` MetaIO and ``.seq.nrrd``): read 2-D frame series.

The layout is the one PLUS writes and 3D Slicer's Sequences module opens: one 3-D image (width x
height x frames), header keys in PLUS's order, and per-frame fields ``Seq_Frame0000_<Name>``
(``Timestamp`` in s, ``FrameNumber``, ``ImageStatus``, ``<From>To<To>Transform`` as 16 numbers of
a row-major 4x4 matrix). ``seqfile_writer.py`` writes them. Pure numpy: sources read these files
without any optional package.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from usguide.errors import UsguideError

SEQ_SUFFIXES = (".mha", ".seq.mha", ".nrrd", ".seq.nrrd")
_FRAME_FIELD = re.compile(r"^Seq_Frame(\d+)_(.+)$")
_MET_TYPES = {"MET_UCHAR": np.uint8, "MET_CHAR": np.int8, "MET_USHORT": np.uint16,
              "MET_SHORT": np.int16, "MET_FLOAT": np.float32}  # fmt: skip
_NRRD_TYPES = {"unsigned char": np.uint8, "uchar": np.uint8, "uint8": np.uint8,
               "uint8_t": np.uint8, "signed char": np.int8, "int8": np.int8,
               "unsigned short": np.uint16, "ushort": np.uint16, "uint16": np.uint16,
               "short": np.int16, "int16": np.int16, "float": np.float32}  # fmt: skip


def is_sequence_file(path: Path) -> bool:
    """True for ``.mha`` and ``.nrrd`` files (``.seq.mha``, ``.seq.nrrd`` included)."""
    return path.name.lower().endswith((".mha", ".nrrd"))


def parse_matrix(text: str) -> np.ndarray:
    """The inverse of ``matrix_text`` (raises UsguideError on anything but 16 numbers)."""
    try:
        values = [float(v) for v in text.split()]
    except ValueError:
        values = []
    if len(values) != 16:
        raise UsguideError(f"bad transform {text!r} in the sequence file: expected 16 numbers")
    return np.asarray(values).reshape(4, 4)


@dataclass
class SequenceFile:
    """A sequence file opened for reading: header, per-frame fields and frame access.

    Attributes:
        header: file-level fields (keys as in the file).
        frame_fields: one dict per frame (``Timestamp``, ``ImageStatus``, transforms, ...).
        width, height, channels, frame_count: the image series' shape.
        spacing_mm: (x, y) pixel size from ``ElementSpacing`` / ``space directions``.
        orientation: ``UltrasoundImageOrientation`` (``MF`` unless the file says otherwise).
    """

    path: Path
    header: dict[str, str]
    frame_fields: list[dict[str, str]]
    width: int
    height: int
    channels: int
    frame_count: int
    spacing_mm: tuple[float, float]
    orientation: str
    _pixels: np.ndarray

    def image(self, index: int) -> np.ndarray:
        """Frame ``index`` as usguide uses images: uint8 HxW grey or HxWx3 BGR, depth down."""
        image = np.asarray(self._pixels[index])
        if image.dtype != np.uint8:
            image = _to_uint8(image)
        if self.channels == 3:
            image = image[:, :, ::-1]  # RGB in the file
        elif self.channels != 1:
            image = image[:, :, 0]
        orientation = self.orientation.upper()
        if orientation[1:2] == "N":  # near side at the bottom: flip rows so depth goes down
            image = image[::-1]
        if orientation[:1] == "U":  # marked side on the right
            image = image[:, ::-1]
        return np.ascontiguousarray(image)

    def timestamps_s(self) -> list[float | None]:
        """Each frame's ``Timestamp`` in s (None where missing or unreadable)."""
        out: list[float | None] = []
        for fields in self.frame_fields:
            try:
                out.append(float(fields["Timestamp"]))
            except (KeyError, ValueError):
                out.append(None)
        return out

    def transforms(self, name: str) -> dict[int, np.ndarray]:
        """The frames carrying ``<name>Transform`` with a status OK (or no status): index -> 4x4."""
        out = {}
        for index, fields in enumerate(self.frame_fields):
            text = fields.get(f"{name}Transform")
            status = fields.get(f"{name}TransformStatus", "OK").upper()
            if text is not None and status == "OK":
                out[index] = parse_matrix(text)
        return out


def read_sequence(path: str | Path) -> SequenceFile:
    """Opens a ``.mha`` or ``.nrrd`` sequence file (raw data is memory-mapped).

    Raises:
        UsguideError: missing, not a sequence file, or an encoding/type this reader does not know.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            first = handle.read(8)
    except OSError as exc:
        raise UsguideError(f"cannot read {path}: {exc.strerror} — check the path") from None
    if first.startswith(b"NRRD"):
        return _read_nrrd(path)
    return _read_mha(path)


def _header_lines(path: Path, nrrd: bool) -> tuple[list[str], int]:
    """The header's text lines and the byte offset where data starts."""
    lines: list[str] = []
    with open(path, "rb") as handle:
        for raw in iter(handle.readline, b""):
            line = raw.decode("latin-1").rstrip("\r\n")
            if nrrd and line == "":
                return lines, handle.tell()
            lines.append(line)
            if not nrrd and line.replace(" ", "").startswith("ElementDataFile="):
                return lines, handle.tell()
            if len(lines) > 2_000_000:
                break
    kind = "NRRD" if nrrd else "MetaIO (.mha)"
    raise UsguideError(f"{path.name} is not a {kind} sequence file: its header never ends")


def _split_fields(pairs: Iterator[tuple[str, str]]) -> tuple[dict[str, str], list[dict]]:
    header: dict[str, str] = {}
    frames: dict[int, dict[str, str]] = {}
    for key, value in pairs:
        match = _FRAME_FIELD.match(key)
        if match:
            frames.setdefault(int(match.group(1)), {})[match.group(2)] = value
        else:
            header[key] = value
    count = max(frames) + 1 if frames else 0
    return header, [frames.get(i, {}) for i in range(count)]


def _read_mha(path: Path) -> SequenceFile:
    lines, offset = _header_lines(path, nrrd=False)
    pairs = (
        (key.strip(), value.strip())
        for key, _, value in (line.partition("=") for line in lines if "=" in line)
    )
    header, frame_fields = _split_fields(pairs)
    if header.get("ObjectType", "").strip() != "Image" or "DimSize" not in header:
        raise UsguideError(f"{path.name} is not a MetaIO image (no ObjectType = Image / DimSize)")
    if header.get("ElementDataFile") != "LOCAL":
        raise UsguideError(
            f"{path.name} keeps its pixels in another file ({header.get('ElementDataFile')}) — "
            "give a single-file .mha (ElementDataFile = LOCAL)"
        )
    dims = [int(v) for v in header["DimSize"].split()]
    width, height, count = (dims + [1, 1])[:3]
    channels = int(header.get("ElementNumberOfChannels", "1"))
    dtype = _MET_TYPES.get(header.get("ElementType", ""))
    if dtype is None:
        raise UsguideError(f"{path.name}: pixel type {header.get('ElementType')} is not supported")
    spacing = [float(v) for v in header.get("ElementSpacing", "1 1 1").split()] + [1.0, 1.0]
    compressed = header.get("CompressedData", "False").lower() == "true"
    shape = (count, height, width, channels)
    pixels = _load_pixels(path, offset, dtype, shape, "zlib" if compressed else "raw")
    return SequenceFile(
        path, header, _pad(frame_fields, count), width, height, channels, count,
        (spacing[0], spacing[1]), header.get("UltrasoundImageOrientation", "MF"),
        pixels[..., 0] if channels == 1 else pixels,
    )  # fmt: skip


def _read_nrrd(path: Path) -> SequenceFile:
    lines, offset = _header_lines(path, nrrd=True)
    pairs = []
    for line in lines[1:]:
        if line.startswith("#"):
            continue
        if ":=" in line:
            key, _, value = line.partition(":=")
        elif ": " in line:
            key, _, value = line.partition(": ")
        else:
            continue
        pairs.append((key.strip(), value.strip()))
    header, frame_fields = _split_fields(iter(pairs))
    sizes = [int(v) for v in header.get("sizes", "").split()]
    kinds = header.get("kinds", "").split()
    dtype = _NRRD_TYPES.get(header.get("type", ""))
    if dtype is None or len(sizes) not in (2, 3, 4):
        raise UsguideError(f"{path.name}: NRRD type/sizes not supported for a 2-D frame series")
    channels = sizes[0] if len(sizes) == 4 or (kinds[:1] and kinds[0] not in ("domain", "space")) \
        else 1  # fmt: skip
    spatial = sizes[1:] if channels > 1 or len(sizes) == 4 else sizes
    width, height, count = (spatial + [1])[:3]
    if "data file" in header or "datafile" in header:
        raise UsguideError(f"{path.name} is a detached header — give a single-file .seq.nrrd")
    encoding = header.get("encoding", "raw")
    if encoding not in ("raw", "gzip", "gz"):
        raise UsguideError(f"{path.name}: NRRD encoding {encoding!r} is not supported")
    pixels = _load_pixels(path, offset, dtype, (count, height, width, channels), encoding)
    spacing = _nrrd_spacing(header.get("space directions", ""))
    return SequenceFile(
        path, header, _pad(frame_fields, count), width, height, channels, count, spacing,
        header.get("ultrasound image orientation", "MF"),
        pixels[..., 0] if channels == 1 else pixels,
    )  # fmt: skip


def _nrrd_spacing(text: str) -> tuple[float, float]:
    vectors = re.findall(r"\(([^)]*)\)", text)
    lengths = []
    for vector in vectors[:2]:
        try:
            lengths.append(float(np.linalg.norm([float(v) for v in vector.split(",")])))
        except ValueError:
            lengths.append(1.0)
    lengths += [1.0, 1.0]
    return lengths[0], lengths[1]


def _load_pixels(
    path: Path, offset: int, dtype: type, shape: tuple[int, int, int, int], encoding: str
) -> np.ndarray:
    needed = int(np.prod(shape)) * np.dtype(dtype).itemsize
    if encoding == "raw":
        available = path.stat().st_size - offset
        if available < needed:
            raise UsguideError(
                f"{path.name} is truncated: {available} bytes of pixels, {needed} expected"
            )
        return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)
    with open(path, "rb") as handle:
        handle.seek(offset)
        packed = handle.read()
    try:
        raw = gzip.decompress(packed) if encoding in ("gzip", "gz") else zlib.decompress(packed)
    except (OSError, zlib.error) as exc:
        raise UsguideError(f"{path.name}: compressed pixels are corrupt ({exc})") from None
    if len(raw) < needed:
        raise UsguideError(
            f"{path.name} is truncated: {len(raw)} bytes of pixels, {needed} expected"
        )
    return np.frombuffer(raw[:needed], dtype=dtype).reshape(shape)


def _pad(frame_fields: list[dict[str, str]], count: int) -> list[dict[str, str]]:
    return (frame_fields + [{} for _ in range(count)])[:count]


def _to_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.int8:
        return (image.astype(np.int16) + 128).astype(np.uint8)
    top = float(image.max()) if image.size else 0.0
    scale = 255.0 / top if top > 255 else 1.0
    return np.clip(image.astype(np.float32) * scale, 0, 255).astype(np.uint8)
