"""Parses a session's frames.csv (format 1 and 2) up to its last complete, valid row.

Format 2 rows name the video segment holding the frame and the frame's position in it; a format 1
session is one segment (``segment`` 0, position = ``index``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from usguide.errors import UsguideError
from usguide.record.format import FRAMES_COLUMNS, FRAMES_COLUMNS_V1

log = logging.getLogger(__name__)


@dataclass
class FrameIndex:
    """frames.csv as columns (int64, ``source_ms`` float64), each one entry per usable frame.

    Attributes:
        index, source_index, t_capture_ns, source_ms: the recorded columns.
        segment, segment_index: the video segment holding each frame and its position there.
        ignored: complete rows after a damaged one (listed frames the session cannot use).
    """

    index: np.ndarray
    source_index: np.ndarray
    t_capture_ns: np.ndarray
    source_ms: np.ndarray
    segment: np.ndarray
    segment_index: np.ndarray
    ignored: int = 0

    def __len__(self) -> int:
        return len(self.index)

    def cut(self, count: int) -> None:
        """Keeps the first ``count`` frames; the rest count as ``ignored``."""
        self.ignored += len(self.index) - count
        for name in ("index", "source_index", "t_capture_ns", "source_ms"):
            setattr(self, name, getattr(self, name)[:count])
        self.segment, self.segment_index = self.segment[:count], self.segment_index[:count]


def read_frames_csv(path: Path, version: int) -> FrameIndex:
    """Reads frames.csv; a missing file is an empty index.

    Damaged or out-of-sequence rows (bad numbers, an index or time that does not follow, a segment
    position that does not follow) end the usable part: the rows after it are counted in
    ``ignored`` and a warning is logged, so a session is never cut short without a word.

    Args:
        path: the frames.csv file.
        version: the session's format version (1: four columns; 2: six).

    Raises:
        UsguideError: the header is not the format's.
    """
    columns = FRAMES_COLUMNS_V1 if version == 1 else FRAMES_COLUMNS
    rows: list[tuple[int, ...]] = []
    ignored = 0
    if path.is_file():
        with open(path, encoding="utf-8", errors="replace") as handle:
            header = handle.readline().strip().split(",")
            if header[: len(columns)] != list(columns):
                raise UsguideError(
                    f"{path} has unexpected columns {header[:8]}; the session is damaged"
                )
            for line in handle:
                if not line.endswith("\n"):
                    break  # partial last row
                row = _row(line, len(columns))
                if row is None or not _follows(row, rows[-1] if rows else None, len(rows)):
                    ignored = 1 + sum(1 for rest in handle if rest.endswith("\n"))
                    log.warning(
                        "%s: row %d is damaged; using the %d frames before it and ignoring %d "
                        "rows after it",
                        path,
                        len(rows) + 1,
                        len(rows),
                        ignored,
                    )
                    break
                rows.append(row)
    table = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    ints = [np.asarray(table[k], dtype=np.int64) for k in range(len(columns)) if k != 3]
    index, source_index, t_ns = ints[:3]
    if version == 1:
        segment, segment_index = np.zeros_like(index), index.copy()
    else:
        segment, segment_index = ints[3], ints[4]
    source_ms = np.asarray(table[3], dtype=np.float64)
    return FrameIndex(index, source_index, t_ns, source_ms, segment, segment_index, ignored)


def _row(line: str, width: int) -> tuple[int, ...] | None:
    """One row as numbers (``source_ms`` a finite float, the rest int64), or None."""
    parts = line.rstrip("\n").split(",")
    if len(parts) < width:
        return None
    try:
        values = [int(p) if k != 3 else float(p) for k, p in enumerate(parts[:width])]
    except ValueError:
        return None
    ints = [v for k, v in enumerate(values) if k != 3]
    if not math.isfinite(values[3]) or any(abs(v) >= 2**63 for v in ints) or values[0] < 0:
        return None
    return tuple(values)  # type: ignore[arg-type]


def _follows(row: tuple, previous: tuple | None, count: int) -> bool:
    """True when ``row`` is frame ``count`` and continues ``previous`` (time, segment position)."""
    if row[0] != count or (previous is not None and row[2] <= previous[2]):
        return False
    if len(row) == 4:
        return True
    if previous is None:
        return row[4] == 0 and row[5] == 0
    if row[4] == previous[4]:
        return row[5] == previous[5] + 1
    return row[4] == previous[4] + 1 and row[5] == 0
