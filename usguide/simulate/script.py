"""A scripted needle insertion: the motion written out (advance, withdraw, re-advance, turn, out of
plane) instead of drawn, so a clip's true redirections, visibility and target time are known.

``SimConfig(script=InsertionScript(...))`` replaces the drawn keyframes of ``NeedlePlan`` with
these (no hand jitter on the length or angle; tissue motion still applies).
``usguide.simulate.script_truth`` measures the truth of a rendered clip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from usguide.errors import UsguideError

REDIRECT_WITHDRAW_MM = 2.0  # the trainer's definition (see usguide.review.metrics): withdraw >= 2
REDIRECT_READVANCE_MM = 1.0  # ... then re-advance >= 1 mm
ORIGINS = ("goal", "edge")


@dataclass(frozen=True)
class InsertionScript:
    """Keyframes of an insertion, eased between (smooth starts and stops).

    Attributes:
        keys: (time s, position mm) pairs, times ascending from 0. The position is the inserted
            length along the shaft counted from ``origin``: "goal" (the target, or the drawn goal
            without one; negative = short of it) or "edge" (where the shaft enters the image).
        turns: (time s, degrees) pairs: the shaft's angle change, pivoting at the skin puncture
            (a redirection's new direction); empty: none.
        out_of_plane: (start s, end s) intervals in which the whole needle leaves the imaging
            plane (elevational offset of four beam widths: nothing of it is seen).
        origin: "goal" or "edge" (see ``keys``).
    """

    keys: tuple[tuple[float, float], ...]
    turns: tuple[tuple[float, float], ...] = ()
    out_of_plane: tuple[tuple[float, float], ...] = ()
    origin: str = "goal"

    def validate(self) -> None:
        """Raises UsguideError on keys out of order or a bad origin."""
        if self.origin not in ORIGINS:
            raise UsguideError(f"unknown script origin {self.origin!r}: use goal or edge")
        for name, pairs in (("keys", self.keys), ("turns", self.turns)):
            times = [t for t, _ in pairs]
            if name == "keys" and len(times) < 2:
                raise UsguideError("an insertion script needs at least two keys (time, mm)")
            if times and (
                times[0] < 0 or any(b <= a for a, b in zip(times, times[1:], strict=False))
            ):
                raise UsguideError(f"script {name}: times must start at >= 0 and ascend")
        for start, end in self.out_of_plane:
            if not 0 <= start < end:
                raise UsguideError(f"script out_of_plane ({start}, {end}): need 0 <= start < end")

    def lengths(self, t_s: np.ndarray, s_goal: float, s_edge: float) -> np.ndarray:
        """Inserted length (mm from the skin puncture) at times ``t_s``; at least 1 mm."""
        base = s_goal if self.origin == "goal" else s_edge
        keys_t = [t for t, _ in self.keys]
        keys_l = [base + mm for _, mm in self.keys]
        return np.maximum(eased(keys_t, keys_l, t_s), 1.0)

    def turn_rad(self, t_s: np.ndarray) -> np.ndarray:
        """The shaft's angle change (radians) at times ``t_s``."""
        if not self.turns:
            return np.zeros(len(t_s))
        keys_t = [t for t, _ in self.turns]
        keys_a = [np.radians(deg) for _, deg in self.turns]
        if len(keys_t) == 1:
            return np.full(len(t_s), keys_a[0])
        return eased(keys_t, keys_a, t_s)

    def in_plane(self, t_s: np.ndarray) -> np.ndarray:
        """False at the times the needle is out of the imaging plane."""
        out = np.zeros(len(t_s), bool)
        for start, end in self.out_of_plane:
            out |= (t_s >= start) & (t_s < end)
        return ~out

    def redirections(self) -> list[tuple[float, float]]:
        """The scripted redirections: (time the withdrawal began, time the re-advance began) of
        each withdrawal of at least 2 mm followed by a re-advance of at least 1 mm, read off the
        keys (the keys are the motion's turning points)."""
        out: list[tuple[float, float]] = []
        peak_t, peak = self.keys[0]
        valley_t: float | None = None
        valley = peak
        for t, mm in self.keys[1:]:
            if valley_t is None:
                if mm >= peak:
                    peak_t, peak = t, mm
                elif peak - mm >= REDIRECT_WITHDRAW_MM:
                    valley_t, valley = t, mm
            else:
                if mm <= valley:
                    valley_t, valley = t, mm
                elif mm - valley >= REDIRECT_READVANCE_MM:
                    out.append((peak_t, valley_t))
                    valley_t, peak_t, peak = None, t, mm
        return out


def eased(keys_t: list[float], keys_v: list[float], t: np.ndarray) -> np.ndarray:
    """Piecewise cosine-eased interpolation through keyframes (smooth starts and stops); held
    before the first key and after the last."""
    kt, kv = np.asarray(keys_t, float), np.asarray(keys_v, float)
    idx = np.clip(np.searchsorted(kt, t, side="right") - 1, 0, len(kt) - 2)
    span = np.maximum(kt[idx + 1] - kt[idx], 1e-9)
    frac = np.clip((t - kt[idx]) / span, 0, 1)
    frac = 0.5 - 0.5 * np.cos(np.pi * frac)
    return kv[idx] + (kv[idx + 1] - kv[idx]) * frac
