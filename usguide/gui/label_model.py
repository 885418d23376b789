"""Hand labels of a clip for ``usguide label``: key frames, interpolation, undo, ``truth.json``.

Qt-free so it is unit-tested without a window. The file it writes is the simulator's ``truth.json``
format (so ``usguide evaluate`` reads it) plus ``source``, ``labelled_by`` and ``key_frames``.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from usguide.errors import UsguideError
from usguide.types import Point, Roi

TRUTH_FORMAT = "usguide-sim-truth"  # the same format as usguide simulate writes
TRUTH_VERSION = 1
LABELLED_BY = "hand"
_UNDO_DEPTH = 500


@dataclass(frozen=True)
class KeyFrame:
    """One hand-labelled frame: a needle (entry and tip) or "no needle" (``visible`` False).

    A needle key with only an entry is being placed: it is shown but not used until its tip is set.
    """

    frame: int
    visible: bool
    entry: Point | None = None
    tip: Point | None = None

    @property
    def complete(self) -> bool:
        """True when the key can be used: "no needle", or a needle with both ends."""
        return not self.visible or (self.entry is not None and self.tip is not None)

    def to_json(self) -> dict:
        return {
            "frame": self.frame,
            "visible": self.visible,
            "entry": _point_json(self.entry),
            "tip": _point_json(self.tip),
        }


@dataclass(frozen=True)
class FrameLabel:
    """The label of one frame: from a key frame or interpolated between two."""

    frame: int
    visible: bool
    entry: Point | None
    tip: Point | None
    is_key: bool

    @property
    def angle_deg(self) -> float | None:
        """Unsigned angle of the shaft to the probe face (image x axis), 0..90, as the simulator."""
        if self.entry is None or self.tip is None:
            return None
        dx, dy = abs(self.tip.x - self.entry.x), abs(self.tip.y - self.entry.y)
        return math.degrees(math.atan2(dy, dx)) if dx or dy else 0.0

    def to_json(self) -> dict:
        """One entry of ``truth.json``'s ``frames`` list."""
        angle = self.angle_deg
        return {
            "frame": self.frame,
            "visible": self.visible,
            "needle_present": self.visible,  # a hand label cannot tell an out-of-plane needle
            "tip": _point_json(self.tip),
            "entry": _point_json(self.entry),
            "angle_deg": None if angle is None else round(angle, 2),
        }


def _point_json(point: Point | None) -> list[float] | None:
    return None if point is None else [round(float(point.x), 2), round(float(point.y), 2)]


def _lerp(start: Point, end: Point, fraction: float) -> Point:
    return Point(start.x + (end.x - start.x) * fraction, start.y + (end.y - start.y) * fraction)


