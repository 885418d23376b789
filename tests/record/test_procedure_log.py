"""The procedure edit log: appended (who/when/what), never rewritten; replayed into the record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from usguide.errors import UsguideError
from usguide.record.procedure import parse_assignments
from usguide.record.procedure_log import append_edit, read_edits, session_procedure


def _session(folder: Path, procedure: dict) -> Path:
    folder.mkdir()
    (folder / "meta.json").write_text(json.dumps({"format_version": 1, "procedure": procedure}))
    return folder


def test_edits_append_and_replay(tmp_path: Path) -> None:
    recorded = parse_assignments(["type=biopsy", "pregnancy_excluded=no"], at="T0")
    folder = _session(tmp_path / "s", recorded.to_json())
    meta_before = (folder / "meta.json").read_bytes()
    first = append_edit(folder, ["outcome.histology=pending"], by="nurse", at="T1")
    append_edit(folder, ["histology=Benign", "pregnancy_excluded=yes"], by="trainer", at="T2")
    assert first.previous == {"outcome.histology": None}
    assert (folder / "meta.json").read_bytes() == meta_before  # history is never rewritten
    lines = (folder / "procedure_log.jsonl").read_text().splitlines()
    assert [json.loads(line)["by"] for line in lines] == ["nurse", "trainer"]
    state = session_procedure(folder)
    assert state.recorded == recorded
    assert state.current.outcome.histology == "benign"
    assert state.current.checklist.pregnancy_excluded.at == "T2"
    assert state.edits[1].previous == {
        "outcome.histology": "pending",
        "checklist.pregnancy_excluded": "no",
    }


def test_bad_edits_leave_the_log_alone(tmp_path: Path) -> None:
    folder = _session(tmp_path / "s", {})
    for items, message in (
        ([], "nothing to set"),
        (["histology=great"], "must be one of"),
        (["patient_name=J"], "no patient name"),
        (["histology"], "expected KEY=VALUE"),
    ):
        with pytest.raises(UsguideError, match=message):
            append_edit(folder, items, by="x")
    assert not (folder / "procedure_log.jsonl").exists()
    with pytest.raises(UsguideError, match="not a usguide session"):
        append_edit(tmp_path, ["type=biopsy"])


def test_partial_last_line_is_ignored(tmp_path: Path) -> None:
    folder = _session(tmp_path / "s", {"site": "knee"})
    append_edit(folder, ["type=aspiration"], by="a", at="T1")
    with open(folder / "procedure_log.jsonl", "a") as handle:
        handle.write('{"at": "T2", "by": "b", "se')
    assert len(read_edits(folder)) == 1
    state = session_procedure(folder)
    assert state.current.type == "aspiration" and state.current.legacy == {"site": "knee"}
