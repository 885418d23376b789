"""The manifest: atomic writes, what counts as done, a foreign file refused."""

import pytest

from usguide.batch.manifest import DONE, FAILED, Entry, Manifest, write_atomic
from usguide.errors import UsguideError


def _entry(key="clip", status=DONE, output="results/clip.jsonl"):
    return Entry(
        key=key,
        input=f"/data/{key}",
        output=output,
        input_hash="in1",
        model_hash="m1",
        usguide_version="0",
        status=status,
    )


def test_done_needs_same_hashes_and_the_output(tmp_path):
    manifest = Manifest(tmp_path)
    manifest.record(_entry())
    reread = Manifest(tmp_path)
    assert not reread.is_done("clip", "in1", "m1")  # no output file
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "clip.jsonl").write_text("{}\n")
    assert reread.is_done("clip", "in1", "m1")
    assert not reread.is_done("clip", "in2", "m1")
    assert not reread.is_done("clip", "in1", "m2")
    reread.record(_entry(status=FAILED, output=None))
    assert not Manifest(tmp_path).is_done("clip", "in1", "m1")


def test_write_atomic_leaves_old_file_and_no_temp_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    write_atomic(target, lambda out: out.write("old"))

    def broken(out):
        out.write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_foreign_manifest_is_a_user_error(tmp_path):
    (tmp_path / "manifest.json").write_text("[1, 2]")
    with pytest.raises(UsguideError, match="not a usguide batch manifest"):
        Manifest(tmp_path)


def test_done_with_reports_needs_metrics_and_report(tmp_path):
    manifest = Manifest(tmp_path)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "clip.jsonl").write_text("{}\n")
    manifest.record(_entry())
    assert manifest.is_done("clip", "in1", "m1")
    assert not manifest.is_done("clip", "in1", "m1", report=True)  # done without a report
    entry = _entry()
    entry.metrics, entry.report = "metrics/clip.json", "reports/clip.html"
    manifest.record(entry)
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "clip.json").write_text("{}")
    assert not Manifest(tmp_path).is_done("clip", "in1", "m1", report=True)  # no HTML
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "clip.html").write_text("<html>")
    assert Manifest(tmp_path).is_done("clip", "in1", "m1", report=True)
