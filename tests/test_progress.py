"""``usguide.progress``: a bar on a terminal, plain periodic lines when redirected, nothing when
quiet; notes stay."""

import io

from usguide.progress import Progress


def test_redirected_progress_is_plain_lines_with_counts_and_detail():
    stream = io.StringIO()
    with Progress("analyze", total=4, stream=stream, terminal=False, every_s=0) as bar:
        for index in range(4):
            bar.update(detail=f"clip {index}")
        bar.note("a stage ends")
    text = stream.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert len(lines) == 5  # one per update, the note; close adds no repeat of the last count
    assert lines[0].startswith("analyze: 1/4 frames (25 %), ")
    assert lines[0].endswith(", clip 0") and "about " in lines[0]
    assert lines[3].startswith("analyze: 4/4 frames (100 %), ") and "left" not in lines[3]
    assert lines[4] == "a stage ends"
    assert bar.count == 4 and bar.lines == 4


def test_lines_are_periodic_and_the_last_count_closes_the_log():
    stream = io.StringIO()
    bar = Progress("evaluate", total=None, unit="clip", stream=stream, terminal=False, every_s=3600)
    for _ in range(10):
        bar.update()
    assert stream.getvalue() == ""  # within the interval: nothing yet
    bar._every_s = 0  # one line now, as the interval passes
    bar.update()
    bar._every_s = 3600
    bar.update(2)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert [line.split(", ")[0] for line in lines] == ["evaluate: 11 clips", "evaluate: 13 clips"]


def test_quiet_writes_nothing():
    stream = io.StringIO()
    with Progress("train", total=3, unit="epoch", enabled=False, stream=stream, every_s=0) as bar:
        bar.update()
        bar.note("epoch 1 ...")
    assert stream.getvalue() == "" and bar.count == 1


def test_terminal_gets_a_bar_and_notes_above_it():
    stream = io.StringIO()
    with Progress("simulate", total=2, unit="clip", stream=stream, terminal=True) as bar:
        bar.update(detail="clip_0000")
        bar.note("demo written")
        bar.update()
    text = stream.getvalue()
    assert "\r" in text and "2/2" in text and "clips" in text
    assert "demo written\n" in text
