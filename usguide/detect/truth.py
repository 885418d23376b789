"""Labels for evaluation: reads ``truth.json`` (from ``usguide simulate`` or ``usguide label``) into
``ClipTruth``/``FrameTruth``, with the clip's scale, region, source clip and stratum tags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from usguide.checks import MAX_MM_PER_PX, MIN_MM_PER_PX, load_json
from usguide.errors import UsguideError
from usguide.types import Point, Roi

TRUTH_FORMAT = "usguide-sim-truth"
# Properties a clip (or a single frame) may carry that evaluation reports strata of. A frame's own
# value wins over the clip's. "set" is written by the evaluation suite (heldout / generalisation).
TAG_KEYS = ("gauge", "geometry", "medium", "needle_style", "style", "set")
_MAX_COORDINATE = 1e6  # px; beyond it distances overflow and the strata have no bin


@dataclass(frozen=True)
class FrameTruth:
    """The labels of one frame (full-frame pixels).

    ``frame`` is the frame's index in the clip; -1 means "its position in ``ClipTruth.frames``"
    (hand-built labels). Frames of a clip that have no ``FrameTruth`` are not scored.
    """

    visible: bool
    needle_present: bool
    tip: Point | None
    entry: Point | None
    angle_deg: float | None
    contrast: float | None = None  # shaft / tissue echo ratio over the visible shaft (simulator)
    frame: int = -1
    tags: dict[str, str] = field(default_factory=dict)  # per-frame TAG_KEYS values


@dataclass
class ClipTruth:
    """The labels of one clip.

    Attributes:
        size: (width, height) of the frames, when the file says.
        source: the clip's video when it lives outside the case folder (hand labels), resolved
            against the case folder; None for a video inside the folder.
        tags: clip-level TAG_KEYS values (strings).
    """

    name: str
    frames: list[FrameTruth]
    mm_per_px: float | None = None
    roi: Roi | None = None
    fps: float | None = None
    size: tuple[int, int] | None = None
    source: Path | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def tags_of(self, label: FrameTruth) -> dict[str, str]:
        """The clip's tags overridden by the frame's own."""
        return {**self.tags, **label.tags} if label.tags else self.tags

    def region_diagonal_px(self) -> float | None:
        """Diagonal of the image region (else of the frame), or None when neither is known."""
        if self.roi is not None:
            return float((self.roi.w**2 + self.roi.h**2) ** 0.5)
        if self.size is not None:
            return float((self.size[0] ** 2 + self.size[1] ** 2) ** 0.5)
        return None


def _point(value: object) -> Point | None:
    if value is None:
        return None
    point = Point(float(value[0]), float(value[1]))
    if not (abs(point.x) <= _MAX_COORDINATE and abs(point.y) <= _MAX_COORDINATE):
        raise ValueError(f"point {value!r} is not in any frame")
    return point


def _optional_float(value: object) -> float | None:
    return None if value is None else float(value)


def _tags(data: dict) -> dict[str, str]:
    return {key: str(data[key]) for key in TAG_KEYS if data.get(key) is not None}


def load_truth(path: str | Path) -> ClipTruth:
    """Reads a ``truth.json``.

    Raises:
        UsguideError: when the file is missing or not a usguide truth file.
    """
    path = Path(path)
    try:
        data = load_json(path.read_text(encoding="utf-8"), str(path))  # finite, bounded depth
        if not isinstance(data, dict) or data.get("format") != TRUTH_FORMAT:
            raise ValueError(f"format is {data.get('format')!r}, expected {TRUTH_FORMAT!r}")
        frames = [
            FrameTruth(
                visible=bool(item["visible"]),
                needle_present=bool(item.get("needle_present", item["visible"])),
                tip=_point(item.get("tip")),
                entry=_point(item.get("entry")),
                angle_deg=_optional_float(item.get("angle_deg")),
                contrast=_optional_float(item.get("contrast")),
                frame=int(item["frame"]),
                tags=_tags(item),
            )
            for item in sorted(data["frames"], key=lambda item: int(item["frame"]))
        ]
        roi = data.get("roi")
        size = None
        if data.get("width") and data.get("height"):
            size = (int(data["width"]), int(data["height"]))
        source = None
        if data.get("source"):
            source = Path(str(data["source"])).expanduser()
            source = source if source.is_absolute() else path.parent / source
        scale = _optional_float(data.get("mm_per_px"))
        if scale is not None and not MIN_MM_PER_PX <= scale <= MAX_MM_PER_PX:
            raise ValueError(f"mm_per_px {scale} is not a plausible pixel size")
        return ClipTruth(
            name=path.parent.name,
            frames=frames,
            mm_per_px=scale,
            roi=None if roi is None else Roi(*(int(v) for v in roi)),
            fps=_optional_float(data.get("fps")),
            size=size,
            source=source,
            tags=_tags(data),
        )
    except FileNotFoundError:
        raise UsguideError(f"no truth file at {path} — give a folder of labelled clips") from None
    except (OSError, ValueError, KeyError, TypeError, IndexError, UsguideError) as exc:
        raise UsguideError(
            f"bad truth file {path}: {exc} — regenerate it with usguide simulate"
        ) from None
