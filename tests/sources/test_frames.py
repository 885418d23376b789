"""The shared frame loop: every frame in order, the end rule, no spinning on a live source."""

from __future__ import annotations

import itertools

import numpy as np

from usguide.sources.base import FrameSource
from usguide.sources.frames import iter_frames
from usguide.types import Frame, SourceInfo, SourceState


class Scripted(FrameSource):
    """Reads follow a script: an int is a frame with that index, None is "no frame yet"; the state
    after the script is ``final``."""

    def __init__(self, script, live: bool, final: SourceState = SourceState.ENDED) -> None:
        self.script, self.live, self.final = list(script), live, final
        self.reads = 0

    @property
    def info(self) -> SourceInfo:
        return SourceInfo("scripted", "test", 4, 4, 30.0, self.live)

    @property
    def state(self) -> SourceState:
        return SourceState.CONNECTED if self.reads < len(self.script) else self.final

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def read(self) -> Frame | None:
        self.reads += 1
        step = self.script[self.reads - 1] if self.reads <= len(self.script) else None
        if step is None:
            return None
        return Frame(np.zeros((4, 4), np.uint8), step, 0, 0.0)


def indices(frames) -> list[int]:
    return [frame.index for frame in frames]


def test_recorded_source_ends_with_its_last_frame():
    source = Scripted([0, 1, 2], live=False)
    assert indices(iter_frames(source)) == [0, 1, 2]
    assert source.reads == 4


def test_live_source_waits_for_frames_then_ends_when_ended_or_lost():
    source = Scripted([None, 0, None, None, 1], live=True)
    assert indices(iter_frames(source, idle_s=0.0)) == [0, 1]
    lost = Scripted([0, None], live=True, final=SourceState.LOST)
    assert indices(iter_frames(lost, idle_s=0.0)) == [0]


def test_waiting_for_a_lost_source_is_bounded_by_reads_or_a_stop():
    lost = Scripted([0], live=True, final=SourceState.LOST)
    assert indices(iter_frames(lost, end_on_lost=False, idle_s=0.0, max_reads=10)) == [0]
    assert lost.reads == 10
    stopped = Scripted([0, 1, 2], live=True)
    calls = itertools.count()
    frames = iter_frames(stopped, should_stop=lambda: next(calls) >= 2)
    assert indices(frames) == [0, 1]
