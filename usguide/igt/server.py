"""An OpenIGTLink server that streams each processed frame to 3D Slicer, PLUS or any client.

Per frame: IMAGE ``Image`` (the image region, spacing in mm, the capture time), and only when the
needle was measured on that frame TRANSFORM ``NeedleTipToImage`` (x axis along the shaft) and
POINT ``Needle`` (entry, tip, path end); then STRING ``NeedleStatus`` (see ``status.py``).
Between frames a heartbeat sends ``stale`` / ``signal lost`` when the stream stops.

The frame path only drops the newest bundle into each client's one-element slot (newest wins,
replaced bundles counted); packing and sending happen on each client's own thread, so a slow or
vanished client never slows the pipeline. Own sockets rather than pyigtl's server: it binds a
given address, installs no signal handlers and never queues (pyigtl's drops silently beyond 100).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from usguide.defaults import IGTL_PORT
from usguide.errors import UsguideError
from usguide.igt.status import OK, needle_status, stream_status
from usguide.pipeline.budget import PipelineState
from usguide.sources.igt import load_pyigtl
from usguide.types import FrameResult

log = logging.getLogger(__name__)

DEFAULT_PORT = IGTL_PORT
LOOPBACK = "127.0.0.1"
IMAGE_DEVICE = "Image"
TIP_DEVICE = "NeedleTipToImage"
POINT_DEVICE = "Needle"
STATUS_DEVICE = "NeedleStatus"
_HEARTBEAT_S = 0.25

Bundle = tuple[FrameResult | None, str]  # a frame's result (None: status only) and its status


def frame_messages(result: FrameResult, status: str, epoch_offset_ns: int) -> list:
    """The OpenIGTLink messages of one processed frame (needle messages only when measured)."""
    pyigtl = load_pyigtl()
    frame = result.frame
    roi = frame.calibration.roi
    scale = float(frame.calibration.mm_per_px or 1.0)
    image = roi.crop(frame.image) if roi is not None else frame.image
    ox, oy = (roi.x, roi.y) if roi is not None else (0, 0)
    if image.ndim == 3:
        image = image[:, :, ::-1]  # BGR in usguide, RGB on the wire
    stamp = (frame.t_capture_ns + epoch_offset_ns) / 1e9  # OpenIGTLink wants seconds since 1970
    ijk_to_ras = np.diag([scale, scale, 1.0, 1.0])
    messages = [
        pyigtl.ImageMessage(
            np.ascontiguousarray(image[np.newaxis]),
            ijk_to_world_matrix=ijk_to_ras,
            world_coordinate_system="ras",
            timestamp=stamp,
            device_name=IMAGE_DEVICE,
        )
    ]
    needle = result.needle
    if status == OK and needle is not None:
        tip = ((needle.tip.x - ox) * scale, (needle.tip.y - oy) * scale)
        entry = ((needle.entry.x - ox) * scale, (needle.entry.y - oy) * scale)
        dx, dy = tip[0] - entry[0], tip[1] - entry[1]
        norm = float(np.hypot(dx, dy)) or 1.0
        ux, uy = dx / norm, dy / norm
        matrix = np.eye(4)
        matrix[:3, 0], matrix[:3, 1], matrix[:3, 3] = (ux, uy, 0), (-uy, ux, 0), (*tip, 0)
        messages.append(pyigtl.TransformMessage(matrix, timestamp=stamp, device_name=TIP_DEVICE))
        points, names = [[*entry, 0.0], [*tip, 0.0]], ["Entry", "Tip"]
        if result.trajectory is not None:
            end = result.trajectory.end
            points.append([(end.x - ox) * scale, (end.y - oy) * scale, 0.0])
            names.append("PathEnd")
        messages.append(
            pyigtl.PointMessage(points, names=names, timestamp=stamp, device_name=POINT_DEVICE)
        )
    messages.append(status_message(status, stamp))
    return messages


def status_message(status: str, stamp: float | None = None):  # noqa: ANN201
    """STRING ``NeedleStatus``."""
    return load_pyigtl().StringMessage(status, timestamp=stamp, device_name=STATUS_DEVICE)


class _Client:
    """One connected receiver: a one-element slot and a sender thread."""

    def __init__(self, conn: socket.socket, address: str, server: IgtServer) -> None:
        self.conn, self.address, self.server = conn, address, server
        self._cond = threading.Condition()
        self._slot: Bundle | None = None
        self._closed = False
        self.thread = threading.Thread(target=self._run, name=f"usguide-igt-{address}", daemon=True)

    def offer(self, bundle: Bundle) -> bool:
        """Puts ``bundle`` in the slot; True when it replaced one not yet sent (a drop)."""
        with self._cond:
            replaced = self._slot is not None
            self._slot = bundle
            self._cond.notify()
        return replaced

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        try:
            self.conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._slot is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                bundle, self._slot = self._slot, None
            try:
                result, status = bundle
                if result is None:
                    messages = [status_message(status)]
                else:
                    messages = frame_messages(result, status, self.server.epoch_offset_ns)
                self.conn.sendall(b"".join(message.pack() for message in messages))
                self.server.sent += 1
            except (OSError, ValueError) as exc:  # gone, or stalled past the send timeout
                log.info("OpenIGTLink client %s dropped: %s", self.address, exc)
                self.server.forget(self)
                return


class IgtServer:
    """Streams processed frames to OpenIGTLink clients; ``publish`` is the pipeline consumer.

    Args:
        port: TCP port (0: any free one, see ``port`` after ``start``).
        bind: address to listen on; loopback unless the user asks for another.
        state: the pipeline state now (for the heartbeat's ``signal lost`` / ``stale``).
        stale_after_ms: no frame for this long is ``stale`` (the display's tolerance).
        send_timeout_s: a client that accepts no data for this long is disconnected.
        max_clients: further connections are refused.
    """

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        bind: str = LOOPBACK,
        *,
        state: Callable[[], PipelineState] | None = None,
        stale_after_ms: float = 83.0,
        send_timeout_s: float = 2.0,
        max_clients: int = 4,
    ) -> None:
        self.bind, self.port = bind, int(port)
        self.state, self.stale_after_ms = state, stale_after_ms
        self._stale_limit: Callable[[], float] | None = None
        self.send_timeout_s, self.max_clients = send_timeout_s, max_clients
        self.epoch_offset_ns = time.time_ns() - time.perf_counter_ns()
        self.published = self.dropped = self.sent = 0
        self.publish_ns: deque[int] = deque(maxlen=10_000)  # cost on the frame path
        self._clients: tuple[_Client, ...] = ()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._last_capture_ns: int | None = None
        self._last_heartbeat = ""

    @property
    def clients(self) -> int:
        return len(self._clients)

    def start(self) -> IgtServer:
        """Listens and starts the accept and heartbeat threads (call on the main thread)."""
        load_pyigtl()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.bind, self.port))
        except OSError as exc:
            listener.close()
            raise UsguideError(
                f"cannot listen for OpenIGTLink on {self.bind}:{self.port} ({exc.strerror}) — "
                "choose another --igtl PORT or --igtl-bind address"
            ) from None
        listener.listen(self.max_clients)
        listener.settimeout(0.2)
        self._listener, self.port = listener, listener.getsockname()[1]
        for target, name in ((self._accept_loop, "accept"), (self._heartbeat_loop, "heartbeat")):
            thread = threading.Thread(target=target, name=f"usguide-igt-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("OpenIGTLink server on %s:%d", self.bind, self.port)
        return self

    def follow(
        self, state: Callable[[], PipelineState], stale_after_ms: Callable[[], float]
    ) -> None:
        """Takes the pipeline state and the staleness limit from a running display (``usguide run``
        learns them only once the source is open; the limit changes with the source's rate)."""
        self.state, self._stale_limit = state, stale_after_ms

    def publish(self, result: FrameResult) -> None:
        """The pipeline consumer (worker thread): hands the frame to every client, never waits."""
        start = time.perf_counter_ns()
        bundle: Bundle = (result, needle_status(result))
        self._last_capture_ns = result.frame.t_capture_ns
        self._last_heartbeat = ""
        self.published += 1
        for client in self._clients:
            if client.offer(bundle):
                self.dropped += 1
        self.publish_ns.append(time.perf_counter_ns() - start)

    def stop(self) -> None:
        """Closes every connection and the listener. Idempotent."""
        self._stop.set()
        with self._lock:
            clients, self._clients = self._clients, ()
        for client in clients:
            client.close()
        if self._listener is not None:
            self._listener.close()
        for thread in self._threads:
            thread.join(1.0)

    def forget(self, client: _Client) -> None:
        """Removes a client whose connection failed."""
        with self._lock:
            self._clients = tuple(c for c in self._clients if c is not client)
        client.close()

    def __enter__(self) -> IgtServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                conn, address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if len(self._clients) >= self.max_clients:
                conn.close()
                continue
            conn.settimeout(self.send_timeout_s)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client = _Client(conn, f"{address[0]}:{address[1]}", self)
            with self._lock:
                self._clients = (*self._clients, client)
            client.thread.start()
            log.info("OpenIGTLink client connected: %s", client.address)

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(_HEARTBEAT_S):
            last = self._last_capture_ns
            age = None if last is None else (time.perf_counter_ns() - last) / 1e6
            state = self.state() if self.state is not None else None
            limit = self._stale_limit() if self._stale_limit is not None else self.stale_after_ms
            status = stream_status(state, age, limit)
            if status and status != self._last_heartbeat:
                self._last_heartbeat = status
                for client in self._clients:
                    client.offer((None, status))
