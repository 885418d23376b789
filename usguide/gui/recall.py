"""The display's use of the settings file: a source opens with its remembered region and scale
(those the command line did not give), and what it ran with is saved when it closes. No Qt here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from usguide.errors import UsguideError
from usguide.settings import REMEMBERED_SCALES, SettingsStore, SourceSettings
from usguide.types import Roi

if TYPE_CHECKING:
    from usguide.sources.calibrated import CalibratedSource

log = logging.getLogger(__name__)


class RuntimeOptions(Protocol):
    """What this module reads of ``usguide.gui.runtime.RuntimeOptions`` (which imports it)."""

    settings: SettingsStore | None
    roi: Roi | None
    mm_per_px: float | None
    depth_mm: float | None
    backend: str
    budget_ms: float
    display_mode: str


def given_options(
    roi: object = None,
    mm_per_px: object = None,
    depth_mm: object = None,
    budget_ms: object = None,
    display_mode: object = None,
) -> set[str]:
    """The settings the command line gave (not None), as ``SourceSettings.without`` names them."""
    given = {"roi": roi, "scale": mm_per_px or depth_mm, "budget_ms": budget_ms}
    given["display_mode"] = display_mode
    return {name for name, value in given.items() if value is not None}


def recall(options: RuntimeOptions, spec: str) -> SourceSettings:
    """The remembered values for ``spec`` that apply: region and scale unless the command line
    gave them; budget and display mode only as a note, when they are the ones in effect (they
    are chosen once per run, by ``usguide run``). Empty without a settings store."""
    store: SettingsStore | None = options.settings
    if store is None:
        return SourceSettings()
    given = given_options(options.roi, options.mm_per_px, options.depth_mm)
    entry = store.recall(spec, options.backend, given)
    if entry.budget_ms != options.budget_ms:
        entry.budget_ms = None
    if entry.display_mode != options.display_mode:
        entry.display_mode = None
    return entry


def apply_region(calibrated: CalibratedSource, entry: SourceSettings) -> str:
    """Gives the opened ``calibrated`` source the remembered region when it fits its frames (a
    grabber may now deliver another size: then one warning, and the region is not used).

    Returns:
        The status text, e.g. "remembered for demo: region 10,20,300,200, scale 0.1 mm/px
        (ruler)", or "" when nothing remembered applies.
    """
    if entry.roi is not None:
        info = calibrated.info
        try:
            entry.roi.check_inside(info.width, info.height)
            calibrated.roi = entry.roi
        except UsguideError as exc:
            log.warning("remembered region not used for %s: %s", entry.label, exc)
            entry.roi = None
    described = entry.describe()
    return f"remembered for {entry.label}: {described}" if described else ""


def save_source(
    options: RuntimeOptions,
    spec: str | None,
    calibrated: CalibratedSource | None,
    budget_ms: float,
) -> None:
    """Saves what ``spec`` ran with: the user's region, the typed or ruler scale, the budget and
    the display mode (a file's own scale is not saved: it is read from the file again)."""
    store = options.settings
    if store is None or spec is None or calibrated is None:
        return
    calibration = calibrated.current
    scale_from = calibration.scale_from
    remembered_scale = scale_from in REMEMBERED_SCALES
    entry = SourceSettings(
        roi=calibrated.roi,
        mm_per_px=calibration.mm_per_px if remembered_scale else None,
        scale_source=scale_from if remembered_scale else None,
        budget_ms=budget_ms,
        display_mode=options.display_mode,
    )
    store.remember(spec, options.backend, entry)
