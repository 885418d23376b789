"""Runs many ``usguide`` command lines in one process (``python -m tests.faults.driver CASES.json``)
and prints one JSON line per case: exit code, stdout, stderr, seconds, and "hang" or the escaped
exception. One interpreter start for a whole corpus keeps the fault suite fast on a loaded
machine; the slow sweep runs every case in its own process instead.

Each case gets its own stdout/stderr at file-descriptor level (FFmpeg's messages included) and a
SIGALRM deadline.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import time
import traceback


class _Deadline(BaseException):
    """Raised by SIGALRM: the case ran past its time (a hang)."""


def _alarm(signum: int, frame: object) -> None:
    raise _Deadline


def run_case(argv: list[str], timeout_s: int) -> dict:
    from usguide.cli import main

    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    saved = os.dup(1), os.dup(2)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(out.fileno(), 1)
    os.dup2(err.fileno(), 2)
    result: dict = {"argv": argv}
    start = time.perf_counter()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout_s)
    try:
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse refuses an option
            code = exc.code if isinstance(exc.code, int) else 2
        result["rc"] = code
    except _Deadline:
        result["rc"] = None
        result["hang"] = True
    except BaseException:  # noqa: BLE001 - what escapes main() is what the suite looks for
        result["rc"] = None
        result["escaped"] = traceback.format_exc()
    finally:
        signal.alarm(0)
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
    result["seconds"] = round(time.perf_counter() - start, 2)
    for name, handle in (("stdout", out), ("stderr", err)):
        handle.seek(0)
        result[name] = handle.read().decode("utf-8", "replace")
        handle.close()
    return result


def main() -> None:
    cases = json.loads(open(sys.argv[1], encoding="utf-8").read())
    timeout_s = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    for case in cases:
        result = run_case(case["argv"], timeout_s)
        result["id"] = case["id"]
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
