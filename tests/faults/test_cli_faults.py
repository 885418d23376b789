"""The real CLI on every hostile input of ``corpus``: no traceback, hang or silent half-result.

Every run must end in exactly one of: exit 0 with complete output; exit 2 with one
``usguide: error:`` line saying what is wrong and what to do; or a counted partial result (probe
reports ``frames_skipped``; analyze exits 2 naming the skipped frames unless ``--allow-partial``).
The default run batches the corpus through ``tests.faults.driver`` (one interpreter per batch,
a deadline per case); ``-m slow`` runs every case in its own ``python -m usguide`` process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults import corpus, models

REPO = Path(__file__).resolve().parents[2]
CASE_TIMEOUT_S = 90  # per command; generous for a loaded 2-core machine: running past it is a hang
pytestmark = pytest.mark.timeout(1800)

PARTIAL_IN_PROBE = {"corrupt_packet_video", "frames_csv_bad_row", "frames_csv_infinite"}
SKIPPED = {  # frames each partial input cannot deliver, as analyze must report them
    "corrupt_packet_video": 1,
    "images_one_corrupt": 1,
    "frames_csv_bad_row": 19,
    "frames_csv_infinite": 22,
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("corpus")
    built = {name: build(folder) for name, build in corpus.INPUTS.items()}
    built.update({name: build(folder) for name, build in models.MODELS.items()})
    return built


def cases(inputs: dict[str, Path], out: Path) -> list[dict]:
    """(id, argv) of every run the default suite makes."""
    runs = []
    for name in corpus.INPUTS:
        path = str(inputs[name])
        runs.append({"id": f"probe:{name}", "argv": ["probe", path]})
        runs.append(
            {
                "id": f"analyze:{name}",
                "argv": [
                    "analyze",
                    path,
                    "--out",
                    str(out / f"{name}.jsonl"),
                    "--quiet",
                    "--detector",
                    "classical",
                ],
            }
        )
    for name in SKIPPED:
        runs.append(
            {
                "id": f"analyze-partial:{name}",
                "argv": [
                    "analyze",
                    str(inputs[name]),
                    "--out",
                    str(out / f"{name}.p.jsonl"),
                    "--quiet",
                    "--detector",
                    "classical",
                    "--allow-partial",
                ],
            }
        )
    video = str(inputs["valid_video"])
    for name in models.MODELS:
        runs.append(
            {
                "id": f"model:{name}",
                "argv": [
                    "analyze",
                    video,
                    "--out",
                    str(out / f"{name}.jsonl"),
                    "--quiet",
                    "--model",
                    str(inputs[name]),
                ],
            }
        )
    for name in ("valid_video", "fifo_video", "corrupt_packet_video", "meta_fps_text"):
        runs.append(
            {
                "id": f"record:{name}",
                "argv": [
                    "record",
                    "--source",
                    str(inputs[name]),
                    "--out",
                    str(out / f"rec_{name}"),
                    "--frames",
                    "5",
                ],
            }
        )
    for option, value in (
        ("--mm-per-px", "inf"),
        ("--mm-per-px", "1e9"),
        ("--fps", "1e308"),
        ("--depth-mm", "nan"),
    ):
        runs.append({"id": f"option:{option}={value}", "argv": ["probe", video, option, value]})
    for option, value in (
        ("--threads", "0"),
        ("--threads", "-3"),
        ("--soak-interval", "0"),
        ("--frames", "0"),
    ):
        runs.append(
            {"id": f"bench-option:{option}={value}", "argv": ["bench", video, option, value]}
        )
    return runs


def run_batch(runs: list[dict], folder: Path) -> dict[str, dict]:
    listing = folder / "cases.json"
    listing.write_text(json.dumps(runs))
    done = subprocess.run(
        [sys.executable, "-m", "tests.faults.driver", str(listing), str(CASE_TIMEOUT_S)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=CASE_TIMEOUT_S * len(runs) + 120,
    )
    results = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            result = json.loads(line)
            results[result["id"]] = result
    missing = [run["id"] for run in runs if run["id"] not in results]
    assert not missing, (
        f"driver died ({done.returncode}) before {missing[:3]}: {done.stderr[-2000:]}"
    )
    return results


@pytest.fixture(scope="module")
def results(inputs, tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("out")
    return run_batch(cases(inputs, out), out)


def assert_clean(result: dict) -> None:
    """No hang, nothing escaped main(), no traceback printed."""
    assert not result.get("hang"), f"{result['argv']} ran past {CASE_TIMEOUT_S} s"
    assert "escaped" not in result, result["escaped"]
    assert "Traceback" not in result["stderr"], result["stderr"]


def assert_one_line_error(result: dict, fragment: str = "") -> None:
    assert_clean(result)
    lines = result["stderr"].strip().splitlines()
    assert result["rc"] == 2, result
    assert len(lines) == 1 and lines[0].startswith("usguide: error: "), lines
    assert fragment in lines[0]


@pytest.mark.parametrize("name", list(corpus.INPUTS))
def test_probe(results, name) -> None:
    result = results[f"probe:{name}"]
    expected = corpus.EXPECTED[name]
    if expected == "error":
        assert_one_line_error(result)
        return
    assert_clean(result)
    assert result["rc"] == 0, result
    described = json.loads(result["stdout"])
    assert described["width"] == corpus.W and described["height"] == corpus.H  # what decodes
    assert (described.get("frames_skipped", 0) > 0) == (name in PARTIAL_IN_PROBE), described


@pytest.mark.parametrize("name", list(corpus.INPUTS))
def test_analyze(results, inputs, tmp_path, name) -> None:
    result = results[f"analyze:{name}"]
    expected = corpus.EXPECTED[name]
    if expected == "ok":
        assert_clean(result)
        assert result["rc"] == 0, result
        return
    if expected == "error":
        assert_one_line_error(result)
        return
    # Partial: warnings may come first, the last line names the skipped frames, exit 2.
    assert_clean(result)
    last = result["stderr"].strip().splitlines()[-1]
    assert result["rc"] == 2 and last.startswith("usguide: error: "), result
    assert f"{SKIPPED[name]} frame(s)" in last and "--allow-partial" in last


@pytest.mark.parametrize("name", list(SKIPPED))
def test_analyze_allow_partial_writes_every_decodable_frame(results, name) -> None:
    result = results[f"analyze-partial:{name}"]
    assert_clean(result)
    assert result["rc"] == 0, result
    assert f"({SKIPPED[name]} undecodable frame(s) skipped)" in result["stderr"]
    out = Path(result["argv"][result["argv"].index("--out") + 1])
    lines = out.read_text().splitlines()
    assert lines and all(json.loads(line)["frame"] >= 0 for line in lines)


@pytest.mark.parametrize("name", list(models.MODELS))
def test_model_contract(results, name) -> None:
    assert_one_line_error(results[f"model:{name}"], "model ")


@pytest.mark.parametrize(
    "name, expected",
    [
        ("valid_video", "ok"),
        ("fifo_video", "error"),
        ("corrupt_packet_video", "ok"),
        ("meta_fps_text", "error"),
    ],
)
def test_record(results, name, expected) -> None:
    result = results[f"record:{name}"]
    if expected == "error":
        assert_one_line_error(result)
    else:
        assert_clean(result)
        assert result["rc"] == 0 and "recorded 5 frames" in result["stdout"], result


def test_numeric_options_are_refused_in_one_line(results) -> None:
    for key, result in results.items():
        if key.startswith(("option:", "bench-option:")):
            assert_one_line_error(result, "argument --")


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_fuzzed_session_metas_replay_or_fail_in_one_line(tmp_path, seed) -> None:
    """Sessions whose meta.json has one field set to a random hostile value, each probed and
    analysed in its own process: exit 0 or one line, never a traceback or a hang."""
    sessions = corpus.mutated_session_metas(tmp_path, seed, 30)
    for path in sessions:
        for argv in (
            ["probe", str(path)],
            [
                "analyze",
                str(path),
                "--out",
                str(path) + ".jsonl",
                "--quiet",
                "--detector",
                "classical",
            ],
        ):
            done = subprocess.run(
                [sys.executable, "-m", "usguide", *argv],
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=CASE_TIMEOUT_S,
            )
            assert "Traceback" not in done.stderr, (argv, done.stderr)
            if done.returncode != 0:
                lines = done.stderr.strip().splitlines()
                assert done.returncode == 2 and len(lines) == 1, (argv, lines)
