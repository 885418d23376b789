"""Writes PLUS/Slicer sequence files (``.mha`` MetaIO and ``.seq.nrrd``): header and pixel data.

The layout is described in ``seqfile.py`` (which reads these files); headers carry PLUS's keys in
PLUS's order. Pure numpy.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from usguide.errors import UsguideError


@dataclass
class SeqFrame:
    """One frame to write: its image and its per-frame fields (``Timestamp`` etc., no prefix)."""

    image: np.ndarray
    fields: dict[str, str] = field(default_factory=dict)


def matrix_text(matrix: np.ndarray) -> str:
    """A 4x4 matrix as PLUS writes it: 16 numbers, row-major."""
    return " ".join(f"{float(v):.6g}" for v in np.asarray(matrix, dtype=float).reshape(16))


def write_sequence(
    path: str | Path,
    frames: Iterable[SeqFrame],
    *,
    spacing_mm: float | None = None,
    header: dict[str, str] | None = None,
) -> int:
    """Writes ``frames`` (same size and dtype, uint8 grey or BGR) as a PLUS sequence file.

    The format follows the suffix: ``.mha`` (MetaIO, ``ElementDataFile = LOCAL`` last) or
    ``.nrrd`` (``.seq.nrrd``). Pixel data goes to a temporary file first, so the frame count
    need not be known in advance; the result replaces ``path`` only when complete.

    Args:
        spacing_mm: pixel size (x and y); 1 when unknown.
        header: extra file-level fields (written after the standard keys).

    Returns:
        The number of frames written.

    Raises:
        UsguideError: no frames, frames of differing size, or the file cannot be written.
    """
    path = Path(path)
    nrrd = path.name.lower().endswith(".nrrd")
    if not (nrrd or path.name.lower().endswith(".mha")):
        raise UsguideError(f"cannot write {path.name}: the name must end in .mha or .seq.nrrd")
    if not path.parent.is_dir():
        raise UsguideError(f"folder {path.parent} does not exist — create it or choose another")
    shape: tuple[int, ...] | None = None
    per_frame: list[dict[str, str]] = []
    try:
        with tempfile.TemporaryFile(dir=path.parent) as data:
            for frame in frames:
                image = np.ascontiguousarray(frame.image)
                if shape is None:
                    shape = image.shape
                elif image.shape != shape:
                    raise UsguideError(
                        f"frame {len(per_frame)} is {image.shape}, the first was {shape}: "
                        "a sequence file holds frames of one size"
                    )
                if image.ndim == 3:
                    image = image[:, :, ::-1]  # BGR in usguide, RGB in the file
                data.write(np.ascontiguousarray(image, dtype=np.uint8).tobytes())
                per_frame.append(frame.fields)
            if shape is None:
                raise UsguideError("no frames to write — the input is empty")
            text = (_nrrd_header if nrrd else _mha_header)(
                shape, per_frame, float(spacing_mm or 1.0), header or {}
            )
            tmp = path.with_name(path.name + ".tmp")
            with open(tmp, "wb") as out:
                out.write(text.encode("utf-8"))
                data.seek(0)
                shutil.copyfileobj(data, out)
            os.replace(tmp, path)
    except OSError as exc:
        raise UsguideError(f"cannot write {path}: {exc.strerror}; choose another path") from None
    return len(per_frame)


def _frame_lines(per_frame: list[dict[str, str]], separator: str) -> list[str]:
    lines = []
    for index, fields in enumerate(per_frame):
        for key, value in fields.items():
            lines.append(f"Seq_Frame{index:04d}_{key}{separator}{value}")
    return lines


def _mha_header(
    shape: tuple[int, ...], per_frame: list[dict[str, str]], spacing: float, extra: dict[str, str]
) -> str:
    height, width = shape[:2]
    channels = shape[2] if len(shape) == 3 else 1
    lines = [
        "ObjectType = Image",
        "NDims = 3",
        "AnatomicalOrientation = RAI",
        "BinaryData = True",
        "BinaryDataByteOrderMSB = False",
        "CenterOfRotation = 0 0 0",
        "CompressedData = False",
        f"DimSize = {width} {height} {len(per_frame)}",
        f"ElementNumberOfChannels = {channels}",
        f"ElementSpacing = {spacing:.6g} {spacing:.6g} 1",
        "ElementType = MET_UCHAR",
        "Offset = 0 0 0",
        "TransformMatrix = 1 0 0 0 1 0 0 0 1",
        "UltrasoundImageOrientation = MF",
        "UltrasoundImageType = BRIGHTNESS" if channels == 1 else "UltrasoundImageType = RGB_COLOR",
        *(f"{key} = {value}" for key, value in extra.items()),
        *_frame_lines(per_frame, " = "),
        "ElementDataFile = LOCAL",
    ]
    return "\n".join(lines) + "\n"


def _nrrd_header(
    shape: tuple[int, ...], per_frame: list[dict[str, str]], spacing: float, extra: dict[str, str]
) -> str:
    height, width = shape[:2]
    channels = shape[2] if len(shape) == 3 else 1
    color = channels > 1
    times = [fields.get("Timestamp", str(i)) for i, fields in enumerate(per_frame)]
    lines = [
        "NRRD0004",
        "# PLUS/Slicer sequence written by usguide",
        "type: unsigned char",
        f"dimension: {4 if color else 3}",
        "space dimension: 2",
        f"sizes: {f'{channels} ' if color else ''}{width} {height} {len(per_frame)}",
        f"kinds: {'vector ' if color else ''}domain domain list",
        "encoding: raw",
        "endian: little",
        f"space directions: {'none ' if color else ''}({spacing:.6g},0) (0,{spacing:.6g}) none",
        "space origin: (0,0)",
        "ultrasound image orientation:=MF",
        f"ultrasound image type:={'RGB_COLOR' if color else 'BRIGHTNESS'}",
        # Slicer's own sequence keys: the list axis is time, in seconds.
        f"axis {3 if color else 2} index type:=numeric",
        f"axis {3 if color else 2} index values:={' '.join(times)}",
        f"axis {3 if color else 2} quantity:=time",
        f"axis {3 if color else 2} unit:=s",
        *(f"{key}:={value}" for key, value in extra.items()),
        *_frame_lines(per_frame, ":="),
    ]
    return "\n".join(lines) + "\n\n"
