"""``usguide devices``: capture nodes from a fake sysfs, metadata nodes skipped, none is fine."""

from __future__ import annotations

import json

from usguide.cli import main
from usguide.commands import devices


def fake_sysfs(tmp_path, nodes):
    root = tmp_path / "video4linux"
    for name, (label, index) in nodes.items():
        node = root / name
        node.mkdir(parents=True)
        (node / "name").write_text(label + "\n")
        (node / "index").write_text(f"{index}\n")
    return root


def test_lists_capture_nodes_and_skips_metadata(tmp_path):
    root = fake_sysfs(
        tmp_path,
        {
            "video0": ("USB3 Video Grabber", 0),
            "video1": ("USB3 Video Grabber", 1),  # UVC metadata node
            "video10": ("Webcam", 0),
            "video2": ("Webcam", 0),
        },
    )
    # The fake /dev nodes are not devices, so VIDIOC_QUERYCAP fails and the index file decides.
    found = devices.list_linux_devices(root, tmp_path / "dev")
    assert [d.spec for d in found] == ["device:0", "device:2", "device:10"]
    assert found[0].name == "USB3 Video Grabber"
    assert found[0].path == str(tmp_path / "dev" / "video0")


def test_capabilities_decide_when_available(tmp_path, monkeypatch):
    root = fake_sysfs(tmp_path, {"video0": ("Grabber", 0), "video1": ("Grabber", 0)})
    caps = {"video0": 0x1, "video1": 0x00800000}  # capture, metadata capture
    monkeypatch.setattr(devices, "query_capabilities", lambda path: caps[path.name])
    assert [d.spec for d in devices.list_linux_devices(root, tmp_path)] == ["device:0"]


def test_no_devices(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(devices, "list_devices", lambda: [])
    assert main(["devices"]) == 0
    assert capsys.readouterr().out.strip() == "no capture devices found"
    assert main(["devices", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert devices.list_linux_devices(tmp_path / "absent") == []


def test_table_and_json(monkeypatch, capsys):
    listed = [devices.CaptureDevice("device:0", "/dev/video0", "Grabber")]
    monkeypatch.setattr(devices, "list_devices", lambda: listed)
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert "device:0" in out and "Grabber" in out
    assert main(["devices", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"spec": "device:0", "path": "/dev/video0", "name": "Grabber"}
    ]
