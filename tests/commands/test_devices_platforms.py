"""``usguide devices`` beyond Linux: no POSIX import at start-up, probing on Windows and macOS."""

from __future__ import annotations

import subprocess
import sys

from usguide.cli import COMMANDS
from usguide.commands import devices

BLOCKED_START = """
import sys
for name in ("fcntl", "termios", "resource", "pwd", "grp"):
    sys.modules[name] = None  # what importing them does on Windows: ImportError
import importlib
from usguide.cli import main
for command in {commands!r}:
    importlib.import_module("usguide.commands." + command)
for argv in [["--help"]] + [[command, "--help"] for command in {commands!r}]:
    try:
        main(argv)
    except SystemExit as exc:
        assert exc.code == 0, (argv, exc.code)
print("ok")
"""


def test_every_command_imports_without_posix_modules():
    code = BLOCKED_START.format(commands=list(COMMANDS))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "ok"


def test_linux_listing_without_fcntl(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "fcntl", None)
    node = tmp_path / "video4linux" / "video0"
    node.mkdir(parents=True)
    (node / "name").write_text("Grabber\n")
    (node / "index").write_text("0\n")
    (tmp_path / "video0").write_bytes(b"")
    assert devices.query_capabilities(tmp_path / "video0") is None
    found = devices.list_linux_devices(tmp_path / "video4linux", tmp_path)
    assert [d.spec for d in found] == ["device:0"]


class FakeCapture:
    def __init__(self, opened: bool) -> None:
        self.opened = opened

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV naming
        return self.opened

    def release(self) -> None:
        pass


def opener_for(present: dict[int, set[int]], calls: list):
    """Opens the indexes in ``present[api]``."""

    def opener(index: int, api: int) -> FakeCapture:
        calls.append((index, api))
        return FakeCapture(index in present.get(api, set()))

    return opener


def test_windows_probes_directshow_first(monkeypatch):
    import cv2

    calls: list = []
    opener = opener_for({cv2.CAP_DSHOW: {0, 2}, cv2.CAP_MSMF: {0}}, calls)
    found = devices.list_probed_devices(devices.PROBE_BACKENDS["win32"], count=3, opener=opener)
    assert [(d.spec, d.path) for d in found] == [("device:0", "0"), ("device:2", "2")]
    assert found[0].name == "camera 0 (DirectShow; --backend dshow)"
    assert {api for _, api in calls} == {cv2.CAP_DSHOW}  # found there: Media Foundation not tried


def test_windows_falls_back_to_media_foundation(monkeypatch):
    import cv2

    calls: list = []
    opener = opener_for({cv2.CAP_MSMF: {1}}, calls)
    found = devices.list_probed_devices(devices.PROBE_BACKENDS["win32"], count=3, opener=opener)
    assert [d.name for d in found] == ["camera 1 (Media Foundation; --backend msmf)"]


def test_a_failing_driver_does_not_end_the_listing():
    import cv2

    def opener(index: int, api: int) -> FakeCapture:
        if index == 0:
            raise RuntimeError("driver crashed")
        return FakeCapture(True)

    found = devices.list_probed_devices(devices.PROBE_BACKENDS["darwin"], count=2, opener=opener)
    assert [d.name for d in found] == ["camera 1 (AVFoundation; --backend avfoundation)"]
    assert cv2.CAP_AVFOUNDATION  # the constant exists in every OpenCV build


def test_platform_dispatch(monkeypatch):
    seen = []
    monkeypatch.setattr(
        devices, "list_probed_devices", lambda backends: seen.append(backends) or []
    )
    monkeypatch.setattr(devices, "list_linux_devices", lambda: seen.append("linux") or [])
    for platform in ("linux", "win32", "darwin", "freebsd14"):
        devices.list_devices(platform)
    assert seen[0] == "linux"
    assert [b[0] for b in seen[1]] == ["dshow", "msmf"]
    assert [b[0] for b in seen[2]] == ["avfoundation"]
    assert [b[0] for b in seen[3]] == ["any"]
