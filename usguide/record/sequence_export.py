"""Exports frames with their needle results as a PLUS/Slicer sequence file, de-identified.

Per frame: ``Timestamp`` (s), ``FrameNumber``, ``ImageStatus``, ``NeedleStatus`` (``ok``,
``predicted``, ``lost``) when the frame has a result, and ``NeedleTipToImageTransform`` /
``NeedleEntryToImageTransform`` only on frames where the needle was measured (not coasting).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from usguide import __version__
from usguide.record.deidentify import describe, mask_outside
from usguide.record.seqfile_writer import SeqFrame, matrix_text, write_sequence
from usguide.types import Calibration

TIP_TRANSFORM = "NeedleTipToImage"
ENTRY_TRANSFORM = "NeedleEntryToImage"


@dataclass
class ExportFrame:
    """One frame to export: the image, its time in s from the first frame, its result JSON."""

    image: np.ndarray
    timestamp_s: float
    result: dict | None = None


def needle_status(result: dict | None) -> str | None:
    """``ok`` (measured), ``predicted`` (the tracker coasts), ``lost``; None without a result."""
    if not isinstance(result, dict):
        return None
    needle = result.get("needle")
    if not needle:
        return "lost"
    return "predicted" if needle.get("predicted") else "ok"


def needle_pose(
    point: tuple[float, float], direction: tuple[float, float], mm_per_px: float | None
) -> np.ndarray:
    """A 4x4 pose in image coordinates (mm; x right, y down, origin at the first pixel): x axis
    along the shaft (entry to tip), z the image normal, translation ``point`` (pixels) scaled."""
    scale = float(mm_per_px or 1.0)
    dx, dy = direction
    norm = float(np.hypot(dx, dy)) or 1.0
    ux, uy = dx / norm, dy / norm
    matrix = np.eye(4)
    matrix[:3, 0] = (ux, uy, 0.0)
    matrix[:3, 1] = (-uy, ux, 0.0)
    matrix[:3, 3] = (point[0] * scale, point[1] * scale, 0.0)
    return matrix


def needle_fields(result: dict | None, mm_per_px: float | None) -> dict[str, str]:
    """The per-frame needle fields of one result (transforms only when measured)."""
    status = needle_status(result)
    if status is None:
        return {}
    fields = {"NeedleStatus": status}
    if status == "ok":
        needle = result["needle"]  # type: ignore[index]
        tip, entry = needle["tip"], needle["entry"]
        direction = (tip[0] - entry[0], tip[1] - entry[1])
        for name, point in ((TIP_TRANSFORM, tip), (ENTRY_TRANSFORM, entry)):
            fields[f"{name}Transform"] = matrix_text(needle_pose(point, direction, mm_per_px))
            fields[f"{name}TransformStatus"] = "OK"
    return fields


@dataclass
class ExportSummary:
    """What an export wrote and what it removed."""

    frames: int
    deidentification: str


def export_sequence(
    frames: Iterable[ExportFrame],
    out: str | Path,
    *,
    calibration: Calibration,
    keep_burned_in: bool = False,
    identifiers: list[str] | None = None,
) -> ExportSummary:
    """Writes ``frames`` to ``out`` (``.mha`` or ``.seq.nrrd``), de-identified.

    Args:
        calibration: the frames' scale (``ElementSpacing``) and image region.
        keep_burned_in: keep pixels outside the image region (default: masked to black).
            Without a region nothing can be masked; the caller decides whether that is allowed.
        identifiers: the DICOM identifiers the input held (named in the header, never copied).

    Raises:
        UsguideError: no frames, frames of differing size, or the file cannot be written.
    """
    roi = calibration.roi
    masked = not keep_burned_in and roi is not None
    removed = describe(identifiers or [], roi, masked)

    def stream() -> Iterator[SeqFrame]:
        for number, frame in enumerate(frames):
            image = mask_outside(frame.image, roi) if masked and roi is not None else frame.image
            fields = {
                "FrameNumber": str(number),
                "Timestamp": f"{frame.timestamp_s:.6f}",
                "UnfilteredTimestamp": f"{frame.timestamp_s:.6f}",
                "ImageStatus": "OK",
            }
            fields.update(needle_fields(frame.result, calibration.mm_per_px))
            yield SeqFrame(image, fields)

    header = {
        "UsguideVersion": __version__,
        "UsguideDeidentification": removed,
    }
    if roi is not None:
        header["UsguideImageRegion"] = " ".join(str(v) for v in roi.as_list())
    count = write_sequence(out, stream(), spacing_mm=calibration.mm_per_px, header=header)
    return ExportSummary(count, removed)
