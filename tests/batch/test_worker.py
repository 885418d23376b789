"""Worker tasks: probe and analyse with errors returned as one line; one detector per thread."""

from usguide.batch.segments import Segment
from usguide.batch.worker import AnalyzeOptions, cached_detector, probe_input, run_segment
from usguide.commands.analyze import result_line


def test_corrupt_input_gives_one_line_reasons(tmp_path):
    broken = tmp_path / "broken.mkv"
    broken.write_bytes(b"\x00not a video" * 100)
    options = AnalyzeOptions(detector="classical")
    probe = probe_input(broken, options)
    assert probe.error and "\n" not in probe.error and probe.input_hash is None
    result = run_segment(broken, Segment(0, None, 0), options, result_line)
    assert result.error and "\n" not in result.error and result.frames == 0


def test_detector_is_loaded_once_per_thread():
    options = AnalyzeOptions(detector="classical")
    assert cached_detector(options) is cached_detector(options)
    assert cached_detector(AnalyzeOptions(detector="onnx")).name == "onnx"


def test_probe_counts_frames(archive):
    probe = probe_input(archive / "clip_0000" / "video.mkv", AnalyzeOptions(detector="classical"))
    assert probe.error is None and probe.frame_count == 40 and len(probe.input_hash) == 64
