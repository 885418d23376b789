"""Moved to ``usguide.sources.simulator`` (sources own every FrameSource); kept for old imports."""

from usguide.sources.simulator import CLIP_FRAMES, SimulatorSource  # noqa: F401
