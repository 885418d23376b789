"""Tests for the freshness policy: prefer the next frame to one that has waited long."""

from __future__ import annotations

import pytest

from usguide.pipeline.freshness import FreshnessPolicy

MS = 1_000_000


def _fed(interval_ms: float, frames: int = 20, fraction: float | None = 0.5) -> FreshnessPolicy:
    policy = FreshnessPolicy(fraction)
    for index in range(frames):
        policy.note_capture(int(index * interval_ms * MS))
    return policy


def test_interval_is_learned_from_capture_times() -> None:
    assert _fed(8.0).interval_ns == pytest.approx(8.0 * MS)


def test_fresh_frame_is_processed_at_once() -> None:
    policy = _fed(10.0)
    assert policy.wait_s(t_capture_ns=100 * MS, now_ns=103 * MS) is None


def test_old_frame_waits_until_the_next_is_due() -> None:
    policy = _fed(10.0)
    assert policy.wait_s(t_capture_ns=100 * MS, now_ns=107 * MS) == pytest.approx(0.003)


def test_never_waits_for_a_late_frame_or_without_an_interval() -> None:
    policy = _fed(10.0)
    assert policy.wait_s(t_capture_ns=100 * MS, now_ns=112 * MS) is None  # next one is overdue
    assert FreshnessPolicy(0.5).wait_s(0, 7 * MS) is None  # interval not known yet


def test_off_and_reset() -> None:
    assert _fed(10.0, fraction=0).wait_s(100 * MS, 107 * MS) is None
    policy = _fed(10.0)
    policy.reset()
    assert policy.interval_ns is None


def test_interval_follows_a_rate_change_smoothly() -> None:
    policy = _fed(10.0)
    start = 19 * 10 * MS
    for index in range(1, 60):
        policy.note_capture(start + index * 5 * MS)
    assert policy.interval_ns == pytest.approx(5.0 * MS, rel=0.01)
