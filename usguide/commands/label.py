"""``usguide label INPUT --out CASE_DIR``: mark the needle's entry and tip by hand, frame by frame.

Writes ``CASE_DIR/truth.json`` in the format ``usguide simulate`` writes (so ``usguide evaluate``
scores detectors on it), plus the key frames, so that running the command again resumes the work.
"""

from __future__ import annotations

import argparse
import os
from collections import OrderedDict
from pathlib import Path

import numpy as np

from usguide.errors import UsguideError
from usguide.sources.base import FrameSource
from usguide.types import Frame

_CACHE_FRAMES = 48  # decoded frames kept for stepping back and forth (~130 MB at 1080x860 BGR)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers ``usguide label``."""
    parser = subparsers.add_parser(
        "label",
        help="mark the needle's entry and tip by hand; write truth.json",
        description="Step through INPUT (video, image folder, DICOM, recording) and mark the "
        "needle's entry and tip on key frames; frames between two key frames are interpolated. "
        "Writes CASE_DIR/truth.json (the usguide simulate format, with the key frames), which "
        "usguide evaluate reads; an existing CASE_DIR/truth.json is resumed.",
        epilog="examples:\n"
        "  usguide label clip.mp4 --out cases/clip1\n"
        "  usguide label capture.mp4 --out cases/c2 --roi 120,80,800,600 --depth-mm 40\n"
        "  usguide evaluate cases   (then score the detectors on the labels)",
    )
    parser.add_argument("input", metavar="INPUT", help="video, DICOM, image folder, recording")
    parser.add_argument(
        "--out", required=True, type=Path, metavar="CASE_DIR", help="folder for truth.json"
    )
    from usguide.sources.factory import add_source_arguments

    add_source_arguments(parser)
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="OUT.png",
        help="open, save a picture of the window and exit (no display needed)",
    )
    parser.set_defaults(func=run)


class FrameCache:
    """Random access to a seekable source's images, with the latest few decoded frames kept.

    Args:
        source: an open, seekable source with a known frame count.
        first: the frame the source delivered first (frame 0), already read.
    """

    def __init__(self, source: FrameSource, first: Frame, size: int = _CACHE_FRAMES) -> None:
        self.source = source
        self.size = size
        self._count = int(source.info.frame_count or 0)
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict({first.index: first.image})
        self._next = first.index + 1  # what read() returns without a seek

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> np.ndarray:
        if not 0 <= index < self._count:
            raise IndexError(index)
        image = self._cache.get(index)
        if image is not None:
            self._cache.move_to_end(index)
            return image
        if index != self._next:
            self.source.seek(index)
        frame = self.source.read()
        if frame is None:
            raise UsguideError(f"cannot decode frame {index} of {self.source.info.name}")
        self._next = index + 1
        self._cache[index] = frame.image
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return frame.image


def source_field(spec: str, case_dir: Path) -> str:
    """How ``truth.json`` names the input: a path relative to the case folder when it is a path."""
    path = Path(spec).expanduser()
    if not path.exists():
        return spec  # "demo" and the like
    try:
        return Path(os.path.relpath(path.resolve(), case_dir.resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return path.resolve().as_posix()


def run(args: argparse.Namespace) -> int:
    """Opens the input and the labels, then the window (or saves its picture)."""
    from usguide.sources.factory import source_from_args

    case_dir: Path = args.out
    if case_dir.exists() and not case_dir.is_dir():
        raise UsguideError(f"--out {case_dir} is a file — give a folder for truth.json")
    if args.screenshot is not None and not args.screenshot.parent.exists():
        raise UsguideError(
            f"cannot write {args.screenshot}: folder {args.screenshot.parent} does not exist"
        )
    source = source_from_args(args, args.input)
    with source:
        frames, first = _open_frames(source, args.input)
        state = _label_state(args, source, first, case_dir)
        return _show(frames, state, case_dir / "truth.json", args.screenshot)


def _open_frames(source: FrameSource, spec: str) -> tuple[FrameCache, Frame]:
    info = source.info
    if info.live or not source.seekable or not info.frame_count:
        raise UsguideError(
            f"cannot label {spec}: it is a live source — record it first (usguide record) and "
            "label the recording"
        )
    first = source.read()
    if first is None:
        raise UsguideError(f"cannot read the first frame of {spec} — check the file")
    return FrameCache(source, first), first


def _label_state(args: argparse.Namespace, source: FrameSource, first: Frame, case_dir: Path):  # noqa: ANN202
    from usguide.gui.label_model import LabelState

    info = source.info
    calibration = first.calibration
    scale_given = args.mm_per_px is not None or args.depth_mm is not None
    overrides: dict = {
        "frame_count": int(info.frame_count),
        "fps": float(info.fps),
        "source": source_field(args.input, case_dir),
    }
    truth_path = case_dir / "truth.json"
    if not truth_path.exists():
        return LabelState(
            width=first.width,
            height=first.height,
            roi=calibration.roi,
            mm_per_px=calibration.mm_per_px,
            **overrides,
        )
    if args.roi:
        overrides["roi"] = calibration.roi
    if scale_given:
        overrides["mm_per_px"] = calibration.mm_per_px
    saved = LabelState.load(truth_path)
    state = LabelState.load(truth_path, **overrides)
    # a new region or scale given on the command line is kept even if no label is edited
    state.dirty = (state.roi, state.mm_per_px) != (saved.roi, saved.mm_per_px)
    if (state.width, state.height) != (first.width, first.height):
        raise UsguideError(
            f"{truth_path} labels {state.width}x{state.height} frames but {args.input} has "
            f"{first.width}x{first.height} — choose another --out"
        )
    return state


def _show(frames: FrameCache, state, truth_path: Path, screenshot: Path | None) -> int:  # noqa: ANN001
    from usguide.gui.app import application, ensure_platform, has_display

    if screenshot is None and not has_display():
        raise UsguideError(
            "usguide label needs a display to click on — run it on a desktop (or use --screenshot "
            "OUT.png to check the input without one)"
        )
    ensure_platform(headless=screenshot is not None)
    app = application()
    from usguide.gui.label_window import LabelWindow

    window = LabelWindow(frames, state, truth_path)
    window.show()
    if screenshot is not None:
        app.processEvents()
        ok = window.grab().save(str(screenshot), "PNG")
        window.close()
        if not ok:
            raise UsguideError(f"cannot write the screenshot {screenshot} — check the folder")
        print(f"saved {screenshot} ({len(state.key_frames)} key frames, {len(frames)} frames)")
        return 0
    app.exec_()
    window.close()
    labelled = len(state.labels())
    print(f"{labelled} labelled frames ({len(state.key_frames)} key frames) in {truth_path}")
    return 0
