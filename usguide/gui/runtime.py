"""What the window runs: the source (wrapped for calibration and replay), analyzer and pipeline.

No Qt here: the window calls these methods from the GUI thread; results reach the window through the
callback given to ``subscribe`` (called on the pipeline's worker thread).
"""

from __future__ import annotations

import datetime
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from usguide.errors import UsguideError
from usguide.gui.recall import apply_region, recall, save_source
from usguide.gui.runtime_options import RuntimeOptions, default_spec
from usguide.pipeline.budget import PipelineState, stale_after_ms
from usguide.pipeline.stats import PipelineStats
from usguide.types import Calibration, FrameResult, Point, Roi, SourceInfo

if TYPE_CHECKING:  # the pipeline, sources and detectors load when a source opens
    from usguide.analysis.base import Analyzer
    from usguide.detect.base import Detector
    from usguide.pipeline.runner import Pipeline
    from usguide.record.writer import SessionWriter
    from usguide.sources.calibrated import CalibratedSource
    from usguide.sources.replay import ReplayController
    from usguide.sources.ruler import RulerReading


class Runtime:
    """Builds and switches sources, analyzers and the pipeline for the window.

    Args:
        options: command-line choices.
        detector_factory: builds the detector (default: ``make_detector`` from the options).
    """

    def __init__(
        self, options: RuntimeOptions, detector_factory: Callable[[], Detector] | None = None
    ) -> None:
        self.options = options
        self.budget_ms = options.budget_ms
        self._detector_factory = detector_factory
        self._detector: Detector | None = None
        self.pipeline: Pipeline | None = None
        self.replay: ReplayController | None = None
        self.spec: str | None = None  # what is open now, as given to make_source
        self.info: SourceInfo | None = None
        self._calibrated: CalibratedSource | None = None
        self._analyzers: dict[str, Analyzer] = {}
        self.overlay_mode = "model"
        self._cursor: int | None = None  # replay frame last asked for (seek/step)
        self._subscribers: list[Callable[[FrameResult], None]] = []
        self._recent = deque(maxlen=8)  # recent images for automatic region detection
        self._writer: SessionWriter | None = None
        self.recording_path: Path | None = None
        self._target: Point | None = None
        self._lock = threading.Lock()
        self.remembered = ""  # what the settings file gave the open source, in words

    # -- wiring -------------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[FrameResult], None]) -> None:
        self._subscribers.append(callback)

    def _dispatch(self, result: FrameResult) -> None:
        self._recent.append(result.frame.image)
        for callback in self._subscribers:
            callback(result)

    def open(self, spec: str | None = None) -> None:
        """Opens ``spec`` (default: the options' or the demo); starts or switches the pipeline."""
        from usguide.analysis.recorded import RecordedAnalyzer
        from usguide.pipeline.runner import Pipeline
        from usguide.sources.calibrated import CalibratedSource
        from usguide.sources.factory import is_live, make_source
        from usguide.sources.recording import RecordingSource
        from usguide.sources.replay import ReplayController

        spec = spec or self.options.spec or default_spec()
        live = is_live(spec)
        opts = self.options
        inner = make_source(spec, fps=opts.fps, realtime=live, loop=False, backend=opts.backend)
        remembered = recall(opts, spec)  # the settings file's values the command line did not give
        calibrated = CalibratedSource(
            inner,
            roi=opts.roi,
            mm_per_px=opts.mm_per_px or remembered.mm_per_px,
            depth_mm=opts.depth_mm,
            scale_source=remembered.scale_source or "user",
        )
        replay = None if live else ReplayController(calibrated, loop=opts.loop)
        feed = calibrated if replay is None else replay
        feed.open()
        self.remembered = apply_region(calibrated, remembered)
        analyzers: dict[str, Analyzer] = {"model": self._model_analyzer()}
        if isinstance(inner, RecordingSource):
            analyzers["recorded"] = RecordedAnalyzer(inner)
        for analyzer in analyzers.values():
            analyzer.set_target(self._target)
        mode = self.overlay_mode if self.overlay_mode in analyzers else "model"
        if self.pipeline is None:
            self.pipeline = Pipeline(
                feed,
                analyzers[mode],
                budget_ms=opts.budget_ms,
                display_mode=opts.display_mode,
                open_source=False,
            )
            self.pipeline.subscribe(self._dispatch)
            for consumer in opts.result_consumers:
                self.pipeline.subscribe_results(consumer)
            self.pipeline.start()
        else:
            self.stop_recording()
            self.remember()
            self.pipeline.set_analyzer(analyzers[mode])
            self.pipeline.set_source(feed)
        self._recent.clear()
        self.info, self._calibrated, self._analyzers, self.overlay_mode = (
            feed.info,
            calibrated,
            analyzers,
            mode,
        )
        self.replay = replay
        self.spec = spec
        self._cursor = None

    def _model_analyzer(self) -> Analyzer:
        from usguide.analysis.analyzer import FrameAnalyzer

        if self._detector is None:
            if self._detector_factory is not None:
                self._detector = self._detector_factory()
            else:
                from usguide.detect.factory import make_detector

                opts = self.options
                try:
                    self._detector = make_detector(
                        opts.detector, opts.model, opts.provider, opts.threads
                    )
                except UsguideError:
                    if opts.detector != "onnx" or opts.model is not None:
                        raise
                    # no bundled model (yet): still show guidance, with the classical detector
                    self._detector = make_detector("classical")
        return FrameAnalyzer(self._detector)

    # -- state --------------------------------------------------------------------------------
    @property
    def state(self) -> PipelineState:
        return PipelineState.OK if self.pipeline is None else self.pipeline.state

    @property
    def keep_burned_in(self) -> bool:
        """Snapshots (and DICOM recordings) keep the text outside the image region."""
        return self.options.keep_burned_in

    def stale_after_ms(self) -> float:
        """A frame older than this is stale: the budget plus one frame interval of the source."""
        return stale_after_ms(self.budget_ms, self.info.fps if self.info is not None else None)

    @property
    def stats(self) -> PipelineStats | None:
        """Counters and recent-window latencies (polled by the display several times a second, so
        the whole-run percentiles are skipped)."""
        return None if self.pipeline is None else self.pipeline.snapshot(whole_run=False)

    @property
    def ended(self) -> bool:
        return self.pipeline is not None and self.pipeline.source_ended

    @property
    def has_recorded_overlay(self) -> bool:
        return "recorded" in self._analyzers

    @property
    def mm_per_px(self) -> float | None:
        calibration = self.calibration
        return calibration.mm_per_px

    @property
    def depth_mm(self) -> float | None:
        calibration = self.calibration
        if calibration.mm_per_px is None:
            return None
        height = (
            calibration.roi.h
            if calibration.roi is not None
            else (self.info.height if self.info else None)
        )
        return None if height is None else calibration.mm_per_px * height

    @property
    def calibration(self) -> Calibration:
        """The calibration frames get now (``CalibratedSource``, its one owner, decides)."""
        return Calibration() if self._calibrated is None else self._calibrated.current

    def mark_displayed(self, result: FrameResult) -> None:
        if self.pipeline is not None:
            self.pipeline.mark_displayed(result)

    # -- user changes -------------------------------------------------------------------------
    @property
    def target(self) -> Point | None:
        """The target the user placed (full-frame pixels), or None: its one owner."""
        return self._target

    def set_target(self, point: Point | None) -> None:
        """Places (or clears) the target; every analyzer measures the trajectory against it."""
        self._target = point
        for analyzer in self._analyzers.values():
            analyzer.set_target(point)

    def set_calibration(
        self,
        *,
        roi: Roi | None = None,
        depth_mm: float | None = None,
        mm_per_px: float | None = None,
    ) -> None:
        """Replaces the image region and/or the scale of the frames from now on."""
        if self._calibrated is None:
            return
        if roi is not None:
            if self.info is not None:
                roi.check_inside(self.info.width, self.info.height)
            self._calibrated.roi = roi
        if mm_per_px is not None:
            self._calibrated.mm_per_px, self._calibrated.depth_mm = mm_per_px, None
        elif depth_mm is not None:
            self._calibrated.mm_per_px, self._calibrated.depth_mm = None, depth_mm
        if mm_per_px is not None or depth_mm is not None:
            self._calibrated.scale_source = "user"
        self._refresh_paused()

    def _refresh_paused(self) -> None:
        if self.replay is not None and not self.replay.playing:
            self.replay.seek(max(0, self.replay.position))  # show the change on the paused frame

    def detect_region(self) -> Roi:
        """Finds the image region in the recent frames (``usguide.sources.roi_detect``)."""
        from usguide.sources.roi_detect import detect_roi

        frames = list(self._recent)
        if not frames:
            raise UsguideError("no frames yet to find the image region in — wait for the image")
        return detect_roi(frames)

    @property
    def scale_source(self) -> str:
        """Where the frames' scale comes from: dicom, ruler, user, source or unknown."""
        return self.calibration.scale_from

    def read_ruler(self, roi: Roi) -> RulerReading:
        """Reads the scale off the screen's depth ruler beside ``roi`` in the recent frames
        (``usguide.sources.ruler``); a scale found becomes the frames' scale, marked "ruler",
        unless the file's own (DICOM) scale is known. A typed depth decides a ruler of alike marks
        and is checked against the others (the reading's message says when they disagree)."""
        from usguide.sources.ruler import RulerReading, check_depth, read_ruler

        frames, calibrated = list(self._recent), self._calibrated
        if not frames or calibrated is None:
            return RulerReading(None, "no frames yet to read a depth ruler in")
        typed = calibrated.depth_mm if calibrated.scale_source == "user" else None
        reading = read_ruler(frames, roi, depth_mm=typed)
        scale = reading.scale
        if scale is None or self.calibration.scale_source == "dicom":
            return reading
        warning = check_depth(scale.mm_per_px, roi.h, typed) if typed else None
        calibrated.mm_per_px, calibrated.depth_mm = scale.mm_per_px, None
        calibrated.scale_source = "ruler"
        self._refresh_paused()
        return RulerReading(scale, warning or reading.message)

    # -- replay -------------------------------------------------------------------------------
    def replay_set_playing(self, playing: bool) -> None:
        self._cursor = None
        self.replay.play() if playing else self.replay.pause()

    def replay_step(self, delta: int) -> None:
        """Pauses and shows the frame ``delta`` away from the last one asked for, so quick repeated
        steps add up even before the previous one reached the screen."""
        replay = self.replay
        pending = self._cursor is not None and self._cursor != replay.position
        base = self._cursor if pending else max(0, replay.position)
        target = base + int(delta)
        count = replay.frame_count
        if replay.loop and count:
            target %= count
        replay.pause()
        self.replay_seek(target)

    def replay_seek(self, index: int) -> None:
        index = min(max(0, int(index)), max(0, self.replay.frame_count - 1))
        self._cursor = index
        self.replay.seek(index)

    def replay_set_speed(self, speed: float) -> None:
        self.replay.speed = speed

    def replay_set_loop(self, loop: bool) -> None:
        self.replay.loop = loop

    def replay_set_overlay_mode(self, mode: str) -> None:
        if mode in self._analyzers and self.pipeline is not None:
            self.overlay_mode = mode
            self.pipeline.set_analyzer(self._analyzers[mode])
            if not self.replay.playing:
                self.replay.seek(max(0, self.replay.position))

    # -- recording and output -----------------------------------------------------------------
    def new_output_path(self, stem: str, suffix: str = "") -> Path:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")[:-3]
        return self.options.output_dir / f"{stem}-{stamp}{suffix}"

    def start_recording(self, procedure: dict | None = None) -> Path | None:
        """Starts writing a session folder (``SessionWriter``) with ``procedure`` (the procedure
        record's JSON) in its meta.json; returns the folder."""
        from usguide.record.writer import SessionWriter

        if self._writer is not None or self.pipeline is None or self.info is None:
            return self.recording_path
        base = self.options.record_dir or self.options.output_dir
        first = path = base / datetime.datetime.now().strftime("session-%Y%m%d-%H%M%S")
        number = 1
        while path.exists():  # another recording started within the same second
            number += 1
            path = first.with_name(f"{first.name}_{number}")
        mask: Roi | None = None
        identifiers: list[str] = []
        if self.info.kind == "dicom":  # no file name, identifier or burned-in text of a DICOM
            from usguide.record.deidentify import dicom_identifiers_present
            from usguide.sources.roi_detect import region_to_mask

            if not self.options.keep_burned_in:
                mask = region_to_mask(self.calibration.roi, list(self._recent))
            identifiers = dicom_identifiers_present(self.spec) if self.spec else []
        writer = SessionWriter(
            path, self.info, self.calibration, procedure, mask=mask, identifiers=identifiers
        ).start()
        self._writer, self.recording_path = writer, path
        self.pipeline.set_recorder(writer)
        return path

    def stop_recording(self) -> Path | None:
        """Stops the recording; returns the finished session folder (None when none was running)."""
        writer, path = self._writer, self.recording_path
        if writer is None:
            return None
        self.pipeline.set_recorder(None)
        writer.close()
        self._writer, self.recording_path = None, None
        return path

    @property
    def skipped_frames(self) -> int:
        """Frames of the open recorded source that could not be decoded (counted, skipped)."""
        return 0 if self._calibrated is None else self._calibrated.skipped

    def remember(self) -> None:
        """Saves the open source's region, scale, budget and display mode (with a settings file)."""
        save_source(self.options, self.spec, self._calibrated, self.budget_ms)

    def close(self) -> None:
        """Stops recording and the pipeline; saves the source's settings; releases the detector."""
        self.stop_recording()
        self.remember()
        if self.pipeline is not None:
            self.pipeline.stop(2.0)
            self.pipeline = None
        if self._detector is not None:
            self._detector.close()
            self._detector = None
