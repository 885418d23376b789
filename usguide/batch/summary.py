"""The archive's summary table: one row per input, as CSV, and as Parquet when pyarrow is there."""

from __future__ import annotations

import csv
from dataclasses import asdict, fields
from pathlib import Path

from usguide.batch.manifest import Entry, write_atomic, write_atomic_path

SUMMARY_NAME = "summary"
COLUMNS = [f.name for f in fields(Entry)] + ["needle_fraction"]


def summary_rows(entries: list[Entry]) -> list[dict]:
    """The manifest's entries as rows, with the fraction of frames that have a needle."""
    rows = []
    for entry in entries:
        row = asdict(entry)
        row["needle_fraction"] = (
            round(entry.needle_frames / entry.frames, 4) if entry.frames else None
        )
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
    schema = pa.schema([(name, types.get(name, pa.string())) for name in COLUMNS])
    table = pa.Table.from_pylist(rows, schema=schema)
    write_atomic_path(parquet_path, lambda temp: pq.write_table(table, temp))
    written.append(parquet_path)
    return written


_FLOATS = {"mean_confidence", "analysis_s", "wall_s", "needle_fraction"}
_INTS = {"frames", "needle_frames", "predicted_frames", "segments"}
