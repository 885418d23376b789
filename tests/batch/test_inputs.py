"""Finding a batch's inputs, their keys, and the input and model hashes."""

import pytest

from usguide.batch.inputs import content_hash, find_inputs, model_hash
from usguide.errors import UsguideError


@pytest.fixture
def tree(tmp_path):
    """A session folder, a video, a DICOM file, an image folder and a simulated clip, nested."""
    (tmp_path / "a" / "session").mkdir(parents=True)
    (tmp_path / "a" / "session" / "meta.json").write_text("{}")
    (tmp_path / "a" / "session" / "video.mkv").write_bytes(b"inside the session")
    (tmp_path / "a" / "scan.dcm").write_bytes(b"dicom")
    (tmp_path / "b" / "images").mkdir(parents=True)
    (tmp_path / "b" / "images" / "0001.png").write_bytes(b"png")
    (tmp_path / "b" / "clip_0000").mkdir()
    (tmp_path / "b" / "clip_0000" / "video.mkv").write_bytes(b"video")
    (tmp_path / "b" / "clip_0000" / "truth.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("not an input")
    return tmp_path


def test_folders_are_searched_and_sessions_not_entered(tree):
    keys = [item.key for item in find_inputs([tree])]
    assert keys == ["a/scan.dcm", "a/session", "b/clip_0000/video.mkv", "b/images"]


def test_inputs_given_directly_and_glob(tree):
    direct = find_inputs([tree / "a" / "session", tree / "b" / "images", tree / "a" / "scan.dcm"])
    assert [item.key for item in direct] == ["session", "images", "scan.dcm"]
    globbed = find_inputs([tree], "**/*.mkv")
    assert [item.key for item in globbed] == ["a/session/video.mkv", "b/clip_0000/video.mkv"]


def test_same_relative_path_under_two_roots_gets_distinct_keys(tree):
    keys = [item.key for item in find_inputs([tree / "a", tree / "a" / "scan.dcm"])]
    assert keys[0] == "scan.dcm" and keys[2].startswith("scan.dcm-") and len(set(keys)) == 3


def test_missing_or_empty_is_a_user_error(tmp_path):
    with pytest.raises(UsguideError, match="not found"):
        find_inputs([tmp_path / "absent"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsguideError, match="no inputs found"):
        find_inputs([tmp_path / "empty"])


def test_content_hash_follows_contents_and_names(tree):
    folder = tree / "b" / "images"
    before = content_hash(folder)
    assert content_hash(folder) == before
    (folder / "0001.png").write_bytes(b"png!")
    assert content_hash(folder) != before
    file_hash = content_hash(tree / "a" / "scan.dcm")
    (tree / "a" / "scan.dcm").write_bytes(b"dicoM")
    assert content_hash(tree / "a" / "scan.dcm") != file_hash


def test_model_hash(tmp_path):
    assert model_hash("classical", None) == "classical"
    assert model_hash("onnx", None).startswith("onnx:")
    model = tmp_path / "m.onnx"
    model.write_bytes(b"model")
    assert model_hash("onnx", model) == f"onnx:{content_hash(model)}"
    with pytest.raises(UsguideError, match="not found"):
        model_hash("onnx", tmp_path / "absent.onnx")
