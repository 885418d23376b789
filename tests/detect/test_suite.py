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


def test_painted_set_in_the_generalisation_suite():
    clips = suite_clips("generalisation", 2, 30)
    painted = [clip for clip in clips if clip.tags["set"] == "painted"]
    assert all(clip.painted for clip in painted)
    needles = [clip for clip in painted if clip.needle is not False]
    assert [clip.seed for clip in needles] == list(range(900000, 900024))
    free = [clip.seed for clip in painted if clip.needle is False]
    assert free == list(range(909000, 909008))
    assert not any(clip.painted for clip in suite_clips("heldout", 2, 30))


def test_painted_set_skipped_without_real_frames(tmp_path, monkeypatch):
    from usguide.detect import suite as suite_module
    from usguide.simulate import real_frames

    monkeypatch.setattr(real_frames, "_cached_frames", lambda count: ())
    tiny = [
        suite_module.SuiteClip(
            "painted_000", 900000, "painted", 10, {"set": "painted"}, painted=True
        )
    ]
    monkeypatch.setattr(suite_module, "suite_clips", lambda name, clips, frames: tiny)
    notes = []
    assert suite_module.render_suite("generalisation", tmp_path, 1, 10, notes.append) == []
    assert len(notes) == 1 and "pydicom-data" in notes[0]


def test_selection_suite_shares_no_seed_with_the_reported_suites():
    reported = suite_clips("generalisation", 9, 30)
    selection = suite_clips("selection", 9, 30)
    assert not {clip.seed for clip in reported} & {clip.seed for clip in selection}
    assert not {clip.folder for clip in reported} & {clip.folder for clip in selection}
    assert len({clip.seed for clip in selection}) == len(selection)
    one = suite_clips("selection", 1, 12)
    sets = [clip.tags["set"] for clip in one]
    assert "heldout" not in sets  # the ordinary held-out set stays for reporting only
    assert sets.count("painted") == 12 + 4 and sets.count("generalisation") == len(one) - 16
    assert one[0].folder == "sel_gen_linear_in_vivo_a00-10_0" and one[0].seed == 850000
    assert one[-1].folder == "sel_painted_free_003" and one[-1].seed == 959003
