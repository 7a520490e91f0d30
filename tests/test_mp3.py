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


def _decode(path) -> np.ndarray:
    import subprocess

    from tests.probe import ffmpeg_exe

    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1", "-ar", "48000",
                          "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype="<f4")


def test_runs_encoded_apart_and_joined_sound_where_the_mix_puts_them(tmp_path):
    from qidsl.renderers import mp3
    from qidsl.renderers.audio import level_speech
    from tests.probe import loudness

    # Three sounds at places that are not multiples of an MPEG frame, one run each.
    sounds = [level_speech(clip(f"s{i}", 1.0 + 0.3 * i, seed=i).samples, 22050) for i in range(3)]
    starts = [48000 + 123, 3 * 48000 + 777, 6 * 48000 + 1001]
    total = 9 * 48000
    mix = np.zeros(total, np.float32)
    placed = []
    for i, (start, sound) in enumerate(zip(starts, sounds)):
        mix[start: start + len(sound)] += sound
        frames = tmp_path / f"run{i}.mp3"
        mp3.encode_frames(frames, sound)
        placed.append((start, frames))
    out = tmp_path / "joined.mp3"
    mp3.join_mp3(out, placed, total, "Joined", None, [("All", 0.0, 9.0)])
    decoded = _decode(out)
    assert abs(len(decoded) - total) < mp3.FRAME_SAMPLES  # as long as the mix, to within one frame
    for start, sound in zip(starts, sounds):
        # Each run is heard where the mix has it, at most half an MPEG frame early or late.
        window = decoded[start - 2000: start + len(sound) + 2000]
        lags = range(-1000, 1001)
        scores = [float(np.dot(sound[2000:-2000], window[4000 + lag: 4000 + lag + len(sound) - 4000])) for lag in lags]
        assert abs(lags[int(np.argmax(scores))]) <= mp3.FRAME_SAMPLES // 2
    integrated, peak = loudness(out)
    assert integrated == pytest.approx(-16.0, abs=0.5)
    assert peak <= -1.0
    assert ID3(out)["TIT2"].text == ["Joined"]
