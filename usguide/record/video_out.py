"""The session's video file: opening ``cv2.VideoWriter`` for a codec and describing it in meta.json.

Kept apart from the writer thread so codec-specific OpenCV quirks live in one place.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from usguide.defaults import FALLBACK_FPS
from usguide.errors import UsguideError
from usguide.record.format import Codec
from usguide.types import SourceInfo

# Frame shape and dtype string of the first accepted frame, as SessionWriter records it.
FrameShape = tuple[tuple[int, ...], str]


def video_fps(info: SourceInfo) -> float:
    """The frame rate written into the video container.

    Args:
        info: the source being recorded.

    Returns:
        The source's fps, or 30.0 when it reports none (containers need a positive rate).
    """
    return float(info.fps) if info.fps and info.fps > 0 else FALLBACK_FPS


def open_video_writer(
    folder: Path, codec: Codec, image: np.ndarray, fps: float, quality: int, name: str = ""
) -> cv2.VideoWriter:
    """Opens the video file for frames shaped like ``image``.

    Args:
        folder: the session folder; the file is named after ``codec.file_name``.
        codec: the chosen codec.
        image: the first frame (uint8 grey or BGR), giving size and channel count.
        fps: the container frame rate.
        quality: JPEG quality 1..100, used by ``mjpg`` only.
        name: the file name (a segment's); ``codec.file_name`` when empty.

    Returns:
        An opened ``cv2.VideoWriter``.

    Raises:
        UsguideError: OpenCV cannot open a writer for this codec.
    """
    height, width = image.shape[:2]
    grey = image.ndim == 2
    fourcc = cv2.VideoWriter_fourcc(*codec.fourcc)
    target = str(folder / (name or codec.file_name))
    if codec.name == "mjpg":
        # OpenCV's own MJPEG backend is the one that honours VIDEOWRITER_PROP_QUALITY.
        video = cv2.VideoWriter(target, cv2.CAP_OPENCV_MJPEG, fourcc, fps, (width, height))
        if video.isOpened():
            video.set(cv2.VIDEOWRITER_PROP_QUALITY, quality)
    else:
        video = cv2.VideoWriter(target, cv2.CAP_FFMPEG, fourcc, fps, (width, height), not grey)
    if not video.isOpened():
        raise UsguideError(
            f"OpenCV cannot open a {codec.fourcc} video writer for {target}; "
            "install opencv-python-headless with FFmpeg support"
        )
    return video


def pixel_kind(image: np.ndarray) -> str | None:
    """``"gray"`` (HxW uint8), ``"bgr"`` (HxWx3 uint8), or None for what a session cannot hold."""
    if image.dtype != np.uint8:
        return None
    if image.ndim == 2:
        return "gray"
    return "bgr" if image.ndim == 3 and image.shape[2] == 3 else None


def pixel_kind_of(shape: FrameShape) -> str:
    """The ``pixel_kind`` of an accepted frame's recorded shape."""
    return "gray" if len(shape[0]) == 2 else "bgr"


def as_stored(image: np.ndarray, codec: Codec) -> np.ndarray:
    """Converts a frame to what ``codec`` stores: grey becomes BGR unless the codec keeps grey.

    Args:
        image: a uint8 grey or BGR frame.
        codec: the chosen codec.

    Returns:
        The frame to hand to ``cv2.VideoWriter.write``.
    """
    if image.ndim == 2 and not codec.grey_native:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return image


def video_meta(codec: Codec, quality: int, shape: FrameShape | None, info: SourceInfo) -> dict:
    """The ``video`` section of meta.json.

    Args:
        codec: the chosen codec.
        quality: JPEG quality (reported only for lossy codecs).
        shape: the first accepted frame's shape and dtype, or None before any frame.
        info: the source being recorded (its size stands in until the first frame).

    Returns:
        A JSON-ready dict.
    """
    grey = shape is not None and len(shape[0]) == 2
    width = shape[0][1] if shape else info.width
    height = shape[0][0] if shape else info.height
    return {
        "file": codec.file_name,
        "codec": codec.name,
        "fourcc": codec.fourcc,
        "lossless": codec.lossless,
        "quality": None if codec.lossless else quality,
        "pixel_format": None if shape is None else ("gray" if grey else "bgr"),
        "stored_as": None if shape is None else ("gray" if grey and codec.grey_native else "bgr"),
        "width": width,
        "height": height,
        "fps": video_fps(info),
    }
