"""The procedure record a session carries (meta.json ``procedure``): schema, validation and flags.

What was done, the precautions checklist and the after-procedure fields, as dataclasses. Values are
validated against ``FIELDS``; missing or contradictory answers are *flagged* (``flags()``), never
refused. No patient name or birth date is asked for or stored: such keys and date-like values are
rejected. Versioned as ``PROCEDURE_VERSION`` (see FORMAT.md); free-form records of older sessions
migrate into ``legacy``.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from usguide.errors import UsguideError

PROCEDURE_VERSION = 1

YES_NO_NA = ("yes", "no", "not_applicable")


@dataclass(frozen=True)
class FieldSpec:
    """One settable field: its dotted key, kind and allowed values, and a label for people."""

    key: str
    kind: str  # "choice", "choices" (comma-separated list), "int", "float", "text", "answer"
    label: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None


_SPECS = (
    FieldSpec("type", "choice", "procedure",
              ("infiltration", "prp_injection", "biopsy", "aspiration", "other")),
    FieldSpec("biopsy_site", "choice", "biopsy site", ("breast", "other")),
    FieldSpec("region", "text", "body region"),
    FieldSpec("side", "choice", "side",
              ("left", "right", "bilateral", "midline", "not_applicable")),
    FieldSpec("guidance", "choice", "guidance", ("ultrasound",)),
    FieldSpec("imaging_alongside", "choices", "imaging alongside", ("xray", "ct", "mri", "none")),
    FieldSpec("needle.gauge", "int", "needle gauge (G)", low=10, high=34),
    FieldSpec("needle.length_mm", "float", "needle length (mm)", low=5, high=300),
    FieldSpec("operator_role", "choice", "operator", ("physician", "trainee")),
    FieldSpec("case_id", "text", "case ID (pseudonymous)"),
    FieldSpec("checklist.file_reviewed", "answer", "file and prior imaging reviewed", YES_NO_NA),
    FieldSpec("checklist.anticoagulant", "answer", "anticoagulant treatment",
              ("none", "stopped", "ongoing", "not_applicable")),
    FieldSpec("checklist.contrast_allergy_checked", "answer",
              "allergy to iodinated contrast checked", YES_NO_NA),
    FieldSpec("checklist.anaesthetic_allergy_checked", "answer",
              "allergy to local anaesthetics (lidocaine, Xylocaine) checked", YES_NO_NA),
    FieldSpec("checklist.pregnancy_excluded", "answer", "pregnancy excluded", YES_NO_NA),
    FieldSpec("checklist.skin_disinfected", "answer", "skin disinfected per protocol", YES_NO_NA),
    FieldSpec("checklist.local_anaesthesia", "answer", "local anaesthesia given", YES_NO_NA),
    FieldSpec("after.dressing", "choice", "dressing", ("compressive", "non_compressive", "none")),
    FieldSpec("after.rest_instructions", "answer", "rest instructions (48 h) given", YES_NO_NA),
    FieldSpec("outcome.histology", "choice", "histology",
              ("pending", "benign", "malignant", "non_diagnostic")),
    FieldSpec("outcome.pain_before", "int", "pain before (0-10)", low=0, high=10),
    FieldSpec("outcome.pain_followup", "int", "pain at follow-up (0-10)", low=0, high=10),
    FieldSpec("outcome.efficacy", "choice", "efficacy", ("none", "partial", "good", "complete")),
)  # fmt: skip
FIELDS: dict[str, FieldSpec] = {spec.key: spec for spec in _SPECS}
CHECKLIST = tuple(key.split(".", 1)[1] for key in FIELDS if key.startswith("checklist."))

# Short names accepted on the command line (``gauge=18``, ``pregnancy_excluded=yes``).
ALIASES = {
    "gauge": "needle.gauge",
    "length_mm": "needle.length_mm",
    "dressing": "after.dressing",
    "rest_instructions": "after.rest_instructions",
    "histology": "outcome.histology",
    **{name: f"checklist.{name}" for name in CHECKLIST},
}

# A key containing any of these could carry a patient's identity: refused outright.
_IDENTIFYING = ("name", "birth", "dob", "born", "patient", "address", "phone", "email")
_DATE_LIKE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|(19|20)\d{2}[01]\d[0-3]\d")
_CASE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


@dataclass(frozen=True)
class Answer:
    """A checklist answer and the wall-clock time (ISO 8601) it was given."""

    value: str
    at: str


@dataclass(frozen=True)
class NeedleSpec:
    """The needle used: gauge (G) and length (mm)."""

    gauge: int | None = None
    length_mm: float | None = None


@dataclass(frozen=True)
class Checklist:
    """The precautions, each answered (with its time) or None when not yet answered."""

    file_reviewed: Answer | None = None
    anticoagulant: Answer | None = None
    contrast_allergy_checked: Answer | None = None
    anaesthetic_allergy_checked: Answer | None = None
    pregnancy_excluded: Answer | None = None
    skin_disinfected: Answer | None = None
    local_anaesthesia: Answer | None = None


@dataclass(frozen=True)
class AfterProcedure:
    """Dressing and rest instructions."""

    dressing: str | None = None
    rest_instructions: Answer | None = None


@dataclass(frozen=True)
class Outcome:
    """Fields that arrive later: histology (biopsy), pain scores and efficacy (treatment)."""

    histology: str | None = None
    pain_before: int | None = None
    pain_followup: int | None = None
    efficacy: str | None = None


@dataclass(frozen=True)
class ProcedureRecord:
    """The procedure record of one session (no patient name or birth date, by design)."""

    type: str | None = None
    biopsy_site: str | None = None
    region: str | None = None
    side: str | None = None
    guidance: str = "ultrasound"
    imaging_alongside: tuple[str, ...] = ()
    needle: NeedleSpec = field(default_factory=NeedleSpec)
    operator_role: str | None = None
    case_id: str | None = None
    checklist: Checklist = field(default_factory=Checklist)
    after: AfterProcedure = field(default_factory=AfterProcedure)
    outcome: Outcome = field(default_factory=Outcome)
    legacy: dict[str, str] = field(default_factory=dict)  # free-form fields of older sessions

    def get(self, key: str) -> Any:
        """The value at a dotted key (``"outcome.histology"``); an ``Answer`` for checklist ones."""
        value: Any = self
        for part in key.split("."):
            value = getattr(value, part)
        return value

    def with_value(self, key: str, text: str, at: str | None = None) -> ProcedureRecord:
        """A copy with ``key`` set from ``text`` (validated); ``at`` stamps answers (default: now).

        Raises:
            UsguideError: unknown or identifying key, or a value the schema refuses.
        """
        key = canonical_key(key)
        value = parse_value(FIELDS[key], text, now_iso() if at is None else at)
        head, _, tail = key.partition(".")
        if not tail:
            return dataclasses.replace(self, **{head: value})
        part = dataclasses.replace(getattr(self, head), **{tail: value})
        return dataclasses.replace(self, **{head: part})

    def to_json(self) -> dict:
        """The meta.json ``procedure`` object (``version`` first)."""
        data = {"version": PROCEDURE_VERSION, **dataclasses.asdict(self)}
        data["imaging_alongside"] = list(self.imaging_alongside)
        if not self.legacy:
            del data["legacy"]
        return data

    @classmethod
    def from_json(cls, data: dict | None) -> ProcedureRecord:
        """Reads meta.json's ``procedure``; a free-form one (no ``version``) is migrated.

        Raises:
            UsguideError: a structured record of an unknown version, or one that does not validate.
        """
        data = dict(data or {})
        if "version" not in data:
            return migrate_legacy(data)
        if data.pop("version") != PROCEDURE_VERSION:
            raise UsguideError(
                "the session's procedure record has an unknown version; update usguide"
            )
        try:
            return _from_structured(data)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise UsguideError(
                f"the session's procedure record is damaged ({exc}); the session is damaged"
            ) from None


def now_iso() -> str:
    """Wall-clock time with UTC offset, to the second (when an answer was given)."""
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def canonical_key(key: str) -> str:
    """The schema's dotted key for ``key`` (aliases resolved).

    Raises:
        UsguideError: an identifying key (patient name, birth date, ...) or an unknown one.
    """
    key = key.strip()
    lowered = key.lower()
    if any(word in lowered for word in _IDENTIFYING):
        raise UsguideError(
            f"procedure field {key!r} is refused: no patient name or birth date is stored; "
            "give a pseudonymous case_id instead"
        )
    key = ALIASES.get(key, key)
    if key not in FIELDS:
        raise UsguideError(f"unknown procedure field {key!r}; known fields: {', '.join(FIELDS)}")
    return key


def parse_value(spec: FieldSpec, text: str, at: str) -> Any:
    """The typed value of ``text`` for ``spec`` (an ``Answer`` for checklist items).

    Raises:
        UsguideError: a value outside the choices or range, or date-like free text.
    """
    text = str(text).strip()
    if spec.kind == "answer":
        return Answer(_choice(spec, text), at)
    if spec.kind == "choice":
        return _choice(spec, text)
    if spec.kind == "choices":
        items = tuple(dict.fromkeys(_choice(spec, p) for p in text.split(",") if p.strip()))
        return tuple(item for item in items if item != "none")
    if spec.kind in ("int", "float"):
        try:
            number: float = int(text) if spec.kind == "int" else float(text)
        except ValueError:
            raise UsguideError(f"{spec.key} must be a number, got {text!r}") from None
        if not spec.low <= number <= spec.high:
            raise UsguideError(f"{spec.key} must be {spec.low:g}..{spec.high:g}, got {text}")
        return number
    if _DATE_LIKE.search(text):
        raise UsguideError(
            f"{spec.key} {text!r} looks like a date: no birth date is stored; leave dates out"
        )
    if spec.key == "case_id" and not _CASE_ID.fullmatch(text):
        raise UsguideError(
            f"case_id {text!r} must be a pseudonym of 1-40 letters, digits, '.', '_' or '-'"
        )
    if not text:
        raise UsguideError(f"{spec.key} is empty; give a value")
    return text


def _choice(spec: FieldSpec, text: str) -> str:
    value = text.lower().replace("-", "_").replace(" ", "_")
    value = {"na": "not_applicable", "n/a": "not_applicable", "x_ray": "xray"}.get(value, value)
    if value not in spec.choices:
        raise UsguideError(f"{spec.key} must be one of {', '.join(spec.choices)}, got {text!r}")
    return value


def parse_assignments(
    items: list[str], base: ProcedureRecord | None = None, at: str | None = None
) -> ProcedureRecord:
    """Applies ``["type=biopsy", "gauge=18", ...]`` (``--procedure``) to ``base`` (default: empty).

    Raises:
        UsguideError: an item without ``=``, or a key or value the schema refuses.
    """
    record = base or ProcedureRecord()
    at = now_iso() if at is None else at
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsguideError(f"bad --procedure {item!r}: expected KEY=VALUE, e.g. type=biopsy")
        record = record.with_value(key, value, at)
    return record


def migrate_legacy(data: dict) -> ProcedureRecord:
    """A free-form record (format 1 before the procedure schema): known fields that validate are
    taken over, the rest is kept in ``legacy`` as text; identifying keys are dropped."""
    record = ProcedureRecord()
    legacy: dict[str, str] = {}
    for key, value in data.items():
        try:
            record = record.with_value(str(key), str(value), at="")
        except UsguideError:
            if not any(word in str(key).lower() for word in _IDENTIFYING):
                legacy[str(key)] = str(value)
    return dataclasses.replace(record, legacy=legacy)


def _from_structured(data: dict) -> ProcedureRecord:
    def answers(section: dict | None) -> dict:
        return {k: (Answer(v["value"], v.get("at", "")) if isinstance(v, dict) else v)
                for k, v in (section or {}).items()}  # fmt: skip

    for key in data:
        if any(word in key.lower() for word in _IDENTIFYING):
            raise ValueError(f"identifying key {key!r}")
    return ProcedureRecord(
        type=data.get("type"),
        biopsy_site=data.get("biopsy_site"),
        region=data.get("region"),
        side=data.get("side"),
        guidance=data.get("guidance") or "ultrasound",
        imaging_alongside=tuple(data.get("imaging_alongside") or ()),
        needle=NeedleSpec(**(data.get("needle") or {})),
        operator_role=data.get("operator_role"),
        case_id=data.get("case_id"),
        checklist=Checklist(**answers(data.get("checklist"))),
        after=AfterProcedure(**answers(data.get("after"))),
        outcome=Outcome(**(data.get("outcome") or {})),
        legacy={str(k): str(v) for k, v in (data.get("legacy") or {}).items()},
    )


@dataclass(frozen=True)
class Flag:
    """Something a reviewer should look at: ``missing``, ``contradiction`` or ``caution``."""

    kind: str
    key: str
    message: str


# Answered before the needle goes in: their absence is flagged.
_REQUIRED = ("type", "region", "side", "needle.gauge", "needle.length_mm", "operator_role",
             "case_id")  # fmt: skip


def flags(record: ProcedureRecord) -> list[Flag]:
    """Missing and contradictory answers (never an error: the procedure is not blocked)."""
    out: list[Flag] = []
    for key in _REQUIRED:
        if record.get(key) is None:
            out.append(Flag("missing", key, f"{FIELDS[key].label} not given"))
    if record.type == "biopsy" and record.biopsy_site is None:
        out.append(Flag("missing", "biopsy_site", "biopsy site (breast or other) not given"))
    for name in CHECKLIST:
        if getattr(record.checklist, name) is None:
            key = f"checklist.{name}"
            out.append(Flag("missing", key, f"checklist: {FIELDS[key].label} not answered"))
    out.extend(_contradictions(record))
    return out


def _answer(record: ProcedureRecord, name: str) -> str | None:
    answer = getattr(record.checklist, name)
    return None if answer is None else answer.value


def _contradictions(record: ProcedureRecord) -> list[Flag]:
    out: list[Flag] = []
    xray = [m for m in record.imaging_alongside if m in ("xray", "ct")]
    if xray and _answer(record, "pregnancy_excluded") != "yes":
        out.append(Flag("contradiction", "checklist.pregnancy_excluded",
                        f"{'/'.join(m.upper() for m in xray)} used alongside but pregnancy "
                        "not excluded"))  # fmt: skip
    if xray and _answer(record, "contrast_allergy_checked") == "no":
        out.append(Flag("caution", "checklist.contrast_allergy_checked",
                        "X-ray/CT used alongside and contrast allergy not checked"))  # fmt: skip
    if _answer(record, "local_anaesthesia") == "yes" and (
        _answer(record, "anaesthetic_allergy_checked") != "yes"
    ):
        out.append(Flag("contradiction", "checklist.anaesthetic_allergy_checked",
                        "local anaesthesia given but anaesthetic allergy not checked"))  # fmt: skip
    if _answer(record, "skin_disinfected") in ("no", "not_applicable"):
        out.append(Flag("caution", "checklist.skin_disinfected",
                        "skin not disinfected per protocol"))  # fmt: skip
    if _answer(record, "anticoagulant") == "ongoing":
        out.append(Flag("caution", "checklist.anticoagulant", "anticoagulant treatment ongoing"))
    if record.type != "biopsy" and record.biopsy_site is not None:
        out.append(Flag("contradiction", "biopsy_site", "biopsy site given for a non-biopsy"))
    if record.outcome.histology is not None and record.type != "biopsy":
        out.append(Flag("contradiction", "outcome.histology",
                        "histology recorded for a procedure that is not a biopsy"))  # fmt: skip
    if record.type == "biopsy" and record.outcome.histology in (None, "pending"):
        out.append(Flag("missing", "outcome.histology", "histology pending"))
    return out
