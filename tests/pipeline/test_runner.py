"""Pipeline threads: newest frame wins, pairing, every frame recorded, clean stop."""

from __future__ import annotations

import queue
import threading
import time

import numpy as np
import pytest

from usguide.pipeline.budget import BudgetPolicy, PipelineState
from usguide.pipeline.runner import LiveFrameResult, Pipeline
from usguide.sources.base import FrameSource
from usguide.types import (
    Frame,
    FrameResult,
    Needle,
    Point,
    SourceInfo,
    SourceState,
    StageSpan,
    Timings,
)


def wait_for(condition, timeout: float = 10.0) -> bool:
    """Waits for a condition (a safety limit, not a speed assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.002)
    return condition()


def make_frame(index: int) -> Frame:
    image = np.zeros((8, 8), np.uint8)
    image.view(np.uint32)[0, 0] = index  # the index is in the pixels: pairing is checkable
    return Frame(
        image=image, index=index, t_capture_ns=time.perf_counter_ns(), source_ms=index * 10.0
    )


def index_in_pixels(frame: Frame) -> int:
    return int(frame.image.view(np.uint32)[0, 0])


class FakeSource(FrameSource):
    """Frames pushed by the test (``feed``) or generated on every read (``endless``)."""

    def __init__(self, endless: bool = False, delay_s: float = 0.0) -> None:
        self.endless, self.delay_s = endless, delay_s
        self.pending: queue.Queue[int] = queue.Queue()
        self.next_index = 0
        self.opened = self.closed = False
        self.source_state = SourceState.CONNECTED

    @property
    def info(self) -> SourceInfo:
        return SourceInfo("fake", "simulator", 8, 8, 100.0, live=True)

    @property
    def state(self) -> SourceState:
        return self.source_state

    def open(self) -> None:
        self.opened = True

    def close(self) -> None:
        self.closed = True

    def feed(self, count: int) -> None:
        for _ in range(count):
            self.pending.put(self.next_index)
            self.next_index += 1

    def read(self) -> Frame | None:
        if self.endless:
            if self.delay_s:
                time.sleep(self.delay_s)
            self.next_index += 1
            return make_frame(self.next_index - 1)
        try:
            return make_frame(self.pending.get(timeout=0.01))
        except queue.Empty:
            return None


class HangingSource(FakeSource):
    """read() blocks until close() (like a device read released by closing) or forever."""

    def __init__(self, release_on_close: bool = True) -> None:
        super().__init__()
        self.release_on_close = release_on_close
        self._released = threading.Event()
        self._forever = threading.Event()

    def close(self) -> None:
        self.closed = True
        if self.release_on_close:
            self._released.set()

    def read(self) -> Frame | None:
        (self._released if self.release_on_close else self._forever).wait()
        return None


class FakeAnalyzer:
    """Puts the index read from the pixels into the needle; optionally slow or blocking on frame
    0."""

    def __init__(self, delay_s: float = 0.0, block_first: bool = False) -> None:
        self.delay_s = delay_s
        self.processed: list[int] = []
        self.started_first = threading.Event()
        self.release = threading.Event()
        self.block_first = block_first
        self.detector = type("Det", (), {"name": "fake", "input_scale": 1.0})()
        self.name = "fake"

    def reset(self) -> None:
        pass

    def set_target(self, point: Point | None) -> None:
        pass

    def process(self, frame: Frame) -> FrameResult:
        start = time.perf_counter_ns()
        if self.block_first and not self.processed:
            self.started_first.set()
            self.release.wait(10)
        if self.delay_s:
            time.sleep(self.delay_s)
        self.processed.append(frame.index)
        seen = float(index_in_pixels(frame))
        needle = Needle(Point(seen, 0.0), Point(0.0, 0.0), 1.0, 0.0)
        end = time.perf_counter_ns()
        timings = Timings(frame.t_capture_ns, {"inference": StageSpan(start, end)})
        return FrameResult(frame, needle, None, timings, detector="fake")


class FakeRecorder:
    def __init__(self) -> None:
        self.written: list[tuple[int, dict | None]] = []

    def write(self, frame: Frame, result: dict | None) -> bool:
        self.written.append((frame.index, result))
        return True


def test_newest_frame_wins_drops_counted_and_every_frame_recorded():
    source, analyzer, recorder = FakeSource(), FakeAnalyzer(block_first=True), FakeRecorder()
    pipeline = Pipeline(source, analyzer, recorder=recorder, warmup_frames=0)
    results: list[FrameResult] = []
    pipeline.subscribe(results.append)
    pipeline.start()
    try:
        source.feed(1)
        assert analyzer.started_first.wait(10)
        source.feed(5)  # frames 1..5 arrive while frame 0 is being analysed
        assert wait_for(lambda: pipeline.stats.frames_captured == 6)
        analyzer.release.set()
        assert wait_for(lambda: len(results) == 2)
        assert wait_for(lambda: pipeline.wait_idle(0.01))
    finally:
        assert pipeline.stop()
    # never a stale frame: 5 was the newest when the worker got free
    assert analyzer.processed == [0, 5]
    assert pipeline.frames_dropped == 4
    assert [r.frame.index for r in results] == [0, 5]
    assert [index for index, _ in recorder.written] == [0, 1, 2, 3, 4, 5]
    with_results = {index for index, result in recorder.written if result is not None}
    assert with_results == {0, 5}
    assert dict(recorder.written)[5]["needle"]["tip"][0] == 5.0
    assert source.closed


def test_overload_pairing_and_counters():
    source, analyzer = FakeSource(endless=True, delay_s=0.0005), FakeAnalyzer(delay_s=0.01)
    pipeline = Pipeline(source, analyzer, warmup_frames=2)
    results: list[FrameResult] = []
    pipeline.subscribe(results.append)
    pipeline.start()
    try:
        assert wait_for(lambda: len(results) >= 10)
    finally:
        assert pipeline.stop()
    indices = [r.frame.index for r in results]
    assert indices == sorted(set(indices))  # strictly increasing: nothing old is processed later
    for result in results:  # the needle was computed on the very frame it is paired with
        assert result.needle.tip.x == result.frame.index == index_in_pixels(result.frame)
        assert result.timings.t_result_ns >= result.timings.t_capture_ns
    stats = pipeline.stats
    assert stats.frames_dropped > 0
    assert stats.frames_captured - stats.frames_processed - stats.frames_dropped in (0, 1)
    assert stats.stages["inference"].run.count == stats.frames_processed - 2
    assert stats.end_to_end.run.p99 >= stats.stages["inference"].run.p50


def test_no_analyzer_gives_results_without_needle_and_display_latency():
    source = FakeSource()
    pipeline = Pipeline(source, None, warmup_frames=0)
    results: list[FrameResult] = []
    pipeline.subscribe(results.append)
    pipeline.start()
    source.feed(3)
    assert wait_for(lambda: len(results) >= 1)
    pipeline.mark_displayed(results[0])
    assert pipeline.stop()
    assert all(r.needle is None for r in results)
    assert results[0].timings.t_display_ns >= results[0].timings.t_result_ns
    assert pipeline.stats.frames_displayed == 1


def test_lowest_latency_mode_shows_every_frame_with_last_overlay():
    source, analyzer = FakeSource(), FakeAnalyzer(block_first=True)
    pipeline = Pipeline(source, analyzer, display_mode="lowest-latency", warmup_frames=0)
    shown: list[FrameResult] = []
    paired: list[FrameResult] = []
    pipeline.subscribe(shown.append)
    pipeline.subscribe_results(paired.append)
    pipeline.start()
    source.feed(1)
    assert analyzer.started_first.wait(10)
    source.feed(2)
    assert wait_for(lambda: len(shown) == 3)
    analyzer.release.set()
    assert wait_for(lambda: len(paired) == 2)
    source.feed(1)
    assert wait_for(lambda: len(shown) == 4)
    assert pipeline.stop()
    assert all(isinstance(r, LiveFrameResult) for r in shown)
    assert [r.frame.index for r in shown] == [0, 1, 2, 3]
    assert shown[0].needle is None and shown[0].overlay_age_ms is None
    last = shown[3]
    assert last.overlay_frame_index == 2 and last.needle.tip.x == 2.0
    assert last.overlay_age_ms >= 0


def test_stop_returns_with_a_hanging_source_and_threads_end():
    source = HangingSource(release_on_close=True)
    pipeline = Pipeline(source, FakeAnalyzer())
    pipeline.start()
    time.sleep(0.05)
    started = time.monotonic()
    assert pipeline.stop(timeout_s=2.0) is True
    assert time.monotonic() - started < 5.0  # generous: the bound is ~2 s
    assert source.closed
    assert not any(t.name.startswith("usguide-") and t.is_alive() for t in threading.enumerate())


def test_stop_is_bounded_even_if_read_never_returns():
    source = HangingSource(release_on_close=False)
    pipeline = Pipeline(source, None)
    pipeline.start()
    started = time.monotonic()
    # the stuck daemon thread is reported, not waited on
    assert pipeline.stop(timeout_s=1.0) is False
    assert time.monotonic() - started < 4.0
    assert source.closed


def test_set_source_switches_cleanly():
    first, second = FakeSource(), FakeSource()
    second.next_index = 100
    pipeline = Pipeline(first, FakeAnalyzer(), warmup_frames=0)
    results: list[FrameResult] = []
    pipeline.subscribe(results.append)
    pipeline.start()
    first.feed(2)
    assert wait_for(lambda: len(results) >= 1)
    pipeline.set_source(second)
    assert first.closed and second.opened and pipeline.source is second
    second.feed(2)
    assert wait_for(lambda: any(r.frame.index >= 100 for r in results))
    assert pipeline.stop()
    assert second.closed


class ResettableAnalyzer(FakeAnalyzer):
    """Records resets, their thread, and whether one came while a frame was being analysed."""

    def __init__(self) -> None:
        super().__init__(block_first=True)
        self.resets: list[str] = []
        self.busy = False
        self.reset_while_busy = False

    def process(self, frame: Frame) -> FrameResult:
        self.busy = True
        try:
            return super().process(frame)
        finally:
            self.busy = False

    def reset(self) -> None:
        self.reset_while_busy |= self.busy
        self.resets.append(threading.current_thread().name)


def test_analyzer_is_reset_by_the_worker_between_sources():
    """Switching source while a frame is being analysed must not reset the analyzer under it."""
    first, second = FakeSource(), FakeSource()
    second.next_index = 100
    analyzer = ResettableAnalyzer()
    pipeline = Pipeline(first, analyzer, warmup_frames=0)
    results: list[FrameResult] = []
    pipeline.subscribe(results.append)
    pipeline.start()
    try:
        first.feed(1)
        assert analyzer.started_first.wait(10)  # frame 0 is now in the analyzer
        pipeline.set_source(second)
        assert analyzer.resets == []  # not from this (the caller's) thread
        analyzer.release.set()
        second.feed(2)
        assert wait_for(lambda: any(r.frame.index >= 100 for r in results))
    finally:
        assert pipeline.stop()
    assert analyzer.resets == ["usguide-worker"] and not analyzer.reset_while_busy
    assert all(r.frame.index >= 100 for r in results)  # frame 0 of the old source is not shown


def test_state_signal_lost_and_stalled():
    source = FakeSource()
    policy = BudgetPolicy(stall_ms=100)
    pipeline = Pipeline(source, None, budget_policy=policy)
    pipeline.start()
    try:
        assert wait_for(lambda: pipeline.state is PipelineState.STALLED)
        assert "stalled" in pipeline.stats.message
        source.source_state = SourceState.LOST
        assert wait_for(lambda: pipeline.state is PipelineState.SIGNAL_LOST)
    finally:
        pipeline.stop()


def test_bad_display_mode_rejected():
    with pytest.raises(ValueError):
        Pipeline(FakeSource(), None, display_mode="fastest")


def test_overloaded_worker_prefers_the_next_frame_to_an_old_one():
    """Frames every 40 ms, 50 ms of work: no processed frame waits much past half an interval,
    the frames skipped for fresher ones are counted as drops, and the recorder still gets them."""
    source = FakeSource(endless=True, delay_s=0.04)
    analyzer, recorder = FakeAnalyzer(delay_s=0.05), FakeRecorder()
    pipeline = Pipeline(source, analyzer, recorder=recorder, warmup_frames=0, fresh_wait=0.5)
    waits: list[float] = []

    def on_result(result: FrameResult) -> None:
        start = result.timings.stages["inference"].start_ns
        waits.append((start - result.frame.t_capture_ns) / 1e6)

    pipeline.subscribe(on_result)
    pipeline.start()
    try:
        assert wait_for(lambda: len(waits) >= 16, timeout=20)
    finally:
        assert pipeline.stop()
    # 50 ms of work per 40 ms frame: without the policy the waits cycle 0, 10, 20, 30 ms. With it,
    # a frame older than 20 ms is swapped for the next one (a frame that is late, older than a
    # whole interval, is taken at once: never wait on a stalled source).
    settled = waits[3:]
    assert len([w for w in settled if 24.0 < w < 36.0]) <= 1, settled
    stats = pipeline.stats
    assert stats.frames_dropped >= 1
    assert stats.frames_processed + stats.frames_dropped <= stats.frames_captured
    assert len(recorder.written) >= stats.frames_processed + stats.frames_dropped - 1
