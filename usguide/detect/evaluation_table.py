"""The printed tables of an evaluation: the scores of each (clip, detector), the recall per
stratum of visible needles, and the operating curve (hits and false positives by confidence).
"""

from __future__ import annotations

from collections.abc import Sequence

from usguide.detect.evaluation import CONFIDENCE_FLOORS, ClipScore, error_stats
from usguide.detect.strata import STRATA


def format_strata(rows: Sequence[ClipScore]) -> str:
    """Recall per stratum of visible needles (contrast, visible length), one line per detector."""
    names = [name for name in STRATA if any(name in row.strata for row in rows)]
    if not names:
        return ""
    header = f"{'recall by':<27} " + " ".join(f"{name:>15}" for name in names)
    lines = [header, "-" * len(header)]
    for row in rows:
        cells = []
        for name in names:
            visible, found = row.strata.get(name, [0, 0])
            cells.append(f"{_pct(found / visible if visible else None)} of {visible}".rjust(15))
        lines.append(f"{(row.name + ' ' + row.detector)[:27]:<27} " + " ".join(cells))
    return "\n".join(lines)


def format_table(rows: Sequence[ClipScore]) -> str:
    """A fixed-width text table, one row per (clip, detector)."""
    header = (
        f"{'clip':<24} {'detector':<10} {'frames':>6} {'recall':>7} {'loc-hit':>7} {'prec':>6} "
        f"{'FP/free':>7} "
        f"{'tip med':>8} {'tip p90':>8} {'ang med':>7} {'ang p90':>7} {'swaps':>5} {'fps':>6}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        tips = row.tip_errors_mm or row.tip_errors_px
        unit = "mm" if row.tip_errors_mm else "px"
        tip = error_stats(tips)
        angle = error_stats(row.angle_errors_deg)
        lines.append(
            f"{row.name[:24]:<24} {row.detector[:10]:<10} {row.frames:>6} {_pct(row.recall):>7} "
            f"{_pct(row.localised_recall):>7} {_pct(row.precision):>6} "
            f"{_pct(row.false_positive_rate):>7} "
            f"{_num(tip['median'], unit):>8} {_num(tip['p90'], unit):>8} "
            f"{_num(angle['median'], '°'):>7} {_num(angle['p90'], '°'):>7} {row.swaps:>5} "
            f"{_num(row.fps, ''):>6}"
        )
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _num(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:.1f}{unit}"


def format_operating_curves(scores: list[ClipScore]) -> str:
    """Localised hits / needle-free false positives with needles below a confidence floor hidden."""
    floors = "  ".join(f"{floor:>9.1f}" for floor in CONFIDENCE_FLOORS)
    lines = [f"{'hits / FP at confidence >=':32s}{floors}"]
    for score in scores:
        cells = []
        for point in score.operating_curve():
            hits, free = point["localised_recall"], point["false_positive_rate"]
            cells.append(f"{_pct(hits):>4s}/{_pct(free):<4s}")
        lines.append(f"{score.name + ' (' + score.detector + ')':32s}" + "  ".join(cells))
    return "\n".join(lines)
