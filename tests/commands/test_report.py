"""``usguide report`` on a recording of the real clip: HTML and PDF a trainer can read, pictures
without the screen around the image; bad input is one line, exit 2."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from usguide.cli import main

FRAMES = 90  # 1.5 s of the 60 fps clip: enough for a needle, small enough to recompute


@pytest.fixture(scope="module")
def real_session(tmp_path_factory, real_clip: Path) -> Path:  # noqa: ANN001
    out = tmp_path_factory.mktemp("real") / "session"
    argv = ["record", "--source", str(real_clip), "--out", str(out), "--frames", str(FRAMES),
            "--depth-mm", "30", "--procedure", "type=infiltration", "--procedure",
            "case_id=REAL-1"]  # fmt: skip
    assert main(argv) == 0
    return out


@pytest.fixture(scope="module")
def real_clip() -> Path:
    from tests.conftest import SHARED_REAL

    path = SHARED_REAL / "clarius_needle_inplane.mp4"
    if not path.exists():
        pytest.skip(f"real clip not available at {path} (../shared/real/ is outside the repo)")
    return path


@pytest.mark.slow  # records and recomputes 90 frames of 1080x860: ~30 s on 2 cores
def test_report_on_the_real_clip(real_session: Path, tmp_path: Path, capsys) -> None:
    page, pdf, data = tmp_path / "r.html", tmp_path / "r.pdf", tmp_path / "m.json"
    argv = ["report", str(real_session), "--recompute", "--html", str(page), "--pdf", str(pdf),
            "--json", str(data)]  # fmt: skip
    assert main(argv) == 0
    assert "pages)" in capsys.readouterr().out and pdf.read_bytes().startswith(b"%PDF")
    metrics = json.loads(data.read_text())["metrics"]
    # The clip's own time (60 fps), however long recording it took.
    assert metrics["duration_s"] == pytest.approx((FRAMES - 1) / 60, abs=0.02)
    assert metrics["visible_fraction"] is not None and metrics["path_length_mm"] is not None
    html = page.read_text()
    assert "infiltration" in html and "REAL-1" in html and str(real_session) not in html
    for encoded in re.findall(r"base64,([A-Za-z0-9+/=]+)", html):
        image = cv2.imdecode(np.frombuffer(base64.b64decode(encoded), np.uint8), 1)
        # Shrunk to 420 px wide from a crop of the frame's full height: the crop was narrower
        # than the frame, the depth ruler right of x = 1021 left out (found as Auto finds it).
        crop_width = image.shape[1] * 860 / image.shape[0]
        assert image.shape[1] == 420 and crop_width < 1040


@pytest.mark.slow
def test_real_session_without_results_is_one_line(real_session: Path, capsys) -> None:
    assert main(["report", str(real_session), "--pdf", "x.pdf"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "add --recompute" in err[0]


def test_not_a_session_is_one_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "clip.mp4").write_bytes(b"not a session")
    for target in (tmp_path, tmp_path / "clip.mp4", tmp_path / "missing"):
        assert main(["report", str(target), "--pdf", str(tmp_path / "r.pdf")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("usguide: error:"), err
    assert not (tmp_path / "r.pdf").exists()
