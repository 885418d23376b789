"""Generated hostile sessions for the fault corpus: one meta.json field, frames.csv row,
results.jsonl line or video segment damaged, or the format version misstated. Seeded; each copies a
base session recorded once per folder (24 frames, segments of 10)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tests.faults import corpus

Builder = Callable[[Path], Path]
META_VALUES = corpus.META_VALUES  # the hostile values, shared with corpus.mutated_session_metas
META_FIELDS: list[tuple[str | None, str]] = [
    ("video", "width"),
    ("video", "height"),
    ("video", "fps"),
    ("video", "file"),
    ("video", "pixel_format"),
    ("video", "segment_s"),
    ("calibration", "mm_per_px"),
    ("calibration", "roi"),
    (None, "complete"),
    (None, "frame_count"),
    (None, "video"),
    (None, "calibration"),
    (None, "format_version"),
    ("source", "fps"),
    (None, "source"),
]


def _base_session(folder: Path) -> Path:
    path = folder / "_bases" / "session"
    if path.exists():
        return path
    from usguide.record.writer import SessionWriter
    from usguide.types import Calibration, Frame, SourceInfo

    path.parent.mkdir(exist_ok=True)
    info = SourceInfo("fixture", "video", corpus.W, corpus.H, 10.0, False, corpus.FRAMES)
    with SessionWriter(path, info, Calibration(), min_free_bytes=0) as writer:
        for i, image in enumerate(corpus._frames(4)):
            writer.write(Frame(image, i, 1_000_000 + i * 100_000_000, i * 100.0), {"frame": i})
    return path


def _session_edit(name: str, edit: Callable[[Path], None]) -> Builder:
    def build(folder: Path) -> Path:
        path = folder / name
        shutil.copytree(_base_session(folder), path)
        edit(path)
        return path

    build.__name__ = name
    return build


def _meta_field(section: str | None, key: str, value: object) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        meta = json.loads((path / "meta.json").read_text())
        (meta.setdefault(section, {}) if section else meta)[key] = value
        (path / "meta.json").write_text(json.dumps(meta))

    return edit


def _frames_lines(change: Callable[[list[str]], list[str]]) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        lines = (path / "frames.csv").read_text().splitlines(keepends=True)
        (path / "frames.csv").write_text("".join(change(lines)))

    return edit


def _row_field(row: int, column: int, value: str) -> Callable[[list[str]], list[str]]:
    def change(lines: list[str]) -> list[str]:
        parts = lines[row].rstrip("\n").split(",")
        parts[column] = value
        lines[row] = ",".join(parts) + "\n"
        return lines

    return change


FRAMES_EDITS: dict[str, Callable[[list[str]], list[str]]] = {
    "empty": lambda lines: [],
    "header_only": lambda lines: lines[:1],
    "header_wrong": lambda lines: ["a,b,c\n", *lines[1:]],
    "v1_header": lambda lines: ["index,source_index,t_capture_ns,source_ms\n", *lines[1:]],
    "extra_column": lambda lines: [line.rstrip("\n") + ",9\n" for line in lines],
    "duplicate_row": lambda lines: [*lines[:5], lines[4], *lines[5:]],
    "time_backwards": _row_field(8, 2, "1"),
    "index_gap": _row_field(6, 0, "9"),
    "segment_jump": _row_field(12, 4, "3"),
    "segment_index_restart": _row_field(5, 5, "0"),
    "negative_index": _row_field(3, 0, "-3"),
    "huge_int": _row_field(4, 2, str(2**70)),
    "float_index": _row_field(2, 0, "1.5"),
    "nan_source_ms": _row_field(7, 3, "nan"),
    "crlf": lambda lines: [line.replace("\n", "\r\n") for line in lines],
    "nul_bytes": lambda lines: [*lines[:9], "\x00" * 40 + "\n", *lines[9:]],
    "unicode": lambda lines: [*lines[:3], "ü,ß,€,∞,☃,☃\n", *lines[3:]],
}


RESULTS_LINES = {
    "not_json": "{{{{\n",
    "index_text": '{"index": "three", "result": {}}\n',
    "index_negative": '{"index": -4, "result": {}}\n',
    "index_huge": '{"index": 1e300, "result": {}}\n',
    "list_line": "[1, 2, 3]\n",
    "duplicate_index": '{"index": 2, "result": {"frame": 99}}\n',
    "blank_lines": "\n\n\n",
    "binary": "\x00\xff\xfe garbage\n",
}


def _results_edit(line: str) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        lines = (path / "results.jsonl").read_text().splitlines(keepends=True)
        (path / "results.jsonl").write_text("".join([*lines[:3], line, *lines[3:]]))

    return edit


def _segment_edit(kind: str) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        first, second = path / "video-000000.mkv", path / "video-000001.mkv"
        if kind == "first_deleted":
            first.unlink()
        elif kind == "second_deleted":
            second.unlink()
        elif kind == "first_truncated":
            first.write_bytes(first.read_bytes()[:-200])
        elif kind == "second_random":
            second.write_bytes(np.random.default_rng(9).integers(0, 256, 4000, np.uint8).tobytes())
        elif kind == "second_directory":
            second.unlink()
            second.mkdir()
        elif kind == "segments_swapped":
            data = first.read_bytes()
            first.write_bytes(second.read_bytes())
            second.write_bytes(data)
        elif kind == "stray_unlisted":
            (path / "video-000007.mkv").write_bytes(b"\x1a\x45\xdf\xa3" + bytes(300))
        elif kind == "last_flipped":
            last = path / "video-000002.mkv"
            data = bytearray(last.read_bytes())
            for offset in range(len(data) // 2, len(data) // 2 + 40, 5):
                data[offset] ^= 0x5A
            last.write_bytes(bytes(data))

    return edit


SEGMENT_KINDS = (
    "first_deleted",
    "second_deleted",
    "first_truncated",
    "second_random",
    "second_directory",
    "segments_swapped",
    "stray_unlisted",
    "last_flipped",
)


def _v1_layout(path: Path) -> None:
    """Version 2 meta over a version 1 layout (one video.mkv, no segments)."""
    for segment in path.glob("video-*.mkv"):
        segment.unlink()
    corpus._video(path / "video.mkv")


def session_builders(meta_count: int = 40, seed: int = 20) -> dict[str, Builder]:
    """Every generated session, by name (``meta_count`` seeded meta.json mutations first)."""
    rng = np.random.default_rng(seed)
    builders: dict[str, Builder] = {}
    for i in range(meta_count):
        section, key = META_FIELDS[int(rng.integers(len(META_FIELDS)))]
        value = META_VALUES[int(rng.integers(len(META_VALUES)))]
        name = f"sess_meta_{i:02d}"
        builders[name] = _session_edit(name, _meta_field(section, key, value))
    for name, change in FRAMES_EDITS.items():
        builders[f"sess_frames_{name}"] = _session_edit(
            f"sess_frames_{name}", _frames_lines(change)
        )
    builders["sess_frames_missing"] = _session_edit(
        "sess_frames_missing", lambda path: (path / "frames.csv").unlink()
    )
    for name, line in RESULTS_LINES.items():
        builders[f"sess_results_{name}"] = _session_edit(
            f"sess_results_{name}", _results_edit(line)
        )
    for kind in SEGMENT_KINDS:
        name = f"sess_segment_{kind}"
        builders[name] = _session_edit(name, _segment_edit(kind))
    builders["sess_v2_meta_v1_layout"] = _session_edit("sess_v2_meta_v1_layout", _v1_layout)
    for name, value in (("v1", 1), ("v3", 3), ("text", "2"), ("float", 2.0)):
        builders[f"sess_version_{name}"] = _session_edit(
            f"sess_version_{name}", _meta_field(None, "format_version", value)
        )
    return builders
