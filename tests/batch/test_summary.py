"""The summary table: one row per input, CSV and Parquet."""

import csv

import pytest

from usguide.batch.manifest import DONE, FAILED, Entry
from usguide.batch.summary import COLUMNS, METRIC_COLUMNS, write_summary


def test_csv_and_parquet_rows(tmp_path):
    entries = [
        Entry("a", "/a", "results/a.jsonl", "h", "m", "0", DONE, frames=40, needle_frames=10),
        Entry("b", "/b", None, None, "m", "0", FAILED, reason="corrupt"),
    ]
    paths = write_summary(tmp_path, entries)
    rows = list(csv.DictReader((tmp_path / "summary.csv").open()))
    assert [row["key"] for row in rows] == ["a", "b"] and list(rows[0]) == COLUMNS
    assert rows[0]["needle_fraction"] == "0.25" and rows[1]["reason"] == "corrupt"
    pq = pytest.importorskip("pyarrow.parquet")
    assert paths[-1].name == "summary.parquet"
    table = pq.read_table(paths[-1]).to_pylist()
    assert table[0]["frames"] == 40 and table[1]["status"] == FAILED
    assert table[1]["needle_fraction"] is None


def test_metric_columns(tmp_path):
    values = {"duration_s": 1.3, "redirections": 2, "target_hit": True, "frames": 40}
    entries = [
        Entry("a", "/a", "results/a.jsonl", "h", "m", "0", DONE, frames=40, metric_values=values),
        Entry("b", "/b", "results/b.jsonl", "h", "m", "0", DONE, frames=40),  # no report
    ]
    paths = write_summary(tmp_path, entries)
    rows = list(csv.DictReader((tmp_path / "summary.csv").open()))
    assert set(METRIC_COLUMNS) <= set(rows[0]) and "metric_values" not in rows[0]
    assert rows[0]["duration_s"] == "1.3" and rows[0]["redirections"] == "2"
    assert rows[0]["frames"] == "40" and rows[1]["duration_s"] == ""
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(paths[-1]).to_pylist()
    assert table[0]["target_hit"] is True and table[0]["redirections"] == 2
    assert table[1]["target_hit"] is None and table[1]["visible_fraction"] is None
