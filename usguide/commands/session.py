"""``usguide session show|edit``: a session's procedure record, its flags and its edit history.

``edit`` appends to the session's edit log (who, when, what it replaced); nothing recorded is
ever rewritten (see usguide/record/FORMAT.md).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from usguide.record.procedure import FIELDS
from usguide.record.procedure_log import (
    SessionProcedure,
    append_edit,
    session_procedure,
    value_text,
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers ``usguide session``."""
    parser = subparsers.add_parser(
        "session",
        help="show or edit a session's procedure record",
        description="Show a session's procedure record (with missing or contradictory answers "
        "flagged and its edit history), or append an edit to it.",
        epilog="examples:\n"
        "  usguide session show sessions/s1\n"
        "  usguide session edit sessions/s1 --set outcome.histology=benign --by trainer",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser(
        "show",
        help="print the procedure record, flags and edit history",
        description="Print a session's procedure record, its flags (missing or contradictory "
        "answers) and its edit history.",
        epilog="examples:\n  usguide session show sessions/s1\n"
        "  usguide session show sessions/s1 --json",
    )
    show.add_argument("session", type=Path, metavar="SESSION", help="session folder")
    show.add_argument("--json", action="store_true", help="print JSON instead of text")
    show.set_defaults(func=run)
    edit = actions.add_parser(
        "edit",
        help="append an edit (e.g. --set outcome.histology=benign)",
        description="Append one edit to the session's procedure log; history is never rewritten. "
        "Fields: " + ", ".join(FIELDS),
        epilog="examples:\n"
        "  usguide session edit sessions/s1 --set outcome.histology=benign\n"
        "  usguide session edit sessions/s1 --set outcome.pain_followup=2 --by 'Dr Martin'",
    )
    edit.add_argument("session", type=Path, metavar="SESSION", help="session folder")
    edit.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="field to set, e.g. outcome.histology=benign (repeatable)",
    )
    edit.add_argument("--by", metavar="WHO", help="who edits (default: the login name)")
    edit.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Shows or edits; prints what it did."""
    if args.action == "edit":
        edit = append_edit(args.session, args.assignments, by=args.by)
        changes = ", ".join(f"{key}={value}" for key, value in edit.changes.items())
        print(f"{args.session}: {changes} (by {edit.by} at {edit.at})")
        return 0
    state = session_procedure(args.session)
    if args.json:
        print(json.dumps(state_json(state), indent=2))
    else:
        print("\n".join(state_lines(state)))
    return 0


def state_json(state: SessionProcedure) -> dict:
    """The current record, its flags and the edit history as one JSON object."""
    return {
        "procedure": state.current.to_json(),
        "flags": [{"kind": f.kind, "key": f.key, "message": f.message} for f in state.flags],
        "edits": [edit.to_json() for edit in state.edits],
    }


def state_lines(state: SessionProcedure) -> list[str]:
    """The record as lines people read: fields, flags, then the edit history."""
    record = state.current
    lines = ["procedure record:"]
    for key, spec in FIELDS.items():
        value = record.get(key)
        text = value_text(value)
        when = getattr(value, "at", "")
        suffix = f" (answered {when})" if when else ""
        lines.append(f"  {spec.label}: {text if text is not None else '-'}{suffix}")
    for key, value in record.legacy.items():
        lines.append(f"  {key} (older free-form field): {value}")
    lines.append("flags:" if state.flags else "flags: none")
    lines.extend(f"  [{f.kind}] {f.message}" for f in state.flags)
    lines.append("edits:" if state.edits else "edits: none")
    for edit in state.edits:
        changes = ", ".join(
            f"{key}: {edit.previous.get(key) or '-'} -> {value}"
            for key, value in edit.changes.items()
        )
        lines.append(f"  {edit.at} by {edit.by}: {changes}")
    return lines
