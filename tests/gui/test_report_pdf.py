"""The report as PDF (Qt's PDF writer) and as PNG pages: the HTML's content, pictures masked."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("PyQt5")

from tests.review.test_report import ROI, _session  # noqa: E402
from usguide.cli import main  # noqa: E402
from usguide.gui.report_pdf import (  # noqa: E402
    render_report_pages,
    report_document,
    write_report_pdf,
)
from usguide.review.report import report_html, review_session  # noqa: E402


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Path:
    return _session(tmp_path_factory.mktemp("pdf") / "s")


def test_pdf_and_pages(session: Path, tmp_path: Path) -> None:
    page = report_html(review_session(session))
    pages = write_report_pdf(page, tmp_path / "r.pdf")
    data = (tmp_path / "r.pdf").read_bytes()
    assert data.startswith(b"%PDF") and pages >= 2
    pngs = render_report_pages(page, tmp_path / "png", width_px=400)
    assert len(pngs) == pages
    first = cv2.imread(str(pngs[0]))
    assert first.shape[:2] == (round(400 * 297 / 210), 400) and first.min() < 100  # text drawn


def test_document_holds_the_reports_content(session: Path) -> None:
    doc = report_document(report_html(review_session(session)))
    text = doc.toPlainText()
    for words in ("Procedure and checklist", "Redirections", "Time to target", "CASE-7",
                  "Visibility timeline", "Key frames"):  # fmt: skip
        assert words in text, words
    # Every picture is a resource of the document: 3 key frames (the region only), 3 plots.
    from PyQt5 import QtCore, QtGui

    frames = [doc.resource(QtGui.QTextDocument.ImageResource,
                           QtCore.QUrl(f"usguide-frame-{i}.png")) for i in range(3, 6)]  # fmt: skip
    assert all((image.width(), image.height()) == (ROI.w, ROI.h) for image in frames)


def test_cli_pdf_and_compare(session: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "c.pdf"
    argv = ["report", str(session), "--pdf", str(out), "--compare", str(session), "--json",
            str(tmp_path / "m.json")]  # fmt: skip
    assert main(argv) == 0
    assert "pages)" in capsys.readouterr().out and out.read_bytes().startswith(b"%PDF")
    deltas = json.loads((tmp_path / "m.json").read_text())["compare"]["deltas"]
    assert deltas["redirections"] == 0 and deltas["path_length_mm"] == 0.0
    assert deltas["target_hit"] is None


def test_compare_html_has_both_paths_and_deltas(session: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.html"
    assert main(["report", str(session), "--html", str(out), "--compare", str(session)]) == 0
    page = out.read_text()
    assert "Both tip paths" in page and "Both tip depths" in page and "difference (" in page
    assert page.count("<svg") == 2 * 3 + 2  # each session's three plots and the two together


def test_unwritable_pdf_is_one_line(session: Path, tmp_path: Path, capsys) -> None:
    target = tmp_path / "missing" / "r.pdf"
    assert main(["report", str(session), "--pdf", str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot write" in err[0]


def test_pdf_keeps_pictures_masked(session: Path, tmp_path: Path) -> None:
    """The PDF's key frames come from the report's masked pictures: no burned-in white band."""
    doc = report_document(report_html(review_session(session)))
    from PyQt5 import QtCore, QtGui

    image = doc.resource(QtGui.QTextDocument.ImageResource, QtCore.QUrl("usguide-frame-3.png"))
    image = image.convertToFormat(QtGui.QImage.Format_Grayscale8)
    data = np.frombuffer(image.constBits().asstring(image.bytesPerLine() * image.height()),
                         np.uint8).reshape(image.height(), image.bytesPerLine())  # fmt: skip
    assert data[:, : image.width()].max() < 250  # the session's 255 band lies outside the region