class LabelState:
    """Key frames of one clip, their interpolation, an undo history and the truth file.

    Frames between two complete key frames that both show the needle get entry and tip linearly
    interpolated; between two "no needle" keys they are "no needle"; between a needle key and a
    "no needle" key they stay unlabelled (where the needle appears is not known). Frames before the
    first or after the last key are unlabelled. Unlabelled frames are left out of the file.

    Args:
        frame_count: number of frames of the source.
        width, height: frame size in pixels.
        fps: frame rate of the source.
        roi: the image region (points are kept inside it); the whole frame when None.
        mm_per_px: scale of the image, or None when unknown.
        source: the input as written in the file (a path relative to the case folder when possible).
    """

    def __init__(
        self,
        frame_count: int,
        width: int,
        height: int,
        fps: float,
        *,
        roi: Roi | None = None,
        mm_per_px: float | None = None,
        source: str | None = None,
    ) -> None:
        if frame_count < 1 or width < 1 or height < 1:
            raise UsguideError(f"nothing to label: {frame_count} frames of {width}x{height}")
        self.frame_count = frame_count
        self.width = width
        self.height = height
        self.fps = float(fps)
        self.roi = roi or Roi(0, 0, width, height)
        self.roi.check_inside(width, height)
        self.mm_per_px = mm_per_px
        self.source = source
        self._keys: dict[int, KeyFrame] = {}
        self._undo: list[dict[int, KeyFrame]] = []
        self.dirty = False

    # -- editing ---------------------------------------------------------------------------------
    def key(self, frame: int) -> KeyFrame | None:
        """The key frame at ``frame``, or None."""
        return self._keys.get(frame)

    @property
    def key_frames(self) -> list[KeyFrame]:
        """All key frames in frame order."""
        return [self._keys[index] for index in sorted(self._keys)]

    def click(self, frame: int, point: Point) -> str:
        """A click on the image: sets the tip after an entry, else starts a new needle (entry).

        Returns:
            "entry" or "tip": the end that was set.
        """
        current = self._keys.get(frame)
        point = self.clamp(point)
        if current is not None and current.visible and current.tip is None and current.entry:
            self._put(replace(current, tip=point))
            return "tip"
        self._put(KeyFrame(frame, True, entry=point, tip=None))
        return "entry"

    def move(self, frame: int, end: str, point: Point, *, record: bool = True) -> None:
        """Moves one end (``"entry"`` or ``"tip"``) of the frame's needle; an interpolated frame
        becomes a key frame. ``record=False`` skips the undo step (the moves of one drag after
        its first)."""
        if end not in ("entry", "tip"):
            raise ValueError(f"unknown end {end!r}")
        label = self.label(frame)
        if label is None or not label.visible:
            raise ValueError(f"frame {frame} has no needle to move")
        base = KeyFrame(frame, True, entry=label.entry, tip=label.tip)
        self._put(replace(base, **{end: self.clamp(point)}), record=record)

    def mark_no_needle(self, frame: int) -> None:
        """Makes ``frame`` a "no needle" key frame."""
        self._put(KeyFrame(frame, False))

    def clear(self, frame: int) -> bool:
        """Removes the frame's key; returns False when it had none."""
        if frame not in self._keys:
            return False
        self._record()
        del self._keys[frame]
        self.dirty = True
        return True

    def set_key(self, key: KeyFrame) -> None:
        """Sets a key frame as given (points clamped into the image region)."""
        self._check_frame(key.frame)
        self._put(
            replace(
                key,
                entry=None if key.entry is None else self.clamp(key.entry),
                tip=None if key.tip is None else self.clamp(key.tip),
            )
        )

    def undo(self) -> bool:
        """Reverts the last edit; returns False when there is nothing to undo."""
        if not self._undo:
            return False
        self._keys = self._undo.pop()
        self.dirty = True
        return True

    def clamp(self, point: Point) -> Point:
        """``point`` moved inside the image region (labels never leave the image)."""
        roi = self.roi
        return Point(
            min(max(float(point.x), roi.x), roi.x + roi.w - 1),
            min(max(float(point.y), roi.y), roi.y + roi.h - 1),
        )

    def _put(self, key: KeyFrame, *, record: bool = True) -> None:
        self._check_frame(key.frame)
        if record:
            self._record()
        self._keys[key.frame] = key
        self.dirty = True

    def _record(self) -> None:
        self._undo.append(dict(self._keys))
        del self._undo[:-_UNDO_DEPTH]

    def _check_frame(self, frame: int) -> None:
        if not 0 <= frame < self.frame_count:
            raise ValueError(f"frame {frame} is outside 0..{self.frame_count - 1}")

    # -- labels ----------------------------------------------------------------------------------
    def label(self, frame: int) -> FrameLabel | None:
        """The frame's label: its key, or interpolated between the nearest complete keys."""
        key = self._keys.get(frame)
        if key is not None:
            return FrameLabel(frame, key.visible, key.entry, key.tip, is_key=True)
        before = after = None
        for index in sorted(self._keys):
            candidate = self._keys[index]
            if not candidate.complete:
                continue
            if index < frame:
                before = candidate
            elif index > frame:
                after = candidate
                break
        if before is None or after is None or before.visible != after.visible:
            return None
        if not before.visible:
            return FrameLabel(frame, False, None, None, is_key=False)
        fraction = (frame - before.frame) / (after.frame - before.frame)
        return FrameLabel(
            frame,
            True,
            _lerp(before.entry, after.entry, fraction),
            _lerp(before.tip, after.tip, fraction),
            is_key=False,
        )

    def labels(self) -> list[FrameLabel]:
        """The labels of every labelled frame (complete keys and interpolated frames)."""
        result = []
        for frame in range(self.frame_count):
            label = self.label(frame)
            if label is not None and (not label.visible or label.tip is not None):
                result.append(label)
        return result

    # -- file ------------------------------------------------------------------------------------
    def to_json(self) -> dict:
        """The ``truth.json`` content."""
        scale = self.mm_per_px
        return {
            "format": TRUTH_FORMAT,
            "version": TRUTH_VERSION,
            "labelled_by": LABELLED_BY,
            "source": self.source,
            "fps": self.fps,
            "width": self.width,
            "height": self.height,
            "frame_count": self.frame_count,
            "mm_per_px": None if scale is None else round(scale, 6),
            "roi": self.roi.as_list(),
            "depth_mm": None if scale is None else round(self.roi.h * scale, 3),
            "frames": [label.to_json() for label in self.labels()],
            "key_frames": [key.to_json() for key in self.key_frames if key.complete],
        }

    def save(self, path: str | Path) -> Path:
        """Writes ``truth.json`` atomically (temporary file in the same folder, then rename).

        Raises:
            UsguideError: when the folder cannot be written.
        """
        path = Path(path)
        text = json.dumps(self.to_json(), indent=1) + "\n"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, tmp = tempfile.mkstemp(prefix=".truth-", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    out.write(text)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise UsguideError(
                f"cannot write {path}: {exc.strerror or exc} — choose a writable --out"
            ) from None
        self.dirty = False
        return path

    @classmethod
    def from_json(cls, data: dict, **overrides: object) -> LabelState:
        """Rebuilds the state from a file written by ``to_json``; ``overrides`` replace the
        header's values (``roi``, ``mm_per_px``, ``source``, ``fps``, ``frame_count``).

        Raises:
            UsguideError: when the content is not a hand-label file.
        """
        try:
            if data.get("format") != TRUTH_FORMAT or "key_frames" not in data:
                raise ValueError("it has no key_frames (not written by usguide label)")
            roi = data.get("roi")
            values = {
                "frame_count": int(data.get("frame_count") or 0),
                "fps": float(data.get("fps") or 30.0),
                "roi": None if roi is None else Roi(*(int(v) for v in roi)),
                "mm_per_px": None if data.get("mm_per_px") is None else float(data["mm_per_px"]),
                "source": data.get("source"),
            }
            values.update(overrides)
            state = cls(
                values.pop("frame_count"), int(data["width"]), int(data["height"]), **values
            )
            for item in data["key_frames"]:
                state.set_key(
                    KeyFrame(
                        int(item["frame"]),
                        bool(item["visible"]),
                        entry=_parse_point(item.get("entry")),
                        tip=_parse_point(item.get("tip")),
                    )
                )
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise UsguideError(f"cannot resume these labels: {exc}") from None
        state._undo.clear()
        state.dirty = False
        return state

    @classmethod
    def load(cls, path: str | Path, **overrides: object) -> LabelState:
        """Reads a ``truth.json`` written by ``save`` (see ``from_json``).

        Raises:
            UsguideError: when the file cannot be read or is not a hand-label file.
        """
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            raise UsguideError(
                f"cannot read {path}: {exc} — choose another --out or remove the file"
            ) from None
        try:
            return cls.from_json(data, **overrides)
        except UsguideError as exc:
            raise UsguideError(f"{path}: {exc} — choose another --out") from None


def _parse_point(value: object) -> Point | None:
    if value is None:
        return None
    x, y = value  # type: ignore[misc]
    return Point(float(x), float(y))
