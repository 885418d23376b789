"""A folder of images (PNG/JPG/BMP/TIFF, natural sort) played as a clip at a given frame rate."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

from usguide.defaults import FALLBACK_FPS
from usguide.errors import UsguideError
from usguide.sources.base import UndecodableFrame
from usguide.sources.convert import to_frame_image
from usguide.sources.indexed import IndexedSource
from usguide.types import SourceInfo

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"})


def natural_key(name: str) -> list[object]:
    """Sort key so that ``img2.png`` comes before ``img10.png``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def list_images(folder: Path) -> list[Path]:
    """The image files directly in ``folder``, naturally sorted."""
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    return sorted(files, key=lambda p: natural_key(p.name))


class ImageFolderSource(IndexedSource):
    """Plays the images of a folder in natural order; frame ``i`` has source time ``i / fps``.

    Args:
        folder: the directory of images.
        fps: frame rate given by the user (default 30).
        realtime: deliver frames at that rate instead of as fast as possible.
        loop: start again at the end.
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        fps: float | None = None,
        realtime: bool = False,
        loop: bool = False,
    ) -> None:
        super().__init__(realtime=realtime, loop=loop)
        self.folder = Path(folder)
        self.fps = float(fps) if fps else FALLBACK_FPS
        if self.fps <= 0:
            raise UsguideError(f"bad --fps {fps}: must be > 0")
        self._files: list[Path] = []
        self._size: tuple[int, int] | None = None

    def _open(self) -> SourceInfo:
        if not self.folder.is_dir():
            raise UsguideError(f"image folder not found: {self.folder} — check the path")
        self._files = list_images(self.folder)
        if not self._files:
            raise UsguideError(
                f"no images (png/jpg/bmp/tif) in {self.folder} — give a folder of images"
            )
        self._size = None
        first = self._first_image()
        self._size = (first.shape[1], first.shape[0])
        return SourceInfo(
            name=self.folder.name,
            kind="images",
            width=first.shape[1],
            height=first.shape[0],
            fps=self.fps,
            live=False,
            frame_count=len(self._files),
        )

    def _decode(self, index: int) -> np.ndarray:
        return self._load(index)

    def _source_ms(self, index: int) -> float:
        return index * 1000.0 / self.fps

    def _first_image(self) -> np.ndarray:
        """The first image that decodes (it sets the folder's size); the others are skipped
        later, counted, when read."""
        for index in range(len(self._files)):
            try:
                return self._load(index)
            except UndecodableFrame:
                continue
        raise UsguideError(
            f"none of the {len(self._files)} images in {self.folder} can be read — "
            "they are corrupt or not images"
        )

    def _load(self, index: int) -> np.ndarray:
        path = self._files[index]
        if not path.is_file():  # removed since listing, or replaced by a pipe or device
            raise UndecodableFrame(f"{path.name} is no longer a regular file")
        try:
            image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        except cv2.error:  # e.g. a header claiming more pixels than OpenCV's decode limit
            image = None
        if image is None:
            raise UndecodableFrame(
                f"cannot read image {path} — the file is corrupt or not an image"
            )
        image = to_frame_image(image)
        if self._size is not None and (image.shape[1], image.shape[0]) != self._size:
            raise UndecodableFrame(
                f"{path.name} is {image.shape[1]}x{image.shape[0]} but the folder's first image is "
                f"{self._size[0]}x{self._size[1]} — all images must have the same size"
            )
        return image
