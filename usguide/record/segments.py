"""Video segments (session format 2): the frames go into short video files, each closed, checked
complete and fsynced before its frames are listed in frames.csv, so a listed frame survives SIGKILL.

A segment is closed after ``segment_s`` seconds or as many frames at the nominal rate, when the
frame size changes (a device replugged at another resolution), and when recording stops.
"""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path

import cv2
import numpy as np

from usguide.errors import UsguideError
from usguide.record.format import Codec, segment_file
from usguide.record.video_out import as_stored, open_video_writer

_MKV_EBML = b"\x1a\x45\xdf\xa3"
_MKV_SEGMENT = b"\x18\x53\x80\x67"


def disk_full_error(folder: Path) -> UsguideError:
    """The one error a failed video write becomes (a full disk, or a file-size limit)."""
    return UsguideError(
        f"cannot write the video in {folder} (disk full?) — free some space; "
        "the frames listed in frames.csv are kept"
    )


class SegmentedVideo:
    """Writes frames into numbered segment files; hands back the rows a closed segment made durable.

    Args:
        folder: the session folder.
        codec: the chosen codec (its ``file_name`` is the base of the segment names).
        fps: the container frame rate.
        quality: JPEG quality for ``mjpg``.
        segment_s: the longest a segment stays open (in frames at ``fps``, and in seconds).
    """

    def __init__(
        self, folder: Path, codec: Codec, fps: float, quality: int, segment_s: float
    ) -> None:
        self.folder, self.codec, self.fps, self.quality = folder, codec, fps, quality
        self.segment_s = float(segment_s)
        self.max_frames = max(1, round(fps * segment_s))
        self.segments = 0  # segments closed and listed
        self._video: cv2.VideoWriter | None = None
        self._path: Path | None = None
        self._shape: tuple[int, ...] | None = None
        self._opened_ns = 0
        self._pending: list[str] = []  # frames.csv rows of the open segment, not yet listed

    @property
    def is_open(self) -> bool:
        """True while a segment holds frames that are not listed yet."""
        return self._video is not None

    def due(self, now_ns: int) -> bool:
        """True when the open segment is full or has been open ``segment_s`` (even when idle)."""
        return self.is_open and (
            len(self._pending) >= self.max_frames
            or now_ns - self._opened_ns >= self.segment_s * 1e9
        )

    def write(self, image: np.ndarray, row: str) -> list[str]:
        """Writes one frame; its frames.csv row (without the segment columns) is listed later.

        Args:
            image: the frame as recorded (uint8 grey or BGR).
            row: ``index,source_index,t_capture_ns,source_ms`` of the frame.

        Returns:
            The rows made durable by closing the previous segment (frame size changed, or that
            segment was full), else an empty list.

        Raises:
            UsguideError: the video could not be written (disk full); nothing more is listed.
        """
        listed: list[str] = []
        if self._video is not None and (
            image.shape != self._shape or len(self._pending) >= self.max_frames
        ):
            listed = self.close()
        if self._video is None:
            self._open(image)
        assert self._video is not None
        if self._video.write(as_stored(image, self.codec)) is False:
            # OpenCV >= 5 reports a failed write (disk full); the MJPEG writer never does, which
            # is why close() checks the finished file.
            self.abandon()
            raise disk_full_error(self.folder)
        self._pending.append(f"{row},{self.segments},{len(self._pending)}\n")
        return listed

    def close(self) -> list[str]:
        """Closes the open segment; returns its rows once the file is complete and on disk.

        Raises:
            UsguideError: the file is incomplete (a write failed): it is removed, nothing listed.
        """
        if self._video is None:
            return []
        self._video.release()
        self._video = None
        path, rows = self._path, self._pending
        self._path, self._pending = None, []
        assert path is not None
        try:
            complete = container_complete(path, self.codec.name)
            if complete:
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())  # power loss: a listed frame is on the disk
        except OSError:
            complete = False
        if not complete:
            path.unlink(missing_ok=True)
            raise disk_full_error(self.folder)
        self.segments += 1
        return rows

    def abandon(self) -> None:
        """Drops the open segment after a failure: its file is removed, its frames never listed."""
        if self._video is not None:
            self._video.release()
            self._video = None
        if self._path is not None:
            self._path.unlink(missing_ok=True)
        self._path, self._pending = None, []

    def _open(self, image: np.ndarray) -> None:
        name = segment_file(self.codec.file_name, self.segments)
        self._video = open_video_writer(
            self.folder, self.codec, image, self.fps, self.quality, name=name
        )
        self._path = self.folder / name
        self._shape = image.shape
        self._opened_ns = time.perf_counter_ns()


def container_complete(path: Path, codec: str) -> bool:
    """True when a closed video file is whole: the size its header declares is the file's size.

    A write that failed (full disk, file-size limit) leaves the file shorter than its header
    says, or (Matroska) the segment size unwritten. Reads a few header bytes, decodes nothing.

    Args:
        path: the video file.
        codec: ``"ffv1"`` (Matroska) or ``"mjpg"`` (AVI).
    """
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(64)
    if codec == "mjpg":
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"AVI ":
            return False
        return struct.unpack("<I", head[4:8])[0] + 8 == size
    if head[:4] != _MKV_EBML:
        return False
    parsed = _vint(head, 4)
    if parsed is None:
        return False
    value, width, _ = parsed
    start = 4 + width + value
    if head[start : start + 4] != _MKV_SEGMENT:
        return False
    parsed = _vint(head, start + 4)
    if parsed is None:
        return False
    value, width, unknown = parsed
    return not unknown and start + 4 + width + value == size


def _vint(data: bytes, at: int) -> tuple[int, int, bool] | None:
    """An EBML variable-size integer at ``data[at]``: (value, width, all ones = size unknown)."""
    if at >= len(data) or data[at] == 0:
        return None
    width = 8 - data[at].bit_length() + 1
    if at + width > len(data):
        return None
    value = data[at] & ((0x80 >> (width - 1)) - 1)
    for byte in data[at + 1 : at + width]:
        value = (value << 8) | byte
    return value, width, value == (1 << (7 * width)) - 1
