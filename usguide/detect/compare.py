"""Two evaluation reports of the same clips, compared clip by clip (``usguide evaluate --compare``).

Two models scored on one suite share its clips, and most of the spread between clips is the same
for both (a hard clip is hard for both). Resampling the clips *together* and taking the difference
each time gives a far narrower interval for "B finds more than A" than two separate intervals do.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from usguide.detect.uncertainty import resampled_sums
from usguide.errors import UsguideError

__all__ = [
    "Difference",
    "compare_reports",
    "format_differences",
    "load_report",
    "paired_differences",
]

METRICS = (
    ("localised hits", "localised_hits", "visible_frames"),
    ("needle-free FP", "needle_free_detections", "needle_free_frames"),
)


@dataclass(frozen=True)
class Difference:
    """B minus A for one set, detector and metric, with its paired 95 % interval."""

    group: str
    detector: str
    metric: str
    value_a: float
    value_b: float
    low: float
    high: float
    clips: int

    @property
    def delta(self) -> float:
        return self.value_b - self.value_a


def load_report(path: Path) -> dict:
    """An ``usguide evaluate --json`` report; one clear error when it is not one."""
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsguideError(
            f"report {path} not found — write one with usguide evaluate --json"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsguideError(f"cannot read report {path}: {exc}") from None
    if not isinstance(report, dict) or not isinstance(report.get("clips"), list):
        raise UsguideError(f"{path} is not an usguide evaluate --json report (no 'clips' list)")
    return report


def paired_differences(report_a: dict, report_b: dict) -> list[Difference]:
    """B − A per (set, detector, metric) over the clips both reports scored."""
    clips_a, clips_b = _by_key(report_a), _by_key(report_b)
    common = [key for key in clips_a if key in clips_b]
    if not common:
        raise UsguideError("the two reports share no clip: compare reports of the same cases")
    differences = []
    groups = dict.fromkeys((clips_a[key]["set"], key[1]) for key in common)
    for group, detector in groups:
        keys = [key for key in common if key[1] == detector and clips_a[key]["set"] == group]
        for metric, count, total in METRICS:
            pairs = np.array(
                [
                    [_get(clips_a[key], count), _get(clips_a[key], total)]
                    + [_get(clips_b[key], count), _get(clips_b[key], total)]
                    for key in keys
                ],
                dtype=np.float64,
            )
            pairs = pairs[(pairs[:, 1] > 0) & (pairs[:, 3] > 0)]
            if len(pairs):
                differences.append(_difference(group, detector, metric, pairs))
    return differences


def format_differences(differences: Sequence[Difference], name_a: str, name_b: str) -> str:
    """One line per set and metric: A, B, and B − A with its paired interval."""
    header = (
        f"{'set (detector)':28s} {'metric':15s} {name_a[:12]:>12s} {name_b[:12]:>12s} "
        f"{'B - A':>7s}  paired 95 % interval"
    )
    lines = [header, "-" * len(header)]
    for item in differences:
        interval = f"[{100 * item.low:+.1f}, {100 * item.high:+.1f}] of {item.clips} clips"
        verdict = "" if item.low <= 0.0 <= item.high else "  *"
        lines.append(
            f"{item.group + ' (' + item.detector + ')':28s} {item.metric:15s} "
            f"{100 * item.value_a:11.1f}% {100 * item.value_b:11.1f}% "
            f"{100 * item.delta:+6.1f}  {interval}{verdict}"
        )
    lines.append("(* the interval excludes 0; clips resampled together: shared difficulty cancels)")
    return "\n".join(lines)


def compare_reports(path_a: Path, path_b: Path) -> str:
    """The printed comparison of two report files, named by their file names."""
    differences = paired_differences(load_report(path_a), load_report(path_b))
    return format_differences(differences, Path(path_a).stem, Path(path_b).stem)


def _difference(group: str, detector: str, metric: str, pairs: np.ndarray) -> Difference:
    """The pooled figures of A and B and the bootstrap interval of B − A (columns: a, A, b, B)."""
    value_a = float(pairs[:, 0].sum() / pairs[:, 1].sum())
    value_b = float(pairs[:, 2].sum() / pairs[:, 3].sum())
    drawn = resampled_sums(pairs)  # (resamples, 4): the clips drawn together for A and B
    deltas = drawn[:, 2] / drawn[:, 3] - drawn[:, 0] / drawn[:, 1]
    low, high = np.percentile(deltas, [2.5, 97.5])
    return Difference(
        group, detector, metric, value_a, value_b, float(low), float(high), len(pairs)
    )


def _by_key(report: dict) -> dict[tuple[str, str], dict]:
    """The report's clips by (clip, detector), each with its set ("all" in reports before sets)."""
    clips = {}
    for entry in report["clips"]:
        if not isinstance(entry, dict) or "clip" not in entry:
            raise UsguideError("a clip entry of the report has no 'clip' name")
        entry = {**entry, "set": entry.get("set") or "all"}
        clips[(str(entry["clip"]), str(entry.get("detector", "")))] = entry
    return clips


def _get(entry: dict, key: str) -> float:
    """A count of a clip entry; reports written before 2026-12-04 lack the needle-free detections,
    which their rate and frame count give back."""
    if key in entry:
        return float(entry[key] or 0)
    if key == "needle_free_detections":
        rate = entry.get("false_positive_rate") or 0.0
        return float(round(rate * (entry.get("needle_free_frames") or 0)))
    raise UsguideError(f"a clip entry of the report has no {key!r}")
