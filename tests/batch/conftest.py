"""Tiny simulated clips for the batch tests, and their single-process ``usguide analyze`` output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from usguide.cli import main
from usguide.simulate.export import write_clips

CLIPS, FRAMES, SIZE, SEED = 3, 40, (320, 240), 10  # seeds 10-12 show a needle for most frames


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def needles(lines: list[dict]) -> list[tuple[int, dict | None]]:
    """What must match ``usguide analyze``: frame numbers and needles (not the timings)."""
    return [(line["frame"], line["needle"]) for line in lines]


@pytest.fixture(scope="session")
def archive(tmp_path_factory) -> Path:
    """``archive/clip_000N/video.mkv`` (+ truth.json): three 40-frame 320x240 linear clips."""
    root = tmp_path_factory.mktemp("archive")
    write_clips(root, CLIPS, SEED, "linear", FRAMES, SIZE)
    return root


@pytest.fixture(scope="session")
def reference(archive, tmp_path_factory) -> dict[str, list[dict]]:
    """``usguide analyze`` of each clip, keyed by the batch's input key."""
    out_dir = tmp_path_factory.mktemp("reference")
    out = {}
    for video in sorted(archive.glob("*/video.mkv")):
        target = out_dir / f"{video.parent.name}.jsonl"
        args = ["analyze", str(video), "--out", str(target), "--threads", "1", "--quiet"]
        assert main(args) == 0
        out[video.relative_to(archive).as_posix()] = read_jsonl(target)
    assert any(line["needle"] for lines in out.values() for line in lines)
    return out
