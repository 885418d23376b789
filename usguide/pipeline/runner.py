"""The real-time pipeline: a capture thread and a processing worker joined by newest-frame slots.

capture thread: ``source.read()`` -> newest-frame slot (+ every frame to the recorder)
worker thread:  newest frame -> ``analyzer.process`` -> subscribers' callbacks
Nothing queues: under overload frames are overwritten in the slot and counted, so latency cannot
grow. Under overload the worker also prefers a fresh frame: when the one waiting has already aged
past half a frame interval and the next is due sooner than that, it takes the next (``fresh_wait``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from usguide.analysis.base import Analyzer
from usguide.defaults import BUDGET_MS, DISPLAY_MODES, WARMUP_FRAMES
from usguide.pipeline.budget import BudgetMonitor, BudgetPolicy, PipelineState
from usguide.pipeline.capture import CaptureThread, source_state
from usguide.pipeline.feed import Recorder, RecorderFeed
from usguide.pipeline.freshness import FreshnessPolicy
from usguide.pipeline.live import LiveFrameResult, live_result
from usguide.pipeline.slots import CapturedFrame, LatestSlot
from usguide.pipeline.stats import PipelineStats, StatsCollector
from usguide.pipeline.subscribers import Subscribers
from usguide.sources.base import FrameSource
from usguide.types import Frame, FrameResult, SourceState, Timings

__all__ = ["DISPLAY_MODES", "LiveFrameResult", "Pipeline"]

log = logging.getLogger(__name__)

_POLL_S = 0.05  # worker wake-up period to check stop and stalls
_FRESH_MARGIN_S = 0.001  # jitter allowance when waiting for the next frame


class Pipeline:
    """Runs a source through an analyzer on two daemon threads and hands results to subscribers.

    The pipeline owns the source from ``start()`` to ``stop()``: it opens it (unless ``open_source``
    is False) and always closes it. The analyzer and recorder stay the caller's to close.

    Args:
        source: where frames come from.
        analyzer: an ``Analyzer`` (``FrameAnalyzer``, ``RecordedAnalyzer``); None for pure capture
            and display (results carry needle None).
        budget_ms: capture-to-result budget watched by the ``BudgetMonitor``.
        recorder: a ``Recorder`` (``SessionWriter``); gets every captured frame it can write.
        display_mode: ``"paired"`` (subscribers get each result, frame and overlay from the same
            frame) or ``"lowest-latency"`` (subscribers get every captured frame at once as a
            ``LiveFrameResult`` with the last overlay, called from the capture thread).
        warmup_frames: first frames left out of the statistics.
        budget_policy: thresholds of the budget monitor.
        open_source: open the source in ``start()``/``set_source()``.
        fresh_wait: when the worker frees up and the waiting frame is older than this fraction of
            the source's frame interval, it waits (at most until the next frame is due) for the
            next frame and drops the older one. Under overload this caps the wait in the slot at
            that fraction of an interval instead of a whole one, for a little throughput. 0 or None
            turns it off; sources that are not overloaded never wait.
    """

    def __init__(
        self,
        source: FrameSource,
        analyzer: Analyzer | None = None,
        *,
        budget_ms: float = BUDGET_MS,
        recorder: Recorder | None = None,
        display_mode: str = DISPLAY_MODES[0],
        warmup_frames: int = WARMUP_FRAMES,
        budget_policy: BudgetPolicy | None = None,
        stats_window: int = 300,
        open_source: bool = True,
        fresh_wait: float | None = 0.5,
    ) -> None:
        if display_mode not in DISPLAY_MODES:
            raise ValueError(f"display_mode must be one of {DISPLAY_MODES}, not {display_mode!r}")
        self._source = source
        self._analyzer = analyzer
        self.display_mode = display_mode
        self._open_source = open_source
        self._freshness = FreshnessPolicy(fresh_wait)
        self._stats = StatsCollector(warmup_frames=warmup_frames, window=stats_window)
        self._budget = BudgetMonitor(
            budget_ms,
            detector=None if analyzer is None else analyzer.detector,
            policy=budget_policy,
        )
        self._feed = self._make_feed(recorder)
        self._frames: LatestSlot[CapturedFrame] = LatestSlot()
        self._subscribers: Subscribers[FrameResult] = Subscribers(self._note_error)
        self._result_subscribers: Subscribers[FrameResult] = Subscribers(self._note_error)
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self._ended = threading.Event()
        self._stop = threading.Event()
        self._capture: CaptureThread | None = None
        self._worker_thread: threading.Thread | None = None
        self._generation = 0
        self._last_result: FrameResult | None = None
        self._running = False
        self.errors = 0
        self.last_error: str | None = None
        self._error_kind: str | None = None  # logged once until the failure changes

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Opens the source and starts both threads. Raises UsguideError when the source cannot
        open."""
        if self._running:
            return
        if self._open_source:
            self._source.open()
        self._stop.clear()
        self._frames.reopen()
        self._running = True
        self._worker_thread = threading.Thread(
            target=self._worker_loop, name="usguide-worker", daemon=True
        )
        self._worker_thread.start()
        self._start_capture()

    def stop(self, timeout_s: float = 2.0) -> bool:
        """Stops both threads and closes the source, within about ``timeout_s`` even if ``read()``
        hangs.

        Returns: True when every thread ended; False when one is still stuck (a daemon thread, left
            behind).
        """
        deadline = time.monotonic() + timeout_s
        self._stop.set()
        self._frames.close()
        worker = self._worker_thread
        capture = self._stop_capture(deadline)
        if worker is not None:
            worker.join(max(0.0, deadline - time.monotonic()))
        if self._feed is not None:
            self._feed.flush_all()
        self._running = False
        alive = [t for t in (worker, capture) if t is not None and t.is_alive()]
        if alive:
            log.warning("pipeline threads still running after stop: %s", [t.name for t in alive])
        return not alive

    def set_source(self, source: FrameSource, timeout_s: float = 2.0) -> None:
        """Switches to another source: opens it first (on failure the old one keeps running), then
        stops the capture thread, closes the old source, resets statistics, budget and tracking, and
        resumes."""
        if not self._running:
            self._source = source
            return
        if self._open_source:
            source.open()
        self._stop_capture(time.monotonic() + timeout_s)
        with self._lock:
            self._generation += 1
        self._frames.clear()
        if self._feed is not None:
            self._feed.flush_all()
        self._source = source
        self._last_result = None
        self._freshness.reset()
        self._ended.clear()
        self._stats.reset()
        self._budget.reset()
        # The analyzer (tracker, detector memory) is reset by the worker before it processes the
        # first frame of the new source: resetting it here could pull state from under a frame
        # that the worker is analysing right now.
        self._start_capture()

    def set_analyzer(self, analyzer: Analyzer | None) -> None:
        """Uses another analyzer from the next frame on (e.g. recorded overlays vs re-computed)."""
        self._analyzer = analyzer
        self._budget.set_detector(None if analyzer is None else analyzer.detector)
        if self._feed is not None:
            self._feed.await_results = analyzer is not None

    def set_recorder(self, recorder: Recorder | None) -> None:
        """Starts (or with None stops) handing frames to a recorder; the caller starts and closes
        it."""
        old = self._feed
        self._feed = self._make_feed(recorder)
        if old is not None:
            old.flush_all()

    # -- consumers ----------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[FrameResult], None]) -> Callable[[], None]:
        """Registers a display consumer (see ``display_mode``); returns a function that
        unsubscribes."""
        return self._subscribers.add(callback)

    def subscribe_results(self, callback: Callable[[FrameResult], None]) -> Callable[[], None]:
        """Registers a consumer of every paired result (any display mode), called from the
        worker."""
        return self._result_subscribers.add(callback)

    def mark_displayed(self, result: FrameResult) -> None:
        """Called by the display once ``result`` is on screen: stamps it and feeds the display
        latency."""
        result.timings.t_display_ns = time.perf_counter_ns()
        self._stats.record_display(result.timings)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Waits until the worker has nothing to do (no frame waiting, none in process)."""
        return self._idle.wait(timeout)

    # -- state --------------------------------------------------------------------------------
    @property
    def source(self) -> FrameSource:
        return self._source

    @property
    def analyzer(self) -> Analyzer | None:
        return self._analyzer

    @property
    def budget(self) -> BudgetMonitor:
        return self._budget

    @property
    def running(self) -> bool:
        return self._running

    @property
    def source_ended(self) -> bool:
        """True while the source reports ENDED (a file played to its end without loop)."""
        return self._ended.is_set()

    @property
    def state(self) -> PipelineState:
        if self._running:
            self._tick()
        return self._budget.state

    @property
    def frames_dropped(self) -> int:
        return self._stats.frames_dropped

    @property
    def frames_captured(self) -> int:
        """Frames read from the source so far (cheap: no statistics are computed)."""
        return self._stats.frames_captured

    @property
    def frames_processed(self) -> int:
        """Frames the worker has finished so far (cheap)."""
        return self._stats.frames_processed

    @property
    def stats(self) -> PipelineStats:
        """A snapshot of counters, latencies (recent window and whole run) and the budget state."""
        return self.snapshot()

    def snapshot(self, whole_run: bool = True) -> PipelineStats:
        """Like ``stats``; ``whole_run=False`` skips the whole-run percentiles (frequent polls)."""
        snapshot = self._stats.snapshot(whole_run)
        snapshot.state = self.state.value
        snapshot.message = self._budget.message
        snapshot.input_scale = self._budget.input_scale
        snapshot.frames_over_budget = self._budget.frames_over
        snapshot.budget_ms = self._budget.budget_ms
        return snapshot

    @property
    def last_result(self) -> FrameResult | None:
        return self._last_result

    # -- threads ------------------------------------------------------------------------------
    def _start_capture(self) -> None:
        generation = self._generation
        self._capture = CaptureThread(
            self._source,
            lambda frame: self._on_captured(frame, generation),
            self._note_error,
            self._ended,
        )
        self._capture.start()

    def _stop_capture(self, deadline: float) -> threading.Thread | None:
        """Stops the capture thread and closes its source without waiting past ``deadline``."""
        capture, self._capture = self._capture, None
        if capture is None:
            return None
        capture.stop(deadline)
        return capture.thread

    def _on_captured(self, frame: Frame, generation: int) -> None:
        """On the capture thread: count, record, put in the newest-frame slot, show (live mode)."""
        self._stats.record_capture(frame.t_capture_ns)
        self._freshness.note_capture(frame.t_capture_ns)
        feed = self._feed
        if feed is not None:
            feed.captured(frame)
        with self._lock:
            replaced = self._frames.put(CapturedFrame(generation, frame))
            self._idle.clear()
        if replaced is not None:
            self._stats.record_drop()
            if feed is not None:
                feed.resolved(replaced.frame, None)
        if self.display_mode == "lowest-latency":
            self._subscribers.emit(live_result(frame, self._last_result))

    def _worker_loop(self) -> None:
        analyzed_generation = self._generation
        while not self._stop.is_set():
            item = self._frames.get(timeout=_POLL_S)
            if item is None:
                self._tick()
                continue
            item = self._freshest(item)
            generation, frame = item.generation, item.frame
            if generation != analyzed_generation:  # the first frame of a new source
                analyzed_generation = generation
                self._reset_analyzer()
            result = self._process(frame)
            if generation == self._generation:  # a frame of a replaced source is not shown
                self._deliver(frame, result)
            with self._lock:
                if self._frames.empty:
                    self._idle.set()
        self._idle.set()

    def _reset_analyzer(self) -> None:
        analyzer = self._analyzer
        if analyzer is None:
            return
        try:
            analyzer.reset()
        except Exception as exc:  # a failing reset must not stop guidance
            self._note_error(f"analyzer reset failed: {exc}")

    def _freshest(self, item: CapturedFrame) -> CapturedFrame:
        """The frame to process: ``item``, or the next one when it is due soon and ``item`` has
        already waited long (see ``fresh_wait``)."""
        wait_s = self._freshness.wait_s(item.frame.t_capture_ns, time.perf_counter_ns())
        if wait_s is None:
            return item
        newer = self._frames.get(timeout=wait_s + _FRESH_MARGIN_S)
        if newer is None:
            return item
        self._stats.record_drop()
        feed = self._feed
        if feed is not None:
            feed.resolved(item.frame, None)
        return newer

    def _process(self, frame: Frame) -> FrameResult:
        analyzer = self._analyzer
        result = None
        if analyzer is not None:
            try:
                result = analyzer.process(frame)
            except Exception as exc:  # one bad frame must not stop guidance
                self._note_error(f"analysis failed on frame {frame.index}: {exc}", str(exc))
        if result is None:
            result = FrameResult(frame, None, None, Timings(t_capture_ns=frame.t_capture_ns))
        if result.timings.t_result_ns is None:
            result.timings.t_result_ns = time.perf_counter_ns()
        return result

    def _deliver(self, frame: Frame, result: FrameResult) -> None:
        if self._stats.record_result(result.timings):
            self._budget.observe(
                result.timings.capture_to_result_ms or 0.0, result.timings.t_result_ns
            )
        else:
            self._budget.heartbeat(result.timings.t_result_ns)
        feed = self._feed
        if feed is not None:
            feed.resolved(frame, result.to_json() if self._analyzer is not None else None)
        self._last_result = result
        self._result_subscribers.emit(result)
        if self.display_mode == "paired":
            self._subscribers.emit(result)

    def _tick(self) -> None:
        source = self._source
        state = source_state(source)
        expecting = (
            self._running
            and state is SourceState.CONNECTED
            and not self._ended.is_set()
            and source.delivering
        )
        self._budget.tick(time.perf_counter_ns(), state, expecting)

    def _note_error(self, message: str, kind: str | None = None) -> None:
        self.errors += 1
        if (kind or message) != self._error_kind:
            log.warning("%s", message)
        self.last_error, self._error_kind = message, kind or message

    def _make_feed(self, recorder: Recorder | None) -> RecorderFeed | None:
        if recorder is None:
            return None
        return RecorderFeed(recorder, await_results=self._analyzer is not None)
