"""The MP3: real ffmpeg encode, judged by ffprobe; tags read back with mutagen."""

import numpy as np
import pytest
from mutagen.id3 import ID3, CTOCFlags

from qidsl.errors import BuildError
from qidsl.renderers.audio import mix, normalise
from qidsl.renderers.chapters import chapters
from qidsl.renderers.mp3 import write_mp3
from tests.probe import probe
from tests.renderer_fixtures import ClipTimer, clip, step, timeline

RATE = 48000


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    clips = {"Welcome.": clip("Welcome.", 1.0, seed=1), "Breathe in.": clip("Breathe in.", 0.9, seed=2),
             "Thank you.": clip("Thank you.", 0.8, seed=3)}
    steps = [
        step("say", "Welcome."),
        step("section", "Arriving"),
        step("bell", seconds=2.0, section="Arriving"),
        step("section", "Breathing Together"),
        step("inhale", "Breathe in.", seconds=3.0, section="Breathing Together"),
        step("section", "Closing"),
        step("say", "Thank you.", section="Closing"),
    ]
    line = timeline(steps, ClipTimer(clips), title="Morning Flow")
    marks = chapters(line)
    path = tmp_path_factory.mktemp("mp3") / "morning.mp3"
    write_mp3(path, normalise(mix(line, clips), RATE), RATE, "Morning Flow", "Qi Studio", marks)
    return line, marks, path


def test_mp3_is_48khz_mono_mp3_as_long_as_the_timeline(built):
    line, _, path = built
    info = probe(path)
    (stream,) = info["streams"]
    assert stream["codec_name"] == "mp3"
    assert int(stream["sample_rate"]) == RATE
    assert stream["channels"] == 1
    assert float(info["format"]["duration"]) == pytest.approx(line.duration, abs=0.1)


def test_mp3_carries_title_artist_and_chapters_in_order(built):
    _, marks, path = built
    info = probe(path)
    assert info["format"]["tags"]["title"] == "Morning Flow"
    assert info["format"]["tags"]["artist"] == "Qi Studio"
    seen = [(c["tags"]["title"], int(c["start"]), int(c["end"])) for c in info["chapters"]]
    assert [c["time_base"] for c in info["chapters"]] == ["1/1000"] * len(marks)
    assert seen == [(m.title, round(m.start * 1000), round(m.end * 1000)) for m in marks]
    assert [title for title, _, _ in seen] == ["Morning Flow", "Arriving", "Breathing Together", "Closing"]


def test_mp3_tags_are_id3v24_with_an_ordered_table_of_contents(built):
    _, marks, path = built
    tags = ID3(path)
    assert tags.version[:2] == (2, 4)
    (toc,) = tags.getall("CTOC")
    assert toc.flags & CTOCFlags.TOP_LEVEL and toc.flags & CTOCFlags.ORDERED
    chaps = {c.element_id: c for c in tags.getall("CHAP")}
    assert [chaps[i].sub_frames["TIT2"].text[0] for i in toc.child_element_ids] == [m.title for m in marks]


def test_artist_is_optional(tmp_path):
    path = tmp_path / "a.mp3"
    write_mp3(path, np.zeros(RATE, np.float32), RATE, "Quiet", None, [])
    tags = probe(path)["format"]["tags"]
    assert tags["title"] == "Quiet" and "artist" not in tags


def test_failed_encode_is_one_sentence_and_keeps_the_previous_file(tmp_path):
    path = tmp_path / "a.mp3"
    path.write_bytes(b"previous build")
    with pytest.raises(BuildError, match="^ffmpeg could not encode the MP3") as caught:
        write_mp3(path, np.zeros(RATE, np.float32), -1, "Broken", None, [])
    assert "\n" not in str(caught.value)
    assert path.read_bytes() == b"previous build"
    assert [p.name for p in tmp_path.iterdir()] == ["a.mp3"]


def test_a_full_disk_is_said_plainly_not_in_ffmpeg_words():
    """/dev/full fails every write with ENOSPC, as a full disk does; ffmpeg said "[out#0/mp3 @ 0x…] Error closing file"."""
    from qidsl.renderers.mp3 import _encode

    with pytest.raises(BuildError) as caught:
        _encode("/dev/full", np.zeros(RATE, np.float32), RATE)
    assert str(caught.value) == "could not write the MP3: the disk is full. Free some space and build again."
