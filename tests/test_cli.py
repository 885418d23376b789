"""The CLI's own contract: version, help, bad option → one line and exit code 2."""

import subprocess
import sys

import pytest

from usguide import __version__
from usguide.cli import main
from usguide.paths import default_model_path


def test_version(capsys, monkeypatch, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    version, model = capsys.readouterr().out.splitlines()
    assert version == f"usguide {__version__}"
    assert model.startswith(f"model: {default_model_path()} (usguide-needle-v1, written by ")
    monkeypatch.setenv("USGUIDE_MODEL", str(tmp_path / "absent.onnx"))
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.splitlines()[1].startswith("model: not found (")


def test_no_command_exits_2(capsys):
    assert main([]) == 2


def test_bad_option_is_one_line_exit_2():
    proc = subprocess.run(
        [sys.executable, "-m", "usguide", "--no-such-option"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
