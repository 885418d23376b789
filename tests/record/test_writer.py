"""SessionWriter + SessionReader: bit-exact round trips, timestamps, drops, results, error paths."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from usguide.errors import UsguideError
from usguide.record.format import FORMAT_VERSION
from usguide.record.reader import SessionReader
from usguide.record.writer import SessionWriter
from usguide.types import Calibration, Frame, Roi, SourceInfo

W, H = 64, 48


def make_info(width: int = W, height: int = H) -> SourceInfo:
    return SourceInfo(
        name="synthetic", kind="simulator", width=width, height=height, fps=25.0, live=True
    )


def make_frames(count: int, grey: bool, seed: int = 0) -> list[Frame]:
    rng = np.random.default_rng(seed)
    shape = (H, W) if grey else (H, W, 3)
    return [
        Frame(
            image=rng.integers(0, 256, shape, dtype=np.uint8),
            index=100 + i,
            t_capture_ns=1_000_000_000 + i * 40_000_000,
            source_ms=i * 40.0 + 0.25,
        )
        for i in range(count)
    ]


def record(path: Path, frames: list[Frame], **kwargs) -> SessionWriter:
    cal = kwargs.pop("calibration", Calibration(mm_per_px=0.1, roi=Roi(2, 3, 50, 40)))
    with SessionWriter(path, make_info(), cal, **kwargs) as writer:
        for frame in frames:
            assert writer.write(frame)
    return writer


@pytest.mark.parametrize("grey", [False, True], ids=["bgr", "grey"])
def test_ffv1_round_trip_is_bit_exact(tmp_path: Path, grey: bool) -> None:
    frames = make_frames(24, grey)
    writer = record(tmp_path / "s", frames, procedure={"operator": "Dr.X", "site": "knee"})
    assert (writer.written, writer.dropped, writer.refused_time, writer.refused_size) == (
        24,
        0,
        0,
        0,
    )
    with SessionReader(tmp_path / "s") as reader:
        assert reader.frame_count == 24
        assert reader.meta["format_version"] == FORMAT_VERSION
        assert reader.meta["video"]["codec"] == "ffv1"
        assert reader.meta["video"]["pixel_format"] == ("gray" if grey else "bgr")
        assert reader.meta["procedure"] == {"operator": "Dr.X", "site": "knee"}
        assert reader.meta["frame_count"] == 24 and reader.complete
        assert reader.calibration == Calibration(mm_per_px=0.1, roi=Roi(2, 3, 50, 40))
        for i, frame in enumerate(frames):
            image = reader.read_next()
            assert image.shape == frame.image.shape and image.dtype == np.uint8
            assert np.array_equal(image, frame.image), f"frame {i} differs"
        assert reader.t_capture_ns.tolist() == [f.t_capture_ns for f in frames]
        assert reader.source_ms.tolist() == [f.source_ms for f in frames]
        assert reader.source_index.tolist() == [f.index for f in frames]
        assert reader.index.tolist() == list(range(24))


@pytest.mark.parametrize("grey", [False, True], ids=["bgr", "grey"])
def test_mjpg_is_compact_lossy_and_keeps_pixel_format(tmp_path: Path, grey: bool) -> None:
    y, x = np.mgrid[0:H, 0:W]
    smooth = [
        Frame(np.dstack([(x + i) % 256, y * 4, x + y]).astype(np.uint8), i, 10 + i, float(i))
        for i in range(10)
    ]
    if grey:
        for frame in smooth:
            frame.image = np.ascontiguousarray(frame.image[:, :, 0])
    record(tmp_path / "m", smooth, codec="mjpg", quality=95)
    with SessionReader(tmp_path / "m") as reader:
        assert reader.meta["video"]["codec"] == "mjpg"
        assert reader.meta["video"]["quality"] == 95
        assert reader.meta["video"]["stored_as"] == "bgr"
        assert reader.frame_count == 10
        for frame in smooth:
            image = reader.read_next()
            assert image.shape == frame.image.shape
            assert np.abs(image.astype(int) - frame.image).mean() < 4.0


def test_non_monotonic_and_other_channel_frames_are_refused_and_counted(tmp_path: Path) -> None:
    frames = make_frames(6, grey=False)
    with SessionWriter(tmp_path / "s", make_info(), Calibration()) as writer:
        assert writer.write(frames[0])
        assert writer.write(frames[1])
        assert not writer.write(frames[1])  # same timestamp
        assert not writer.write(frames[0])  # going back
        grey = Frame(np.zeros((H, W), np.uint8), 8, frames[2].t_capture_ns, 0.0)
        assert not writer.write(grey)  # other channels than the first frame
        assert writer.write(frames[2])
    assert (writer.written, writer.refused_time, writer.refused_size) == (3, 2, 1)
    with SessionReader(tmp_path / "s") as reader:
        assert reader.frame_count == 3
        assert np.all(np.diff(reader.t_capture_ns) > 0)
        assert reader.meta["refused_time"] == 2 and reader.meta["refused_size"] == 1


@pytest.mark.parametrize("codec", ["ffv1", "mjpg"])
def test_a_size_change_starts_a_new_segment(tmp_path: Path, codec: str) -> None:
    """A device replugged at another resolution: recording goes on, nothing is refused."""
    frames = make_frames(9, grey=False)
    sizes = [(H, W)] * 3 + [(H // 2, W // 2)] * 4 + [(H, W)] * 2
    with SessionWriter(tmp_path / "s", make_info(), Calibration(), codec=codec) as writer:
        for frame, (height, width) in zip(frames, sizes, strict=True):
            image = np.ascontiguousarray(frame.image[:height, :width])
            assert writer.write(Frame(image, frame.index, frame.t_capture_ns, frame.source_ms))
    assert (writer.written, writer.refused_size, writer.size_changes) == (9, 0, 2)
    assert len(list((tmp_path / "s").glob("video-*"))) == 3
    with SessionReader(tmp_path / "s") as reader:
        assert reader.frame_count == 9 and reader.meta["size_changes"] == 2
        assert [reader.read_next().shape[:2] for _ in range(9)] == sizes
        assert reader.frame(4).shape[:2] == (H // 2, W // 2) and reader.frame(1).shape[:2] == (H, W)


class _GatedWriter(SessionWriter):
    """A writer whose thread blocks on its first frame until released: a deliberately slow disk."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.entered = threading.Event()
        self.release = threading.Event()

    def _write_item(self, *args) -> None:
        self.entered.set()
        assert self.release.wait(10)
        super()._write_item(*args)


