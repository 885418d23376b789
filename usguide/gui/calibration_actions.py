"""The window's image-region and scale actions: select the region by hand or find it (and read
the depth ruler's scale), type a depth or a scale, and show the result in the controls.
"""

from __future__ import annotations

from collections.abc import Callable

from usguide.errors import UsguideError
from usguide.gui.controls import ControlsPanel
from usguide.gui.image_view import ImageView
from usguide.gui.runtime import Runtime


class CalibrationActions:
    """Connects the controls' region and scale inputs and the image view's region selection to
    ``runtime``'s calibration.

    Args:
        runtime: owns the calibration.
        controls: the region buttons and the depth/scale inputs; shows the calibration.
        image_view: where the user drags the region.
        report_error: shows a one-line error to the user.
        show_message: shows a status message for some milliseconds.
    """

    def __init__(
        self,
        runtime: Runtime,
        controls: ControlsPanel,
        image_view: ImageView,
        report_error: Callable[[str], None],
        show_message: Callable[[str, int], None],
    ) -> None:
        self.runtime = runtime
        self.controls = controls
        self.image_view = image_view
        self._error = report_error
        self._message = show_message
        image_view.region_selected.connect(self._on_region_selected)
        controls.select_region.connect(self._on_select_region)
        controls.auto_region.connect(self._on_auto_region)
        controls.calibration_changed.connect(self._on_calibration)

    def _on_select_region(self, selecting: bool) -> None:
        if selecting:
            self.image_view.begin_region_selection()
        else:
            self.image_view.finish_region_selection()

    def _on_region_selected(self, roi: object) -> None:
        self._apply_calibration(roi=roi)

    def _on_auto_region(self) -> None:
        """The Auto button: the image region, then the scale from the screen's depth ruler."""
        try:
            roi = self.runtime.detect_region()
        except UsguideError as exc:
            self._error(str(exc))
            return
        self._apply_calibration(roi=roi)
        reading = self.runtime.read_ruler(roi)
        self.show()
        self._message(reading.message, 8000)

    def _on_calibration(self, depth_mm: object, mm_per_px: object) -> None:
        self._apply_calibration(depth_mm=depth_mm, mm_per_px=mm_per_px)

    def _apply_calibration(self, **changes: object) -> None:
        try:
            self.runtime.set_calibration(**changes)
        except UsguideError as exc:
            self._error(str(exc))
        self.show()

    def show(self) -> None:
        """Shows the runtime's depth, scale and where the scale came from in the controls."""
        runtime = self.runtime
        self.controls.show_calibration(runtime.depth_mm, runtime.mm_per_px, runtime.scale_source)
