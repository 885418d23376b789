"""Moved to ``usguide.sources.replay`` (sources own every FrameSource); kept for old imports."""

from usguide.sources.replay import MAX_SPEED, MIN_SPEED, ReplayController  # noqa: F401
