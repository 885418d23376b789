"""VideoSource on tiny clips written in the test: count, timestamps, exact seek, loop, errors."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from usguide.errors import UsguideError
from usguide.sources.video import VideoSource, playback_decode_threads
from usguide.types import SourceState

SIZE = (160, 120)


def write_clip(path: Path, frames: int = 40, fourcc: str = "mp4v", fps: float = 30.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, SIZE)
    assert writer.isOpened()
    rng = np.random.default_rng(0)
    background = rng.integers(0, 255, (SIZE[1], SIZE[0], 3), dtype=np.uint8)
    for i in range(frames):
        image = np.roll(background, 3 * i, axis=1)  # motion, so P/B frames carry real content
        cv2.putText(image, str(i), (40, 70), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 3)
        writer.write(image)
    writer.release()
    return path


@pytest.fixture
def long_gop_clip(tmp_path, monkeypatch) -> Path:
    # One keyframe for the whole clip and B-frames: POS_FRAMES seeking is not exact on such files.
    monkeypatch.setenv("OPENCV_FFMPEG_WRITER_OPTIONS", "g;300|bf;2")
    return write_clip(tmp_path / "gop.mp4", frames=60)


def decode_all(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            return frames
        frames.append(image)


@pytest.mark.parametrize("fourcc,suffix", [("mp4v", ".mp4"), ("MJPG", ".avi"), ("FFV1", ".mkv")])
def test_reads_every_frame_with_container_timestamps(tmp_path, fourcc, suffix):
    path = write_clip(tmp_path / f"clip{suffix}", frames=30, fourcc=fourcc, fps=25)
    with VideoSource(path) as source:
        info = source.info
        assert (info.kind, info.width, info.height, info.live) == ("video", 160, 120, False)
        assert info.frame_count == 30
        assert info.fps == pytest.approx(25, abs=0.1)
        frames = []
        while (frame := source.read()) is not None:
            frames.append(frame)
        assert source.state is SourceState.ENDED
    assert [f.index for f in frames] == list(range(30))
    times = [f.source_ms for f in frames]
    assert all(b > a for a, b in zip(times, times[1:], strict=False))
    assert times[10] == pytest.approx(400, abs=1.5)
    captures = [f.t_capture_ns for f in frames]
    assert all(b >= a for a, b in zip(captures, captures[1:], strict=False))
    image = frames[0].image
    assert image.dtype == np.uint8 and image.shape == (120, 160, 3) and image.flags.c_contiguous


def test_exact_seek_on_long_gop(long_gop_clip):
    reference = decode_all(long_gop_clip)
    assert len(reference) == 60
    with VideoSource(long_gop_clip) as source:
        assert source.seekable and source.info.frame_count == 60
        for k in [37, 5, 59, 0, 22, 23, 58, 1, 30]:
            source.seek(k)
            frame = source.read()
            assert frame.index == k
            assert np.array_equal(frame.image, reference[k]), f"seek({k}) gave another frame"
            assert frame.source_ms == pytest.approx(k * 1000 / 30, abs=1.0)
        with pytest.raises(UsguideError, match="outside"):
            source.seek(60)


def test_loop_restarts(tmp_path):
    path = write_clip(tmp_path / "loop.avi", frames=5, fourcc="MJPG")
    with VideoSource(path, loop=True) as source:
        indices = [source.read().index for _ in range(12)]
    assert indices == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1]


def test_missing_file(tmp_path):
    with pytest.raises(UsguideError, match="not found"):
        VideoSource(tmp_path / "nope.mp4").open()


def test_random_bytes_file(tmp_path):
    path = tmp_path / "garbage.mp4"
    path.write_bytes(np.random.default_rng(1).integers(0, 255, 50_000, dtype=np.uint8).tobytes())
    with pytest.raises(UsguideError, match="corrupt") as err:
        VideoSource(path).open()
    assert "\n" not in str(err.value)


def test_truncated_file(tmp_path):
    path = write_clip(tmp_path / "whole.mp4", frames=30)
    data = path.read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(UsguideError, match="corrupt, truncated"):
        VideoSource(truncated).open()


def test_playback_decodes_on_one_thread_on_small_machines(tmp_path, monkeypatch):
    assert playback_decode_threads(2) == 1
    assert playback_decode_threads(4) == 1
    assert playback_decode_threads(16) == 0  # FFmpeg's choice
    monkeypatch.setattr("usguide.sources.video.os.cpu_count", lambda: 2)
    source = VideoSource(write_clip(tmp_path / "clip.mkv", frames=12, fourcc="FFV1"))
    source.open()
    try:
        assert source._capture.get(cv2.CAP_PROP_N_THREADS) == 1
        frames = [source.read() for _ in range(12)]
        assert [frame.index for frame in frames] == list(range(12))
        source.seek(3)  # a reopened decoder keeps the setting
        assert source._capture.get(cv2.CAP_PROP_N_THREADS) == 1
        assert source.read().index == 3
    finally:
        source.close()
