"""Defaults shared across packages: one place for each (the latency budget, the fallback frame
rate, the display modes, the statistics' warm-up). Plain constants, no imports."""

from __future__ import annotations

BUDGET_MS = 50.0  # capture-to-result latency budget, ms (``--budget-ms``, ``--budget``)
FALLBACK_FPS = 30.0  # frame rate assumed when a source reports none (and for image folders)
DISPLAY_MODES = ("paired", "lowest-latency")  # the first is the default
WARMUP_FRAMES = 10  # first frames left out of the latency statistics
IGTL_PORT = 18944  # the OpenIGTLink port 3D Slicer and PLUS use by default (``--igtl``)
