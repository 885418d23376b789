"""The procedure record's edit log (``procedure_log.jsonl``): later answers appended, not rewritten.

meta.json keeps the record as it was when recording started; every later change (a checklist
answer given during recording, histology arriving weeks later) is one appended line saying who,
when and what (with the value it replaced). The current record is the first one with the edits
applied in order.
"""

from __future__ import annotations

import getpass
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from usguide.errors import UsguideError
from usguide.record.format import META_FILE, PROCEDURE_LOG_FILE
from usguide.record.procedure import (
    FIELDS,
    Answer,
    Flag,
    ProcedureRecord,
    canonical_key,
    flags,
    now_iso,
)


@dataclass(frozen=True)
class Edit:
    """One appended change: when (ISO 8601), by whom, the new values and the ones they replaced."""

    at: str
    by: str
    changes: dict[str, str]
    previous: dict[str, str | None]

    def to_json(self) -> dict:
        return {"at": self.at, "by": self.by, "set": self.changes, "was": self.previous}


@dataclass(frozen=True)
class SessionProcedure:
    """A session's procedure record: as recorded, the edits since, and the result."""

    recorded: ProcedureRecord
    edits: list[Edit]
    current: ProcedureRecord

    @property
    def flags(self) -> list[Flag]:
        return flags(self.current)


def value_text(value: Any) -> str | None:
    """A record value as the text ``with_value`` takes back (None when unset)."""
    if value is None:
        return None
    if isinstance(value, Answer):
        return value.value
    if isinstance(value, tuple):
        return ",".join(value) if value else "none"
    return str(value)


def read_meta(folder: str | Path) -> dict:
    """meta.json of a session folder, without opening its video.

    Raises:
        UsguideError: not a session folder, or meta.json unreadable.
    """
    path = Path(folder) / META_FILE
    if not path.is_file():
        raise UsguideError(f"{folder} is not a usguide session (no {META_FILE}); give a session")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsguideError(f"{path} is unreadable ({exc}); the session is damaged") from None
    if not isinstance(meta, dict):
        raise UsguideError(f"{path} is not a JSON object; the session is damaged")
    return meta


def read_edits(folder: str | Path) -> list[Edit]:
    """The edits of a session in order (a partial last line, cut by a crash, is ignored)."""
    path = Path(folder) / PROCEDURE_LOG_FILE
    edits: list[Edit] = []
    if not path.is_file():
        return edits
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.endswith("\n"):
                break
            try:
                data = json.loads(line)
                edits.append(
                    Edit(str(data["at"]), str(data["by"]), dict(data["set"]), dict(data["was"]))
                )
            except (ValueError, KeyError, TypeError):
                continue
    return edits


def apply_edits(record: ProcedureRecord, edits: list[Edit]) -> ProcedureRecord:
    """``record`` with ``edits`` applied in order (answers stamped with the edit's time)."""
    for edit in edits:
        for key, text in edit.changes.items():
            try:
                record = record.with_value(key, text, at=edit.at)
            except UsguideError:
                continue  # written by a newer usguide with a field this one does not know
    return record


def session_procedure(folder: str | Path) -> SessionProcedure:
    """The procedure record of a session folder, its edits and the current record.

    Raises:
        UsguideError: not a session, or a damaged record.
    """
    recorded = ProcedureRecord.from_json(read_meta(folder).get("procedure"))
    edits = read_edits(folder)
    return SessionProcedure(recorded, edits, apply_edits(recorded, edits))


def append_edit(
    folder: str | Path, assignments: list[str], by: str | None = None, at: str | None = None
) -> Edit:
    """Validates ``["outcome.histology=benign", ...]`` and appends them as one edit.

    Raises:
        UsguideError: not a session, nothing to set, or a key or value the schema refuses.
    """
    if not assignments:
        raise UsguideError("nothing to set: give --set KEY=VALUE, e.g. outcome.histology=benign")
    state = session_procedure(folder)
    at = now_iso() if at is None else at
    record = state.current
    changes: dict[str, str] = {}
    previous: dict[str, str | None] = {}
    for item in assignments:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UsguideError(f"bad --set {item!r}: expected KEY=VALUE, e.g. histology=benign")
        key = canonical_key(key)
        previous.setdefault(key, value_text(record.get(key)))
        record = record.with_value(key, text, at=at)
        changes[key] = value_text(record.get(key)) or ""
    edit = Edit(at, by or _user(), changes, previous)
    path = Path(folder) / PROCEDURE_LOG_FILE
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(edit.to_json()) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise UsguideError(f"cannot append to {path}: {exc.strerror}") from None
    return edit


def describe_field(key: str) -> str:
    """The label people read for a dotted key."""
    spec = FIELDS.get(key)
    return spec.label if spec is not None else key


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
