"""A session's frame times: capture times for a live source, the input's own for a recorded one."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from usguide.review.track import session_times_ns


def _reader(live: bool | None, source_ms) -> SimpleNamespace:
    source = {} if live is None else {"live": live}
    capture = 10**12 + np.arange(4) * 130_000_000  # recording ran slower than the file's 60 fps
    return SimpleNamespace(meta={"source": source}, t_capture_ns=capture,
                           source_ms=np.asarray(source_ms, float))  # fmt: skip


def test_recorded_file_keeps_its_own_time() -> None:
    times = session_times_ns(_reader(False, [0.0, 16.7, 33.3, 50.0]))
    assert (times / 1e6).tolist() == [0.0, 16.7, 33.3, 50.0]


def test_live_or_unusable_source_times_fall_back_to_capture() -> None:
    capture = 10**12 + np.arange(4) * 130_000_000
    for reader in (_reader(True, [0, 1, 2, 3]), _reader(None, [0, 1, 2, 3]),
                   _reader(False, [0, 1, 1, 3]), _reader(False, [0, np.nan, 2, 3])):  # fmt: skip
        assert session_times_ns(reader).tolist() == capture.tolist()
