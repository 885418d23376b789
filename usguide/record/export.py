"""Exports a session's per-frame timestamps and results to one CSV file (spreadsheets, pandas)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from usguide.errors import UsguideError
from usguide.record.format import json_default
from usguide.record.reader import SessionReader


def flatten(result: Any, prefix: str = "") -> dict[str, Any]:
    """Flattens nested dicts to dotted keys (``needle.confidence``); lists become JSON text."""
    if not isinstance(result, dict):
        return {prefix or "result": _cell(result)}
    flat: dict[str, Any] = {}
    for key, value in result.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(flatten(value, name))
        else:
            flat[name] = _cell(value)
    return flat


def export_csv(session: str | Path, out_csv: str | Path) -> int:
    """Writes one row per frame: index, source_index, t_capture_ns, t_ms (from the first frame),
    source_ms, then the flattened result fields (empty when a frame has no result).

    Returns:
        The number of rows written.

    Raises:
        UsguideError: the session is unreadable or the CSV cannot be written.
    """
    with SessionReader(session) as reader:
        flat = {i: flatten(result) for i, result in reader.results.items()}
        columns: list[str] = []
        for row in flat.values():
            columns.extend(key for key in row if key not in columns)
        t0 = int(reader.t_capture_ns[0]) if reader.frame_count else 0
        try:
            with open(out_csv, "w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(
                    ["index", "source_index", "t_capture_ns", "t_ms", "source_ms", *columns]
                )
                for i in range(reader.frame_count):
                    t_ns = int(reader.t_capture_ns[i])
                    fields = flat.get(i, {})
                    writer.writerow(
                        [i, int(reader.source_index[i]), t_ns, f"{(t_ns - t0) / 1e6:.3f}",
                         float(reader.source_ms[i]), *(fields.get(c, "") for c in columns)]
                    )  # fmt: skip
        except OSError as exc:
            raise UsguideError(
                f"cannot write {out_csv}: {exc.strerror}; choose another path"
            ) from None
        return reader.frame_count


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return json.dumps(value, default=json_default)
    if hasattr(value, "item"):
        return value.item()
    return value
