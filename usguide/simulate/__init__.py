"""Physics-based B-mode simulator of in-plane needle insertions with exact ground truth."""

from usguide.simulate.clip import simulate_clip
from usguide.simulate.config import GroundTruth, SimConfig, SimFrame, random_config

__all__ = ["GroundTruth", "SimConfig", "SimFrame", "random_config", "simulate_clip"]
