"""Sequence files: the PLUS header layout, reading back with pynrrd and SimpleITK, odd inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from usguide.errors import UsguideError
from usguide.record.seqfile import read_sequence
from usguide.record.seqfile_writer import SeqFrame, matrix_text, write_sequence

W, H, N = 24, 16, 5


def images(color: bool = False) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    shape = (H, W, 3) if color else (H, W)
    return [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(N)]


def frames(pictures: list[np.ndarray]) -> list[SeqFrame]:
    out = []
    for i, image in enumerate(pictures):
        fields = {"FrameNumber": str(i), "Timestamp": f"{i * 0.05:.6f}", "ImageStatus": "OK"}
        if i == 2:
            fields["NeedleTipToImageTransform"] = matrix_text(np.eye(4) * 2)
            fields["NeedleTipToImageTransformStatus"] = "OK"
        out.append(SeqFrame(image, fields))
    return out


def test_mha_header_follows_plus(tmp_path: Path) -> None:
    path = tmp_path / "clip.mha"
    assert write_sequence(path, frames(images()), spacing_mm=0.2, header={"Extra": "x"}) == N
    text = path.read_bytes().split(b"ElementDataFile = LOCAL\n")[0].decode()
    lines = text.splitlines()
    assert lines[0] == "ObjectType = Image"
    assert lines[1] == "NDims = 3"
    assert f"DimSize = {W} {H} {N}" in lines
    assert "ElementType = MET_UCHAR" in lines
    assert "ElementSpacing = 0.2 0.2 1" in lines
    assert "UltrasoundImageOrientation = MF" in lines
    assert "Seq_Frame0002_NeedleTipToImageTransform = 2 0 0 0 0 2 0 0 0 0 2 0 0 0 0 2" in lines
    assert "Seq_Frame0001_NeedleTipToImageTransform" not in text
    assert path.stat().st_size == len(text) + len("ElementDataFile = LOCAL\n") + W * H * N


@pytest.mark.parametrize("name", ["clip.mha", "clip.seq.nrrd"])
@pytest.mark.parametrize("color", [False, True])
def test_round_trip_with_own_reader(tmp_path: Path, name: str, color: bool) -> None:
    pictures = images(color)
    path = tmp_path / name
    write_sequence(path, frames(pictures), spacing_mm=0.25)
    seq = read_sequence(path)
    assert (seq.width, seq.height, seq.frame_count) == (W, H, N)
    assert seq.spacing_mm == pytest.approx((0.25, 0.25))
    for i in range(N):
        assert np.array_equal(seq.image(i), pictures[i])
    assert seq.timestamps_s() == pytest.approx([i * 0.05 for i in range(N)])
    assert list(seq.transforms("NeedleTipToImage")) == [2]


def test_nrrd_reads_with_pynrrd(tmp_path: Path) -> None:
    nrrd = pytest.importorskip("nrrd")
    pictures = images()
    path = tmp_path / "clip.seq.nrrd"
    write_sequence(path, frames(pictures), spacing_mm=0.25)
    data, header = nrrd.read(str(path))
    assert data.shape == (W, H, N)  # pynrrd gives Fortran order: x, y, frame
    assert np.array_equal(data[:, :, 3].T, pictures[3])
    assert np.allclose(np.abs(np.asarray(header["space directions"][:2], dtype=float)).sum(1), 0.25)
    assert header["Seq_Frame0004_Timestamp"] == "0.200000"
    assert header["kinds"] == ["domain", "domain", "list"]


def test_mha_reads_with_simpleitk(tmp_path: Path) -> None:
    sitk = pytest.importorskip("SimpleITK")
    pictures = images()
    path = tmp_path / "clip.mha"
    write_sequence(path, frames(pictures), spacing_mm=0.25)
    image = sitk.ReadImage(str(path))
    assert image.GetSize() == (W, H, N)
    assert image.GetSpacing() == pytest.approx((0.25, 0.25, 1.0))
    array = sitk.GetArrayFromImage(image)  # frame, y, x
    assert np.array_equal(array[1], pictures[1])


def test_plus_orientation_is_turned_to_depth_down(tmp_path: Path) -> None:
    path = tmp_path / "un.mha"
    pictures = images()
    write_sequence(path, frames(pictures))
    raw = path.read_bytes().replace(
        b"UltrasoundImageOrientation = MF", b"UltrasoundImageOrientation = UN"
    )
    path.write_bytes(raw)
    seq = read_sequence(path)
    assert np.array_equal(seq.image(0), pictures[0][::-1, ::-1])


def test_errors_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UsguideError, match="no frames"):
        write_sequence(tmp_path / "empty.mha", [])
    with pytest.raises(UsguideError, match="one size"):
        write_sequence(tmp_path / "mixed.mha", [SeqFrame(np.zeros((4, 4), np.uint8)),
                                                 SeqFrame(np.zeros((5, 4), np.uint8))])  # fmt: skip
    with pytest.raises(UsguideError, match=".mha or .seq.nrrd"):
        write_sequence(tmp_path / "clip.png", frames(images()))
    with pytest.raises(UsguideError, match="does not exist"):
        write_sequence(tmp_path / "no" / "clip.mha", frames(images()))
    assert not (tmp_path / "mixed.mha").exists()
    truncated = tmp_path / "cut.mha"
    write_sequence(truncated, frames(images()))
    truncated.write_bytes(truncated.read_bytes()[:-10])
    with pytest.raises(UsguideError, match="truncated"):
        read_sequence(truncated)
    junk = tmp_path / "junk.mha"
    junk.write_bytes(b"hello\nworld\n")
    with pytest.raises(UsguideError):
        read_sequence(junk)
