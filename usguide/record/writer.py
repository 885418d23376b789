"""Writes a session folder (video segments + per-frame timestamps + results + meta.json) on its own
thread.

``write()`` never blocks capture: frames go into a bounded queue, refused (counted) when it is full.
A frame is listed in frames.csv only once its video segment is closed and on disk (``segments``).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from usguide import __version__
from usguide.errors import UsguideError
from usguide.record.deidentify import describe, mask_outside, neutral_source
from usguide.record.format import (
    CODECS,
    DEFAULT_SEGMENT_S,
    FORMAT_VERSION,
    FRAMES_COLUMNS,
    FRAMES_FILE,
    META_FILE,
    RESULTS_FILE,
    json_default,
    write_json_atomic,
)
from usguide.record.segments import SegmentedVideo
from usguide.record.session_folder import check_disk, prepare_folder
from usguide.record.video_out import (
    FrameShape,
    pixel_kind,
    pixel_kind_of,
    video_fps,
    video_meta,
)
from usguide.types import Calibration, Frame, Roi, SourceInfo

log = logging.getLogger(__name__)

DEFAULT_MIN_FREE_BYTES = 200 * 1024 * 1024
DISK_CHECK_INTERVAL_NS = 2_000_000_000
_FSYNC_INTERVAL_NS = 1_000_000_000  # bounds what a power loss can take from the text files
_STOP = object()


class SessionWriter:
    """Records frames (and optional per-frame results) into a new session folder.

    Frames whose ``t_capture_ns`` is not greater than the previous accepted frame's, and frames
    whose channels or dtype differ from the first frame's, are refused: ``write()`` returns False
    and counts them in ``refused_time`` / ``refused_size``. A new width or height (a device
    replugged at another resolution) starts a new video segment, counted in ``size_changes``.
    Frames arriving while the queue is full are counted in ``dropped``. Nothing is raised on the
    frame path; a failure of the writer thread (disk full or nearly, encoder error) stops the
    recording, is kept in ``error`` and makes ``write()`` return False.

    Args:
        out_dir: the session folder; created; must not exist or be empty (unless ``overwrite``).
        info: the source being recorded (stored in meta.json).
        calibration: scale and image region (stored in meta.json).
        procedure: the procedure record, ``ProcedureRecord.to_json()`` (see FORMAT.md).
        codec: ``"ffv1"`` (lossless, default) or ``"mjpg"`` (lossy, compact; see ``quality``).
        queue_size: frames waiting for the writer thread before new ones are dropped.
        quality: JPEG quality 1..100 for ``mjpg`` (ignored for ``ffv1``).
        overwrite: remove an earlier session's files in ``out_dir`` instead of refusing.
        min_free_bytes: refuse to start, and stop recording, below this much free disk space.
        mask: pixels outside this region are blacked out before they are stored (burned-in
            names, dates and IDs); None keeps them.
        identifiers: names (never values) of the identifying DICOM attributes the input held;
            none is copied. A DICOM source's file name is stored as ``dicom``, and meta.json's
            ``deidentification`` says what was removed.
        segment_s: the longest a video segment stays open: frames are listed in frames.csv (and
            survive SIGKILL) at most this long after they were written.
    """

    def __init__(
        self,
        out_dir: str | Path,
        info: SourceInfo,
        calibration: Calibration,
        procedure: dict | None = None,
        codec: str = "ffv1",
        queue_size: int = 64,
        *,
        quality: int = 90,
        overwrite: bool = False,
        min_free_bytes: int = DEFAULT_MIN_FREE_BYTES,
        mask: Roi | None = None,
        identifiers: Sequence[str] = (),
        segment_s: float = DEFAULT_SEGMENT_S,
    ) -> None:
        if codec not in CODECS:
            raise UsguideError(f"unknown codec {codec!r}: choose one of {', '.join(CODECS)}")
        if queue_size < 1:
            raise UsguideError(f"queue size must be at least 1, got {queue_size}")
        if not 1 <= quality <= 100:
            raise UsguideError(f"video quality must be 1..100, got {quality}")
        if not 0 < segment_s <= 3600:
            raise UsguideError(f"segment length must be 0..3600 s, got {segment_s}")
        self.path = Path(out_dir)
        self.info = info
        self.calibration = calibration
        self.procedure = dict(procedure or {})
        self.codec = CODECS[codec]
        self.quality = int(quality)
        self.overwrite = overwrite
        self.min_free_bytes = int(min_free_bytes)
        self.mask, self.identifiers = mask, list(identifiers)
        self.written = 0
        self.dropped = 0
        self.refused_time = 0
        self.refused_size = 0
        self.size_changes = 0
        self.segment_s = float(segment_s)
        self.error: UsguideError | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None
        self._accepted = 0
        self._last_t_ns: int | None = None
        self._first_t_ns: int | None = None
        self._shape: FrameShape | None = None  # the first frame's
        self._last_size: tuple[int, ...] = ()  # the last accepted frame's shape
        self._warned: set[str] = set()
        self._closed = False
        self._started_iso = ""
        self._video: SegmentedVideo | None = None
        self._frames_handle: Any = None
        self._results_handle: Any = None
        self._last_sync_ns = 0
        self._last_disk_check_ns = 0

    # ----------------------------------------------------------------- lifecycle (caller's thread)
    def start(self) -> SessionWriter:
        """Creates the folder and files and starts the writer thread.

        Raises:
            UsguideError: the folder is unwritable or holds files, or the disk is nearly full.
        """
        if self._thread is not None:
            return self
        prepare_folder(self.path, self.overwrite)
        check_disk(self.path, self.min_free_bytes)
        self._started_iso = datetime.datetime.now().astimezone().isoformat(timespec="milliseconds")
        try:
            self._frames_handle = open(self.path / FRAMES_FILE, "w", encoding="utf-8", newline="")
            self._frames_handle.write(",".join(FRAMES_COLUMNS) + "\n")
            self._frames_handle.flush()
            write_json_atomic(self.path / META_FILE, self._meta(complete=False))
        except OSError as exc:
            raise UsguideError(
                f"cannot write to {self.path}: {exc.strerror}; choose another --out"
            ) from None
        self._last_sync_ns = self._last_disk_check_ns = time.perf_counter_ns()
        self._thread = threading.Thread(target=self._run, name="usguide-record", daemon=True)
        self._thread.start()
        return self

    def write(self, frame: Frame, result: dict | None = None) -> bool:
        """Queues one frame (and its result) for writing; never blocks.

        Returns:
            True when queued; False when refused (timestamp, size), dropped (queue full), or the
            recording has stopped (closed, or ``error`` is set).
        """
        if self._thread is None or self._closed or self.error is not None:
            return False
        image = frame.image
        shape = (tuple(image.shape), image.dtype.str)
        kind = pixel_kind(image)
        if kind is None or (self._shape is not None and kind != pixel_kind_of(self._shape)):
            self.refused_size += 1  # a new size is fine (new segment), new channels are not
            self._warn_once("format", f"refusing frames unlike the first: {image.shape} {kind}")
            return False
        if self._last_t_ns is not None and frame.t_capture_ns <= self._last_t_ns:
            self.refused_time += 1
            self._warn_once("time", "refusing frames with non-increasing t_capture_ns")
            return False
        # Copy: sources may reuse their buffers after read() returns.
        item = (
            self._accepted,
            frame.index,
            frame.t_capture_ns,
            frame.source_ms,
            image.copy(),
            result,
        )
        first = self._shape is None
        if first:
            self._shape = shape  # before put: the writer thread reads it for meta.json
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            if first:
                self._shape = None
            self.dropped += 1
            self._warn_once("queue", "recording cannot keep up: frames are being dropped")
            return False
        if not first and image.shape != self._last_size:
            self.size_changes += 1  # the writer thread starts a new segment
            self._warn_once("resized", "frame size changed: recording goes on in a new segment")
        self._last_size = image.shape
        if self._first_t_ns is None:
            self._first_t_ns = frame.t_capture_ns
        self._last_t_ns = frame.t_capture_ns
        self._accepted += 1
        return True

    def close(self) -> None:
        """Writes what is queued, finalises meta.json and joins the thread. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._thread is None:
            return
        while self._thread.is_alive():
            try:
                self._queue.put(_STOP, timeout=0.1)
                break
            except queue.Full:
                continue
        self._thread.join()
        self._release()
        try:
            write_json_atomic(self.path / META_FILE, self._meta(complete=True))
        except OSError as exc:
            self._fail(f"cannot finalise {self.path / META_FILE}: {exc.strerror}")

    def __enter__(self) -> SessionWriter:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def queue_size(self) -> int:
        """Frames the queue holds before new ones are dropped."""
        return self._queue.maxsize

    @property
    def backlog(self) -> int:
        """Frames queued and not yet written (lets a file source wait instead of dropping)."""
        return self._queue.qsize()

    @property
    def duration_s(self) -> float:
        """Monotonic time from the first to the last accepted frame."""
        if self._first_t_ns is None or self._last_t_ns is None:
            return 0.0
        return (self._last_t_ns - self._first_t_ns) / 1e9

    # ------------------------------------------------------------------------------------- meta
    def _meta(self, complete: bool) -> dict:
        roi = self.calibration.roi
        meta: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "usguide_version": __version__,
            "started_at": self._started_iso,
            "source": dataclasses.asdict(neutral_source(self.info)),
            "calibration": {
                "mm_per_px": self.calibration.mm_per_px,
                "roi": roi.as_list() if roi is not None else None,
            },
            "procedure": self.procedure,
            "video": {
                **video_meta(self.codec, self.quality, self._shape, self.info),
                "segment_s": self.segment_s,
            },
            "complete": complete,
            "frame_count": self.written if complete else None,
            "dropped": self.dropped,
            "refused_time": self.refused_time,
            "refused_size": self.refused_size,
            "size_changes": self.size_changes,
            "duration_s": round(self.duration_s, 6),
            "error": str(self.error) if self.error else None,
        }
        if self.info.kind == "dicom" or self.mask is not None:
            meta["deidentification"] = describe(self.identifiers, self.mask, self.mask is not None)
        return meta

    # ------------------------------------------------------------------------------ writer thread
    def _run(self) -> None:
        while True:
            try:
                # Wakes while idle too: a stalled source's frames are listed within segment_s.
                item = self._queue.get(timeout=min(self.segment_s, 0.25))
            except queue.Empty:
                item = None
            if self.error is not None:
                if item is _STOP:
                    return
                continue  # stopped: discard what is left
            try:
                if item is _STOP or item is None:
                    if self._video is not None and (
                        item is _STOP or self._video.due(time.perf_counter_ns())
                    ):
                        self._list(self._video.close())
                    if item is _STOP:
                        return
                    continue
                self._write_item(*item)
            except UsguideError as exc:
                self._fail(str(exc))
            except Exception as exc:  # noqa: BLE001 - the thread must report, never die silently
                self._fail(f"recording failed: {exc}")
            if self.error is not None and self._video is not None:
                self._video.abandon()  # its frames were never listed

    def _write_item(
        self,
        index: int,
        source_index: int,
        t_ns: int,
        source_ms: float,
        image: np.ndarray,
        result: Any,
    ) -> None:
        if self.mask is not None:
            image = mask_outside(image, self.mask)
        if self._video is None:
            self._video = SegmentedVideo(
                self.path, self.codec, video_fps(self.info), self.quality, self.segment_s
            )
            write_json_atomic(self.path / META_FILE, self._meta(complete=False))
        row = f"{index},{source_index},{t_ns},{float(source_ms)!r}"
        self._list(self._video.write(image, row))
        if result is not None:  # before the frame is listed: a listed frame has its result
            if self._results_handle is None:
                self._results_handle = open(self.path / RESULTS_FILE, "a", encoding="utf-8")
            line = json.dumps({"index": index, "result": result}, default=json_default)
            self._results_handle.write(line + "\n")
            self._results_handle.flush()
        now = time.perf_counter_ns()
        if self._video.due(now):
            self._list(self._video.close())
        if now - self._last_sync_ns > _FSYNC_INTERVAL_NS:
            self._last_sync_ns = now
            self._sync()
        if now - self._last_disk_check_ns > DISK_CHECK_INTERVAL_NS:
            self._last_disk_check_ns = now
            try:
                check_disk(self.path, self.min_free_bytes)
            except UsguideError:
                self._list(self._video.close())  # what is encoded is kept, then stop
                raise

    def _list(self, rows: list[str]) -> None:
        """Appends the rows of a closed (durable) segment to frames.csv."""
        if rows:
            self._frames_handle.write("".join(rows))
            self._frames_handle.flush()
            self.written += len(rows)

    def _sync(self) -> None:
        for handle in (self._frames_handle, self._results_handle):
            if handle is not None:
                os.fsync(handle.fileno())

    def _release(self) -> None:
        if self._video is not None:
            self._video.abandon()  # only after a failure is a segment still open here
        for name in ("_frames_handle", "_results_handle"):
            handle = getattr(self, name)
            if handle is not None:
                try:
                    handle.flush()
                    handle.close()
                except OSError:
                    pass
                setattr(self, name, None)

    def _fail(self, message: str) -> None:
        if self.error is None:
            self.error = UsguideError(message)
            log.error("recording stopped: %s", message)

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning("%s: %s", self.path, message)
