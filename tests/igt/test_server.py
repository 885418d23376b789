"""IgtServer on loopback with a real pyigtl client: images, needle messages on measured frames only,
status strings; a stalled client costs the frame path nothing (drops are counted)."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest

from usguide.igt.server import IgtServer
from usguide.igt.status import stream_status
from usguide.pipeline.budget import PipelineState
from usguide.types import Calibration, Frame, FrameResult, Needle, Point, Roi, Timings, Trajectory

pyigtl = pytest.importorskip("pyigtl")

W, H = 80, 60
ROI = Roi(10, 5, 60, 50)
MM = 0.25


def result(i: int, needle: str) -> FrameResult:
    image = np.full((H, W), i % 256, np.uint8)
    frame = Frame(image, i, time.perf_counter_ns(), i * 33.0, Calibration(MM, ROI))
    found = None
    trajectory = None
    if needle != "lost":
        found = Needle(Point(40, 30), Point(20, 10), 0.9, 45.0, predicted=needle == "predicted")
        trajectory = Trajectory(Point(40, 30), Point(60, 50), (0.7071, 0.7071))
    return FrameResult(frame, found, trajectory, Timings(frame.t_capture_ns))


def wait_status(client, timeout: float = 5.0):  # noqa: ANN001, ANN201
    message = client.wait_for_message("NeedleStatus", timeout=timeout)
    assert message is not None, "no status received"
    return message.string


@pytest.fixture
def server():
    with IgtServer(port=0, stale_after_ms=300.0) as igt:
        yield igt


def connect(port: int):  # noqa: ANN201
    client = pyigtl.OpenIGTLinkClient(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 5
    while not client.is_connected() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert client.is_connected()
    return client


def test_client_receives_images_needles_and_status(server: IgtServer) -> None:
    client = connect(server.port)
    try:
        deadline = time.monotonic() + 5
        while server.clients == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        for i, kind in enumerate(["ok", "predicted", "lost", "ok"]):
            server.publish(result(i, kind))
            assert wait_status(client) == kind
            latest = {m.device_name: m for m in client.get_latest_messages()}
            image = client.wait_for_message("Image", timeout=0) or latest.get("Image")
            assert image is not None
            assert image.image.shape == (1, ROI.h, ROI.w)  # the image region only
            assert np.allclose(np.diag(image.ijk_to_world_matrix)[:2], MM)
            tip = latest.get("NeedleTipToImage")
            points = latest.get("Needle")
            if kind == "ok":
                assert tip is not None and points is not None
                assert tip.matrix[:2, 3] == pytest.approx([(40 - 10) * MM, (30 - 5) * MM])
                assert tip.matrix[:2, 0] == pytest.approx([0.7071, 0.7071], abs=1e-3)
                assert list(points.names) == ["Entry", "Tip", "PathEnd"]
            else:  # coasting or lost: no needle message at all
                assert tip is None and points is None
        # the stream stops: the heartbeat says so
        assert wait_status(client, timeout=3.0) == "stale"
    finally:
        client.stop()


def test_signal_lost_is_reported() -> None:
    with IgtServer(port=0, state=lambda: PipelineState.SIGNAL_LOST) as igt:
        client = connect(igt.port)
        try:
            assert wait_status(client, timeout=3.0) == "signal lost"
        finally:
            client.stop()


def test_stalled_client_never_blocks_publish() -> None:
    with IgtServer(port=0, send_timeout_s=0.5) as igt:
        stalled = socket.create_connection(("127.0.0.1", igt.port), timeout=2)
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # never reads
        try:
            deadline = time.monotonic() + 5
            while igt.clients == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            big = result(0, "ok")
            big.frame.image = np.zeros((600, 800), np.uint8)
            big.frame.calibration = Calibration(MM, None)
            deadline = time.monotonic() + 20
            while igt.clients and time.monotonic() < deadline:
                igt.publish(big)  # hands over and returns: the socket is the client thread's
                time.sleep(0.005)
            assert igt.dropped > 0  # newest wins in the client's slot
            assert igt.clients == 0  # the stalled client was let go after the send timeout
        finally:
            stalled.close()


def test_bind_errors_are_user_errors() -> None:
    from usguide.errors import UsguideError

    with IgtServer(port=0) as igt:
        with pytest.raises(UsguideError, match="cannot listen"):
            IgtServer(port=igt.port).start()


def test_stream_status() -> None:
    assert stream_status(PipelineState.OK, 10.0, 80.0) == ""
    assert stream_status(PipelineState.OK, 100.0, 80.0) == "stale"
    assert stream_status(PipelineState.STALLED, 1.0, 80.0) == "stale"
    assert stream_status(PipelineState.SIGNAL_LOST, None, 80.0) == "signal lost"
    assert stream_status(None, None, 80.0) == ""
