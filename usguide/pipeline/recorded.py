"""Moved to ``usguide.analysis.recorded``; kept for old imports."""

from usguide.analysis.recorded import RecordedAnalyzer  # noqa: F401
