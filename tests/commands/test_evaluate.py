"""`usguide evaluate` end to end: the classical detector on a labelled clip (--json, --plot), hand
labels of a clip kept elsewhere (scored, or skipped when the clip is absent), sets side by side,
pictures of misses and hits, the suite's options and reuse; no clips is an error."""

import json
import math

import cv2
import numpy as np
import pytest

from usguide.cli import main
from usguide.detect import suite as suite_module

ENTRY, TIP = (20, 15), (120, 75)


def write_video(path, frames=8, visible_from=2):
    """A 160x120 FFV1 clip: a bright line ENTRY -> TIP from frame ``visible_from``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), 30.0, (160, 120))
    rng = np.random.default_rng(0)
    for index in range(frames):
        image = cv2.GaussianBlur(rng.rayleigh(25, (120, 160)).astype(np.float32), (0, 0), 1.0)
        if index >= visible_from:
            cv2.line(image, ENTRY, TIP, 190, 3)
        writer.write(cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR))
    writer.release()


def frame_label(index, visible):
    return {
        "frame": index,
        "visible": visible,
        "needle_present": visible,
        "tip": list(TIP) if visible else None,
        "entry": list(ENTRY) if visible else None,
        "angle_deg": round(math.degrees(math.atan2(60, 100)), 2) if visible else None,
        "contrast": 4.0 if visible else None,
    }


def write_truth(folder, labels, **header):
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "format": "usguide-sim-truth",
        "version": 1,
        "fps": 30.0,
        "width": 160,
        "height": 120,
        "mm_per_px": 0.2,
        "roi": [0, 0, 160, 120],
        "frames": labels,
        **header,
    }
    (folder / "truth.json").write_text(json.dumps(data))


def test_hand_labels_of_a_clip_elsewhere_are_scored_on_labelled_frames_only(tmp_path, capsys):
    write_video(tmp_path / "shared" / "clip.mkv")
    labels = [frame_label(1, False), frame_label(6, True), frame_label(7, True)]
    write_truth(tmp_path / "labels" / "clip", labels, source="../../shared/clip.mkv")
    report = tmp_path / "report.json"
    args = ["evaluate", str(tmp_path / "labels"), "--detector", "classical", "--json", str(report)]
    assert main(args) == 0
    out = capsys.readouterr()
    assert "frames decoded" not in out.err  # sparse labels are not a length mismatch
    overall = json.loads(report.read_text())["overall"]["classical"]
    assert overall["frames"] == 3 and overall["visible_frames"] == 2
    assert overall["localised_recall"] == 1.0 and overall["needle_free_frames"] == 1
    assert overall["tip_error_px"]["n"] == 2 and overall["tip_error_mm"]["n"] == 2
    assert overall["tip_error_mm"]["median"] == pytest.approx(
        overall["tip_error_px"]["median"] * 0.2, abs=0.01
    )
    assert overall["strata"]["obvious needle"]["visible_frames"] == 2
    assert "loc-hit" in out.out and "obvious-needle misses 0" in out.out


def test_a_case_whose_source_is_absent_is_skipped_with_a_note(tmp_path, capsys):
    write_truth(tmp_path / "labels" / "gone", [frame_label(0, True)], source="../../nowhere.mp4")
    write_video(tmp_path / "labels" / "here" / "video.mkv")
    write_truth(tmp_path / "labels" / "here", [frame_label(i, i >= 2) for i in range(8)])
    report = tmp_path / "report.json"
    args = ["evaluate", str(tmp_path / "labels"), "--detector", "classical", "--json", str(report)]
    assert main(args) == 0
    out = capsys.readouterr()
    notes = [line for line in out.err.splitlines() if "skipping" in line]
    assert len(notes) == 1 and "gone" in notes[0] and "nowhere.mp4" in notes[0]
    data = json.loads(report.read_text())
    assert [clip["clip"] for clip in data["clips"]] == ["here"] and len(data["skipped"]) == 1
    # Only the absent clip: nothing to score, still no failure.
    assert main(["evaluate", str(tmp_path / "labels" / "gone"), "--detector", "classical"]) == 0
    assert "nothing to score" in capsys.readouterr().out


def test_sets_side_by_side_and_pictures(tmp_path, capsys):
    for name, group in (("a", "heldout"), ("b", "generalisation")):
        write_video(tmp_path / "cases" / name / "video.mkv")
        labels = [frame_label(i, i >= 2) for i in range(8)]
        write_truth(tmp_path / "cases" / name, labels, set=group, geometry="linear")
    report, pictures = tmp_path / "report.json", tmp_path / "pictures"
    args = ["evaluate", str(tmp_path / "cases"), "--detector", "classical"]
    assert main([*args, "--json", str(report), "--failures", str(pictures)]) == 0
    out = capsys.readouterr().out
    assert "heldout (classical)" in out and "generalisation (classical)" in out
    assert "geometry linear" in out
    written_report = json.loads(report.read_text())
    sets = written_report["sets"]
    assert set(sets) == {"heldout", "generalisation"}
    assert sets["heldout"]["classical"]["frames"] == 8
    # Each clip names its set, so two reports can be compared set by set (--compare) ...
    assert {clip["clip"]: clip["set"] for clip in written_report["clips"]} == {
        "a": "heldout",
        "b": "generalisation",
    }
    # ... and each set's figures come with a clip-bootstrap interval (one clip: no spread).
    hits = written_report["intervals_95"]["heldout"]["classical"]["localised_hits"]
    assert hits["clips"] == 1 and hits["low"] == hits["value"] == hits["high"]
    assert "95 % intervals" in out
    assert main(["evaluate", "--compare", str(report), str(report)]) == 0
    assert "heldout (classical)" in capsys.readouterr().out
    # The tracker confirms on the third visible frame: misses before, hits after, per stratum.
    written = sorted(p.relative_to(pictures).as_posix() for p in pictures.rglob("*.png"))
    assert "classical/heldout/all_frames/miss_a_f00002.png" in written
    assert any(p.startswith("classical/generalisation/geometry_linear/hit_b_") for p in written)
    image = cv2.imread(str(pictures / written[0]))
    assert image is not None and image.shape[0] > 100
    # The region as it is on the left, the drawing on the right: the label never hides the needle.
    below_caption = image[22:].astype(int)
    green = (below_caption[..., 1] - below_caption[..., 2]) > 80
    half = below_caption.shape[1] // 2
    assert not green[:, :half].any() and green[:, half:].any()
    assert f"{len(written)} pictures" in out


def test_suite_options(tmp_path, capsys):
    assert main(["evaluate", "--detector", "classical"]) == 2
    assert "CASES_DIR" in capsys.readouterr().err
    assert main(["evaluate", "--suite", "heldout", "--detector", "classical"]) == 2
    assert "--out-cases" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path), "--suite", "heldout", "--out-cases", "x"]) == 2
    assert main(["evaluate", str(tmp_path), "--out-cases", str(tmp_path)]) == 2
    with pytest.raises(SystemExit) as refused:  # the option's type refuses it (argparse: exit 2)
        main(["evaluate", "--suite", "heldout", "--out-cases", "x", "--suite-clips", "0"])
    assert refused.value.code == 2
    assert "--suite-clips" in capsys.readouterr().err


def test_suite_renders_tags_and_reuses_its_clips(tmp_path, capsys, monkeypatch):
    tiny = [
        suite_module.SuiteClip("heldout_0000", 500000, "linear", 10, suite_module.HELDOUT_TAGS),
        suite_module.SuiteClip(
            "gen_convex_a00-10_0",
            800100,
            "convex",
            10,
            {"set": "generalisation", "geometry": "convex", "style": "heldout"},
            angle_range=(0.0, 10.0),
            needle=True,
        ),
    ]
    monkeypatch.setattr(suite_module, "suite_clips", lambda name, clips, frames: tiny)
    out_cases = tmp_path / "suite"
    args = ["evaluate", "--suite", "generalisation", "--out-cases", str(out_cases)]
    assert main([*args, "--detector", "classical"]) == 0
    out = capsys.readouterr()
    assert out.err.count("rendered") == 2
    assert "heldout (classical)" in out.out and "generalisation (classical)" in out.out
    truth = json.loads((out_cases / "gen_convex_a00-10_0" / "truth.json").read_text())
    assert truth["set"] == "generalisation" and truth["seed"] == 800100
    assert all(0 <= f["angle_deg"] < 12 for f in truth["frames"] if f["angle_deg"] is not None)
    stamp = (out_cases / "heldout_0000" / "video.mkv").stat().st_mtime_ns
    assert main([*args, "--detector", "classical"]) == 0
    assert "rendered" not in capsys.readouterr().err  # reused
    assert (out_cases / "heldout_0000" / "video.mkv").stat().st_mtime_ns == stamp


def write_clip(folder, frames=8, visible_from=2):
    """A 160x120 clip, bright line entry (20,15) -> tip (120,75) from frame ``visible_from``."""
    folder.mkdir(parents=True)
    writer = cv2.VideoWriter(
        str(folder / "video.mkv"), cv2.VideoWriter_fourcc(*"FFV1"), 30.0, (160, 120)
    )
    rng = np.random.default_rng(0)
    labels = []
    for index in range(frames):
        image = cv2.GaussianBlur(rng.rayleigh(25, (120, 160)).astype(np.float32), (0, 0), 1.0)
        visible = index >= visible_from
        if visible:
            cv2.line(image, (20, 15), (120, 75), 190, 3)
        writer.write(cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR))
        labels.append(
            {
                "frame": index,
                "visible": visible,
                "needle_present": visible,
                "tip": [120, 75] if visible else None,
                "entry": [20, 15] if visible else None,
                "angle_deg": round(math.degrees(math.atan2(60, 100)), 2) if visible else None,
            }
        )
    writer.release()
    truth = {
        "format": "usguide-sim-truth",
        "version": 1,
        "seed": 0,
        "variant": "linear",
        "probe": "linear",
        "fps": 30.0,
        "width": 160,
        "height": 120,
        "mm_per_px": 0.2,
        "roi": [0, 0, 160, 120],
        "depth_mm": 24.0,
        "frames": labels,
    }
    (folder / "truth.json").write_text(json.dumps(truth))


def test_evaluate_cli_classical(tmp_path, capsys):
    write_clip(tmp_path / "cases" / "clip_0000")
    report, plot = tmp_path / "report.json", tmp_path / "report.png"
    code = main(
        [
            "evaluate",
            str(tmp_path / "cases"),
            "--detector",
            "classical",
            "--json",
            str(report),
            "--plot",
            str(plot),
        ]
    )
    assert code == 0
    table = capsys.readouterr().out
    assert "clip_0000" in table and "overall" in table and "classical" in table
    data = json.loads(report.read_text())
    overall = data["overall"]["classical"]
    assert overall["frames"] == 8 and overall["visible_frames"] == 6
    assert overall["needle_free_frames"] == 2
    # Tracking confirms the needle on the second visible frame: 5 of 6 visible frames found.
    assert overall["recall"] == pytest.approx(5 / 6, abs=1e-3)
    assert overall["precision"] == pytest.approx(1.0)
    assert overall["false_positive_rate"] == 0.0
    assert overall["tip_error_mm"]["median"] < 1.5
    assert overall["swaps"] == 0
    image = cv2.imread(str(plot))
    assert image is not None and image.shape[1] > 600


def test_evaluate_without_clips_is_an_error(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path), "--detector", "classical"]) == 2
    assert "no labelled clips" in capsys.readouterr().err
