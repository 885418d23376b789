"""USB/capture devices via OpenCV.

A grab thread keeps only the newest frame, watches for a lost signal and reconnects with back-off.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from usguide.defaults import FALLBACK_FPS
from usguide.errors import UsguideError
from usguide.sources.base import FrameSource
from usguide.sources.convert import to_frame_image
from usguide.types import Frame, SourceInfo, SourceState

log = logging.getLogger(__name__)

BACKENDS: dict[str, int] = {
    "any": cv2.CAP_ANY,
    "v4l2": cv2.CAP_V4L2,
    "dshow": cv2.CAP_DSHOW,
    "msmf": cv2.CAP_MSMF,
    "avfoundation": cv2.CAP_AVFOUNDATION,
}


class Capture(Protocol):
    """The part of ``cv2.VideoCapture`` a device source uses (fakes in tests implement this)."""

    def isOpened(self) -> bool: ...  # noqa: N802, D102 - OpenCV naming
    def read(self) -> tuple[bool, np.ndarray | None]: ...  # noqa: D102
    def set(self, prop: int, value: float) -> bool: ...  # noqa: D102
    def get(self, prop: int) -> float: ...  # noqa: D102
    def release(self) -> None: ...  # noqa: D102


CaptureFactory = Callable[[int | str, int], Capture]


def open_capture(device: int | str, api: int) -> Capture:
    """Default factory: ``cv2.VideoCapture(device, api)``."""
    return cv2.VideoCapture(device, api)


def parse_device(spec: int | str) -> int | str:
    """``0``, ``"0"``, ``"device:0"`` → 0; ``"/dev/video2"`` stays a path."""
    if isinstance(spec, int):
        return spec
    text = spec[len("device:") :] if spec.startswith("device:") else spec
    if text.isdigit():
        return int(text)
    return text


def device_path(device: int | str) -> str:
    """Human name of a device: ``/dev/videoN`` on Linux, ``device N`` elsewhere."""
    if isinstance(device, int):
        return f"/dev/video{device}" if sys.platform.startswith("linux") else f"device {device}"
    return device


class DeviceSource(FrameSource):
    """A live capture device; ``read()`` returns the newest frame once, then None until a new one.

    A grab thread reads the device continuously and keeps only the newest frame, so a slow consumer
    never receives a stale buffered frame (the skipped ones are counted in ``dropped``). When no new
    frame arrives for ``lost_after_s`` (or the device repeats the identical frame/timestamp that
    long), the state turns LOST, then RECONNECTING while the device is reopened with exponential
    back-off, then CONNECTED again.

    Args:
        device: index, ``"device:N"`` or a path such as ``/dev/video2``.
        width, height, fps: requested capture format (checked against the frames delivered).
        backend: one of ``BACKENDS``.
        fourcc: requested pixel format, set before the size (MJPG allows full rate over USB 2).
        lost_after_s: no new frame for this long means the signal is lost.
        reconnect_min_s, reconnect_max_s: back-off between reopen attempts.
        first_frame_timeout_s: how long ``open()`` waits for the first frame.
        capture_factory: ``(device, api) -> Capture``; tests inject fake devices here.
    """

    def __init__(
        self,
        device: int | str,
        *,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        backend: str = "any",
        fourcc: str | None = "MJPG",
        lost_after_s: float = 1.0,
        reconnect_min_s: float = 0.1,
        reconnect_max_s: float = 2.0,
        first_frame_timeout_s: float = 3.0,
        capture_factory: CaptureFactory | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise UsguideError(f"bad --backend {backend!r}: choose one of {', '.join(BACKENDS)}")
        self.device = parse_device(device)
        self.requested = {"width": width, "height": height, "fps": fps, "fourcc": fourcc}
        self.backend = backend
        self.lost_after_s = lost_after_s
        self.reconnect_min_s = reconnect_min_s
        self.reconnect_max_s = reconnect_max_s
        self.first_frame_timeout_s = first_frame_timeout_s
        self._factory = capture_factory or open_capture
        self._injected = capture_factory is not None
        self._lock = threading.Lock()
        self._new_frame = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._latest: Frame | None = None
        self._latest_seq = 0  # frames published
        self._read_seq = 0  # last published frame handed to the consumer
        self._last_new_ns = 0
        self._state = SourceState.RECONNECTING
        self._info: SourceInfo | None = None
        self.details: dict[str, Any] = {}  # backend, requested vs delivered format, warnings
        self.received = 0  # new frames published by the grab thread
        self.dropped = 0  # frames published but never read (the consumer was slower)
        self.reconnects = 0
        self.transitions: list[SourceState] = []  # every state change, in order

    # -- FrameSource -------------------------------------------------------------------------
    @property
    def info(self) -> SourceInfo:
        if self._info is None:
            raise RuntimeError("DeviceSource.info is valid after open()")
        return self._info

    @property
    def state(self) -> SourceState:
        with self._lock:
            state = self._state
            if state is SourceState.CONNECTED and self._stale():
                return SourceState.LOST  # the grab thread may be blocked inside the driver
            return state

    def open(self) -> None:
        name = device_path(self.device)
        if not self._injected and sys.platform.startswith("linux") and not Path(name).exists():
            # Check first: OpenCV would print its own warnings for a missing node.
            raise UsguideError(f"no capture device at {name} — run `usguide devices` to list them")
        capture = self._connect()
        if capture is None:
            raise UsguideError(f"no capture device at {name} — run `usguide devices` to list them")
        self._stop.clear()
        self._set_state(SourceState.CONNECTED)
        self._last_new_ns = time.perf_counter_ns()
        self._thread = threading.Thread(
            target=self._run, args=(capture,), name=f"usguide-grab-{name}", daemon=True
        )
        self._thread.start()
        with self._new_frame:
            got = self._new_frame.wait_for(
                lambda: self._latest is not None, self.first_frame_timeout_s
            )
            first = self._latest
        if not got or first is None:
            self.close()
            raise UsguideError(
                f"capture device {name} opened but delivered no frame in "
                f"{self.first_frame_timeout_s:g} s — check the cable/source or try another "
                "--backend"
            )
        self._record_format(first, capture)
        fps = self.requested["fps"] or capture.get(cv2.CAP_PROP_FPS) or FALLBACK_FPS
        self._info = SourceInfo(
            name=name,
            kind="device",
            width=first.width,
            height=first.height,
            fps=float(fps),
            live=True,
        )

    def read(self) -> Frame | None:
        with self._lock:
            if self._latest is None or self._latest_seq == self._read_seq:
                return None
            self.dropped += self._latest_seq - self._read_seq - 1
            self._read_seq = self._latest_seq
            return self._latest

    def wait(self, timeout_s: float) -> Frame | None:
        """Like ``read()`` but blocks up to ``timeout_s`` for a new frame."""
        with self._new_frame:
            self._new_frame.wait_for(lambda: self._latest_seq != self._read_seq, timeout_s)
        return self.read()

    def close(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            # The thread releases the device itself (releasing it from here while it is inside
            # read() is unsafe in OpenCV); the join is bounded by the driver's read timeout.
            thread.join(timeout=max(2.0, self.lost_after_s * 2))
            if thread.is_alive():
                log.warning("capture thread for %s did not stop in time", device_path(self.device))
        self._set_state(SourceState.ENDED)

    # -- grab thread -------------------------------------------------------------------------
    def _run(self, capture: Capture | None) -> None:
        delay = self.reconnect_min_s
        last_image: np.ndarray | None = None
        last_stamp = -1.0
        frame_index = 0
        try:
            while not self._stop.is_set():
                if capture is None:
                    self._set_state(SourceState.RECONNECTING)
                    if self._stop.wait(delay):
                        break
                    delay = min(delay * 2, self.reconnect_max_s)
                    capture = self._connect()
                    if capture is not None:
                        self.reconnects += 1
                        last_image, last_stamp = None, -1.0
                        with self._lock:
                            self._last_new_ns = time.perf_counter_ns()
                    continue
                ok, image = capture.read()
                now = time.perf_counter_ns()
                if ok and image is not None:
                    stamp = float(capture.get(cv2.CAP_PROP_POS_MSEC) or 0.0)
                    frozen = (stamp > 0 and stamp == last_stamp) or (
                        last_image is not None and np.array_equal(image, last_image)
                    )
                    if not frozen:
                        last_image, last_stamp = image, stamp
                        frame = Frame(
                            image=to_frame_image(image),
                            index=frame_index,
                            t_capture_ns=now,
                            source_ms=stamp if stamp > 0 else now / 1e6,
                        )
                        frame_index += 1
                        self._publish(frame, now)
                        delay = self.reconnect_min_s
                        continue
                with self._lock:
                    stale = self._stale()
                if not ok or stale:
                    if stale or self._state is SourceState.CONNECTED:
                        self._set_state(SourceState.LOST)
                    capture.release()
                    capture = None
                    if not ok and not stale:
                        self._stop.wait(0.01)  # brief failure: retry soon, not in a hot loop
        finally:
            if capture is not None:
                capture.release()

    def _publish(self, frame: Frame, now: int) -> None:
        with self._new_frame:
            self._latest = frame
            self._latest_seq += 1
            self.received = self._latest_seq
            self._last_new_ns = now
            changed = self._state is not SourceState.CONNECTED
            if changed:
                self._state = SourceState.CONNECTED
                self.transitions.append(SourceState.CONNECTED)
            self._new_frame.notify_all()

    def _stale(self) -> bool:
        return (time.perf_counter_ns() - self._last_new_ns) > self.lost_after_s * 1e9

    def _set_state(self, state: SourceState) -> None:
        with self._lock:
            if self._state is not state:
                self._state = state
                self.transitions.append(state)

    # -- device setup ------------------------------------------------------------------------
    def _connect(self) -> Capture | None:
        try:
            capture = self._factory(self.device, BACKENDS[self.backend])
        except Exception as exc:  # noqa: BLE001 - a failing driver must not kill the grab thread
            log.debug("opening %s failed: %s", self.device, exc)
            return None
        if capture is None or not capture.isOpened():
            if capture is not None:
                capture.release()
            return None
        # FOURCC first: some drivers reset the size when the pixel format changes.
        fourcc = self.requested["fourcc"]
        if fourcc:
            capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*fourcc))
        if self.requested["width"]:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, float(self.requested["width"]))
        if self.requested["height"]:
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, float(self.requested["height"]))
        if self.requested["fps"]:
            capture.set(cv2.CAP_PROP_FPS, float(self.requested["fps"]))
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # fewer stale driver buffers where supported
        return capture

    def _record_format(self, first: Frame, capture: Capture) -> None:
        code = int(capture.get(cv2.CAP_PROP_FOURCC) or 0)
        delivered_fourcc = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4)).strip("\0 ")
        self.details = {
            "backend": self.backend,
            "requested": dict(self.requested),
            "delivered": {"width": first.width, "height": first.height, "fourcc": delivered_fourcc},
            "warnings": [],
        }
        want_w, want_h = self.requested["width"], self.requested["height"]
        if (want_w and want_w != first.width) or (want_h and want_h != first.height):
            message = (
                f"requested {want_w}x{want_h} but {device_path(self.device)} delivers "
                f"{first.width}x{first.height}"
            )
            self.details["warnings"].append(message)
            log.warning(message)
