"""make_source: spec dispatch, calibration overrides and their validation, shared CLI options."""

from __future__ import annotations

import argparse
import sys
import types

import cv2
import numpy as np
import pytest
from pydicom.data import get_testdata_file

from usguide.errors import UsguideError
from usguide.sources.device import DeviceSource
from usguide.sources.dicom import DicomSource
from usguide.sources.factory import (
    CalibratedSource,
    add_source_arguments,
    make_source,
    source_from_args,
)
from usguide.sources.images import ImageFolderSource
from usguide.sources.video import VideoSource
from usguide.types import Calibration, Roi


@pytest.fixture
def image_folder(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i}.png"), np.full((120, 160), 40 * i, np.uint8))
    return folder


def test_dispatch(tmp_path, image_folder):
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 30, (160, 120))
    writer.write(np.zeros((120, 160, 3), np.uint8))
    writer.release()
    assert isinstance(make_source(str(video)), VideoSource)
    assert isinstance(make_source(str(image_folder), fps=12), ImageFolderSource)
    assert isinstance(make_source(get_testdata_file("OBXXXX1A.dcm")), DicomSource)
    no_suffix = tmp_path / "IM0001"
    no_suffix.write_bytes(open(get_testdata_file("OBXXXX1A.dcm"), "rb").read())
    assert isinstance(make_source(str(no_suffix)), DicomSource)
    device = make_source("device:3", backend="v4l2")
    assert isinstance(device, DeviceSource) and device.device == 3 and device.backend == "v4l2"
    assert make_source("/dev/video2").device == "/dev/video2"


def test_recording_and_demo_use_recording_source(tmp_path, monkeypatch):
    calls = []

    class FakeRecordingSource:
        def __init__(self, path, realtime=False, loop=False):
            calls.append((path, realtime, loop))

    module = types.ModuleType("usguide.sources.recording")
    module.RecordingSource = FakeRecordingSource
    monkeypatch.setitem(sys.modules, "usguide.sources.recording", module)
    session = tmp_path / "session"
    session.mkdir()
    (session / "meta.json").write_text("{}")
    assert isinstance(make_source(str(session), realtime=True, loop=True), FakeRecordingSource)
    assert calls[-1] == (session, True, True)
    monkeypatch.setattr("usguide.paths.demo_recording_path", lambda: session)
    make_source("demo")
    assert calls[-1][0] == session


def test_simulator_spec(monkeypatch):
    calls = []

    class FakeSimulatorSource:
        def __init__(self, **kwargs):
            calls.append(kwargs)

    module = types.ModuleType("usguide.sources.simulator")
    module.SimulatorSource = FakeSimulatorSource
    monkeypatch.setitem(sys.modules, "usguide.sources.simulator", module)
    make_source("sim")
    make_source("sim:steep")
    make_source("simulator")
    assert calls == [{"realtime": True}, {"variant": "steep", "realtime": True}, {"realtime": True}]


def test_missing_path():
    with pytest.raises(UsguideError, match="input not found"):
        make_source("/no/such/file.mp4")


def test_user_calibration_replaces_the_files(image_folder):
    source = make_source(str(image_folder), roi=Roi(10, 20, 100, 80), mm_per_px=0.1)
    assert isinstance(source, CalibratedSource)
    with source:
        frame = source.read()
        assert source.seekable
    assert frame.calibration.roi == Roi(10, 20, 100, 80) and frame.calibration.mm_per_px == 0.1


def test_depth_gives_scale_from_region_height(image_folder):
    with make_source(str(image_folder), roi=Roi(0, 0, 100, 80), depth_mm=40) as source:
        assert source.read().calibration.mm_per_px == pytest.approx(0.5)
    with make_source(str(image_folder), depth_mm=60) as source:
        assert source.read().calibration.mm_per_px == pytest.approx(0.5)  # frame height 120
    # The DICOM's own region (458 px high) is used when no --roi is given.
    with make_source(get_testdata_file("OBXXXX1A.dcm"), depth_mm=45.8) as source:
        frame = source.read()
    assert frame.calibration.mm_per_px == pytest.approx(0.1)
    assert frame.calibration.roi == Roi(120, 60, 680, 458)


def test_roi_outside_frame(image_folder):
    source = make_source(str(image_folder), roi=Roi(100, 0, 100, 50))
    with pytest.raises(UsguideError, match="does not fit in the 160x120 frame"):
        source.open()


@pytest.mark.parametrize(
    "options,message",
    [
        ({"mm_per_px": 0}, "bad --mm-per-px"),
        ({"mm_per_px": -1.0}, "bad --mm-per-px"),
        ({"depth_mm": -5}, "bad --depth-mm"),
        ({"mm_per_px": 0.1, "depth_mm": 40}, "not both"),
        ({"fps": 0}, "bad --fps"),
    ],
)
def test_bad_scales(image_folder, options, message):
    with pytest.raises(UsguideError, match=message):
        make_source(str(image_folder), **options)


def test_shared_arguments(image_folder):
    parser = argparse.ArgumentParser()
    add_source_arguments(parser)
    args = parser.parse_args(["--roi", "1,2,30,40", "--mm-per-px", "0.2", "--fps", "10", "--loop"])
    source = source_from_args(args, str(image_folder))
    assert isinstance(source, CalibratedSource)
    assert source.roi == Roi(1, 2, 30, 40) and source.mm_per_px == 0.2
    assert source.inner.fps == 10 and source.inner.loop
    with pytest.raises(UsguideError, match="bad --roi"):
        source_from_args(parser.parse_args(["--roi", "1,2,x"]), str(image_folder))


def test_is_live_names_devices_and_the_simulator_only():
    from usguide.sources.factory import is_live

    assert all(is_live(spec) for spec in ("device:0", "/dev/video2", "sim", "sim:convex"))
    assert all(is_live(spec) for spec in ("simulator", "simulator:screen"))
    assert not any(is_live(spec) for spec in ("sim_clip.mp4", "demo", "simulated/", "device:x"))


def test_current_calibration_follows_the_users_changes(image_folder):
    with make_source(str(image_folder), depth_mm=60) as source:
        assert source.current.mm_per_px == pytest.approx(0.5)  # before any frame: frame height
        source.read()
        source.roi, source.depth_mm = Roi(0, 0, 100, 30), 15.0  # changed after that frame
        assert source.current == Calibration(mm_per_px=0.5, roi=Roi(0, 0, 100, 30))
