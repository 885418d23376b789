"""truth.json: the clip's strata in the header and in every frame, readable by the evaluation."""

from __future__ import annotations

import json
from pathlib import Path

from usguide.detect.truth import load_truth
from usguide.simulate import SimConfig
from usguide.simulate.export import TRUTH_VERSION, write_clip


def test_truth_json_carries_the_strata(tmp_path: Path) -> None:
    config = SimConfig(
        seed=4,
        variant="convex",
        n_frames=3,
        width=160,
        height=120,
        gauge=16,
        medium="phantom",
        needle_style="double_wall",
        angle_range=(12.0, 12.0),
        fan_deg=70.0,
    )
    assert write_clip(tmp_path / "clip", config) == 3
    data = json.loads((tmp_path / "clip" / "truth.json").read_text())
    assert data["version"] == TRUTH_VERSION == 1  # new fields only: old readers ignore them
    assert data["medium"] == "phantom" and data["geometry"] == "convex" and data["gauge"] == 16
    assert data["needle_style"] == "double_wall" and data["angle_deg"] == 12.0
    assert data["style"] == "train" and data["heldout"] == []
    assert abs(data["fan_deg"] - 70.0) < 0.5
    for item in data["frames"]:
        assert item["gauge"] == 16 and item["medium"] == "phantom"
        assert item["geometry"] == "convex" and item["needle_style"] == "double_wall"
    clip = load_truth(tmp_path / "clip" / "truth.json")
    assert clip.tags["medium"] == "phantom" and clip.tags["gauge"] == "16"
    assert len(clip.frames) == 3


def test_needle_free_clip_has_no_needle_strata(tmp_path: Path) -> None:
    config = SimConfig(seed=5, variant="no_needle", n_frames=1, width=160, height=120)
    write_clip(tmp_path / "clip", config)
    data = json.loads((tmp_path / "clip" / "truth.json").read_text())
    assert data["gauge"] is None and data["needle_style"] is None and data["angle_deg"] is None
    assert data["frames"][0]["gauge"] is None and data["frames"][0]["medium"] in (
        "in_vivo",
        "ex_vivo",
        "phantom",
        "water",
    )
