"""Training vs held-out styles: held-out clips draw only outside the training ranges; suites are
stratified from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from usguide.cli import main
from usguide.simulate import SimConfig, ranges
from usguide.simulate.clip import ClipRenderer
from usguide.simulate.config import resolve


def _resolved(style: str, count: int = 200, **extra: object) -> list:
    return [
        resolve(SimConfig(seed=seed, style=style, **extra), np.random.default_rng(seed))  # type: ignore[arg-type]
        for seed in range(count)
    ]


def _inside(value: float, spans: ranges.Spans) -> bool:
    return any(lo <= value <= hi for lo, hi in spans)


def test_training_never_draws_held_out_settings() -> None:
    for res in _resolved("train"):
        assert res.heldout == () and res.needle_style != "beaded" and res.texture == "standard"
        assert _inside(res.texture_scale, ranges.TEXTURE_SCALE["train"])
        if res.probe == "convex":
            assert _inside(res.fan_deg, ranges.FAN_DEG["train"])
            assert _inside(res.radius_mm, ranges.RADIUS_MM["train"])
        if res.aspect is not None:
            assert _inside(res.aspect, ranges.LINEAR_ASPECT["train"])
        if res.screen:
            assert res.screen_size in ranges.SCREEN_SIZES["train"]


def test_every_held_out_clip_differs_from_training() -> None:
    seen = set()
    for res in _resolved("heldout"):
        assert res.heldout, res
        seen.update(res.heldout)
        if "fan" in res.heldout:
            assert not _inside(res.fan_deg, ranges.FAN_DEG["train"])
            assert not _inside(res.radius_mm, ranges.RADIUS_MM["train"])
        if "aspect" in res.heldout:
            assert not _inside(res.aspect, ranges.LINEAR_ASPECT["train"])
        if "texture" in res.heldout:
            assert res.texture != "standard" or not _inside(
                res.texture_scale, ranges.TEXTURE_SCALE["train"]
            )
        if "screen" in res.heldout:
            assert res.screen_size in ranges.SCREEN_SIZES["heldout"]
        if "needle_style" in res.heldout:
            assert res.needle_style == "beaded"
    assert seen == {"needle_style", "texture", "fan", "aspect", "screen"}


def test_readme_table_gives_the_ranges_in_ranges_py() -> None:
    readme = (Path(ranges.__file__).parent / "README.md").read_text(encoding="utf-8")

    def text(value: float) -> str:
        return f"{value:g}"

    for spans in (
        ranges.FAN_DEG["train"] + ranges.FAN_DEG["heldout"],
        ranges.RADIUS_MM["train"] + ranges.RADIUS_MM["heldout"],
        ranges.LINEAR_ASPECT["train"] + ranges.LINEAR_ASPECT["heldout"],
        ranges.TEXTURE_SCALE["train"] + ranges.TEXTURE_SCALE["heldout"],
    ):
        for lo, hi in spans:
            forms = {f"{text(lo)}–{text(hi)}", f"{lo:.1f}–{hi:.1f}"}
            assert any(form in readme for form in forms), (lo, hi)


def test_held_out_screen_is_another_layout() -> None:
    config = dict(variant="screen", n_frames=1, width=1024, height=768, medium="in_vivo")
    train = ClipRenderer(SimConfig(seed=2, **config))  # type: ignore[arg-type]
    held = ClipRenderer(SimConfig(seed=2, style="heldout", **config))  # type: ignore[arg-type]
    frame = held.frame(0)
    width = frame.image.shape[1]
    assert (frame.image.shape[1], frame.image.shape[0]) in ranges.SCREEN_SIZES["heldout"]
    assert held.roi.x + held.roi.w > 0.9 * width  # the image on the right
    assert train.roi.x + train.roi.w < 0.9 * train.frame(0).image.shape[1]
    region = held.roi.crop(frame.image)
    assert np.array_equal(region[..., 0], region[..., 2])  # grey inside, colour around it


def test_cli_renders_a_stratified_held_out_suite(tmp_path: Path) -> None:
    out = tmp_path / "suite"
    argv = ["simulate", "--out", str(out), "--clips", "2", "--frames", "2", "--size", "160x120"]
    strata = ["--style", "heldout", "--angle-range", "3,8", "--medium", "phantom"]
    strata += ["--gauge", "16", "--probe", "convex", "--needle-style", "double_wall"]
    assert main(argv + strata) == 0
    for clip in ("clip_0000", "clip_0001"):
        truth = json.loads((out / clip / "truth.json").read_text())
        assert truth["style"] == "heldout" and "fan" in truth["heldout"]
        assert truth["medium"] == "phantom" and truth["gauge"] == 16
        assert truth["geometry"] == "convex" and truth["needle_style"] == "double_wall"
        assert 3.0 <= truth["angle_deg"] <= 8.0
        assert not 30.0 <= truth["fan_deg"] <= 100.0


@pytest.mark.parametrize(
    "option", [["--angle-range", "ten"], ["--angle-range", "50,10"], ["--gauge", "30"]]
)
def test_cli_rejects_bad_strata(tmp_path: Path, option: list[str], capsys) -> None:
    argv = ["simulate", "--out", str(tmp_path / "x"), "--frames", "1", "--size", "160x120"]
    try:  # a value the option's type refuses ends in argparse (exit 2), others in the command
        code = main(argv + option)
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert "range" in err or "must be in [14, 27]" in err
