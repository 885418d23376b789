"""SessionReader and RecordingSource: exact seek, crash recovery (SIGKILL), pacing, errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import usguide.sources.pacing as pacing_module
from usguide.errors import UsguideError
from usguide.record.reader import SessionReader
from usguide.record.writer import SessionWriter
from usguide.sources.recording import RecordingSource
from usguide.types import Calibration, Frame, SourceInfo, SourceState

W, H = 160, 120


def noise_image(i: int) -> np.ndarray:
    """Frame i of the synthetic stream: deterministic so a killed child's frames can be rebuilt."""
    return np.random.default_rng(i).integers(0, 256, (H, W, 3), dtype=np.uint8)


def make_session(path: Path, count: int = 40) -> list[np.ndarray]:
    info = SourceInfo(name="synthetic", kind="simulator", width=W, height=H, fps=50.0, live=False)
    images = [noise_image(i) for i in range(count)]
    with SessionWriter(path, info, Calibration(mm_per_px=0.2)) as writer:
        for i, image in enumerate(images):
            frame = Frame(image, i, 5_000_000_000 + i * 20_000_000, source_ms=i * 20.0)
            writer.write(frame, {"frame": i, "needle": None} if i % 2 else None)
    return images


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> tuple[Path, list[np.ndarray]]:
    path = tmp_path_factory.mktemp("rec") / "session"
    return path, make_session(path)


def test_seek_matches_sequential_decode(session) -> None:
    path, images = session
    with SessionReader(path) as reader:
        sequential = [reader.read_next() for _ in range(reader.frame_count)]
        assert all(np.array_equal(a, b) for a, b in zip(sequential, images, strict=True))
        for index in [39, 0, 17, 16, 30, 2, 38, 5, 5, 25]:
            assert np.array_equal(reader.frame(index), sequential[index]), index


def test_recording_source_reads_seeks_loops_and_gives_results(session) -> None:
    path, images = session
    with RecordingSource(path, loop=True) as source:
        info = source.info
        assert (info.kind, info.width, info.height, info.frame_count) == ("recording", W, H, 40)
        assert info.fps == 50.0 and not info.live and source.seekable
        first = source.read()
        assert first.index == 0 and np.array_equal(first.image, images[0])
        assert first.calibration.mm_per_px == 0.2
        assert first.t_capture_ns != 5_000_000_000  # read time now, not the recorded one
        source.seek(38)
        indices = [source.read().index for _ in range(4)]
        assert indices == [38, 39, 0, 1]  # loops
        source.seek(21)
        frame = source.read()
        assert frame.source_ms == 21 * 20.0 and np.array_equal(frame.image, images[21])
        assert source.results_for(21) == {"frame": 21, "needle": None}
        assert source.results_for(20) is None
        assert source.reader.t_capture_ns[21] == 5_000_000_000 + 21 * 20_000_000


def test_recording_source_ends_without_loop(session) -> None:
    path, _ = session
    with RecordingSource(path) as source:
        source.seek(39)
        assert source.read().index == 39
        assert source.read() is None and source.state is SourceState.ENDED
        source.seek(0)
        assert source.state is SourceState.CONNECTED and source.read().index == 0


def test_realtime_paces_by_recorded_timestamps(session, monkeypatch) -> None:
    path, _ = session
    sleeps: list[float] = []
    now = [0]

    def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += int(seconds * 1e9)

    def fake_clock() -> int:
        now[0] += 1000  # each reading costs 1 us
        return now[0]

    monkeypatch.setattr(pacing_module.time, "sleep", fake_sleep)
    monkeypatch.setattr(pacing_module.time, "perf_counter_ns", fake_clock)
    with RecordingSource(path, realtime=True) as source:
        for _ in range(5):
            source.read()
        source.seek(30)  # a seek restarts the pacing: no catch-up sleep
        source.read()
    # Four 20 ms gaps (recorded at 50 fps) after the first frame, less the fake clock ticks.
    assert len(sleeps) == 4
    assert sleeps == pytest.approx([0.020] * 4, abs=1e-4)


CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from usguide.record.writer import SessionWriter
    from usguide.types import Calibration, Frame, SourceInfo
    info = SourceInfo(name="child", kind="simulator", width=160, height=120, fps=50.0, live=True)
    writer = SessionWriter(sys.argv[1], info, Calibration())
    writer.start()
    for i in range(100000):
        image = np.random.default_rng(i).integers(0, 256, (120, 160, 3), dtype=np.uint8)
        writer.write(Frame(image, i, 1_000_000 + i * 20_000_000, i * 20.0), {"frame": i})
        time.sleep(0.01)
        print(writer.written, flush=True)  # frames listed: their segment is closed
    """
)


def test_session_killed_mid_recording_is_readable(tmp_path: Path) -> None:
    path = tmp_path / "crashed"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        for line in child.stdout:
            if int(line) >= 45:
                break
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(30)
    assert not json.loads((path / "meta.json").read_text())["complete"]
    with SessionReader(path) as reader:
        assert not reader.complete
        rows = len((path / "frames.csv").read_text().splitlines()) - 1
        assert reader.frame_count == rows >= 45  # every listed frame survives SIGKILL
        n = reader.frame_count
        assert reader.t_capture_ns.tolist() == [1_000_000 + i * 20_000_000 for i in range(n)]
        assert sorted(reader.results) == list(range(n))
        for i in range(n):
            assert np.array_equal(reader.read_next(), noise_image(i)), i
        assert np.array_equal(reader.frame(n // 2), noise_image(n // 2))  # seek in a crashed file
        assert np.array_equal(reader.frame(0), noise_image(0))
    with RecordingSource(path) as source:
        assert source.info.frame_count == n


def test_partial_last_rows_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "s"
    make_session(path, count=6)
    with open(path / "frames.csv", "a") as handle:
        handle.write("6,6,5000000")  # cut mid-row
    with open(path / "results.jsonl", "a") as handle:
        handle.write('{"index": 5, "res')
    with SessionReader(path) as reader:
        assert reader.frame_count == 6
        assert sorted(reader.results) == [1, 3, 5]


def test_missing_folder_and_meta_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UsguideError, match="not a session folder"):
        SessionReader(tmp_path / "nope")
    with pytest.raises(UsguideError, match="no meta.json"):
        RecordingSource(tmp_path).open()


def test_bad_meta_and_unknown_version_are_user_errors(tmp_path: Path) -> None:
    path = tmp_path / "s"
    make_session(path, count=3)
    meta = json.loads((path / "meta.json").read_text())
    (path / "meta.json").write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(UsguideError, match="format_version 99.*update usguide"):
        SessionReader(path)
    (path / "meta.json").write_text("{not json")
    with pytest.raises(UsguideError, match="not valid JSON"):
        SessionReader(path)


def test_corrupt_or_missing_video_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "s"
    make_session(path, count=3)
    (path / "video-000000.mkv").write_bytes(b"\x00garbage" * 100)
    with pytest.raises(UsguideError, match="corrupt"):
        SessionReader(path)
    (path / "video-000000.mkv").unlink()
    with pytest.raises(UsguideError, match="missing"):
        SessionReader(path)


def test_empty_session_cannot_be_played(tmp_path: Path) -> None:
    info = SourceInfo(name="x", kind="simulator", width=W, height=H, fps=25.0, live=True)
    SessionWriter(tmp_path / "s", info, Calibration()).start().close()
    with SessionReader(tmp_path / "s") as reader:
        assert reader.frame_count == 0
        with pytest.raises(UsguideError, match="outside the session"):
            reader.frame(0)
    with pytest.raises(UsguideError, match="no frames"):
        RecordingSource(tmp_path / "s").open()


def test_a_damaged_later_segment_keeps_the_frames_before_it(tmp_path: Path) -> None:
    path = tmp_path / "s"
    info = SourceInfo(name="x", kind="simulator", width=W, height=H, fps=10.0, live=False)
    images = [noise_image(i) for i in range(25)]
    with SessionWriter(path, info, Calibration()) as writer:  # 10-frame segments
        for i, image in enumerate(images):
            writer.write(Frame(image, i, 1_000 + i * 100_000_000, i * 100.0))
    segment = path / "video-000001.mkv"
    segment.write_bytes(segment.read_bytes()[:-50])  # cut: no longer whole
    with RecordingSource(path) as source:
        assert source.info.frame_count == 10 and source.skipped == 15
        assert np.array_equal(source.reader.frame(9), images[9])


def _format_1_session(path: Path, count: int, rows: int, complete: bool) -> list[np.ndarray]:
    """A session as usguide wrote it before segments: one video.mkv, four-column frames.csv."""
    import cv2

    path.mkdir()
    images = [noise_image(i) for i in range(count)]
    writer = cv2.VideoWriter(
        str(path / "video.mkv"), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"FFV1"), 25.0, (W, H)
    )
    for image in images:
        writer.write(image)
    writer.release()
    lines = ["index,source_index,t_capture_ns,source_ms\n"]
    lines += [f"{i},{i},{1000 + i * 40_000_000},{i * 40.0}\n" for i in range(rows)]
    (path / "frames.csv").write_text("".join(lines))
    video = {"file": "video.mkv", "codec": "ffv1", "pixel_format": "bgr", "fps": 25.0}
    meta = {"format_version": 1, "video": video, "complete": complete, "frame_count": count}
    (path / "meta.json").write_text(json.dumps(meta))
    return images


@pytest.mark.parametrize("complete", [True, False])
def test_format_1_sessions_still_open(tmp_path: Path, complete: bool) -> None:
    path = tmp_path / "old"
    images = _format_1_session(path, 12, 12 if complete else 15, complete)
    with SessionReader(path) as reader:
        assert reader.version == 1 and reader.frame_count == 12
        assert np.array_equal(reader.frame(7), images[7])
        assert np.array_equal(reader.frame(2), images[2])
        assert all(np.array_equal(reader.read_next(), images[i]) for i in range(3, 12))


def test_bundled_format_1_demo_still_opens() -> None:
    from usguide.paths import bundled_path

    path = bundled_path("recordings/demo")
    if not (path / "meta.json").is_file():
        pytest.skip("no bundled demo")
    with RecordingSource(path) as source:
        assert source.reader.version in (1, 2) and source.info.frame_count == 180
        source.seek(179)
        assert source.read().index == 179
