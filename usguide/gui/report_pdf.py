"""The report as PDF: the same HTML as ``usguide report --html``, laid out by Qt's rich-text engine
(``QTextDocument``) and printed with ``QPdfWriter``, offscreen; plus the same layout as PNG pages.

Qt's rich text knows neither inline SVG nor data URIs nor flex boxes, so the HTML is adapted first:
each SVG plot is drawn to an image (``QSvgRenderer``, at twice its size), each inline PNG becomes a
document resource, tables get borders as attributes, key frames a row of cells. The pictures are
the report's own (key frames already masked and cropped to the image region).
"""

from __future__ import annotations

import base64
import os
import re
import sys
from pathlib import Path

from PyQt5 import QtCore, QtGui, QtSvg, QtWidgets

from usguide.errors import UsguideError

_SVG = re.compile(r"<svg\b.*?</svg>", re.S)
_DATA_IMG = re.compile(r'<img alt="([^"]*)" src="data:image/png;base64,([A-Za-z0-9+/=]+)">')
_SIZE = re.compile(r'<svg[^>]*\bwidth="(\d+)"[^>]*\bheight="(\d+)"')
PAGE_WIDTH_PX = 720  # the document's text width in layout pixels (the plots' own width)
PDF_DPI = 150
_MARGIN_PX = 36
# Qt's rich text takes a subset of CSS; sizes in points, as printed.
_QT_STYLE = """
h1 { font-size: 15pt; } h2 { font-size: 12pt; } h3 { font-size: 10pt; }
th, td { font-size: 8pt; } td.def, td.when { color: #666; font-size: 7pt; } .none { color: #999; }
.flag-contradiction { color: #b00; } .flag-caution { color: #a60; } .flag-missing { color: #555; }
small { font-size: 7pt; color: #444; }
"""


def _frames_row(match: re.Match) -> str:
    cells = (
        match.group(1)
        .replace("<figure>", '<td style="padding: 4px">')
        .replace("</figure>", "</td>")
    )
    cells = cells.replace("<figcaption>", "<br><small>").replace("</figcaption>", "</small>")
    if "<td" not in cells:
        return cells
    return f'<table border="0" cellspacing="0" cellpadding="0"><tr>{cells}</tr></table>'


def _qt_message(_mode, _context, message: str) -> None:  # noqa: ANN001 - Qt callback
    if "XDG_RUNTIME_DIR" not in message:  # the offscreen platform's chatter says nothing to a user
        sys.stderr.write(f"qt: {message}\n")


_APPLICATION: list[QtWidgets.QApplication] = []  # one made here lives as long as the process