def test_full_queue_drops_frames_without_blocking_and_counts_them(tmp_path: Path, caplog) -> None:
    frames = make_frames(12, grey=True)
    writer = _GatedWriter(tmp_path / "s", make_info(), Calibration(), queue_size=4)
    writer.start()
    assert writer.write(frames[0])
    assert writer.entered.wait(10)  # thread holds frame 0; the queue is empty
    accepted = [writer.write(frame) for frame in frames[1:]]
    assert accepted == [True] * 4 + [False] * 7
    assert writer.dropped == 7
    assert sum("dropped" in r.getMessage() for r in caplog.records) == 1  # said once
    writer.release.set()
    writer.close()
    writer.close()  # idempotent
    assert writer.written == 5
    with SessionReader(tmp_path / "s") as reader:
        assert reader.frame_count == 5
        assert reader.meta["dropped"] == 7
        assert np.array_equal(reader.frame(4), frames[4].image)
        assert reader.source_index.tolist() == [f.index for f in frames[:5]]


def test_results_round_trip(tmp_path: Path) -> None:
    frames = make_frames(8, grey=True)
    with SessionWriter(tmp_path / "s", make_info(), Calibration()) as writer:
        for i, frame in enumerate(frames):
            needle = (
                {"tip": [np.float32(10.5), 20.0], "confidence": np.float64(0.9)} if i % 3 else None
            )
            result = None if i == 5 else {"frame": i, "needle": needle, "ms": np.array([1.0, 2.0])}
            writer.write(frame, result)
    with SessionReader(tmp_path / "s") as reader:
        assert sorted(reader.results) == [0, 1, 2, 3, 4, 6, 7]
        assert reader.result(5) is None
        assert reader.result(0) == {"frame": 0, "needle": None, "ms": [1.0, 2.0]}
        assert reader.result(4)["needle"] == {"tip": [10.5, 20.0], "confidence": 0.9}
    lines = (tmp_path / "s" / "results.jsonl").read_text().splitlines()
    assert json.loads(lines[0]) == {
        "index": 0,
        "result": {"frame": 0, "needle": None, "ms": [1.0, 2.0]},
    }


