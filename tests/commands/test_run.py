"""``usguide run --igtl``: the display streams over OpenIGTLink to a real pyigtl client on loopback;
a bad or busy port is one line and exit 2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from usguide.cli import main

pyigtl = pytest.importorskip("pyigtl")

STATUSES = {"ok", "predicted", "lost", "stale", "signal lost"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Collector:
    """Keeps every message a pyigtl client receives (its own store keeps one per device)."""

    def __init__(self, client) -> None:  # noqa: ANN001 - pyigtl.OpenIGTLinkClient
        self.client = client
        self.messages: list = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            self.messages.extend(self.client.get_latest_messages())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5.0)
        self.messages.extend(self.client.get_latest_messages())

    def of(self, device: str) -> list:
        return [m for m in self.messages if m.device_name == device]


def one_line_error(capsys, argv: list[str]) -> str:  # noqa: ANN001
    try:
        code = main(argv)
    except SystemExit as exc:  # a bad option: argparse exits
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("usguide: error: ") and err.count("\n") == 1, err
    return err


def test_run_streams_images_needles_and_status(tmp_path: Path) -> None:
    port = free_port()
    # The client keeps trying to connect (every 10 ms) until the server listens.
    client = pyigtl.OpenIGTLinkClient(host="127.0.0.1", port=port)
    collector = Collector(client)
    out = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    command = [sys.executable, "-m", "usguide", "run", "--source", "sim", "--detector", "classical"]
    try:
        done = subprocess.run(
            [*command, "--depth-mm", "40", "--screenshot", str(out), "--frames", "40"]
            + ["--igtl", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        collector.stop()
        client.stop()
    assert done.returncode == 0, done.stderr
    assert f"OpenIGTLink on 127.0.0.1:{port}" in done.stderr
    images = collector.of("Image")
    statuses = [m.string for m in collector.of("NeedleStatus")]
    assert images and statuses
    assert set(statuses) <= STATUSES
    height, width = images[-1].image.shape[1:3]
    assert images[-1].image.shape[0] == 1 and width > 0
    # --depth-mm 40 over the image region's height is the spacing
    spacing = np.diag(images[-1].ijk_to_world_matrix)[:2]
    assert spacing == pytest.approx([40.0 / height, 40.0 / height], rel=1e-4)
    if "ok" in statuses:  # a measured needle comes with its transform
        assert collector.of("NeedleTipToImage")
    else:
        assert not collector.of("NeedleTipToImage")


def test_bad_or_busy_port_is_one_line(capsys, tmp_path: Path) -> None:
    shot = ["--screenshot", str(tmp_path / "x.png"), "--frames", "1"]
    assert "--igtl" in one_line_error(capsys, ["run", *shot, "--igtl", "70000"])
    assert "needs --igtl" in one_line_error(capsys, ["run", *shot, "--igtl-bind", "127.0.0.1"])
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        err = one_line_error(capsys, ["run", *shot, "--igtl", str(port)])
    assert f"cannot listen for OpenIGTLink on 127.0.0.1:{port}" in err
    # an address of no interface here (TEST-NET-1, numeric: no name lookup)
    err = one_line_error(capsys, ["run", *shot, "--igtl", "18944", "--igtl-bind", "192.0.2.1"])
    assert "cannot listen for OpenIGTLink on 192.0.2.1:18944" in err


def test_remembered_values_fill_what_the_command_line_leaves_out(
    capsys, monkeypatch, tmp_path: Path
) -> None:  # noqa: ANN001
    from usguide.gui import app
    from usguide.settings import SettingsStore, SourceSettings
    from usguide.types import Roi

    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"not opened: the display is replaced")
    remembered = SourceSettings(
        roi=Roi(1, 2, 30, 40),
        mm_per_px=0.1,
        scale_source="ruler",
        budget_ms=80.0,
        display_mode="lowest-latency",
    )
    SettingsStore().remember(str(clip), "any", remembered)
    seen: dict = {}
    monkeypatch.setattr(app, "run_gui", lambda options, **kwargs: seen.update(options=options))
    assert main(["run", "--source", str(clip), "--budget-ms", "60", "--roi", "0,0,10,10"]) == 0
    assert capsys.readouterr().err == (
        f"usguide: remembered scale 0.1 mm/px (ruler), display lowest-latency for {clip.resolve()}"
        " (usguide config reset forgets it)\n"
    )
    options = seen["options"]
    assert (options.budget_ms, options.display_mode) == (60.0, "lowest-latency")
    assert options.roi == Roi(0, 0, 10, 10) and options.mm_per_px is None  # the runtime applies it
    assert not options.settings.read_only
    # a screenshot run reads the settings and never writes them
    assert main(["run", "--source", str(clip), "--screenshot", str(tmp_path / "s.png")]) == 0
    assert "remembered region 1,2,30,40, scale 0.1 mm/px" in capsys.readouterr().err
    assert seen["options"].budget_ms == 80.0 and seen["options"].settings.read_only
    # nothing remembered: nothing said, the defaults
    assert main(["run", "--source", "sim"]) == 0
    assert capsys.readouterr().err == ""
    assert (seen["options"].budget_ms, seen["options"].display_mode) == (50.0, "paired")