def _application() -> QtWidgets.QApplication:
    """The running Qt application, or a new offscreen one (no display is needed)."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        QtCore.qInstallMessageHandler(_qt_message)
        app = QtWidgets.QApplication(["usguide-report"])
        _APPLICATION.append(app)
    return app  # type: ignore[return-value]


def report_document(page_html: str) -> QtGui.QTextDocument:
    """A ``QTextDocument`` of the report's HTML, pictures registered as resources."""
    _application()
    doc = QtGui.QTextDocument()
    resources: list[tuple[str, QtGui.QImage]] = []

    def svg_image(match: re.Match) -> str:
        svg = match.group(0)
        size = _SIZE.search(svg)
        width, height = (int(size.group(1)), int(size.group(2))) if size else (720, 200)
        renderer = QtSvg.QSvgRenderer(QtCore.QByteArray(svg.encode("utf-8")))
        image = QtGui.QImage(2 * width, 2 * height, QtGui.QImage.Format_RGB32)
        image.fill(QtGui.QColor("white"))
        painter = QtGui.QPainter(image)
        painter.setRenderHint(QtGui.QPainter.Antialiasing)
        renderer.render(painter)
        painter.end()
        name = f"usguide-plot-{len(resources)}.png"
        resources.append((name, image))
        shown = min(width, PAGE_WIDTH_PX - 10)
        return f'<p><img src="{name}" width="{shown}" height="{round(height * shown / width)}"></p>'

    def png_image(match: re.Match) -> str:
        image = QtGui.QImage.fromData(base64.b64decode(match.group(2)), "PNG")
        name = f"usguide-frame-{len(resources)}.png"
        resources.append((name, image))
        # Key frames side by side, three to a line.
        width = min(image.width(), PAGE_WIDTH_PX // 3 - 12)
        height = round(image.height() * width / max(image.width(), 1))
        return f'<img alt="{match.group(1)}" src="{name}" width="{width}" height="{height}">'

    text = re.sub(r"<style>.*?</style>", "", page_html, flags=re.S)
    text = _SVG.sub(svg_image, text)
    text = _DATA_IMG.sub(png_image, text)
    text = text.replace("<table", '<table border="1" cellspacing="0" cellpadding="3"')
    # Key frames: a row of cells (Qt has no flex box); legend swatches: coloured squares.
    text = re.sub(r'<div class="frames">(.*?)</div>', _frames_row, text, flags=re.S)
    text = re.sub(r'<span style="background:([^"]+)">&nbsp;&nbsp;</span>',
                  r'<span style="color:\1">&#9632;</span>', text)  # fmt: skip
    for name, image in resources:
        doc.addResource(QtGui.QTextDocument.ImageResource, QtCore.QUrl(name), image)
    doc.setDefaultStyleSheet(_QT_STYLE)
    doc.setDefaultFont(QtGui.QFont("DejaVu Sans", 9))
    doc.setDocumentMargin(_MARGIN_PX)
    doc.setHtml(text)
    width = PAGE_WIDTH_PX + 2 * _MARGIN_PX
    doc.setPageSize(QtCore.QSizeF(width, width * 297 / 210))  # A4, laid out as printed
    return doc


def write_report_pdf(page_html: str, path: str | Path) -> int:
    """Writes the report's HTML as an A4 PDF; returns the number of pages.

    Raises:
        UsguideError: the file cannot be written.
    """
    doc = report_document(page_html)
    target = Path(path)
    try:
        with open(target, "ab"):
            pass  # Qt says nothing when it cannot write: find out first
    except OSError as exc:
        raise UsguideError(f"cannot write {target}: {exc.strerror}; choose another path") from None
    writer = QtGui.QPdfWriter(str(target))
    writer.setPageSize(QtGui.QPageSize(QtGui.QPageSize.A4))
    writer.setPageMargins(QtCore.QMarginsF(12, 12, 12, 12), QtGui.QPageLayout.Millimeter)
    writer.setResolution(PDF_DPI)
    writer.setTitle("Needle insertion review")
    writer.setCreator("usguide")
    doc.print_(writer)
    return doc.pageCount()


def render_report_pages(page_html: str, out_dir: str | Path, width_px: int = 900) -> list[Path]:
    """The report laid out as A4 pages (as the PDF is) and saved as ``page-N.png`` in ``out_dir``:
    to look at a report without a PDF viewer or a browser."""
    doc = report_document(page_html)
    page_w = width_px
    page_h = round(width_px * 297 / 210)
    scale = page_w / doc.pageSize().width()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for page in range(doc.pageCount()):
        image = QtGui.QImage(page_w, page_h, QtGui.QImage.Format_RGB32)
        image.fill(QtGui.QColor("white"))
        painter = QtGui.QPainter(image)
        painter.setRenderHint(QtGui.QPainter.Antialiasing)
        painter.scale(scale, scale)
        painter.translate(0, -page * doc.pageSize().height())
        doc.drawContents(painter, QtCore.QRectF(0, page * doc.pageSize().height(),
                                                doc.pageSize().width(),
                                                doc.pageSize().height()))  # fmt: skip
        painter.end()
        path = out / f"page-{page + 1}.png"
        image.save(str(path))
        paths.append(path)
    return paths
