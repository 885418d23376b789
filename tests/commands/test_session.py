"""``usguide session show|edit`` through the real CLI entry point (in process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from usguide.cli import main
from usguide.record.procedure import parse_assignments


@pytest.fixture()
def session(tmp_path: Path) -> Path:
    folder = tmp_path / "s"
    folder.mkdir()
    record = parse_assignments(["type=biopsy", "imaging_alongside=xray"], at="T0")
    meta = {"format_version": 1, "procedure": record.to_json()}
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder


def test_edit_then_show(session: Path, capsys) -> None:
    assert main(["session", "edit", str(session), "--set", "outcome.histology=benign",
                 "--by", "trainer"]) == 0  # fmt: skip
    assert "outcome.histology=benign (by trainer" in capsys.readouterr().out
    assert main(["session", "show", str(session)]) == 0
    out = capsys.readouterr().out
    assert "histology: benign" in out
    assert "[contradiction] XRAY used alongside but pregnancy not excluded" in out
    assert "by trainer: outcome.histology: - -> benign" in out
    assert main(["session", "show", str(session), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["procedure"]["outcome"]["histology"] == "benign"
    assert data["edits"][0]["by"] == "trainer"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--set", "histology=great"], "histology must be one of"),
        (["--set", "name=Jane"], "no patient name"),
        ([], "nothing to set"),
    ],
)
def test_bad_edits_are_one_line_errors(session: Path, capsys, argv, message) -> None:
    assert main(["session", "edit", str(session), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_not_a_session(tmp_path: Path, capsys) -> None:
    assert main(["session", "show", str(tmp_path)]) == 2
    assert "not a usguide session" in capsys.readouterr().err
