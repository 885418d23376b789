"""The truth of a scripted clip (``SimConfig.script``), in the trainer's terms: redirections, tip
visibility, tip path and time to target, measured on the simulator's own needle, not on a detector.

Definitions follow ``usguide.review.metrics`` (so a clip can check them): the inserted span runs
from the first to the last frame the tip is visible (ground-truth label); the path is the true
tip's path over that span; time to target runs from the first visible tip to the first frame the
true tip is within 3 mm of the target (a fixed point in the frame, as a user's target is).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from usguide.simulate.clip import ClipRenderer
from usguide.simulate.config import GroundTruth

TARGET_HIT_MM = 3.0  # as usguide.review.metrics


def true_tips_px(renderer: ClipRenderer) -> np.ndarray:
    """(N, 2) the physical needle tip of every frame in full-frame pixels (NaN without a needle);
    tissue motion included (the needle moves with the tissue it is in)."""
    n = renderer.config.n_frames
    out = np.full((n, 2), np.nan)
    if renderer.plan is None:
        return out
    for index in range(n):
        pose = renderer.motion.move_needle(renderer.plan.pose(index), index)
        out[index] = _to_frame_px(renderer, pose.origin + pose.length * pose.direction)
    return out


def target_px(renderer: ClipRenderer) -> tuple[float, float] | None:
    """The clip's target (set or drawn) in full-frame pixels, where it lies without motion."""
    target = None if renderer.plan is None else renderer.plan.target
    if target is None:
        return None
    x, y = _to_frame_px(renderer, np.asarray(target, float))
    return float(x), float(y)


def script_truth(renderer: ClipRenderer, truths: Sequence[GroundTruth]) -> dict:
    """The true metrics of a rendered scripted clip (``truths``: its frames' labels, in order).

    Returns:
        A dict: ``redirections`` (count) and ``redirect_at_s`` (when each re-advance began),
        ``first_visible_s``, ``last_visible_s``, ``visible_fraction``, ``path_mm``,
        ``target_px`` and ``time_to_target_s`` (None without a target or when never reached).

    Raises:
        ValueError: the clip has no script.
    """
    script = renderer.config.script
    if script is None:
        raise ValueError("the clip has no insertion script: nothing is known for sure")
    fps = renderer.config.fps
    t_s = np.arange(len(truths)) / fps
    visible = np.array([truth.visible for truth in truths], bool)
    seen = np.flatnonzero(visible)
    redirections = script.redirections()
    out: dict = {
        "redirections": len(redirections),
        "redirect_at_s": [round(valley, 4) for _, valley in redirections],
        "first_visible_s": None,
        "last_visible_s": None,
        "visible_fraction": None,
        "path_mm": None,
        "target_px": target_px(renderer),
        "time_to_target_s": None,
    }
    if len(seen) == 0:
        return out
    first, last = int(seen[0]), int(seen[-1])
    tips = true_tips_px(renderer)
    scale = renderer.mm_per_px
    steps = np.linalg.norm(np.diff(tips[first : last + 1], axis=0), axis=1) * scale
    out.update(
        first_visible_s=float(t_s[first]),
        last_visible_s=float(t_s[last]),
        visible_fraction=float(np.mean(visible[first : last + 1])),
        path_mm=float(np.sum(steps)),
    )
    if out["target_px"] is not None:
        distance = np.linalg.norm(tips - np.asarray(out["target_px"]), axis=1) * scale
        hits = np.flatnonzero((distance <= TARGET_HIT_MM) & (np.arange(len(tips)) >= first))
        if len(hits):
            out["time_to_target_s"] = float(t_s[hits[0]] - t_s[first])
    return out


def _to_frame_px(renderer: ClipRenderer, point_mm: np.ndarray) -> tuple[float, float]:
    x, y = renderer.geometry.mm_to_px(float(point_mm[0]), float(point_mm[1]))
    roi, inner = renderer.roi, renderer.inner
    return float(x) + roi.x + inner.x, float(y) + roi.y + inner.y
