"""The detector interface: an image region in, needle probability maps out.

Both the ONNX model and the classical ridge detector implement ``Detector``; post-processing turns
``NeedleMaps`` into a shaft line, tip and confidence the same way for both.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

import numpy as np


@dataclass
class NeedleMaps:
    """Per-pixel needle evidence over the whole image region, possibly at a reduced resolution.

    Attributes:
        shaft: float32 (h, w) in 0..1, probability that a pixel lies on the needle shaft.
        tip: float32 (h, w) in 0..1 tip heatmap, same size as ``shaft``; None if the detector has
            none.
        scale_x: region pixels per map pixel along x
            (map u -> region x = (u + 0.5) * scale_x - 0.5).
        scale_y: region pixels per map pixel along y.
    """

    shaft: np.ndarray
    tip: np.ndarray | None
    scale_x: float = 1.0
    scale_y: float = 1.0


class Detector(abc.ABC):
    """Finds needle evidence in a grey uint8 image region (HxW, C-contiguous)."""

    name: str = "detector"
    # Optional ability: a detector that can shrink its input under overload has a float here
    # (1.0: full size; the budget monitor steers it); None: automatic, never steered.
    input_scale: float | None = None

    @abc.abstractmethod
    def infer(self, region: np.ndarray) -> NeedleMaps:
        """Returns the needle maps for one image region (grey uint8)."""

    def reset(self) -> None:  # noqa: B027 - optional hook, most detectors remember nothing
        """Forgets what earlier frames taught (new source, seek, loop). Default: nothing to do."""

    def close(self) -> None:  # noqa: B027 - optional hook, most detectors hold nothing
        """Releases resources (sessions, threads). Idempotent."""
