"""The procedure panel: procedure type, needle, case ID and the precautions checklist, before and
during a recording.

Answers given before recording go into the session's meta.json (``record()``); once a recording
runs (``attach``), each answer is appended to the session's edit log with its time, never
rewriting what was recorded. Missing and contradictory answers show as flags; nothing is blocked.
"""

from __future__ import annotations

from pathlib import Path

from PyQt5 import QtCore, QtWidgets

from usguide.errors import UsguideError
from usguide.record.procedure import FIELDS, ProcedureRecord, flags, now_iso
from usguide.record.procedure_log import append_edit

# What the panel asks, in order; the rest (outcome, ...) is edited later (usguide session edit).
PANEL_KEYS = (
    "type", "biopsy_site", "region", "side", "imaging_alongside", "needle.gauge",
    "needle.length_mm", "operator_role", "case_id",
    *(key for key in FIELDS if key.startswith("checklist.")),
    "after.dressing", "after.rest_instructions",
)  # fmt: skip


class ProcedurePanel(QtWidgets.QGroupBox):
    """Procedure fields and checklist; ``changed(key, value)`` after each accepted answer."""

    changed = QtCore.pyqtSignal(str, str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Procedure", parent)
        self._record = ProcedureRecord()
        self._session: Path | None = None
        self.widgets: dict[str, QtWidgets.QWidget] = {}
        form = QtWidgets.QFormLayout(self)
        form.setContentsMargins(6, 6, 6, 6)
        for key in PANEL_KEYS:
            spec = FIELDS[key]
            if spec.kind in ("choice", "answer"):
                widget = QtWidgets.QComboBox()
                widget.addItems(["", *spec.choices])
                widget.currentTextChanged.connect(lambda text, k=key: self._answer(k, text))
            else:
                widget = QtWidgets.QLineEdit()
                widget.setPlaceholderText(
                    "xray,ct,mri or none" if spec.kind == "choices" else spec.kind
                )
                widget.editingFinished.connect(lambda k=key, w=widget: self._answer(k, w.text()))
            widget.setToolTip(spec.label)
            self.widgets[key] = widget
            form.addRow(spec.label, widget)
        self.flags_label = QtWidgets.QLabel()
        self.flags_label.setWordWrap(True)
        form.addRow(self.flags_label)
        self._show_flags()

    def record(self) -> ProcedureRecord:
        """The record as answered so far (what a new recording stores in meta.json)."""
        return self._record

    def attach(self, session: Path | None) -> None:
        """From now on, answers are appended to ``session``'s edit log (None: stop)."""
        self._session = session

    def set_answer(self, key: str, text: str) -> None:
        """Sets a field as if the user had answered it (tests, restoring a form)."""
        widget = self.widgets[key]
        if isinstance(widget, QtWidgets.QComboBox):
            widget.setCurrentText(text)
        else:
            widget.setText(text)
            self._answer(key, text)

    def _answer(self, key: str, text: str) -> None:
        if not text.strip():
            return
        try:
            self._record = self._record.with_value(key, text, at=now_iso())
            if self._session is not None:
                append_edit(self._session, [f"{key}={text}"], by="gui")
        except UsguideError as exc:
            self.flags_label.setText(f"<span style='color:#c00'>{exc}</span>")
            return
        self._show_flags()
        self.changed.emit(key, text)

    def _show_flags(self) -> None:
        found = flags(self._record)
        serious = [f for f in found if f.kind != "missing"]
        missing = len(found) - len(serious)
        lines = [f"<span style='color:#c00'>⚠ {f.message}</span>" for f in serious]
        lines.append(f"{missing} answer(s) missing" if missing else "all answered")
        self.flags_label.setText("<br>".join(lines))
