"""The choices the window's runtime is built from (``usguide run``'s options) and the source it
opens when none is given. No Qt here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from usguide.defaults import BUDGET_MS, DISPLAY_MODES
from usguide.types import FrameResult, Roi

if TYPE_CHECKING:
    from usguide.settings import SettingsStore


@dataclass
class RuntimeOptions:
    """Everything ``usguide run`` passes on (see ``commands/run.py``)."""

    spec: str | None = None
    roi: Roi | None = None
    mm_per_px: float | None = None
    depth_mm: float | None = None
    fps: float | None = None
    backend: str = "any"
    detector: str = "onnx"
    model: str | None = None
    provider: str = "cpu"
    threads: int | None = None
    budget_ms: float = BUDGET_MS
    display_mode: str = DISPLAY_MODES[0]
    record_dir: Path | None = None
    output_dir: Path = field(default_factory=lambda: Path.cwd() / "usguide-output")
    loop: bool = True
    # Called on the worker thread with every paired result (e.g. an OpenIGTLink server's publish);
    # must not block: the frame path waits for it.
    result_consumers: list[Callable[[FrameResult], None]] = field(default_factory=list)
    keep_burned_in: bool = False  # snapshots and DICOM recordings keep text outside the region
    settings: SettingsStore | None = None  # remembered region and scale per source (gui/recall.py)


def default_spec() -> str:
    """The bundled demo recording when present, else the simulator: guidance at once."""
    from usguide.paths import demo_recording_path

    return "demo" if (demo_recording_path() / "meta.json").exists() else "sim"
