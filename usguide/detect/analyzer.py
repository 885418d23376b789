"""Moved to ``usguide.analysis.analyzer`` (analysis sits above detect and track); old imports."""

from usguide.analysis.analyzer import FrameAnalyzer  # noqa: F401