def test_no_results_file_without_results(tmp_path: Path) -> None:
    record(tmp_path / "s", make_frames(3, grey=True))
    assert not (tmp_path / "s" / "results.jsonl").exists()
    with SessionReader(tmp_path / "s") as reader:
        assert reader.results == {}


def test_existing_session_refused_then_overwritten(tmp_path: Path) -> None:
    record(tmp_path / "s", make_frames(3, grey=True))
    with pytest.raises(UsguideError, match="exists; choose a new --out or pass --overwrite"):
        SessionWriter(tmp_path / "s", make_info(), Calibration()).start()
    record(tmp_path / "s", make_frames(5, grey=False, seed=3), overwrite=True)
    with SessionReader(tmp_path / "s") as reader:
        assert reader.frame_count == 5 and reader.meta["video"]["pixel_format"] == "bgr"


def test_overwrite_never_deletes_foreign_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(UsguideError, match="not part of a session"):
        SessionWriter(tmp_path, make_info(), Calibration(), overwrite=True).start()
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_unwritable_folder_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsguideError, match="choose a new --out|choose another --out"):
        SessionWriter(tmp_path / "file", make_info(), Calibration()).start()
    with pytest.raises(UsguideError, match="choose another --out"):
        SessionWriter(tmp_path / "file" / "session", make_info(), Calibration()).start()


def test_low_disk_space_is_refused_at_start(tmp_path: Path) -> None:
    writer = SessionWriter(tmp_path / "s", make_info(), Calibration(), min_free_bytes=1 << 62)
    with pytest.raises(UsguideError, match="MB free"):
        writer.start()


def test_low_disk_space_during_recording_stops_it(tmp_path: Path, monkeypatch) -> None:
    import usguide.record.writer as writer_module

    monkeypatch.setattr(writer_module, "DISK_CHECK_INTERVAL_NS", -1)  # check on every frame
    frames = make_frames(6, grey=True)
    writer = SessionWriter(tmp_path / "s", make_info(), Calibration())
    writer.start()
    assert writer.write(frames[0])
    for _ in range(1000):  # wait for the thread to write frame 0 (no timing asserted)
        if writer.written:
            break
        time.sleep(0.005)
    writer.min_free_bytes = 1 << 62
    for frame in frames[1:]:
        writer.write(frame)
    writer.close()
    assert writer.error is not None and "MB free" in str(writer.error)
    assert not writer.write(make_frames(1, grey=True)[0])
    with SessionReader(tmp_path / "s") as reader:
        assert 1 <= reader.frame_count < 6
        assert "MB free" in reader.meta["error"]


def test_bad_options_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UsguideError, match="unknown codec"):
        SessionWriter(tmp_path, make_info(), Calibration(), codec="h264")
    with pytest.raises(UsguideError, match="quality"):
        SessionWriter(tmp_path, make_info(), Calibration(), codec="mjpg", quality=0)


def test_write_before_start_and_after_close_is_refused(tmp_path: Path) -> None:
    frame = make_frames(1, grey=True)[0]
    writer = SessionWriter(tmp_path / "s", make_info(), Calibration())
    assert not writer.write(frame)
    writer.start()
    writer.close()
    assert not writer.write(frame)
    with SessionReader(tmp_path / "s") as reader:
        assert reader.frame_count == 0 and reader.complete


def test_export_csv_flattens_results(tmp_path: Path) -> None:
    import csv

    from usguide.record.export import export_csv

    frames = make_frames(4, grey=True)
    with SessionWriter(tmp_path / "s", make_info(), Calibration()) as writer:
        for i, frame in enumerate(frames):
            needle = {"tip": [1.5, 2.0], "confidence": 0.5} if i == 2 else None
            writer.write(frame, None if i == 0 else {"frame": i, "needle": needle})
    assert export_csv(tmp_path / "s", tmp_path / "out.csv") == 4
    rows = list(csv.DictReader(open(tmp_path / "out.csv")))
    assert [r["index"] for r in rows] == ["0", "1", "2", "3"]
    assert [r["t_ms"] for r in rows] == ["0.000", "40.000", "80.000", "120.000"]
    assert rows[0]["frame"] == "" and rows[1]["frame"] == "1"
    assert rows[2]["needle.tip"] == "[1.5, 2.0]" and rows[2]["needle.confidence"] == "0.5"
    assert rows[1]["needle"] == ""
