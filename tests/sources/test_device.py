"""DeviceSource against fake devices: newest frame wins, lost signal, reconnection, errors."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from usguide.errors import UsguideError
from usguide.sources.device import DeviceSource, parse_device
from usguide.types import SourceState


class FakeDevice:
    """A device that produces numbered frames; it can be gated, stopped (unplugged) or frozen."""

    def __init__(self, period_s: float = 0.0005, gated: bool = False, size=(16, 12)) -> None:
        self.period_s = period_s
        self.gate = threading.Semaphore(0) if gated else None
        self.size = size
        self.online = True
        self.frozen = False
        self.produced = 0
        self.opens = 0
        self.releases = 0
        self.lock = threading.Lock()

    def factory(self, device, api):
        with self.lock:
            self.opens += 1
        return FakeCapture(self)

    def make(self) -> np.ndarray:
        width, height = self.size
        image = np.zeros((height, width), np.uint8)
        image.reshape(-1)[:4].view(np.uint32)[0] = self.produced
        with self.lock:
            self.produced += 1
        return image


def counter(image: np.ndarray) -> int:
    return int(np.ascontiguousarray(image).reshape(-1)[:4].view(np.uint32)[0])


class FakeCapture:
    def __init__(self, device: FakeDevice) -> None:
        self.device = device
        self.opened = device.online
        self.last: np.ndarray | None = None

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV naming
        return self.opened

    def read(self):
        device = self.device
        if not device.online:
            time.sleep(0.002)
            return False, None
        if device.gate is not None and not device.gate.acquire(timeout=0.01):
            return (self.last is not None), self.last  # nothing new: the driver repeats its buffer
        time.sleep(device.period_s)
        if device.frozen and self.last is not None:
            return True, self.last.copy()
        self.last = device.make()
        return True, self.last

    def set(self, prop, value) -> bool:
        return True

    def get(self, prop) -> float:
        return 0.0

    def release(self) -> None:
        with self.device.lock:
            self.device.releases += 1
        self.opened = False


def wait_until(condition, timeout_s: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.002)
    return condition()


def test_parse_device():
    assert parse_device("device:3") == 3
    assert parse_device("0") == 0
    assert parse_device("/dev/video2") == "/dev/video2"


def test_newest_frame_wins_and_no_stale_frame():
    fake = FakeDevice(gated=True)
    fake.gate.release()
    source = DeviceSource(0, capture_factory=fake.factory, lost_after_s=30)
    with source:
        assert wait_until(lambda: source.received == 1)
        for _ in range(4):
            fake.gate.release()
        assert wait_until(lambda: source.received == 5)
        frame = source.read()
        assert counter(frame.image) == 4 and frame.index == 4  # not the oldest buffered one
        assert source.read() is None  # nothing new: no stale frame handed out again
        for _ in range(3):
            fake.gate.release()
        assert wait_until(lambda: source.received == 8)
        frame = source.read()
        assert counter(frame.image) == 7
        assert source.read() is None
        assert source.dropped == 4 + 2  # frames 0-3, then 5-6
        assert frame.image.flags.c_contiguous and frame.image.dtype == np.uint8


def test_slow_consumer_always_gets_the_newest_frame():
    fake = FakeDevice(period_s=0.0005)
    with DeviceSource(0, capture_factory=fake.factory, lost_after_s=30) as source:
        seen = []
        for _ in range(8):
            time.sleep(0.02)
            before = fake.produced
            frame = source.read()
            assert frame is not None
            seen.append(counter(frame.image))
            assert seen[-1] >= before - 2  # at most the frame in flight is newer
        assert all(
            b > a + 1 for a, b in zip(seen, seen[1:], strict=False)
        )  # indices skip, never repeat
        assert source.dropped > 0


def test_lost_signal_and_reconnection():
    fake = FakeDevice()
    source = DeviceSource(
        0,
        capture_factory=fake.factory,
        lost_after_s=0.2,
        reconnect_min_s=0.01,
        reconnect_max_s=0.05,
    )
    with source:
        assert source.state is SourceState.CONNECTED
        fake.online = False  # unplugged
        assert wait_until(lambda: source.state is SourceState.RECONNECTING)
        while source.read() is not None:
            pass
        time.sleep(0.05)
        assert source.read() is None
        opens_while_offline = fake.opens
        fake.online = True
        assert wait_until(lambda: source.state is SourceState.CONNECTED)
        assert wait_until(lambda: source.read() is not None)
        assert opens_while_offline >= 2 and source.reconnects >= 1
        states = source.transitions
        lost = states.index(SourceState.LOST)
        assert SourceState.RECONNECTING in states[lost:]
        assert states[-1] is SourceState.CONNECTED
    assert fake.releases == fake.opens


def test_frozen_frames_count_as_lost_signal():
    fake = FakeDevice()
    source = DeviceSource(0, capture_factory=fake.factory, lost_after_s=0.15, reconnect_min_s=0.01)
    with source:
        fake.frozen = True  # the backend keeps returning the last frame after an unplug
        assert wait_until(lambda: source.state in (SourceState.LOST, SourceState.RECONNECTING))
        assert wait_until(lambda: SourceState.LOST in source.transitions)
        fake.frozen = False
        assert wait_until(lambda: source.state is SourceState.CONNECTED)
        assert source.reconnects >= 1


def test_close_joins_thread_and_releases_device():
    fake = FakeDevice()
    source = DeviceSource(0, capture_factory=fake.factory)
    source.open()
    thread = source._thread
    source.close()
    assert not thread.is_alive()
    assert fake.releases == fake.opens == 1
    assert source.state is SourceState.ENDED
    source.close()  # idempotent


def test_delivered_size_is_checked():
    fake = FakeDevice(size=(32, 24))
    with DeviceSource(0, width=640, height=480, capture_factory=fake.factory) as source:
        assert (source.info.width, source.info.height) == (32, 24)
        assert source.info.live and source.info.kind == "device"
        assert source.details["delivered"]["width"] == 32
        assert "640x480" in source.details["warnings"][0]


def test_absent_device_is_one_line_error():
    with pytest.raises(
        UsguideError, match=r"no capture device at /dev/video9 — run `usguide devices`"
    ):
        DeviceSource("/dev/video9").open()
    fake = FakeDevice()
    fake.online = False
    with pytest.raises(UsguideError, match="no capture device"):
        DeviceSource(4, capture_factory=fake.factory).open()


def test_device_without_frames_times_out():
    fake = FakeDevice(gated=True)  # opens but never delivers
    source = DeviceSource(0, capture_factory=fake.factory, first_frame_timeout_s=0.1)
    with pytest.raises(UsguideError, match="delivered no frame"):
        source.open()
    assert fake.releases == fake.opens


def test_bad_backend():
    with pytest.raises(UsguideError, match="bad --backend"):
        DeviceSource(0, backend="nope")
