"""The procedure record: schema validation, refused identifiers, flags, JSON, migration."""

from __future__ import annotations

import json

import pytest

from usguide.errors import UsguideError
from usguide.record.procedure import (
    CHECKLIST,
    Answer,
    ProcedureRecord,
    flags,
    migrate_legacy,
    parse_assignments,
)

FULL = [
    "type=biopsy", "biopsy_site=breast", "region=breast", "side=left", "gauge=14",
    "length_mm=100", "operator_role=trainee", "case_id=C-0042", "imaging_alongside=none",
    *(f"{name}=yes" for name in CHECKLIST if name != "anticoagulant"), "anticoagulant=none",
]  # fmt: skip


def test_parse_assignments_types_and_answers() -> None:
    record = parse_assignments(FULL, at="2026-01-02T10:00:00+01:00")
    assert record.type == "biopsy"
    assert record.needle.gauge == 14 and record.needle.length_mm == 100.0
    assert record.checklist.pregnancy_excluded == Answer("yes", "2026-01-02T10:00:00+01:00")
    assert record.imaging_alongside == ()
    assert [f.key for f in flags(record)] == ["outcome.histology"]  # only "histology pending"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("patient_name=Jane", "no patient name or birth date"),
        ("birth_date=1970-01-01", "no patient name or birth date"),
        ("dob=1970", "no patient name or birth date"),
        ("case_id=1970-03-04", "looks like a date"),
        ("case_id=Jane Doe", "pseudonym"),
        ("type=surgery", "type must be one of"),
        ("gauge=40", "needle.gauge must be 10..34"),
        ("gauge=thin", "must be a number"),
        ("pregnancy_excluded=maybe", "must be one of yes, no, not_applicable"),
        ("colour=blue", "unknown procedure field"),
        ("novalue", "expected KEY=VALUE"),
    ],
)
def test_refused(item: str, message: str) -> None:
    with pytest.raises(UsguideError, match=message):
        parse_assignments([item])


def test_aliases_and_spellings() -> None:
    record = parse_assignments(["imaging_alongside=X-ray,CT", "skin_disinfected=n/a"])
    assert record.imaging_alongside == ("xray", "ct")
    assert record.checklist.skin_disinfected.value == "not_applicable"


def test_flags_missing_and_contradictions() -> None:
    empty = flags(ProcedureRecord())
    assert {f.key for f in empty if f.kind == "missing"} >= {"type", "case_id", "needle.gauge"}
    assert sum(f.key.startswith("checklist.") for f in empty) == len(CHECKLIST)
    record = parse_assignments(
        ["type=infiltration", "imaging_alongside=xray", "pregnancy_excluded=no",
         "local_anaesthesia=yes", "anticoagulant=ongoing", "histology=benign"]
    )  # fmt: skip
    found = {(f.kind, f.key) for f in flags(record)}
    assert ("contradiction", "checklist.pregnancy_excluded") in found
    assert ("contradiction", "checklist.anaesthetic_allergy_checked") in found
    assert ("caution", "checklist.anticoagulant") in found
    assert ("contradiction", "outcome.histology") in found
    # Pregnancy excluded: no flag on it any more.
    fixed = record.with_value("pregnancy_excluded", "yes")
    assert ("contradiction", "checklist.pregnancy_excluded") not in {
        (f.kind, f.key) for f in flags(fixed)
    }


def test_json_round_trip() -> None:
    record = parse_assignments(FULL + ["imaging_alongside=mri"], at="2026-01-02T10:00:00+01:00")
    data = json.loads(json.dumps(record.to_json()))
    assert data["version"] == 1 and "legacy" not in data
    assert ProcedureRecord.from_json(data) == record


def test_migrates_free_form_records() -> None:
    old = {"operator": "Dr.X", "site": "knee", "type": "biopsy", "patient_name": "J", "seed": 3}
    record = ProcedureRecord.from_json(old)
    assert record.type == "biopsy"
    assert record.legacy == {"operator": "Dr.X", "site": "knee", "seed": "3"}
    assert migrate_legacy({}) == ProcedureRecord()
    assert ProcedureRecord.from_json(None) == ProcedureRecord()


def test_unknown_version_and_damage() -> None:
    with pytest.raises(UsguideError, match="unknown version"):
        ProcedureRecord.from_json({"version": 99})
    with pytest.raises(UsguideError, match="damaged"):
        ProcedureRecord.from_json({"version": 1, "patient_name": "J"})
    with pytest.raises(UsguideError, match="damaged"):
        ProcedureRecord.from_json({"version": 1, "needle": {"colour": 1}})
