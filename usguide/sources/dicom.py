"""DICOM ultrasound images and cines (single- and multi-frame) via pydicom: timing, calibration."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import cv2
import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from usguide.checks import (
    MAX_FPS,
    MAX_FRAME_SIDE,
    MAX_MM_PER_PX,
    MIN_MM_PER_PX,
    check_number,
)
from usguide.defaults import FALLBACK_FPS
from usguide.errors import UsguideError
from usguide.sources.convert import to_frame_image
from usguide.sources.indexed import IndexedSource
from usguide.types import Calibration, Roi, SourceInfo

log = logging.getLogger(__name__)

_UNITS_CM = 3  # PhysicalUnitsXDirection: 3 = cm
_SPATIAL_2D = 1  # RegionSpatialFormat: 1 = 2D (B-mode)
_DEFAULT_FPS = FALLBACK_FPS


def is_dicom_file(path: Path) -> bool:
    """True for ``.dcm`` files and files with the ``DICM`` marker at offset 128."""
    if path.suffix.lower() == ".dcm":
        return True
    try:
        with path.open("rb") as handle:
            handle.seek(128)
            return handle.read(4) == b"DICM"
    except OSError:
        return False


def frame_times_ms(ds: Dataset, count: int, fps: float | None = None) -> list[float]:
    """Source time of each frame in ms: FrameTimeVector, FrameTime, CineRate or the display rate.

    Args:
        ds: the dataset.
        count: number of frames.
        fps: the user's rate; overrides what the file says when given.
    """
    if fps:
        return [i * 1000.0 / fps for i in range(count)]
    vector = _frame_intervals(ds.get("FrameTimeVector"), count)
    if vector is not None:
        # Intervals between frames in ms; the first entry is 0 by definition.
        return np.cumsum([0.0] + vector[1:]).tolist()
    interval = None
    for key, to_ms in (
        ("FrameTime", lambda v: v),
        ("CineRate", lambda v: 1000.0 / v),
        ("RecommendedDisplayFrameRate", lambda v: 1000.0 / v),
    ):
        value = _positive(ds, key)
        if value is not None:
            interval = to_ms(value)
            break
    if not interval or not 1000.0 / MAX_FPS <= interval <= _MAX_INTERVAL_MS:
        interval = 1000.0 / _DEFAULT_FPS
    return [i * interval for i in range(count)]


_MAX_INTERVAL_MS = 60_000.0  # a frame interval above a minute is not a cine's


def _positive(ds: Dataset, key: str) -> float | None:
    """A timing attribute as a finite positive number, or None (absent or malformed: logged)."""
    try:
        raw = ds.get(key)
        return check_number(raw, key, low=0.0, open_low=True) if raw not in (None, "") else None
    except (UsguideError, ValueError, TypeError):
        log.warning("ignoring the DICOM's %s: not a positive number", key)
        return None


def _frame_intervals(vector: object, count: int) -> list[float] | None:
    """FrameTimeVector as intervals in ms when every one is finite and in range, else None."""
    if vector is None:
        return None
    try:
        values = [float(v) for v in (vector if isinstance(vector, (list, tuple)) else list(vector))]
    except (TypeError, ValueError):
        log.warning("ignoring the DICOM's FrameTimeVector: not numbers")
        return None
    if len(values) != count:
        return None
    if not all(np.isfinite(v) and 0.0 < v <= _MAX_INTERVAL_MS for v in values[1:]):
        # Negative or zero intervals would run time backwards (and stall real-time pacing).
        log.warning("ignoring the DICOM's FrameTimeVector: intervals must be > 0 and finite")
        return None
    return values


def ultrasound_calibration(ds: Dataset, width: int, height: int) -> Calibration:
    """Image region and scale from SequenceOfUltrasoundRegions (largest 2D region), or empty."""
    try:
        return _region_calibration(ds, width, height)
    except (ValueError, TypeError, AttributeError, OverflowError):
        log.warning("ignoring the DICOM's SequenceOfUltrasoundRegions: malformed values")
        return Calibration()


def _region_calibration(ds: Dataset, width: int, height: int) -> Calibration:
    regions = [r for r in ds.get("SequenceOfUltrasoundRegions", []) if _has_rectangle(r)]
    if not regions:
        return Calibration()
    spatial = [r for r in regions if int(r.get("RegionSpatialFormat", 0)) == _SPATIAL_2D]
    region = max(spatial or regions, key=_area)
    x0 = max(0, int(region.RegionLocationMinX0))
    y0 = max(0, int(region.RegionLocationMinY0))
    # Max is the last pixel of the region; the files in the wild use it as an exclusive bound too
    # (e.g. MaxX1 == Columns), so the width is Max - Min, clamped to the frame.
    x1 = min(int(region.RegionLocationMaxX1), width)
    y1 = min(int(region.RegionLocationMaxY1), height)
    roi = Roi(x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None
    return Calibration(mm_per_px=_mm_per_px(region), roi=roi, scale_source="dicom")


def _has_rectangle(region: Dataset) -> bool:
    keys = (
        "RegionLocationMinX0",
        "RegionLocationMinY0",
        "RegionLocationMaxX1",
        "RegionLocationMaxY1",
    )
    return all(region.get(k) is not None for k in keys)


def _area(region: Dataset) -> int:
    return (int(region.RegionLocationMaxX1) - int(region.RegionLocationMinX0)) * (
        int(region.RegionLocationMaxY1) - int(region.RegionLocationMinY0)
    )


def _mm_per_px(region: Dataset) -> float | None:
    if int(region.get("PhysicalUnitsXDirection", 0)) != _UNITS_CM:
        return None
    delta_x = abs(float(region.get("PhysicalDeltaX") or 0.0))
    delta_y = abs(float(region.get("PhysicalDeltaY") or 0.0))
    if not np.isfinite(delta_x) or delta_x <= 0:
        return None
    scale = delta_x * 10.0
    if np.isfinite(delta_y) and delta_y > 0 and abs(delta_x - delta_y) > 0.01 * delta_x:
        log.warning("anisotropic pixels (%.5g x %.5g cm); using the mean scale", delta_x, delta_y)
        scale = (delta_x + delta_y) / 2 * 10.0
    if not MIN_MM_PER_PX <= scale <= MAX_MM_PER_PX:
        log.warning("ignoring the DICOM's scale %.3g mm/px: not a plausible pixel size", scale)
        return None
    return scale


class DicomSource(IndexedSource):
    """Plays a DICOM image or cine; frames are grey or BGR uint8 and carry the file's calibration.

    Args:
        path: the DICOM file.
        fps: overrides the file's frame timing when given.
        realtime: deliver frames at their recorded times.
        loop: start again at the end.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        fps: float | None = None,
        realtime: bool = False,
        loop: bool = False,
    ) -> None:
        super().__init__(realtime=realtime, loop=loop)
        self.path = Path(path)
        self._fps = fps
        self._ds: Dataset | None = None
        self._times: list[float] = []
        self._file_calibration = Calibration()

    @property
    def calibration(self) -> Calibration:
        """The calibration read from the file (empty when it has none)."""
        return self._file_calibration

    def _open(self) -> SourceInfo:
        if not self.path.is_file():
            raise UsguideError(f"DICOM file not found: {self.path} — check the path")
        try:
            ds = pydicom.dcmread(self.path)
        except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
            raise UsguideError(
                f"cannot read {self.path} as DICOM ({exc}) — is it a DICOM file?"
            ) from None
        if "PixelData" not in ds:
            modality = ds.get("Modality", "unknown modality")
            raise UsguideError(
                f"{self.path.name} has no pixel data ({modality}) — "
                "give an ultrasound image or cine DICOM"
            )
        self._ds = ds
        with warnings.catch_warnings():  # pydicom warns of invalid values; we report them
            warnings.simplefilter("ignore")
            count, rows, columns = self._geometry(ds)
            self._times = frame_times_ms(ds, count, self._fps)
            self._file_calibration = ultrasound_calibration(ds, columns, rows)
        first = self._decode(0)  # fail now, not on the first read, when no decoder is available
        fps = (
            1000.0 * (count - 1) / self._times[-1]
            if count > 1 and self._times[-1] > 0
            else (self._fps or (1000.0 / self._times[1] if count > 1 else _DEFAULT_FPS))
        )
        return SourceInfo(
            name=self.path.name,
            kind="dicom",
            width=first.shape[1],
            height=first.shape[0],
            fps=float(fps),
            live=False,
            frame_count=count,
        )

    def _geometry(self, ds: Dataset) -> tuple[int, int, int]:
        """NumberOfFrames, Rows, Columns checked before any is used (absent, text, 0, huge)."""
        values = []
        for key, default, high in (
            ("NumberOfFrames", 1, 10**6),
            ("Rows", None, MAX_FRAME_SIDE),
            ("Columns", None, MAX_FRAME_SIDE),
        ):
            try:
                raw = ds.get(key)
            except (ValueError, TypeError):
                raw = "unreadable"
            if raw in (None, "") and default is not None:
                raw = default
            if raw in (None, ""):
                raise UsguideError(
                    f"{self.path.name} has no {key} — the DICOM is incomplete; export it again"
                )
            try:
                values.append(int(check_number(raw, key, low=1, high=high, integer=True)))
            except UsguideError as exc:
                raise UsguideError(
                    f"{self.path.name}: {exc} — the DICOM is damaged; export it again"
                ) from None
        return values[0], values[1], values[2]

    def _source_ms(self, index: int) -> float:
        return self._times[index]

    def _calibration(self) -> Calibration:
        return self._file_calibration

    def _release(self) -> None:
        self._ds = None

    def _decode(self, index: int) -> np.ndarray:
        assert self._ds is not None
        ds = self._ds
        try:
            from pydicom.pixels import apply_color_lut, pixel_array

            # pydicom 3 converts YBR to RGB by default; decoding one frame keeps memory small.
            with warnings.catch_warnings():  # e.g. more pixel data than NumberOfFrames says
                warnings.simplefilter("ignore")
                array = (
                    pixel_array(ds, index=index)
                    if int(ds.get("NumberOfFrames") or 1) > 1
                    else ds.pixel_array
                )
            if array.ndim == (3 if int(ds.get("SamplesPerPixel") or 1) == 1 else 4):
                array = array[0]  # NumberOfFrames 1 over several frames' data: the first
        except Exception as exc:  # noqa: BLE001 - any decoder failure is a user-facing file problem
            syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "unknown")
            raise UsguideError(
                f"cannot decode the pixels of {self.path.name} (transfer syntax {syntax}: {exc}) — "
                "install pylibjpeg/pylibjpeg-libjpeg or export uncompressed"
            ) from None
        photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
        if photometric == "PALETTE COLOR":
            try:
                array = to_frame_image(apply_color_lut(array, ds))
            except Exception as exc:  # noqa: BLE001 - pydicom raises several types for bad LUTs
                raise UsguideError(
                    f"{self.path.name} is PALETTE COLOR but its colour lookup table is missing or "
                    f"damaged ({str(exc)[:80]}) — export it as RGB or MONOCHROME2"
                ) from None
            return np.ascontiguousarray(cv2.cvtColor(array, cv2.COLOR_RGB2BGR))
        if array.ndim == 3 and array.shape[-1] == 3:
            # RGB, or YBR already converted to RGB by pydicom.
            return np.ascontiguousarray(cv2.cvtColor(to_frame_image(array), cv2.COLOR_RGB2BGR))
        image = to_frame_image(_scale_bits(array, ds))
        if photometric == "MONOCHROME1":
            image = np.ascontiguousarray(255 - image)
        return image


def _scale_bits(array: np.ndarray, ds: Dataset) -> np.ndarray:
    # Monochrome data wider than 8 bits: map the stored bit depth onto 0..255.
    bits = int(ds.get("BitsStored") or 8)
    if array.dtype == np.uint8 or bits <= 8:
        return (
            array.astype(np.uint8, copy=False) if array.dtype != np.uint8 and bits <= 8 else array
        )
    scaled = np.clip(array.astype(np.float32), 0, 2**bits - 1) * (255.0 / (2**bits - 1))
    return scaled.astype(np.uint8)
