"""IgtSource receives IMAGE messages from a pyigtl server on loopback and survives its restart."""

from __future__ import annotations

import signal
import socket
import threading
import time

import numpy as np
import pytest

from usguide.errors import UsguideError
from usguide.sources.factory import is_live, make_source
from usguide.sources.igt import IgtSource, parse_igtl_spec
from usguide.types import SourceState

pyigtl = pytest.importorskip("pyigtl")

W, H = 40, 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def keep_signals():
    """pyigtl's server replaces SIGINT/SIGTERM handlers; give pytest its own back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def image_message(value: int, device: str = "Image_Reference"):  # noqa: ANN201
    voxels = np.full((1, H, W), value, np.uint8)
    return pyigtl.ImageMessage(
        voxels, ijk_to_world_matrix=np.diag([0.2, 0.2, 1.0, 1.0]), timestamp=1000.0 + value,
        device_name=device,
    )  # fmt: skip


def next_frame(source: IgtSource, server, value: int, timeout: float = 5.0):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.send_message(image_message(value), wait=False)
        server.send_message(image_message(99, device="Other"), wait=False)
        frame = source.read()
        if frame is not None and int(frame.image[0, 0]) == value:
            return frame
        time.sleep(0.02)
    raise AssertionError(f"no frame {value}")


def test_receives_and_survives_a_server_restart(keep_signals) -> None:
    port = free_port()
    server = pyigtl.OpenIGTLinkServer(port=port, local_server=True)
    source = make_source(f"igtl://127.0.0.1:{port}?device=Image_Reference")
    try:
        opener = threading.Thread(target=source.open)  # open() waits for a first image
        opener.start()
        while opener.is_alive():
            server.send_message(image_message(1), wait=False)
            time.sleep(0.02)
        assert source.info.live and (source.info.width, source.info.height) == (W, H)
        frame = next_frame(source, server, 5)
        assert frame.image.shape == (H, W)
        assert frame.calibration.mm_per_px == pytest.approx(0.2)
        assert frame.source_ms == pytest.approx(1005_000.0)
        server.stop()
        deadline = time.monotonic() + 5
        while source.state is SourceState.CONNECTED and time.monotonic() < deadline:
            time.sleep(0.02)
        assert source.state is SourceState.RECONNECTING
        server = pyigtl.OpenIGTLinkServer(port=port, local_server=True)
        assert next_frame(source, server, 7).image[0, 0] == 7
        assert source.state is SourceState.CONNECTED
    finally:
        source.close()
        server.stop()


def test_specs_and_errors() -> None:
    assert parse_igtl_spec("igtl://127.0.0.1") == ("127.0.0.1", 18944, None)
    assert parse_igtl_spec("igtl://localhost:1234?device=Image_Reference") == (
        "localhost", 1234, "Image_Reference",
    )  # fmt: skip
    assert is_live("igtl://127.0.0.1:18944")
    with pytest.raises(UsguideError, match="bad port"):
        parse_igtl_spec("igtl://127.0.0.1:port")
    source = IgtSource(f"igtl://127.0.0.1:{free_port()}", connect_timeout_s=0.5)
    with pytest.raises(UsguideError, match="no OpenIGTLink server"):
        source.open()
