"""The CLI's own contract: version, help, bad option → one line and exit code 2."""

import subprocess
import sys

from usguide.cli import main


def test_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert "usguide" in capsys.readouterr().out


def test_no_command_exits_2(capsys):
    assert main([]) == 2


def test_bad_option_is_one_line_exit_2():
    proc = subprocess.run(
        [sys.executable, "-m", "usguide", "--no-such-option"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
