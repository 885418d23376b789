"""The archive's summary table: one row per input, as CSV, and as Parquet when pyarrow is there.

Besides the manifest's columns, one column per trainer metric (``usguide.review.metrics``; the
same names, empty for inputs without a report), so tables of runs with and without ``--report``
have the same schema.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, fields
from pathlib import Path

from usguide.batch.manifest import Entry, write_atomic, write_atomic_path
from usguide.review.metrics import SessionMetrics

SUMMARY_NAME = "summary"
# Every metric but its frame count (the manifest's ``frames``).
METRIC_COLUMNS = [f.name for f in fields(SessionMetrics) if f.name != "frames"]
COLUMNS = [f.name for f in fields(Entry) if f.name != "metric_values"] + ["needle_fraction"]
assert not set(METRIC_COLUMNS) & set(COLUMNS), "a metric is named like a manifest column"
COLUMNS += METRIC_COLUMNS


def summary_rows(entries: list[Entry]) -> list[dict]:
    """The manifest's entries as rows, with the fraction of frames that have a needle and the
    metrics (None without a report)."""
    rows = []
    for entry in entries:
        row = asdict(entry)
        values = row.pop("metric_values") or {}
        row["needle_fraction"] = (
            round(entry.needle_frames / entry.frames, 4) if entry.frames else None
        )
        row.update({name: values.get(name) for name in METRIC_COLUMNS})
        rows.append(row)
    return rows


def write_summary(out_dir: Path, entries: list[Entry]) -> list[Path]:
    """Writes ``summary.csv`` (and ``summary.parquet`` with pyarrow); returns the paths written."""
    rows = summary_rows(entries)
    csv_path = out_dir / f"{SUMMARY_NAME}.csv"

    def write_csv(out) -> None:  # noqa: ANN001 - a text handle
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    write_atomic(csv_path, write_csv)
    written = [csv_path]
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return written
    parquet_path = out_dir / f"{SUMMARY_NAME}.parquet"
    types = {name: pa.float64() for name in _FLOATS} | {name: pa.int64() for name in _INTS}
    types |= {name: pa.bool_() for name in _BOOLS}
    schema = pa.schema([(name, types.get(name, pa.string())) for name in COLUMNS])
    table = pa.Table.from_pylist(rows, schema=schema)
    write_atomic_path(parquet_path, lambda temp: pq.write_table(table, temp))
    written.append(parquet_path)
    return written


_INTS = {"frames", "needle_frames", "predicted_frames", "segments", "lost_episodes", "redirections"}
_BOOLS = {"target_hit"}
_FLOATS = {"mean_confidence", "analysis_s", "wall_s", "needle_fraction"}
_FLOATS |= set(METRIC_COLUMNS) - _INTS - _BOOLS
