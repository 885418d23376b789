"""ReplayController on a fake seekable source; RecordedAnalyzer on fake recorded results."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from usguide.analysis.recorded import RecordedAnalyzer
from usguide.errors import UsguideError
from usguide.sources.base import FrameSource
from usguide.sources.replay import ReplayController
from usguide.types import Frame, SourceInfo, SourceState


class SeekableSource(FrameSource):
    """``count`` frames 10 ms apart (source time); counts seeks."""

    def __init__(self, count: int = 5, frame_ms: float = 10.0) -> None:
        self.count, self.frame_ms = count, frame_ms
        self.next = 0
        self.seeks: list[int] = []
        self.closed = False

    @property
    def info(self) -> SourceInfo:
        return SourceInfo("fake.mkv", "video", 4, 4, 100.0, live=False, frame_count=self.count)

    @property
    def state(self) -> SourceState:
        return SourceState.ENDED if self.next >= self.count else SourceState.CONNECTED

    @property
    def seekable(self) -> bool:
        return True

    def open(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def seek(self, index: int) -> None:
        self.seeks.append(index)
        self.next = index

    def read(self) -> Frame | None:
        if self.next >= self.count:
            return None
        index, self.next = self.next, self.next + 1
        image = np.full((4, 4), index, np.uint8)
        return Frame(image, index, time.perf_counter_ns(), source_ms=index * self.frame_ms)


def read_until_frame(replay: ReplayController, tries: int = 200) -> Frame | None:
    for _ in range(tries):
        frame = replay.read()
        if frame is not None:
            return frame
    return None


def test_paused_start_step_and_seek_exact():
    inner = SeekableSource(5)
    replay = ReplayController(inner, playing=False)
    replay.open()
    assert replay.frame_count == 5 and replay.position == -1
    assert replay.read().index == 0  # paused: the first frame is shown once
    assert replay.read() is None and not replay.delivering
    replay.step_forward()
    assert replay.read().index == 1 and replay.position == 1
    replay.step_back()
    assert replay.read().index == 0
    replay.step_back()
    assert replay.read().index == 0  # stays on the first frame
    replay.seek(3)
    assert replay.read().index == 3 and inner.seeks[-1] == 3
    replay.seek(99)  # clamped
    assert replay.read().index == 4
    replay.step_forward()  # at the end without loop: stays
    assert replay.read().index == 4
    replay.close()
    assert inner.closed


def test_play_to_the_end_pauses_or_loops():
    replay = ReplayController(SeekableSource(3, frame_ms=1.0), playing=True, speed=4.0)
    replay.open()
    assert [read_until_frame(replay).index for _ in range(3)] == [0, 1, 2]
    assert read_until_frame(replay, tries=5) is None and not replay.playing
    replay.loop = True
    replay.play()
    assert [read_until_frame(replay).index for _ in range(4)] == [0, 1, 2, 0]
    replay.step_forward()
    assert replay.read().index == 1 and not replay.playing


def test_speed_paces_by_source_time():
    replay = ReplayController(SeekableSource(4, frame_ms=40.0), speed=4.0)  # 10 ms per frame
    replay.open()
    frames = [read_until_frame(replay) for _ in range(4)]
    since_first_ms = [(f.t_capture_ns - frames[0].t_capture_ns) / 1e6 for f in frames]
    # Each frame is never early against its due time from the start (lateness is not asserted,
    # and one late frame does not make the next one look early).
    assert all(since_first_ms[i] >= 10.0 * i - 1.0 for i in range(4))
    assert all(frames[i].t_capture_ns < frames[i + 1].t_capture_ns for i in range(3))
    with pytest.raises(UsguideError):
        replay.speed = 8.0
    replay.speed = 0.25
    assert replay.speed == 0.25


def test_pause_while_waiting_keeps_the_frame():
    replay = ReplayController(SeekableSource(3, frame_ms=1000.0), speed=1.0)
    replay.open()
    assert replay.read().index == 0
    replay.pause()
    assert replay.read() is None  # frame 1 was read but not due: held
    replay.speed = 4.0
    replay.seek(1)
    assert replay.read().index == 1


def test_live_source_cannot_be_replayed():
    class Live(SeekableSource):
        @property
        def seekable(self) -> bool:
            return False

    with pytest.raises(UsguideError):
        ReplayController(Live()).open()


class FakeRecording:
    def results_for(self, index: int) -> dict | None:
        if index == 1:
            return {
                "frame": 1,
                "needle": {
                    "tip": [30.0, 40.0],
                    "entry": [0.0, 0.0],
                    "confidence": 0.9,
                    "angle_deg": 53.13,
                    "predicted": False,
                },
                "trajectory": {
                    "end": [60.0, 80.0],
                    "target": None,
                    "along_mm": None,
                    "miss_mm": None,
                },
                "latency_ms": {"total": 12.0},
            }
        return {"frame": index, "needle": None, "latency_ms": {}} if index == 0 else None


def test_recorded_analyzer_returns_overlays_as_recorded():
    analyzer = RecordedAnalyzer(FakeRecording())
    frames = [Frame(np.zeros((4, 4), np.uint8), i, time.perf_counter_ns(), 0.0) for i in range(3)]
    results = [analyzer.process(frame) for frame in frames]
    assert results[0].needle is None and results[2].needle is None
    assert results[1].frame is frames[1]
    assert results[1].needle.tip == (30.0, 40.0) and results[1].needle.confidence == 0.9
    assert results[1].trajectory.end == (60.0, 80.0)
    assert results[1].trajectory.direction == pytest.approx((0.6, 0.8))
    assert results[1].timings.t_result_ns is not None and results[1].detector == "recorded"


class TrailingDamageSource(SeekableSource):
    """Frames 3 and 4 do not decode: the source skips them (counted) and reaches its end."""

    def read(self) -> Frame | None:
        if self.next >= 3:
            self.next = self.count
            return None
        return super().read()


@pytest.mark.parametrize("loop", [True, False])
def test_undecodable_last_frames_loop_or_pause_instead_of_stalling(loop: bool) -> None:
    replay = ReplayController(TrailingDamageSource(), loop=loop, speed=4.0)
    frames = itertools.islice(iter(lambda: read_until_frame(replay, 20), None), 7)
    indices = [frame.index for frame in frames]
    if loop:
        assert indices == [0, 1, 2, 0, 1, 2, 0]
    else:
        assert indices == [0, 1, 2] and not replay.playing
