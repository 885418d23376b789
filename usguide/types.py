"""Plain dataclasses that cross module boundaries: frames, calibration, needles, trajectories.

Everything here is data only (no I/O, no threads); sources, detectors, the pipeline and the display
exchange these and nothing else.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from usguide.errors import UsguideError


class Point(NamedTuple):
    """A point in full-frame pixels (x to the right, y down). JSON-serialises as [x, y]."""

    x: float
    y: float


@dataclass(frozen=True)
class Roi:
    """The ultrasound image region inside a frame, in full-frame pixels."""

    x: int
    y: int
    w: int
    h: int

    @classmethod
    def parse(cls, text: str) -> Roi:
        """Parses ``"X,Y,W,H"`` as given on the command line.

        Raises:
            UsguideError: when the text is not four integers or the size is not positive.
        """
        parts = [p.strip() for p in text.split(",")]
        try:
            x, y, w, h = (int(p) for p in parts)
        except ValueError:
            raise UsguideError(
                f"bad --roi {text!r}: expected four integers X,Y,W,H, e.g. --roi 120,60,680,458"
            ) from None
        if w <= 0 or h <= 0 or x < 0 or y < 0:
            raise UsguideError(f"bad --roi {text!r}: X,Y must be >= 0 and W,H > 0")
        return cls(x, y, w, h)

    def check_inside(self, width: int, height: int) -> None:
        """Raises UsguideError when the region does not fit in a frame of the given size."""
        if self.x + self.w > width or self.y + self.h > height:
            raise UsguideError(
                f"image region {self.as_list()} does not fit in the {width}x{height} frame: "
                "give a --roi inside the frame"
            )

    def crop(self, image: np.ndarray) -> np.ndarray:
        """Returns the region of ``image`` (a view, no copy)."""
        return image[self.y : self.y + self.h, self.x : self.x + self.w]

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]


@dataclass(frozen=True)
class Calibration:
    """Physical scale and image region of a frame; either may be unknown (None).

    ``scale_source`` says where ``mm_per_px`` came from: "dicom" (the file's ultrasound regions),
    "ruler" (read off the screen's depth ruler), "user" (typed), "source" (another input's own
    metadata); ``scale_from`` is that, or "unknown" without a scale.
    """

    mm_per_px: float | None = None
    roi: Roi | None = None
    # Provenance, not value: calibrations with the same scale and region compare equal.
    scale_source: str | None = field(default=None, compare=False)

    @property
    def scale_from(self) -> str:
        """Where the scale came from: dicom, ruler, user, source, or unknown (no scale)."""
        if self.mm_per_px is None:
            return "unknown"
        return self.scale_source or "source"


@dataclass
class Frame:
    """One image from a source, with its timestamps.

    Attributes:
        image: uint8, HxW (grey) or HxWx3 (BGR), C-contiguous.
        index: 0-based frame number within the source (for files: position in the file).
        t_capture_ns: ``time.perf_counter_ns()`` when the frame was received by usguide.
        source_ms: the source's own timestamp in ms (container PTS, DICOM frame time, device clock).
        calibration: scale and image region when known.
    """

    image: np.ndarray
    index: int
    t_capture_ns: int
    source_ms: float
    calibration: Calibration = field(default_factory=Calibration)

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])


class SourceState(str, enum.Enum):
    """Connection state of a source, visible to consumers (the display shows it)."""

    CONNECTED = "connected"
    LOST = "lost"
    RECONNECTING = "reconnecting"
    ENDED = "ended"


@dataclass(frozen=True)
class SourceInfo:
    """What a source is. ``fps`` is a float; ``frame_count`` is None for live sources."""

    name: str
    kind: str  # "device", "video", "images", "dicom", "recording", "simulator"
    width: int
    height: int
    fps: float
    live: bool
    frame_count: int | None = None


@dataclass
class Needle:
    """A needle found in one frame, in full-frame pixels.

    Attributes:
        tip: the far end of the shaft in the insertion direction.
        entry: where the shaft meets the image region edge, or its visible start.
        confidence: 0..1.
        angle_deg: insertion angle relative to the probe face (0 = parallel to the skin).
        predicted: True when the tracker is coasting (no measurement this frame), or when the
            display moved the needle forward in time by more than a few frames.
        velocity: the tip's velocity (full-frame pixels per second of source time) when the
            tracker measured it this frame; None otherwise (not recorded).
        tip_mm / entry_mm are not stored: convert with the frame's Calibration.
    """

    tip: Point
    entry: Point
    confidence: float
    angle_deg: float
    predicted: bool = False
    # Not part of a needle's value (nor of its JSON): recorded needles compare equal to live ones.
    velocity: Point | None = field(default=None, compare=False)

    def to_json(self) -> dict:
        return {
            "tip": [round(self.tip.x, 2), round(self.tip.y, 2)],
            "entry": [round(self.entry.x, 2), round(self.entry.y, 2)],
            "confidence": round(float(self.confidence), 4),
            "angle_deg": round(float(self.angle_deg), 2),
            "predicted": bool(self.predicted),
        }

    @classmethod
    def from_json(cls, data: dict) -> Needle:
        """Inverse of ``to_json`` (reads recorded results)."""
        return cls(
            tip=Point(*map(float, data["tip"])),
            entry=Point(*map(float, data["entry"])),
            confidence=float(data["confidence"]),
            angle_deg=float(data["angle_deg"]),
            predicted=bool(data.get("predicted", False)),
        )


@dataclass
class Trajectory:
    """The needle's projected path: from the tip along the shaft direction to the image region edge.

    Distances are in mm when the calibration is known, otherwise None.
    """

    tip: Point
    end: Point
    direction: tuple[float, float]  # unit vector, entry -> tip
    target: Point | None = None
    # Tip to the target's foot on the trajectory (negative: target behind the tip).
    along_mm: float | None = None
    # Perpendicular distance from the target to the trajectory line.
    miss_mm: float | None = None


class StageSpan(NamedTuple):
    """Start and end of one processing stage, ``time.perf_counter_ns()``."""

    start_ns: int
    end_ns: int

    @property
    def ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


@dataclass
class Timings:
    """Monotonic timestamps of one frame's journey from capture to display."""

    t_capture_ns: int
    stages: dict[str, StageSpan] = field(default_factory=dict)  # e.g. preprocess, inference, ...
    t_result_ns: int | None = None
    t_display_ns: int | None = None

    def stage_ms(self) -> dict[str, float]:
        """Duration of each stage in ms, in stage order."""
        return {name: span.ms for name, span in self.stages.items()}

    @property
    def capture_to_result_ms(self) -> float | None:
        if self.t_result_ns is None:
            return None
        return (self.t_result_ns - self.t_capture_ns) / 1e6


@dataclass
class FrameResult:
    """A frame paired with the detection computed on that same frame (never on another one)."""

    frame: Frame
    needle: Needle | None
    trajectory: Trajectory | None
    timings: Timings
    detector: str = ""

    def to_json(self) -> dict:
        """The per-frame JSON object of ``usguide analyze`` and of recorded ``results.jsonl``."""
        out: dict = {
            "frame": self.frame.index,
            "needle": self.needle.to_json() if self.needle is not None else None,
        }
        if self.trajectory is not None:
            traj = self.trajectory
            out["trajectory"] = {
                "end": [round(traj.end.x, 2), round(traj.end.y, 2)],
                "target": None if traj.target is None else [traj.target.x, traj.target.y],
                "along_mm": traj.along_mm,
                "miss_mm": traj.miss_mm,
            }
        latency = {name: round(ms, 3) for name, ms in self.timings.stage_ms().items()}
        total = self.timings.capture_to_result_ms
        if total is not None:
            latency["total"] = round(total, 3)
        out["latency_ms"] = latency
        return out
