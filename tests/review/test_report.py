"""The report: self-contained, de-identified HTML and JSON of a session with known metrics."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.review import synthetic as syn
from tests.review.test_metrics import _result, _write_session
from usguide.cli import main
from usguide.record.procedure import parse_assignments
from usguide.record.procedure_log import append_edit
from usguide.record.writer import SessionWriter
from usguide.review.figures import Series, key_frame_png, line_plot_svg
from usguide.types import Calibration, Frame, Roi, SourceInfo

W, H = 420, 320
ROI = Roi(10, 10, 400, 300)


def _session(folder: Path, with_results: bool = True) -> Path:
    track = syn.synthetic_track()
    info = SourceInfo("synthetic", "simulator", W, H, 30.0, False, len(track))
    calibration = Calibration(syn.MM_PER_PX, ROI)
    procedure = parse_assignments(
        ["type=biopsy", "biopsy_site=breast", "case_id=CASE-7", "imaging_alongside=xray"]
    ).to_json()
    procedure["legacy"] = {"operator": "Dr.Somebody"}
    with SessionWriter(folder, info, calibration, procedure, queue_size=len(track) + 1) as writer:
        for i in range(len(track)):
            image = np.full((H, W), 60, np.uint8)
            image[:8, :] = 255  # "burned-in text" above the image region
            result = None
            if with_results:
                tip = (track.tip_px[i] + (ROI.x, ROI.y)).tolist() if track.present[i] else None
                aim = [syn.target_px()[0] + ROI.x, syn.target_px()[1] + ROI.y]
                result = _result(tip, predicted=not track.measured[i], target=aim)
                if result["needle"]:
                    result["needle"]["entry"] = [syn.ENTRY[0] + ROI.x, syn.ENTRY[1] + ROI.y]
            frame = Frame(image, i, 10**12 + i * 33_333_333, i * 33.3, calibration)
            assert writer.write(frame, result)
    return folder


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Path:
    folder = _session(tmp_path_factory.mktemp("r") / "Jane_Doe_1970-01-01")
    append_edit(folder, ["outcome.histology=benign"], by="trainer", at="2026-02-01T09:00:00+01:00")
    return folder


def test_html_and_json(session: Path, tmp_path: Path, capsys) -> None:
    html_path, json_path = tmp_path / "r.html", tmp_path / "m.json"
    assert main(["report", str(session), "--out", str(html_path), "--json", str(json_path)]) == 0
    assert "1 redirection(s)" in capsys.readouterr().out
    data = json.loads(json_path.read_text())
    assert data["metrics"]["redirections"] == 1 and data["metrics"]["target_hit"] is True
    assert data["procedure"]["outcome"]["histology"] == "benign"
    assert "legacy" not in data["procedure"]
    assert any(f["kind"] == "contradiction" for f in data["flags"])
    page = html_path.read_text()
    for text in ("Procedure and checklist", "pregnancy not excluded", "Redirections",
                 "Time to target", "by trainer", "redirection 1", "Visibility timeline",
                 "Distance from the tip to the target", "CASE-7", "Latency p95"):  # fmt: skip
        assert text in page, text
    # De-identified and self-contained.
    assert "Jane" not in page and "1970" not in page and "Dr.Somebody" not in page
    assert str(session) not in page and '"started_at"' not in page
    assert not re.search(r'(src|href)="(?!data:)', page)
    pngs = re.findall(r"base64,([A-Za-z0-9+/=]+)", page)
    assert len(pngs) == 3
    for encoded in pngs:
        image = cv2.imdecode(np.frombuffer(base64.b64decode(encoded), np.uint8), 1)
        assert image.shape[:2] == (ROI.h, ROI.w)  # the image region only: no burned-in text


def test_compare(session: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.html"
    assert main(["report", str(session), "--html", str(out), "--compare", str(session)]) == 0
    page = out.read_text()
    assert "compared session" in page and "Compared session" in page


def test_bad_input_is_one_line(tmp_path: Path, capsys) -> None:
    plain = _session(tmp_path / "plain", with_results=False)
    cases = [
        ([str(tmp_path), "--html", "x.html"], "not a usguide session"),
        ([str(plain), "--html", str(tmp_path / "x.html")], "add --recompute"),
        ([str(plain)], "nothing to write"),
        ([str(plain), "--json", str(tmp_path / "m.json"), "--target", "1"], "bad --target"),
    ]
    for argv, message in cases:
        assert main(["report", *argv]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err


def test_recompute_on_a_plain_session(tmp_path: Path) -> None:
    plain = _write_session(tmp_path / "plain", [None] * 12)  # small: the detector runs on each
    out, page = tmp_path / "m.json", tmp_path / "r.html"
    argv = ["report", str(plain), "--json", str(out), "--html", str(page), "--recompute",
            "--detector", "classical"]  # fmt: skip
    assert main(argv) == 0
    assert json.loads(out.read_text())["metrics"]["frames"] == 12
    assert "recomputed now (classical detector)" in page.read_text()


def test_key_frame_masks_outside_the_region() -> None:
    image = np.full((50, 60, 3), 255, np.uint8)
    png = key_frame_png(image, Roi(5, 5, 20, 10), np.zeros((0, 2)), None, None, None)
    decoded = cv2.imdecode(np.frombuffer(png, np.uint8), 1)
    assert decoded.shape == (10, 20, 3)


def test_plot_breaks_lines_at_gaps() -> None:
    x = np.arange(6.0)
    y = np.array([1, 2, np.nan, 3, 4, 5.0])
    svg = line_plot_svg([Series(x, y, "#000", "y")], (0, 5), "t", "v", marks=[(2.5, "m")])
    assert svg.count("<polyline") == 2 and ">m</text>" in svg


def test_pictures_leave_out_the_screen_when_no_region_was_recorded() -> None:
    """A session recorded without an image region: the report finds it (as the display's Auto
    does), so a ruler and labels beside the image stay out of the key frames."""
    from usguide.review.report import review_results

    rng = np.random.default_rng(0)
    track = syn.synthetic_track()
    width, height = 480, 320  # speckle in x < 400; a ruler of bright dots and a label beyond

    def frames(indices: list[int]) -> list[np.ndarray]:
        out = []
        for _ in indices:
            image = np.zeros((height, width), np.uint8)
            image[:, :400] = rng.integers(20, 200, (height, 400))
            image[10::40, 440:446] = 255
            image[290:310, 420:470] = 255
            out.append(image)
        return out

    results = []
    for i in range(len(track)):
        tip = track.tip_px[i].tolist() if track.present[i] else None
        results.append(_result(tip, predicted=not track.measured[i]))
    review = review_results(results, track.t_s, Calibration(syn.MM_PER_PX), frames)
    for _, png in review.key_frames:
        image = cv2.imdecode(np.frombuffer(png, np.uint8), 1)
        assert image.shape[1] <= 402  # the image region only: no ruler, no label
