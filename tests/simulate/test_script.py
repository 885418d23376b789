"""The scripted insertion: keys eased, redirections read off the keys, truth written out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from usguide.errors import UsguideError
from usguide.simulate.config import SimConfig
from usguide.simulate.export import write_clip
from usguide.simulate.script import InsertionScript

SCRIPT = InsertionScript(
    keys=((0, -12), (0.5, -4), (0.7, -4), (0.9, -7), (1.1, -7), (1.5, 0), (1.7, 0)),
    out_of_plane=((0.75, 0.95),),
)


def test_redirections_read_off_the_keys() -> None:
    assert SCRIPT.redirections() == [(0.7, 1.1)]  # withdrawal began, re-advance began
    # A 1.5 mm withdrawal is no redirection; a re-advance under 1 mm is none yet.
    small = InsertionScript(keys=((0, 0), (1, 10), (2, 8.5), (3, 12)))
    assert small.redirections() == []
    pending = InsertionScript(keys=((0, 0), (1, 10), (2, 7), (3, 7.8), (4, 5), (5, 9)))
    assert pending.redirections() == [(1, 4)]
    two = InsertionScript(keys=((0, 0), (1, 10), (2, 7), (3, 12), (4, 12), (5, 9), (6, 14)))
    assert len(two.redirections()) == 2


def test_lengths_turns_and_plane() -> None:
    t = np.array([0.0, 0.25, 0.5, 1.7, 5.0])
    lengths = SCRIPT.lengths(t, s_goal=30.0, s_edge=5.0)
    assert lengths[0] == 18.0 and lengths[2] == 26.0 and lengths[-1] == 30.0
    assert 18.0 < lengths[1] < 26.0  # eased between keys, held after the last
    edge = InsertionScript(keys=((0, 0), (1, 10)), origin="edge")
    assert edge.lengths(np.array([1.0]), 30.0, 5.0)[0] == 15.0
    assert SCRIPT.in_plane(np.array([0.7, 0.8, 0.95])).tolist() == [True, False, True]
    turned = InsertionScript(keys=((0, 0), (1, 1)), turns=((0, 0), (1, 5)))
    assert np.degrees(turned.turn_rad(np.array([1.0])))[0] == pytest.approx(5.0)


@pytest.mark.parametrize(
    "script",
    [
        InsertionScript(keys=((0, 0),)),
        InsertionScript(keys=((1, 0), (0.5, 1))),
        InsertionScript(keys=((0, 0), (1, 1)), origin="skin"),
        InsertionScript(keys=((0, 0), (1, 1)), out_of_plane=((2, 1),)),
    ],
)
def test_bad_scripts_are_refused(script: InsertionScript) -> None:
    with pytest.raises(UsguideError):
        SimConfig(seed=0, script=script).validate()


def test_truth_written_with_the_clip(tmp_path: Path) -> None:
    config = SimConfig(
        seed=4, variant="linear", width=96, height=72, fps=10.0, n_frames=18, depth_mm=30.0,
        needle=True, angle_range=(25, 25), screen=False, artefacts=False, motion=0.0,
        needle_gain=10.0, target=(0.0, 18.0), elevation="aligned", entry="edge",
        medium="phantom", needle_style="plain", margins=False, script=SCRIPT,
    )  # fmt: skip
    assert write_clip(tmp_path, config) == 18
    data = json.loads((tmp_path / "truth.json").read_text())
    truth = data["script_truth"]
    assert truth["redirections"] == 1 and truth["redirect_at_s"] == [1.1]
    frames = data["frames"]
    hidden = [f["frame"] for f in frames if not f["visible"]]
    assert 8 in hidden and 9 in hidden  # out of plane from 0.75 to 0.95 s
    assert truth["time_to_target_s"] is not None and truth["path_mm"] > 12.0
    # Still: the tip ends on the target.
    last = frames[-1]["tip"]
    assert np.hypot(last[0] - truth["target_px"][0], last[1] - truth["target_px"][1]) < 2.0
