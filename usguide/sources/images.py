"""A folder of images (PNG/JPG/BMP/TIFF, natural sort) played as a clip at a given frame rate."""

from __future__ import annotations

import re
import time
from pathlib import Path

import cv2

from usguide.errors import UsguideError
from usguide.sources.base import FrameSource
from usguide.sources.convert import to_frame_image
from usguide.sources.pacing import Pacer
from usguide.types import Frame, SourceInfo, SourceState

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"})


def natural_key(name: str) -> list[object]:
    """Sort key so that ``img2.png`` comes before ``img10.png``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def list_images(folder: Path) -> list[Path]:
    """The image files directly in ``folder``, naturally sorted."""
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    return sorted(files, key=lambda p: natural_key(p.name))


class ImageFolderSource(FrameSource):
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
        self.folder = Path(folder)
        self.fps = float(fps) if fps else 30.0
        if self.fps <= 0:
            raise UsguideError(f"bad --fps {fps}: must be > 0")
        self.loop = loop
        self._pacer = Pacer(realtime)
        self._files: list[Path] = []
        self._next = 0
        self._size: tuple[int, int] | None = None
        self._info: SourceInfo | None = None
        self._ended = False

    @property
    def info(self) -> SourceInfo:
        if self._info is None:
            raise RuntimeError("ImageFolderSource.info is valid after open()")
        return self._info

    @property
    def state(self) -> SourceState:
        return SourceState.ENDED if self._ended else SourceState.CONNECTED

    @property
    def seekable(self) -> bool:
        return True

    def open(self) -> None:
        if not self.folder.is_dir():
            raise UsguideError(f"image folder not found: {self.folder} — check the path")
        self._files = list_images(self.folder)
        if not self._files:
            raise UsguideError(
                f"no images (png/jpg/bmp/tif) in {self.folder} — give a folder of images"
            )
        first = self._load(0)
        self._size = (first.shape[1], first.shape[0])
        self._info = SourceInfo(
            name=self.folder.name,
            kind="images",
            width=first.shape[1],
            height=first.shape[0],
            fps=self.fps,
            live=False,
            frame_count=len(self._files),
        )
        self._next = 0
        self._ended = False

    def read(self) -> Frame | None:
        if self._next >= len(self._files):
            if not self.loop or not self._files:
                self._ended = True
                return None
            self.seek(0)
        index = self._next
        image = self._load(index)
        self._next += 1
        source_ms = index * 1000.0 / self.fps
        self._pacer.wait(source_ms)
        return Frame(
            image=image, index=index, t_capture_ns=time.perf_counter_ns(), source_ms=source_ms
        )

    def seek(self, index: int) -> None:
        if not 0 <= index < len(self._files):
            raise UsguideError(
                f"frame {index} is outside {self.folder.name} (0..{len(self._files) - 1})"
            )
        self._next = index
        self._ended = False
        self._pacer.reset()

    def close(self) -> None:
        self._ended = True

    def _load(self, index: int):
        path = self._files[index]
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise UsguideError(f"cannot read image {path} — the file is corrupt or not an image")
        image = to_frame_image(image)
        if self._size is not None and (image.shape[1], image.shape[0]) != self._size:
            raise UsguideError(
                f"{path.name} is {image.shape[1]}x{image.shape[0]} but the folder's first image is "
                f"{self._size[0]}x{self._size[1]} — all images must have the same size"
            )
        return image
