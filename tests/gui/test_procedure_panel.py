"""The procedure panel: answers build the record, flags show, edits append once recording runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from usguide.gui.procedure_panel import ProcedurePanel  # noqa: E402
from usguide.record.procedure_log import session_procedure  # noqa: E402


def test_answers_flags_and_edit_log(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    panel = ProcedurePanel()
    qtbot.addWidget(panel)
    panel.set_answer("type", "biopsy")
    panel.set_answer("imaging_alongside", "xray")
    panel.set_answer("needle.gauge", "18")
    assert panel.record().type == "biopsy" and panel.record().needle.gauge == 18
    assert "pregnancy not excluded" in panel.flags_label.text()
    panel.set_answer("needle.gauge", "99")  # refused: shown, the record keeps 18
    assert "10..34" in panel.flags_label.text() and panel.record().needle.gauge == 18
    # Recording starts with the record so far; answers after that go to the edit log.
    session = tmp_path / "s"
    session.mkdir()
    meta = {"format_version": 1, "procedure": panel.record().to_json()}
    (session / "meta.json").write_text(json.dumps(meta))
    panel.attach(session)
    with qtbot.waitSignal(panel.changed):
        panel.set_answer("checklist.pregnancy_excluded", "yes")
    state = session_procedure(session)
    assert state.recorded.checklist.pregnancy_excluded is None
    assert state.current.checklist.pregnancy_excluded.value == "yes"
    assert [e.by for e in state.edits] == ["gui"]
    assert "pregnancy not excluded" not in panel.flags_label.text()
