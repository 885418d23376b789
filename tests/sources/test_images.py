"""ImageFolderSource: natural order, user frame rate, seek, loop and errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from usguide.errors import UsguideError
from usguide.sources.images import ImageFolderSource, natural_key


def make_folder(tmp_path, names, size=(40, 30)):
    folder = tmp_path / "frames"
    folder.mkdir()
    for value, name in enumerate(names):
        image = np.full((size[1], size[0]), value * 10, np.uint8)
        assert cv2.imwrite(str(folder / name), image)
    return folder


def test_natural_order_fps_and_seek(tmp_path):
    names = ["img2.png", "img10.png", "img1.png", "img3.bmp"]
    folder = make_folder(tmp_path, names)
    (folder / "notes.txt").write_text("ignored")
    with ImageFolderSource(folder, fps=20) as source:
        info = source.info
        assert (info.kind, info.width, info.height, info.fps, info.frame_count) == (
            "images",
            40,
            30,
            20,
            4,
        )
        frames = [source.read() for _ in range(4)]
        assert source.read() is None
        # img1 (value 20), img2 (0), img3 (30), img10 (10)
        assert [int(f.image[0, 0]) for f in frames] == [20, 0, 30, 10]
        assert [f.source_ms for f in frames] == [0, 50, 100, 150]
        assert frames[0].image.ndim == 2 and frames[0].image.flags.c_contiguous
        source.seek(2)
        assert source.read().index == 2
    assert natural_key("a2") < natural_key("a10")


def test_loop_and_default_fps(tmp_path):
    folder = make_folder(tmp_path, ["a.png", "b.jpg"])
    with ImageFolderSource(folder, loop=True) as source:
        assert source.info.fps == 30
        assert [source.read().index for _ in range(5)] == [0, 1, 0, 1, 0]


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsguideError, match="no images"):
        ImageFolderSource(tmp_path / "empty").open()


def test_unreadable_image_is_skipped_and_counted(tmp_path):
    folder = make_folder(tmp_path, ["a.png"])
    (folder / "b.png").write_bytes(b"not a png at all")
    cv2.imwrite(str(folder / "c.png"), np.zeros((30, 40), np.uint8))
    with ImageFolderSource(folder) as source:
        assert source.read().index == 0
        assert source.read().index == 2  # b.png skipped, not the end of the folder
        assert source.read() is None and source.skipped == 1


def test_mixed_sizes_are_skipped_and_counted(tmp_path):
    folder = make_folder(tmp_path, ["a.png"])
    cv2.imwrite(str(folder / "b.png"), np.zeros((10, 10), np.uint8))
    with ImageFolderSource(folder) as source:
        source.read()
        assert source.read() is None and source.skipped == 1


def test_a_folder_of_only_corrupt_images_is_one_error(tmp_path):
    (tmp_path / "a.png").write_bytes(b"junk")
    (tmp_path / "b.png").write_bytes(b"")
    with pytest.raises(UsguideError, match="none of the 2 images"):
        ImageFolderSource(tmp_path).open()


def test_nan_tiff_is_skipped_not_black(tmp_path):
    folder = make_folder(tmp_path, ["a.png"])
    cv2.imwrite(str(folder / "b.tiff"), np.full((30, 40), np.nan, np.float32))
    with ImageFolderSource(folder) as source:
        source.read()
        assert source.read() is None and source.skipped == 1
