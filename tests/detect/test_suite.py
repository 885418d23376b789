"""The evaluation suites' clips: fixed seeds, names and strata (nothing rendered here)."""

import pytest

from usguide.detect.suite import suite_clips
from usguide.errors import UsguideError


def test_suite_clips_are_fixed():
    clips = suite_clips("generalisation", 1, 30)
    held = [clip for clip in clips if clip.tags["set"] == "heldout"]
    gen = [clip for clip in clips if clip.tags["set"] == "generalisation"]
    assert [clip.seed for clip in held] == list(range(500000, 500020))
    assert len({clip.seed for clip in clips}) == len(clips)
    with_needle = [clip for clip in gen if clip.needle]
    angles = {clip.angle_range for clip in with_needle}
    assert angles == {(0.0, 10.0), (10.0, 30.0), (30.0, 50.0), (50.0, 80.0)}
    assert {clip.variant for clip in gen} == {"linear", "convex", "screen"}
    media = {clip.tags["medium"] for clip in gen}
    assert len(with_needle) == 4 * 3 * len(media)
    assert len(gen) - len(with_needle) == 3 * len(media)  # one needle-free clip per cell
    first = with_needle[0]
    assert first.seed == 800000 and first.folder == "gen_linear_in_vivo_a00-10_0"
    assert suite_clips("heldout", 2, 60)[-1].seed == 500039
    with pytest.raises(UsguideError):
        suite_clips("nope", 1, 30)
    with pytest.raises(UsguideError):
        suite_clips("heldout", 0, 30)
