"""SimulatorSource: the simulator (``usguide.simulate``) adapted as a live-like FrameSource.

Paced at fps, endless when looping. The simulator itself is a library; this is its only FrameSource.
"""

from __future__ import annotations

import threading
import time

from usguide.defaults import FALLBACK_FPS
from usguide.errors import UsguideError
from usguide.simulate.clip import ClipRenderer
from usguide.simulate.config import VARIANTS, GroundTruth, SimConfig
from usguide.sources.base import FrameSource
from usguide.sources.pacing import Pacer
from usguide.types import Calibration, Frame, SourceInfo, SourceState

CLIP_FRAMES = 300  # frames per simulated clip; looping moves on to the next seed


class SimulatorSource(FrameSource):
    """Streams simulated frames like a device; ``last_truth`` is the latest frame's ground truth.

    With ``loop`` the stream never ends: after each clip the next seed's clip starts. Without it the
    source ends after one clip. With ``realtime`` ``read()`` sleeps until the next frame is due.
    """

    def __init__(
        self,
        variant: str = "random",
        seed: int = 0,
        width: int = 640,
        height: int = 480,
        fps: float = FALLBACK_FPS,
        realtime: bool = True,
        loop: bool = True,
    ) -> None:
        if variant not in VARIANTS:
            raise UsguideError(
                f"unknown simulator variant {variant!r}: use one of {', '.join(VARIANTS)}"
            )
        self.variant, self.seed, self.fps = variant, seed, fps
        self.realtime, self.loop = realtime, loop
        self._size = (width, height)
        self._renderer: ClipRenderer | None = None
        self._clip = 0
        self._in_clip = 0
        self._index = 0
        # Never catches up a backlog: a frame more than an interval late restarts the clock (a
        # live device drops frames, it does not burst).
        self._pacer = Pacer(realtime, resync_late_ms=1000.0 / fps)
        self._state = SourceState.ENDED
        self._info: SourceInfo | None = None
        self.last_truth: GroundTruth | None = None
        self._next: tuple[int, threading.Thread, list[ClipRenderer]] | None = None

    def _config(self, clip: int) -> SimConfig:
        return SimConfig(
            seed=self.seed + clip,
            variant=self.variant,
            width=self._size[0],
            height=self._size[1],
            fps=self.fps,
            n_frames=CLIP_FRAMES,
        )

    def _start_clip(self) -> None:
        """Switches to clip ``self._clip``; the next clip is prepared on a thread (no stall)."""
        if self._next is not None and self._next[0] == self._clip:
            self._next[1].join()
            self._renderer = self._next[2][0]
        else:
            self._renderer = ClipRenderer(self._config(self._clip))
        self._in_clip = 0
        self._next = None
        if self.loop:
            upcoming = self._clip + 1
            box: list[ClipRenderer] = []
            worker = threading.Thread(
                target=lambda: box.append(ClipRenderer(self._config(upcoming))),
                name="usguide-sim-prepare",
                daemon=True,
            )
            worker.start()
            self._next = (upcoming, worker, box)

    @property
    def info(self) -> SourceInfo:
        if self._info is None:
            raise UsguideError("the simulator source is not open: call open() first")
        return self._info

    @property
    def state(self) -> SourceState:
        return self._state

    def open(self) -> None:
        self._clip, self._index = 0, 0
        self._start_clip()
        first = self._renderer.frame(0).image  # type: ignore[union-attr]
        self._info = SourceInfo(
            name=f"simulator:{self.variant}",
            kind="simulator",
            width=int(first.shape[1]),
            height=int(first.shape[0]),
            fps=float(self.fps),
            live=True,
            frame_count=None,
        )
        self._pacer.reset()
        self._state = SourceState.CONNECTED

    def read(self) -> Frame | None:
        if self._state != SourceState.CONNECTED or self._renderer is None:
            return None
        if self._in_clip >= CLIP_FRAMES:
            if not self.loop:
                self._state = SourceState.ENDED
                return None
            self._clip += 1
            self._start_clip()
        self._pacer.realtime = self.realtime
        self._pacer.wait(self._index * 1000.0 / self.fps)
        sim = self._renderer.frame(self._in_clip)
        self.last_truth = sim.truth
        frame = Frame(
            image=sim.image,
            index=self._index,
            t_capture_ns=time.perf_counter_ns(),
            source_ms=self._index * 1000.0 / self.fps,
            calibration=Calibration(mm_per_px=sim.truth.mm_per_px, roi=sim.truth.roi),
        )
        self._index += 1
        self._in_clip += 1
        return frame

    def close(self) -> None:
        self._renderer = None
        self._state = SourceState.ENDED
