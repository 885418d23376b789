"""A PLUS/Slicer sequence file (``.mha``, ``.seq.nrrd``) played as a clip: its spacing is the
calibration, its per-frame ``Timestamp`` the source time; frames whose ``ImageStatus`` is not OK
are skipped, as PLUS does."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from usguide.defaults import FALLBACK_FPS
from usguide.errors import UsguideError
from usguide.record.seqfile import SequenceFile, read_sequence
from usguide.sources.indexed import IndexedSource
from usguide.types import Calibration, SourceInfo

log = logging.getLogger(__name__)


class SequenceFileSource(IndexedSource):
    """Plays the valid frames of a sequence file.

    Args:
        path: the ``.mha`` / ``.seq.nrrd`` file.
        fps: overrides the file's timestamps when given.
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
        self._file: SequenceFile | None = None
        self._frames: list[int] = []  # file frame numbers of the valid frames
        self._times_ms: list[float] = []
        self._file_calibration = Calibration()

    @property
    def sequence(self) -> SequenceFile | None:
        """The open file (header and per-frame fields), None before ``open()``."""
        return self._file

    def _open(self) -> SourceInfo:
        if not self.path.is_file():
            raise UsguideError(f"sequence file not found: {self.path} — check the path")
        seq = read_sequence(self.path)
        valid = [
            i
            for i in range(seq.frame_count)
            if seq.frame_fields[i].get("ImageStatus", "OK").upper() == "OK"
        ]
        if not valid:
            raise UsguideError(f"{self.path.name} holds no valid frame (every ImageStatus INVALID)")
        self._file, self._frames = seq, valid
        self._times_ms = _times_ms(seq, valid, self._fps)
        sx, sy = seq.spacing_mm
        if abs(sx - sy) > 0.01 * sx:
            log.warning("anisotropic pixels (%.5g x %.5g mm); using the mean scale", sx, sy)
        # ElementSpacing 1 is what PLUS writes when it knows no scale: no calibration then.
        mm_per_px = None if sx == 1.0 and sy == 1.0 else (sx + sy) / 2
        self._file_calibration = Calibration(mm_per_px=mm_per_px)
        span = self._times_ms[-1] - self._times_ms[0]
        fps = 1000.0 * (len(valid) - 1) / span if len(valid) > 1 and span > 0 else FALLBACK_FPS
        return SourceInfo(
            name=self.path.name,
            kind="sequence",
            width=seq.width,
            height=seq.height,
            fps=float(self._fps or fps),
            live=False,
            frame_count=len(valid),
        )

    def _decode(self, index: int) -> np.ndarray:
        assert self._file is not None
        return self._file.image(self._frames[index])

    def _source_ms(self, index: int) -> float:
        return self._times_ms[index]

    def _pace_ms(self, index: int) -> float:
        return self._times_ms[index] - self._times_ms[0]

    def _calibration(self) -> Calibration:
        return self._file_calibration

    def _release(self) -> None:
        self._file = None


def _times_ms(seq: SequenceFile, valid: list[int], fps: float | None) -> list[float]:
    """Each valid frame's time in ms: the file's Timestamps when all are there and increasing."""
    if not fps:
        stamps = seq.timestamps_s()
        times = [stamps[i] for i in valid]
        known = [t for t in times if t is not None]
        if len(known) == len(times) and all(b > a for a, b in zip(known, known[1:], strict=False)):
            return [t * 1000.0 for t in known]
        log.warning("timestamps missing or not increasing in %s; using --fps", seq.path.name)
    rate = fps or FALLBACK_FPS
    return [i * 1000.0 / rate for i in range(len(valid))]
