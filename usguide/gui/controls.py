"""The side panel: source picker, image region, calibration, record/freeze/snapshot, overlay."""

from __future__ import annotations

from PyQt5 import QtCore, QtWidgets

from usguide.gui.overlay import OverlayToggles

# Fixed entries of the source picker: (label, spec or a chooser keyword handled by ``pick_spec``).
SOURCE_CHOICES = (
    ("Simulator", "sim"),
    ("Demo recording", "demo"),
    ("Video / image file…", "?file"),
    ("DICOM file…", "?dicom"),
    ("Recording folder…", "?recording"),
)


def list_device_choices() -> list[tuple[str, str]]:
    """Capture devices as (label, spec); empty when the device listing is unavailable."""
    try:
        from usguide.sources.device import list_devices  # noqa: PLC0415 - optional, may be missing
    except ImportError:
        return []
    try:
        devices = list_devices()
    except Exception:  # noqa: BLE001 - a failing probe must not break the picker
        return []
    choices = []
    for device in devices:
        spec = getattr(device, "spec", None) or f"device:{getattr(device, 'index', 0)}"
        choices.append((f"Device: {getattr(device, 'name', spec)}", str(spec)))
    return choices


class ControlsPanel(QtWidgets.QWidget):
    """Emits what the user asks for; the main window carries it out.

    Signals:
        source_requested(str): a source spec (``sim``, ``demo``, a path, a device spec).
        select_region(bool): True to start dragging the region rectangle, False to apply it.
        auto_region(), calibration_changed(object, object): (depth_mm or None, mm_per_px or None).
        record_toggled(bool), freeze_toggled(bool), snapshot(), full_capture_toggled(bool),
        toggles_changed(object): the new ``OverlayToggles``.
    """

    source_requested = QtCore.pyqtSignal(str)
    select_region = QtCore.pyqtSignal(bool)
    auto_region = QtCore.pyqtSignal()
    calibration_changed = QtCore.pyqtSignal(object, object)
    record_toggled = QtCore.pyqtSignal(bool)
    freeze_toggled = QtCore.pyqtSignal(bool)
    snapshot = QtCore.pyqtSignal()
    full_capture_toggled = QtCore.pyqtSignal(bool)
    toggles_changed = QtCore.pyqtSignal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(290)  # room for "Drag region" and "40.0 mm" side by side
        self.setMaximumWidth(330)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 6)
        layout.addWidget(self._source_box())
        layout.addWidget(self._region_box())
        layout.addWidget(self._action_box())
        layout.addWidget(self._overlay_box())
        layout.addStretch(1)
        self.source_label = QtWidgets.QLabel("")
        self.source_label.setWordWrap(True)
        layout.addWidget(self.source_label)

    # -- boxes ---------------------------------------------------------------------------------
    def _source_box(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Source")
        grid = QtWidgets.QHBoxLayout(box)
        self.source_combo = QtWidgets.QComboBox()
        for label, spec in list_device_choices() + list(SOURCE_CHOICES):
            self.source_combo.addItem(label, spec)
        grid.addWidget(self.source_combo, 1)
        open_button = QtWidgets.QPushButton("Open")
        open_button.clicked.connect(self._on_open)
        grid.addWidget(open_button)
        return box

    def _region_box(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Image region and scale")
        form = QtWidgets.QGridLayout(box)
        self.select_button = QtWidgets.QPushButton("Drag region")
        self.select_button.setCheckable(True)
        self.select_button.setToolTip(
            "Drag the rectangle over the ultrasound image, then press again to apply"
        )
        self.select_button.toggled.connect(self._on_select_toggled)
        auto_button = QtWidgets.QPushButton("Auto")
        auto_button.setToolTip(
            "Find the ultrasound image region and read the scale off the screen's depth ruler"
        )
        auto_button.clicked.connect(self.auto_region.emit)
        form.addWidget(self.select_button, 0, 0)
        form.addWidget(auto_button, 0, 1)
        self.full_capture = QtWidgets.QCheckBox("Show full capture")
        self.full_capture.toggled.connect(self.full_capture_toggled.emit)
        form.addWidget(self.full_capture, 1, 0, 1, 2)
        self.depth_mm = self._spin(0.0, 400.0, 1, " mm")
        self.mm_per_px = self._spin(0.0, 5.0, 4, "")
        form.addWidget(QtWidgets.QLabel("Depth"), 2, 0)
        form.addWidget(self.depth_mm, 2, 1)
        form.addWidget(QtWidgets.QLabel("mm / px"), 3, 0)
        form.addWidget(self.mm_per_px, 3, 1)
        apply_button = QtWidgets.QPushButton("Apply scale")
        apply_button.clicked.connect(self._on_apply_calibration)
        form.addWidget(apply_button, 4, 0, 1, 2)
        self.scale_source = QtWidgets.QLabel("scale: unknown")
        self.scale_source.setWordWrap(True)
        form.addWidget(self.scale_source, 5, 0, 1, 2)
        return box

    def _action_box(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Session")
        grid = QtWidgets.QGridLayout(box)
        self.record_button = QtWidgets.QPushButton("● Record")
        self.record_button.setCheckable(True)
        self.record_button.toggled.connect(self.record_toggled.emit)
        self.freeze_button = QtWidgets.QPushButton("Freeze")
        self.freeze_button.setCheckable(True)
        self.freeze_button.toggled.connect(self.freeze_toggled.emit)
        snapshot_button = QtWidgets.QPushButton("Snapshot")
        snapshot_button.clicked.connect(self.snapshot.emit)
        grid.addWidget(self.record_button, 0, 0)
        grid.addWidget(self.freeze_button, 0, 1)
        grid.addWidget(snapshot_button, 1, 0, 1, 2)
        return box

    def _overlay_box(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Overlay")
        column = QtWidgets.QVBoxLayout(box)
        self.toggle_boxes: dict[str, QtWidgets.QCheckBox] = {}
        for name, label in (
            ("shaft", "Needle and tip"),
            ("trajectory", "Projected path"),
            ("labels", "Angle and confidence"),
            ("target", "Target"),
        ):
            check = QtWidgets.QCheckBox(label)
            check.setChecked(True)
            check.toggled.connect(self._on_toggle)
            column.addWidget(check)
            self.toggle_boxes[name] = check
        return box

    @staticmethod
    def _spin(low: float, high: float, decimals: int, suffix: str) -> QtWidgets.QDoubleSpinBox:
        spin = QtWidgets.QDoubleSpinBox()
        spin.setRange(low, high)
        spin.setDecimals(decimals)
        spin.setSuffix(suffix)
        spin.setSpecialValueText("unknown")
        return spin

    # -- slots ---------------------------------------------------------------------------------
    def _on_open(self) -> None:
        spec = self.pick_spec(str(self.source_combo.currentData()))
        if spec:
            self.source_requested.emit(spec)

    def show_source(self, spec: str | None, kind: str | None = None) -> None:
        """Selects the picker entry of the open source, or the chooser of its kind."""
        index = self.source_combo.findData(spec) if spec else -1
        if index < 0:
            chooser = {"simulator": "sim", "dicom": "?dicom", "recording": "?recording"}
            index = self.source_combo.findData(chooser.get(kind or "", "?file"))
        if index >= 0:
            self.source_combo.setCurrentIndex(index)

    def pick_spec(self, choice: str) -> str | None:
        """Turns a picker entry into a source spec, asking for a path when needed."""
        if not choice.startswith("?"):
            return choice
        if choice == "?recording":
            return QtWidgets.QFileDialog.getExistingDirectory(self, "Recording folder") or None
        filters = {
            "?file": "Video and images (*.mp4 *.avi *.mkv *.mov *.png *.jpg *.jpeg *.bmp);;"
            "All files (*)",
            "?dicom": "DICOM (*.dcm *.dicom *);;All files (*)",
        }
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open", "", filters[choice])
        return path or None

    def _on_select_toggled(self, selecting: bool) -> None:
        self.select_button.setText("Apply region" if selecting else "Drag region")
        self.select_region.emit(selecting)

    def _on_apply_calibration(self) -> None:
        depth = self.depth_mm.value() or None
        scale = self.mm_per_px.value() or None
        self.calibration_changed.emit(depth, scale)

    def _on_toggle(self) -> None:
        self.toggles_changed.emit(
            OverlayToggles(**{k: c.isChecked() for k, c in self.toggles_boxes_items()})
        )

    def toggles_boxes_items(self) -> list[tuple[str, QtWidgets.QCheckBox]]:
        return list(self.toggle_boxes.items())

    def show_calibration(
        self, depth_mm: float | None, mm_per_px: float | None, source: str | None = None
    ) -> None:
        """Shows the calibration in use in the two fields, and where its scale came from
        (dicom, ruler, user, source, unknown)."""
        self.depth_mm.setValue(depth_mm or 0.0)
        self.mm_per_px.setValue(mm_per_px or 0.0)
        if source is not None:
            words = {"ruler": "depth ruler", "user": "typed", "source": "input", "dicom": "DICOM"}
            self.scale_source.setText(f"scale: {words.get(source, source)}")
