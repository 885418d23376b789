"""``usguide devices``: list capture devices safely, on Linux, Windows and macOS.

Linux: sysfs and V4L2 capabilities (metadata nodes skipped; ``fcntl`` imported only there).
Windows: OpenCV probes indexes through DirectShow, then Media Foundation; macOS: AVFoundation.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import struct
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SYSFS_V4L = Path("/sys/class/video4linux")
_VIDIOC_QUERYCAP = 0x80685600  # _IOR('V', 0, struct v4l2_capability), 104 bytes
_CAP_VIDEO_CAPTURE = 0x00000001
_CAP_VIDEO_CAPTURE_MPLANE = 0x00001000
_CAP_DEVICE_CAPS = 0x80000000

# Probing order per platform: (--backend name, OpenCV constant name, what users know it as).
PROBE_BACKENDS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "win32": (("dshow", "CAP_DSHOW", "DirectShow"), ("msmf", "CAP_MSMF", "Media Foundation")),
    "darwin": (("avfoundation", "CAP_AVFOUNDATION", "AVFoundation"),),
}
_ANY_BACKEND = (("any", "CAP_ANY", "OpenCV"),)


@dataclass(frozen=True)
class CaptureDevice:
    """One capture device: what to pass as ``--source`` and a human name."""

    spec: str
    path: str
    name: str


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers ``devices``."""
    parser = subparsers.add_parser(
        "devices",
        help="list capture devices (USB grabbers, cameras)",
        description="List the capture devices this system offers, as the SOURCE to give "
        "usguide (device:N): Linux V4L2 nodes (metadata nodes skipped), Windows DirectShow then "
        "Media Foundation, macOS AVFoundation.",
        epilog="examples:\n  usguide devices\n  usguide devices --json",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Prints the devices; no devices is not an error."""
    devices = list_devices()
    if args.json:
        print(json.dumps([asdict(d) for d in devices]))
        return 0
    if not devices:
        print("no capture devices found")
        return 0
    width = max(len(d.spec) for d in devices)
    print(f"{'SOURCE'.ljust(width)}  PATH          NAME")
    for device in devices:
        print(f"{device.spec.ljust(width)}  {device.path.ljust(12)}  {device.name}")
    return 0


def list_devices(platform: str | None = None) -> list[CaptureDevice]:
    """The capture devices on this machine (``platform``: a ``sys.platform`` value, for tests)."""
    platform = platform or sys.platform
    if platform.startswith("linux"):
        return list_linux_devices()
    return list_probed_devices(PROBE_BACKENDS.get(platform, _ANY_BACKEND))


def list_linux_devices(sysfs: Path = SYSFS_V4L, dev: Path = Path("/dev")) -> list[CaptureDevice]:
    """``/dev/videoN`` nodes that capture video (UVC metadata nodes are skipped), from sysfs."""
    if not sysfs.is_dir():
        return []
    found = []
    nodes = [p for p in sysfs.iterdir() if re.fullmatch(r"video\d+", p.name)]
    for node in sorted(nodes, key=lambda p: int(p.name[5:])):
        path = dev / node.name
        if not _is_capture_node(node, path):
            continue
        name = _read_text(node / "name") or node.name
        found.append(CaptureDevice(spec=f"device:{node.name[5:]}", path=str(path), name=name))
    return found


def _is_capture_node(node: Path, path: Path) -> bool:
    caps = query_capabilities(path)
    if caps is not None:
        return bool(caps & (_CAP_VIDEO_CAPTURE | _CAP_VIDEO_CAPTURE_MPLANE))
    # Without access to the node: UVC exposes the video stream at index 0, metadata at index 1.
    index = _read_text(node / "index")
    return index in (None, "0")


def query_capabilities(path: Path) -> int | None:
    """The node's V4L2 device capabilities (VIDIOC_QUERYCAP), or None when it cannot be queried."""
    try:
        import fcntl  # POSIX only: imported here so that usguide starts on Windows
    except ImportError:
        return None
    try:
        fd = os.open(str(path), os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        buffer = bytearray(104)
        fcntl.ioctl(fd, _VIDIOC_QUERYCAP, buffer)
    except OSError:
        return None
    finally:
        os.close(fd)
    capabilities, device_caps = struct.unpack_from("<II", buffer, 84)
    return device_caps if capabilities & _CAP_DEVICE_CAPS else capabilities


def list_probed_devices(
    backends: tuple[tuple[str, str, str], ...] = _ANY_BACKEND,
    count: int = 5,
    timeout_s: float = 3.0,
    opener: Callable[[int, int], Any] | None = None,
) -> list[CaptureDevice]:
    """Opens indexes 0..count-1 through each backend in turn; the first backend that finds any wins.

    Each attempt runs in a thread with a timeout, because some drivers hang on a missing index.

    Args:
        backends: (``--backend`` name, OpenCV constant name, label) in order of preference.
        count: indexes to try per backend.
        timeout_s: longest wait for one index.
        opener: ``(index, api) -> capture`` with ``isOpened``/``release`` (default: OpenCV).
    """
    if opener is None:
        import cv2

        opener = cv2.VideoCapture
    for backend, constant, label in backends:
        api = _opencv_constant(constant)
        if api is None:
            continue
        found = []
        for index in range(count):
            if _opens(opener, index, api, timeout_s):
                hint = "" if backend == "any" else f"; --backend {backend}"
                name = f"camera {index} ({label}{hint})"
                found.append(CaptureDevice(spec=f"device:{index}", path=str(index), name=name))
        if found:
            return found
    return []


def _opencv_constant(name: str) -> int | None:
    import cv2

    return getattr(cv2, name, None)


def _opens(opener: Callable[[int, int], Any], index: int, api: int, timeout_s: float) -> bool:
    result: dict[str, bool] = {}

    def attempt() -> None:
        try:
            capture = opener(index, api)
            result["ok"] = bool(capture.isOpened())
            capture.release()
        except Exception:  # noqa: BLE001 - a driver failing on one index must not end the listing
            result["ok"] = False

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(timeout_s)
    return result.get("ok", False)


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None
