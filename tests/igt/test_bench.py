"""``usguide bench --igtl``: the benchmark with the server publishing, the cost reported."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from usguide.cli import main
from usguide.record.seqfile_writer import SeqFrame, write_sequence

pytest.importorskip("pyigtl")


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mha"
    rng = np.random.default_rng(1)
    frames = [
        SeqFrame(rng.integers(0, 256, (48, 64), dtype=np.uint8), {"Timestamp": f"{i / 30:.4f}"})
        for i in range(10)
    ]
    write_sequence(path, frames, spacing_mm=0.2)
    return path


def test_bench_with_a_stalled_client_reports_the_cost(clip: Path, capsys) -> None:
    args = ["bench", str(clip), "--detector", "none", "--frames", "30", "--warmup", "2"]
    assert main([*args, "--quiet", "--igtl", "0", "--igtl-stalled-client"]) == 0
    out = capsys.readouterr().out
    assert "OpenIGTLink (port" in out and "a stalled client" in out
    published = int(re.search(r"(\d+) published", out).group(1))
    assert published >= 32  # every processed frame, warm-up included
