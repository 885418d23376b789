"""DicomSource on real files from pydicom-data: calibration, timing, colour, multi-frame, errors."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from usguide.errors import UsguideError
from usguide.sources.dicom import DicomSource, frame_times_ms, is_dicom_file
from usguide.types import Roi


def read_all(source):
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    return frames


def test_palette_image_with_ultrasound_region():
    with DicomSource(get_testdata_file("OBXXXX1A.dcm")) as source:
        info = source.info
        assert (info.kind, info.width, info.height, info.frame_count) == ("dicom", 800, 600, 1)
        frame = source.read()
        assert source.read() is None
    calibration = frame.calibration
    assert calibration.mm_per_px == pytest.approx(0.2623, abs=0.0005)
    roi = calibration.roi
    assert roi == Roi(120, 60, 680, 458)
    assert (roi.x, roi.y, roi.x + roi.w, roi.y + roi.h) == (120, 60, 800, 518)
    assert frame.image.shape == (600, 800, 3) and frame.image.dtype == np.uint8
    assert frame.image.flags.c_contiguous


def test_two_frame_palette_cine_and_seek():
    with DicomSource(get_testdata_file("OBXXXX1A_2frame.dcm")) as source:
        assert source.info.frame_count == 2
        frames = read_all(source)
        source.seek(1)
        again = source.read()
    assert [f.index for f in frames] == [0, 1]
    assert frames[1].source_ms > frames[0].source_ms
    assert np.array_equal(again.image, frames[1].image)
    assert frames[0].calibration.roi == Roi(120, 60, 680, 458)


def test_jpeg_ybr_cine_120_frames_at_30_fps():
    from pydicom.pixels import pixel_array

    path = get_testdata_file("color3d_jpeg_baseline.dcm")
    with DicomSource(path) as source:
        info = source.info
        assert info.frame_count == 120
        assert info.fps == pytest.approx(30, abs=0.01)
        frames = [source.read() for _ in range(31)]  # decoding all 120 JPEG frames is slow
        source.seek(119)
        last = source.read()
        assert source.read() is None
        source.seek(7)
        seeked = source.read()
    assert last.index == 119 and last.source_ms == pytest.approx(119 * 33.333, abs=0.1)
    times = [f.source_ms for f in frames]
    assert all(b > a for a, b in zip(times, times[1:], strict=False))
    assert times[30] == pytest.approx(1000, abs=0.1)
    assert frames[0].calibration.mm_per_px == pytest.approx(0.5105, abs=0.0005)
    assert np.array_equal(seeked.image, frames[7].image)
    # pydicom converts YBR to RGB; the source delivers BGR: compare with pydicom's own RGB.
    rgb = pixel_array(path, index=0)
    assert np.array_equal(frames[0].image, rgb[:, :, ::-1])


def test_rgb_image_becomes_bgr_without_calibration():
    path = get_testdata_file("US1_UNCR.dcm")
    with DicomSource(path) as source:
        frame = source.read()
    rgb = pydicom.dcmread(path).pixel_array
    assert np.array_equal(frame.image, rgb[:, :, ::-1])
    assert frame.calibration.mm_per_px is None and frame.calibration.roi is None


def test_monochrome1_is_inverted(tmp_path):
    ds = pydicom.dcmread(get_testdata_file("US1_UNCR.dcm"))
    grey = np.arange(480 * 640, dtype=np.uint32).reshape(480, 640) % 256
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.SamplesPerPixel = 1
    del ds.PlanarConfiguration
    ds.PixelData = grey.astype(np.uint8).tobytes()
    ds.FrameTime = 50
    path = tmp_path / "mono1.dcm"
    ds.save_as(path)
    with DicomSource(path) as source:
        frame = source.read()
    assert frame.image.ndim == 2
    assert np.array_equal(frame.image, 255 - grey.astype(np.uint8))


def test_frame_time_vector_and_rates():
    ds = pydicom.Dataset()
    ds.FrameTimeVector = [0, 20, 40, 20]
    assert frame_times_ms(ds, 4) == [0, 20, 60, 80]
    ds = pydicom.Dataset()
    ds.CineRate = 25
    assert frame_times_ms(ds, 3) == [0, 40, 80]
    ds = pydicom.Dataset()
    ds.RecommendedDisplayFrameRate = 50
    assert frame_times_ms(ds, 2) == [0, 20]
    assert frame_times_ms(ds, 2, fps=10) == [0, 100]


def test_non_image_dicom():
    with pytest.raises(UsguideError, match="has no pixel data"):
        DicomSource(get_testdata_file("rtplan.dcm")).open()


def test_not_dicom_and_missing(tmp_path):
    bogus = tmp_path / "fake.dcm"
    bogus.write_bytes(b"hello")
    assert is_dicom_file(bogus)
    with pytest.raises(UsguideError, match="DICOM"):
        DicomSource(bogus).open()
    with pytest.raises(UsguideError, match="not found"):
        DicomSource(tmp_path / "none.dcm").open()
