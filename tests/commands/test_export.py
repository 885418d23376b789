"""``usguide export``: session -> .seq.nrrd / .mha -> pynrrd, SimpleITK -> replayed as a source;
de-identification of DICOM inputs and of burned-in text."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from usguide.cli import main
from usguide.record.seqfile import read_sequence
from usguide.record.writer import SessionWriter
from usguide.sources.factory import make_source
from usguide.sources.frames import iter_frames
from usguide.types import Calibration, Frame, Roi, SourceInfo

W, H, N = 96, 72, 12
ROI = Roi(16, 8, 64, 56)
MM = 0.3


def screen(i: int) -> np.ndarray:
    """A screen capture: speckle in the image region, patient text burned in above it."""
    image = np.full((H, W), 20, np.uint8)
    rng = np.random.default_rng(i)
    image[ROI.y : ROI.y + ROI.h, ROI.x : ROI.x + ROI.w] = rng.integers(40, 200, (ROI.h, ROI.w))
    cv2.putText(image, "DOE^J", (0, 7), cv2.FONT_HERSHEY_PLAIN, 0.6, 255, 1)
    return image


def needle(i: int) -> dict | None:
    if i % 4 == 0:
        return None  # not analysed
    if i % 4 == 1:
        return {"frame": i, "needle": None}
    tip, entry = [30.0 + i, 40.0], [20.0, 20.0]
    data = {"tip": tip, "entry": entry, "confidence": 0.9, "angle_deg": 30.0}
    return {"frame": i, "needle": {**data, "predicted": i % 4 == 3}}


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rec") / "session"
    info = SourceInfo(name="DOE_J.dcm", kind="video", width=W, height=H, fps=20.0, live=False)
    with SessionWriter(path, info, Calibration(mm_per_px=MM, roi=ROI)) as writer:
        for i in range(N):
            writer.write(Frame(screen(i), i, 10**9 + i * 50_000_000, i * 50.0), needle(i))
    return path


@pytest.mark.parametrize("name", ["out.seq.nrrd", "out.mha"])
def test_session_round_trip(tmp_path: Path, session: Path, name: str, capsys) -> None:
    out = tmp_path / name
    assert main(["export", str(session), "--out", str(out)]) == 0
    assert "masked" in capsys.readouterr().out
    seq = read_sequence(out)
    assert seq.frame_count == N
    assert seq.spacing_mm == pytest.approx((MM, MM))
    assert seq.timestamps_s() == pytest.approx([i * 0.05 for i in range(N)])
    measured = seq.transforms("NeedleTipToImage")
    assert sorted(measured) == [i for i in range(N) if i % 4 == 2]
    assert measured[2][:2, 3] == pytest.approx([32 * MM, 40 * MM])
    statuses = [f.get("NeedleStatus") for f in seq.frame_fields[:4]]
    assert statuses == [None, "lost", "ok", "predicted"]
    header_text = out.read_bytes()[:20000]
    assert b"DOE" not in header_text  # the source's name is not copied
    if name.endswith(".nrrd"):
        nrrd = pytest.importorskip("nrrd")
        data, header = nrrd.read(str(out))
        assert data.shape == (W, H, N)
        assert "Seq_Frame0002_NeedleTipToImageTransform" in header
        assert "Seq_Frame0001_NeedleTipToImageTransform" not in header
    else:
        sitk = pytest.importorskip("SimpleITK")
        image = sitk.ReadImage(str(out))
        assert image.GetSize() == (W, H, N)
        assert image.GetSpacing()[:2] == pytest.approx((MM, MM))
        assert image.GetMetaData("Seq_Frame0006_NeedleTipToImageTransform").split()[3] == "10.8"
    # ... and replayed as a usguide source: same pixels inside the region, black outside
    source = make_source(str(out))
    with source:
        frames = list(iter_frames(source))
    assert len(frames) == N
    assert frames[0].calibration.mm_per_px == pytest.approx(MM)
    assert [f.source_ms for f in frames] == pytest.approx([i * 50.0 for i in range(N)])
    assert np.array_equal(ROI.crop(frames[5].image), ROI.crop(screen(5)))
    outside = frames[5].image.copy()
    outside[ROI.y : ROI.y + ROI.h, ROI.x : ROI.x + ROI.w] = 0
    assert not outside.any()


def test_keep_burned_in(tmp_path: Path, session: Path) -> None:
    out = tmp_path / "kept.mha"
    assert main(["export", str(session), "--out", str(out), "--keep-burned-in"]) == 0
    seq = read_sequence(out)
    assert np.array_equal(seq.image(3), screen(3))
    assert "kept" in seq.header["UsguideDeidentification"]


def test_dicom_export_holds_no_identifier(tmp_path: Path) -> None:
    pydicom = pytest.importorskip("pydicom")
    from pydicom.data import get_testdata_file

    path = get_testdata_file("OBXXXX1A.dcm")
    ds = pydicom.dcmread(path)
    out = tmp_path / "ob.seq.nrrd"
    assert main(["export", path, "--out", str(out)]) == 0
    blob = out.read_bytes()
    values = [str(ds.get(k)) for k in ("PatientName", "PatientID", "StudyDate", "InstitutionName")]
    for value in values + [str(ds.SOPInstanceUID), str(ds.StudyInstanceUID)]:
        assert value.encode() not in blob, value
    seq = read_sequence(out)
    note = seq.header["UsguideDeidentification"]
    assert "PatientName" in note and "masked" in note
    region = [int(v) for v in seq.header["UsguideImageRegion"].split()]
    roi = Roi(*region)
    image = seq.image(0)
    image[roi.y : roi.y + roi.h, roi.x : roi.x + roi.w] = 0
    assert not image.any()  # the scanner's text panel is gone


def test_errors_are_one_line(tmp_path: Path, session: Path, capsys) -> None:
    assert main(["export", str(session), "--out", str(tmp_path / "x.png")]) == 2
    assert main(["export", str(tmp_path / "none"), "--out", str(tmp_path / "x.mha")]) == 2
    flat = tmp_path / "flat.png"
    cv2.imwrite(str(flat), np.zeros((40, 40), np.uint8))
    folder = tmp_path / "flat"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), np.zeros((40, 40), np.uint8))
    assert main(["export", str(folder), "--out", str(tmp_path / "f.mha")]) == 2
    err = capsys.readouterr().err
    assert err.count("usguide: error:") == 3
