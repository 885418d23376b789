"""The ``usguide bench --plot`` figure: latency histogram and timeline (and soak RSS) per run.

Drawn with pyqtgraph and exported with ``ImageExporter``; uses the offscreen Qt platform when there
is no display, so it works headless.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from usguide.errors import UsguideError

_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]


def save_bench_plot(runs: Sequence[dict], path: str | Path, *, width: int = 1200) -> None:
    """Writes a PNG: capture-to-result histogram and timeline of every run, the budget line, soak
    RSS.

    Args:
        runs: results of ``usguide.pipeline.bench.run_bench``.
        path: the PNG file.
        width: image width in pixels.

    Raises:
        UsguideError: when the file cannot be written.
    """
    from usguide.gui.app import ensure_platform

    ensure_platform(headless=False)
    import pyqtgraph as pg
    import pyqtgraph.exporters
    from PyQt5 import QtCore, QtWidgets

    _app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["usguide-plot"])
    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    layout = pg.GraphicsLayoutWidget()
    soak = any(run.get("soak") for run in runs)
    height = 900 if soak else 600
    layout.resize(width, height)
    histogram = layout.addPlot(row=0, col=0, title="capture -> result latency (ms)")
    histogram.setLabel("bottom", "latency", units="ms")
    histogram.setLabel("left", "frames")
    histogram.addLegend()
    timeline = layout.addPlot(row=1, col=0, title="latency over time")
    timeline.setLabel("bottom", "time", units="s")
    timeline.setLabel("left", "capture -> result", units="ms")
    budget = None
    all_values = [np.asarray(run["per_frame"]["capture_to_result_ms"], float) for run in runs]
    joined = np.concatenate([v for v in all_values if v.size] or [np.zeros(1)])
    edges = np.linspace(0.0, max(float(np.percentile(joined, 99.9)) * 1.1, 1.0), 61)
    for index, (run, values) in enumerate(zip(runs, all_values, strict=True)):
        colour = _COLOURS[index % len(_COLOURS)]
        if values.size:
            counts, _ = np.histogram(np.clip(values, 0, edges[-1]), bins=edges)
            stride = run["per_frame"].get("every_nth_frame", 1)  # long runs keep a thinned timeline
            label = run["label"] + (f" (every {stride}th frame)" if stride > 1 else "")
            histogram.plot(
                edges, counts, stepMode="center", pen=pg.mkPen(colour, width=2), name=label
            )
            times = np.asarray(run["per_frame"]["t_ms"], float) / 1e3
            timeline.plot(times[: values.size], values, pen=pg.mkPen(colour, width=1))
        budget = run["config"].get("budget_ms", budget)
    if budget:
        for plot in (histogram, timeline):
            line = pg.InfiniteLine(budget, angle=90 if plot is histogram else 0)
            line.setPen(pg.mkPen("r", style=2))
            plot.addItem(line)
    if soak:
        memory = layout.addPlot(row=2, col=0, title="soak: resident memory")
        memory.setLabel("bottom", "time", units="s")
        memory.setLabel("left", "RSS (MB)")
        for index, run in enumerate(runs):
            samples = run.get("soak") or []
            if samples:
                memory.plot(
                    [s["t_s"] for s in samples],
                    [s["rss_mb"] for s in samples],
                    pen=pg.mkPen(_COLOURS[index % len(_COLOURS)], width=2),
                    symbol="o",
                    symbolSize=4,
                )
    # Never shown, so lay the items out explicitly at the figure's size.
    layout.ci.setGeometry(QtCore.QRectF(0, 0, width, height))
    layout.scene().setSceneRect(QtCore.QRectF(0, 0, width, height))
    path = Path(path)
    exporter = pyqtgraph.exporters.ImageExporter(layout.scene())
    exporter.parameters()["width"] = width
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        exporter.export(str(path))
    except OSError as exc:
        raise UsguideError(
            f"cannot write the plot {path}: {exc.strerror} — choose another path"
        ) from None
    finally:
        layout.close()
        layout.deleteLater()
    if not path.exists() or path.stat().st_size == 0:
        raise UsguideError(f"cannot write the plot {path} — check the folder is writable")
