"""A session without recorded results gets its track recomputed through the analyzer."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.review.test_metrics import _result, _write_session
from usguide.review.recompute import session_track


def test_recomputes_when_nothing_was_recorded(tmp_path: Path) -> None:
    folder = _write_session(tmp_path / "s", [None] * 12)
    seen = []
    track = session_track(folder, detector="classical", progress=lambda i, n: seen.append((i, n)))
    assert len(track) == 12 and seen[-1] == (12, 12)
    assert track.t_s[1] == np.float64(0.0333)  # the input's own time (not live): 33.3 ms
    assert np.isfinite(track.latency_ms).all()  # every frame went through the analyzer


def test_recorded_results_are_used_unless_asked(tmp_path: Path) -> None:
    folder = _write_session(tmp_path / "s", [_result([10.0, 25.0])] * 6)
    assert session_track(folder).measured.all()
    recomputed = session_track(folder, recompute=True, detector="classical")
    assert not recomputed.measured.all()  # flat grey frames: the detector finds no needle
