"""The bundled model on the real Clarius clip (from ../shared/real/, skipped when absent).

The clip has no labels, but its geometry is known: the faint needle enters from the upper right and
stays in the upper part of the image, while the bright fascia line (the classic false positive) runs
diagonally from about (0, 380) to (940, 740) in full-frame pixels. The overlay must follow the
needle, never the fascia.
"""

from __future__ import annotations

import math

import pytest

from usguide.analysis.analyzer import FrameAnalyzer
from usguide.paths import default_model_path
from usguide.sources.factory import make_source
from usguide.types import Roi

FASCIA = ((0.0, 380.0), (940.0, 740.0))
FRAMES = 90


def distance_to_fascia(x: float, y: float) -> float:
    (x0, y0), (x1, y1) = FASCIA
    return abs((y1 - y0) * x - (x1 - x0) * y + x1 * y0 - y1 * x0) / math.dist(*FASCIA)


def test_model_follows_the_needle_not_the_fascia(real_clip):  # noqa: ANN001
    if not default_model_path().exists():
        pytest.skip("no bundled model")
    from usguide.detect.onnx_detector import OnnxDetector

    analyzer = FrameAnalyzer(OnnxDetector(), roi=Roi(0, 0, 1030, 860))
    needles = []
    with make_source(str(real_clip)) as source:
        for _ in range(FRAMES):
            frame = source.read()
            assert frame is not None
            needles.append(analyzer.process(frame).needle)
    found = [needle for needle in needles if needle is not None]
    assert len(found) >= 0.8 * FRAMES  # the needle is there in every frame of this clip
    for needle in found:
        assert needle.entry.x > needle.tip.x  # enters from the right
        assert 5.0 < needle.angle_deg < 40.0
        assert needle.tip.y < 330 and needle.entry.y < 250  # upper part of the image
        assert distance_to_fascia(*needle.tip) > 100  # never on the fascia line
