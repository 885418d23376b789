"""``igtl://HOST:PORT[?device=NAME]``: IMAGE messages from an OpenIGTLink server (PlusServer).

A receiver thread keeps only the newest image (drops counted) and reconnects, like a USB device,
when the server goes away: the state is RECONNECTING until it is back. The message's spacing is the
calibration and its timestamp the source time. Needs ``pyigtl`` (the ``igt`` extra) for the wire
format only; the socket is ours, so a server restart is noticed (pyigtl's client does not).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from urllib.parse import parse_qs, urlsplit

import numpy as np

from usguide.defaults import IGTL_PORT
from usguide.errors import UsguideError
from usguide.sources.base import FrameSource
from usguide.sources.convert import to_frame_image
from usguide.types import Calibration, Frame, SourceInfo, SourceState

log = logging.getLogger(__name__)

DEFAULT_PORT = IGTL_PORT
_HEADER_SIZE = 58
_RETRY_S = 0.25


def load_pyigtl():  # noqa: ANN201 - the module
    """pyigtl, or a UsguideError saying how to install it."""
    try:
        import pyigtl
    except ImportError:
        raise UsguideError(
            "OpenIGTLink needs pyigtl — pip install 'usguide[igt]' (or pip install pyigtl)"
        ) from None
    return pyigtl


def parse_igtl_spec(spec: str) -> tuple[str, int, str | None]:
    """``igtl://HOST:PORT?device=NAME`` -> (host, port, device or None)."""
    parts = urlsplit(spec)
    if parts.scheme != "igtl" or not parts.hostname:
        raise UsguideError(f"bad source {spec!r}: expected igtl://HOST:PORT[?device=NAME]")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise UsguideError(f"bad port in {spec!r}: expected igtl://HOST:PORT") from None
    device = parse_qs(parts.query).get("device", [None])[0]
    return parts.hostname, port, device


class IgtSource(FrameSource):
    """Receives IMAGE messages as frames.

    Args:
        spec: ``igtl://HOST:PORT[?device=NAME]``; without ``device`` any IMAGE is taken.
        connect_timeout_s: ``open()`` waits this long for the server and a first image.
    """

    def __init__(self, spec: str, *, connect_timeout_s: float = 5.0) -> None:
        self.spec = spec
        self.host, self.port, self.device = parse_igtl_spec(spec)
        self.connect_timeout_s = connect_timeout_s
        self.dropped = 0
        self._info: SourceInfo | None = None
        self._state = SourceState.RECONNECTING
        self._lock = threading.Lock()
        self._newest: Frame | None = None
        self._count = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def info(self) -> SourceInfo:
        if self._info is None:
            raise RuntimeError("IgtSource.info is valid after open()")
        return self._info

    @property
    def state(self) -> SourceState:
        return self._state

    def open(self) -> None:
        load_pyigtl()  # fail early, with the install hint
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="usguide-igtl-source", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.connect_timeout_s
        while time.monotonic() < deadline and self._newest is None:
            time.sleep(0.01)
        first = self._newest
        if first is None:
            connected = self._state is SourceState.CONNECTED
            self.close()
            what = f"IMAGE {self.device!r}" if self.device else "any IMAGE"
            raise UsguideError(
                f"connected to {self.host}:{self.port} but received no {what} message — "
                "check the device name (?device=NAME)"
                if connected
                else f"no OpenIGTLink server at {self.host}:{self.port} — start PlusServer "
                "(or the sender) or check the address"
            )
        self._info = SourceInfo(
            name=self.spec, kind="igtl", width=first.width, height=first.height,
            fps=30.0, live=True, frame_count=None,
        )  # fmt: skip

    def read(self) -> Frame | None:
        with self._lock:
            frame, self._newest = self._newest, None
        return frame

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None
        self._state = SourceState.ENDED

    # -- receiver thread ---------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn = socket.create_connection((self.host, self.port), timeout=1.0)
            except OSError:
                self._stop.wait(_RETRY_S)
                continue
            self._state = SourceState.CONNECTED
            log.info("OpenIGTLink source connected to %s:%d", self.host, self.port)
            try:
                with conn:
                    conn.settimeout(0.2)
                    self._receive(conn)
            except (OSError, ValueError) as exc:
                log.info("OpenIGTLink source %s:%d: %s", self.host, self.port, exc)
            if not self._stop.is_set():
                self._state = SourceState.RECONNECTING
                log.warning("OpenIGTLink %s:%d went away; reconnecting", self.host, self.port)

    def _receive(self, conn: socket.socket) -> None:
        message_base = load_pyigtl().MessageBase
        while not self._stop.is_set():
            header = self._read_exact(conn, _HEADER_SIZE)
            if header is None:
                return
            fields = message_base.parse_header(header)
            body = self._read_exact(conn, int(fields["body_size"]))
            if body is None:
                return
            if fields["message_type"] != "IMAGE":
                continue
            if self.device and fields["device_name"] != self.device:
                continue
            message = message_base.create_message("IMAGE")
            message.unpack(fields, body)
            frame = image_frame(message, self._count)
            self._count += 1
            with self._lock:
                if self._newest is not None:
                    self.dropped += 1
                self._newest = frame

    def _read_exact(self, conn: socket.socket, size: int) -> bytes | None:
        """``size`` bytes, or None when the server closed or we are stopping."""
        chunks, got = [], 0
        while got < size:
            if self._stop.is_set():
                return None
            try:
                chunk = conn.recv(min(size - got, 1 << 20))
            except TimeoutError:
                continue
            if not chunk:
                return None
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)


def image_frame(message, index: int) -> Frame:  # noqa: ANN001 - pyigtl.ImageMessage
    """A Frame from an IMAGE message: the first slice, uint8, BGR for colour; spacing as scale."""
    voxels = np.asarray(message.image)
    image = voxels[0] if voxels.ndim >= 3 else voxels
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.dtype != np.uint8:
        top = float(image.max()) if image.size else 0.0
        image = np.clip(image * (255.0 / top if top > 255 else 1.0), 0, 255).astype(np.uint8)
    if image.ndim == 3 and image.shape[2] >= 3:
        image = np.ascontiguousarray(image[:, :, 2::-1])  # RGB on the wire
    matrix = np.asarray(message.ijk_to_world_matrix, dtype=float)
    sx, sy = float(np.linalg.norm(matrix[:3, 0])), float(np.linalg.norm(matrix[:3, 1]))
    mm_per_px = None if (sx, sy) == (1.0, 1.0) or sx <= 0 else (sx + sy) / 2
    return Frame(
        image=to_frame_image(np.ascontiguousarray(image)),
        index=index,
        t_capture_ns=time.perf_counter_ns(),
        source_ms=float(message.timestamp) * 1000.0,
        calibration=Calibration(mm_per_px=mm_per_px),
    )
