"""Temporal needle tracking: Kalman filters on tip and direction, gating, hysteresis, coasting.

Per-frame detections flicker and occasionally jump to a tissue line; the tracker turns them into a
steady needle: it appears after a few confident frames, ignores implausible jumps, coasts briefly
(reported ``predicted=True``) when the needle fades, and disappears after several misses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from usguide.defaults import FALLBACK_FPS
from usguide.geometry import probe_angle_deg
from usguide.types import Needle, Point

# chi-square, 2 degrees of freedom, 99.9 %: a tip innovation beyond this is an outlier.
_CHI2_2DOF_999 = 13.82
# The display moves a measured tip forward by at most this much time: beyond it the
# constant-velocity guess is worse than showing where the needle was.
PREDICT_MAX_MS = 100.0


def predict_needle(
    needle: Needle, ahead_ms: float, max_ms: float = PREDICT_MAX_MS
) -> Needle | None:
    """``needle`` moved ``ahead_ms`` forward along its tip velocity (shaft translated with it).

    None when there is nothing to predict: no velocity (a coasting or unmeasured needle), a time
    not ahead, or more than ``max_ms`` ahead. The result keeps ``predicted`` and the velocity.
    """
    velocity = needle.velocity
    if velocity is None or needle.predicted or not 0.0 < ahead_ms <= max_ms:
        return None
    dx, dy = velocity.x * ahead_ms / 1e3, velocity.y * ahead_ms / 1e3
    return Needle(
        tip=Point(needle.tip.x + dx, needle.tip.y + dy),
        entry=Point(needle.entry.x + dx, needle.entry.y + dy),
        confidence=needle.confidence,
        angle_deg=needle.angle_deg,
        predicted=needle.predicted,
        velocity=velocity,
    )


@dataclass(frozen=True)
class TrackerConfig:
    """Tracker tuning. Distances in full-frame pixels, times in seconds.

    Attributes:
        appear_after: consecutive confident frames before a needle is reported.
        disappear_after: consecutive misses after which the track is dropped.
        coast_frames, coast_ms: a missing needle is predicted (``predicted=True``) for at most this
            many frames and this long; after that nothing is reported until it is seen again.
        appear_confidence: detections below this never start a track.
        keep_confidence: detections below this count as misses for an existing track.
        tip_accel_px: process noise, tip acceleration (px/s^2, white noise).
        angle_rate_deg: process noise, direction rate change (deg/s per sqrt s).
        tip_measure_px: measurement noise of the tip (px, 1 sigma).
        angle_measure_deg: measurement noise of the direction (deg, 1 sigma).
        gate_chi2: Mahalanobis gate on the tip innovation.
        gate_angle_deg: a direction change beyond this (and beyond 3 sigma) is an outlier.
        reacquire_after: consecutive gated-out detections that replace the track (the needle was
            really moved, e.g. withdrawn and reinserted).
        default_dt: frame interval used when timestamps do not advance.
    """

    # Two agreeing frames, not three: on the generalisation suite (30-frame clips, model v14) three
    # cost 2-7 points of localised hits per set and saved no false positive on needle-free frames.
    appear_after: int = 2
    disappear_after: int = 10
    coast_frames: int = 6
    coast_ms: float = 300.0
    appear_confidence: float = 0.4
    keep_confidence: float = 0.25
    tip_accel_px: float = 800.0
    angle_rate_deg: float = 60.0
    tip_measure_px: float = 4.0
    angle_measure_deg: float = 2.0
    gate_chi2: float = _CHI2_2DOF_999
    gate_angle_deg: float = 20.0
    reacquire_after: int = 4
    default_dt: float = 1.0 / FALLBACK_FPS


class _TipFilter:
    """Constant-velocity Kalman filter on the tip: (x, vx) and (y, vy).

    x and y share the same motion model and an isotropic measurement noise, so the 4-state filter
    splits into two 2-state filters with one covariance between them; in plain floats that costs a
    few microseconds on the frame path instead of a dozen small matrix products.
    """

    def __init__(self, tip: Point, cfg: TrackerConfig) -> None:
        self.cfg = cfg
        self.x, self.y, self.vx, self.vy = float(tip.x), float(tip.y), 0.0, 0.0
        # Covariance of (position, velocity), the same for each axis; the axes stay uncorrelated.
        self.p_pos, self.p_cross, self.p_vel = cfg.tip_measure_px**2, 0.0, 200.0**2
        self.measure_var = cfg.tip_measure_px**2

    def predict(self, dt: float) -> None:
        q = self.cfg.tip_accel_px**2  # discrete white-noise acceleration
        self.x += dt * self.vx
        self.y += dt * self.vy
        p_pos, p_cross, p_vel = self.p_pos, self.p_cross, self.p_vel
        self.p_pos = p_pos + 2.0 * dt * p_cross + dt * dt * p_vel + dt**4 / 4.0 * q
        self.p_cross = p_cross + dt * p_vel + dt**3 / 2.0 * q
        self.p_vel = p_vel + dt * dt * q

    def mahalanobis2(self, tip: Point) -> float:
        dx, dy = tip.x - self.x, tip.y - self.y
        return (dx * dx + dy * dy) / (self.p_pos + self.measure_var)

    def update(self, tip: Point) -> None:
        dx, dy = tip.x - self.x, tip.y - self.y
        innovation_var = self.p_pos + self.measure_var
        gain_pos, gain_vel = self.p_pos / innovation_var, self.p_cross / innovation_var
        self.x += gain_pos * dx
        self.y += gain_pos * dy
        self.vx += gain_vel * dx
        self.vy += gain_vel * dy
        p_pos, p_cross = self.p_pos, self.p_cross
        self.p_pos = (1.0 - gain_pos) * p_pos
        self.p_cross = (1.0 - gain_pos) * p_cross
        self.p_vel -= gain_vel * p_cross

    @property
    def tip(self) -> Point:
        return Point(self.x, self.y)


class _AngleFilter:
    """Random-walk Kalman filter on the shaft direction (radians, entry → tip), wrap-aware."""

    def __init__(self, angle: float, cfg: TrackerConfig) -> None:
        self.angle = angle
        self.var = math.radians(cfg.angle_measure_deg) ** 2
        self.rate_var = math.radians(cfg.angle_rate_deg) ** 2
        self.measure_var = math.radians(cfg.angle_measure_deg) ** 2

    def predict(self, dt: float) -> None:
        self.var += self.rate_var * dt

    def innovation(self, angle: float) -> float:
        return (angle - self.angle + math.pi) % (2 * math.pi) - math.pi

    def update(self, angle: float) -> None:
        gain = self.var / (self.var + self.measure_var)
        self.angle += gain * self.innovation(angle)
        self.var *= 1.0 - gain


def _direction_angle(needle: Needle) -> float:
    return math.atan2(needle.tip.y - needle.entry.y, needle.tip.x - needle.entry.x)


class NeedleTracker:
    """Smooths per-frame detections into a stable needle (full-frame pixels).

    Call ``update(detection, t_ns)`` once per frame in order, with the frame's timestamp in ns
    (media time for files); it returns the needle to show, or None.
    """

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.reset()

    def reset(self) -> None:
        """Forgets the track (new source, seek, new clip)."""
        self._tip: _TipFilter | None = None
        self._angle: _AngleFilter | None = None
        self._length = 0.0
        self._confidence = 0.0
        self._present = False
        self._hits = 0  # consecutive accepted detections
        self._misses = 0  # consecutive frames without an accepted detection
        self._rejected: list[Needle] = []  # consecutive gated-out detections
        self._last_ns: int | None = None
        self._last_seen_ns: int | None = None

    @property
    def present(self) -> bool:
        """True while a needle is being reported (measured or coasting)."""
        return self._present

    def predict_to(self, t_ns: int) -> Needle | None:
        """The last reported needle moved forward to ``t_ns`` (the clock of ``update``) with the
        tip filter's velocity; the track itself is not changed.

        None when there is nothing to extrapolate: no needle reported, the track coasting, or
        ``t_ns`` not ahead of the last update or more than ``PREDICT_MAX_MS`` ahead.
        """
        if self._tip is None or self._last_ns is None or self._misses or not self._present:
            return None
        current = self._report(self._last_ns)
        if current is None:
            return None
        return predict_needle(current, (t_ns - self._last_ns) / 1e6)

    def update(self, detection: Needle | None, t_ns: int) -> Needle | None:
        """Feeds one frame's detection (None: nothing found) and returns the needle to report."""
        cfg = self.config
        dt = cfg.default_dt
        if self._last_ns is not None and t_ns > self._last_ns:
            dt = (t_ns - self._last_ns) / 1e9
        self._last_ns = t_ns
        if self._tip is not None:
            self._tip.predict(dt)
            self._angle.predict(dt)

        threshold = cfg.keep_confidence if self._present else cfg.appear_confidence
        if detection is not None and detection.confidence < threshold:
            detection = None
        if detection is not None and self._tip is None:
            self._start(detection, t_ns)
            return self._report(t_ns)
        if detection is not None and not self._present and not self._accept(detection):
            self._start(detection, t_ns)  # an unconfirmed candidate is simply replaced
            return self._report(t_ns)
        if detection is not None and not self._accept(detection):
            self._rejected.append(detection)
            if len(self._rejected) >= cfg.reacquire_after and self._consistent(self._rejected):
                self._start(detection, t_ns)
                self._hits = cfg.appear_after  # several consistent frames: report at once
                self._present = True
                return self._report(t_ns)
            detection = None
        else:
            self._rejected.clear()

        if detection is None:
            self._hits = 0
            self._misses += 1
            if self._misses >= cfg.disappear_after:
                self.reset()
                self._last_ns = t_ns
                return None
            if not self._present:
                if self._misses > 1:  # a candidate that was not confirmed is forgotten
                    self._forget()
                return None
            return self._report(t_ns, predicted=True)

        self._tip.update(detection.tip)
        self._angle.update(_direction_angle(detection))
        length = math.dist(detection.tip, detection.entry)
        self._length += 0.3 * (length - self._length)
        self._confidence += 0.5 * (detection.confidence - self._confidence)
        self._hits += 1
        self._misses = 0
        self._last_seen_ns = t_ns
        if self._hits >= cfg.appear_after:
            self._present = True
        return self._report(t_ns)

    # -- internals ---------------------------------------------------------------------------
    def _start(self, detection: Needle, t_ns: int) -> None:
        self._tip = _TipFilter(detection.tip, self.config)
        self._angle = _AngleFilter(_direction_angle(detection), self.config)
        self._length = math.dist(detection.tip, detection.entry)
        self._confidence = detection.confidence
        self._hits = 1
        self._misses = 0
        self._rejected = []
        self._last_seen_ns = t_ns
        self._present = self.config.appear_after <= 1

    def _forget(self) -> None:
        self._tip = None
        self._angle = None
        self._hits = 0
        self._misses = 0
        self._rejected = []

    def _accept(self, detection: Needle) -> bool:
        """Innovation gating on the tip (Mahalanobis) and on the direction."""
        if self._tip.mahalanobis2(detection.tip) > self.config.gate_chi2:
            return False
        innovation = abs(self._angle.innovation(_direction_angle(detection)))
        sigma = math.sqrt(self._angle.var + self._angle.measure_var)
        return innovation <= max(math.radians(self.config.gate_angle_deg), 3.0 * sigma)

    def _consistent(self, detections: list[Needle]) -> bool:
        """True when gated-out detections agree with each other (a real move, not random jumps)."""
        last = detections[-self.config.reacquire_after :]
        spread = max(math.dist(a.tip, b.tip) for a, b in zip(last, last[1:], strict=False))
        return spread <= 6.0 * self.config.tip_measure_px

    def _report(self, t_ns: int, predicted: bool = False) -> Needle | None:
        cfg = self.config
        if not self._present:
            return None
        if predicted:
            since_ms = (t_ns - (self._last_seen_ns or t_ns)) / 1e6
            if self._misses > cfg.coast_frames or since_ms > cfg.coast_ms:
                return None
        tip = self._tip.tip
        angle = self._angle.angle
        entry = Point(
            tip.x - self._length * math.cos(angle), tip.y - self._length * math.sin(angle)
        )
        confidence = self._confidence
        if predicted:  # confidence decays while coasting
            confidence *= 0.8**self._misses
        return Needle(
            tip=tip,
            entry=entry,
            confidence=float(confidence),
            angle_deg=probe_angle_deg(tip.x - entry.x, tip.y - entry.y),
            predicted=predicted,
            velocity=None if predicted else Point(self._tip.vx, self._tip.vy),
        )
