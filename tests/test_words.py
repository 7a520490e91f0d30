"""Word timings: each spoken word's start and end, from Piper's alignment or estimated, and where they show.

Real Piper speech, a real build (no video) and the real practice page in
Debian's chromium.
"""

from __future__ import annotations

import json
import re
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from qidsl.cli import main
from qidsl.engines.base import assemble
from qidsl.engines.cache import SpeechCache, decode_clip, encode_clip
from qidsl.engines.piper_engine import PiperEngine, text_word_spans, word_spans
from qidsl.engines.timing import Sentence, Word, estimate_words
from tests.browser import browser, seek, wait_until  # noqa: F401 - the fixture

ROUTINE = '''title: "Words"

section "Arriving":
    say "Stand with your feet apart, knees soft. Rest both hands on the belly."
    inhale 4s "Breathe in slowly."
'''
STAMP = re.compile(r"<(\d\d):(\d\d):(\d\d)\.(\d\d\d)>")


def test_words_are_the_phonemes_between_spaces_from_the_space_before_to_the_last_sound():
    # ^ h ˈ ɛ l oʊ , ␠ w ɜː l d . $  (each phoneme's samples, as Piper aligns them)
    phonemes = ["h", "ˈ", "ɛ", "l", "oʊ", ",", " ", "w", "ɜː", "l", "d", "."]
    samples = [100, 10, 10, 10, 10, 10, 50, 40, 10, 10, 10, 10, 60, 5]
    assert word_spans(phonemes, samples) == [(100, 150, 4), (200, 280, 4)]


def test_words_espeak_says_as_one_share_its_time_by_letters():
    # "Rest in front of the belly." spoken as: ɹɛst ɪn fɹʌnt ʌvðə bɛli (espeak joins "of the")
    spoken = [(0, 40, 4), (40, 60, 2), (60, 110, 5), (110, 150, 4), (150, 200, 4)]
    words = ["Rest", "in", "front", "of", "the", "belly."]
    assert text_word_spans(words, spoken) == [(0, 40), (40, 60), (60, 110), (110, 126), (126, 150), (150, 200)]
    # one written word said as two ("42": forty two) runs over both
    assert text_word_spans(["It", "is", "42."], [(0, 10, 2), (10, 20, 2), (20, 40, 4), (40, 60, 3)]) == [
        (0, 10), (10, 20), (20, 60)]


def test_an_estimate_shares_the_sentence_by_letters_with_a_pause_after_a_comma():
    words = estimate_words("Hold, then go.", 1.0, 3.0)
    assert [w.text for w in words] == ["Hold,", "then", "go."]
    assert words[0].start == 1.0 and words[-1].end == 3.0
    assert words[1].start - words[0].end > words[2].start - words[1].end  # the comma's pause
    assert all(a.end <= b.start for a, b in pairwise(words))


@pytest.fixture(scope="module")
def spoken():
    return PiperEngine().synthesize("Stand with your feet apart, knees soft. It is 4 o'clock.")


def test_piper_times_every_word_inside_its_sentence(spoken):
    for sentence in spoken.sentences:
        assert [w.text for w in sentence.words] == sentence.text.split()
        assert sentence.start <= sentence.words[0].start < sentence.words[0].end
        assert sentence.words[-1].end <= sentence.end + 1e-3
        assert all(a.start < b.start and a.end <= b.start + 1e-3 for a, b in pairwise(sentence.words))
        assert all(isinstance(w.start, float) and isinstance(w.end, float) for w in sentence.words)


def test_the_words_are_where_the_voice_is_heard(spoken):
    """Between two words the voice is quieter than inside them: the gap after "apart," is a pause."""
    first = spoken.sentences[0]
    apart, knees = first.words[4], first.words[5]
    rate = spoken.sample_rate

    def loudness(a: float, b: float) -> float:
        piece = spoken.samples[int(a * rate):int(b * rate)]
        return float(np.sqrt(np.mean(piece ** 2)))
    assert loudness(apart.end, knees.start) < 0.3 * loudness(knees.start, knees.end)


def test_the_speech_cache_keeps_the_words(spoken, tmp_path):
    again = decode_clip("k", encode_clip("k", spoken))
    assert again.sentences == spoken.sentences
    cache = SpeechCache(tmp_path)
    cache.store("k", spoken)
    assert cache.load("k").sentences[0].words == spoken.sentences[0].words


def test_an_engine_that_does_not_time_words_gets_them_estimated():
    clip = assemble([("Breathe in.", np.full(4800, 0.2, dtype=np.float32))], 48000)
    (sentence,) = clip.sentences
    assert sentence.words == estimate_words("Breathe in.", sentence.start, sentence.end)


def test_a_sentence_moves_with_its_words():
    moved = Sentence(0.5, 1.0, "In now.", (Word(0.5, 0.7, "In"), Word(0.75, 1.0, "now."))).shifted(10)
    assert moved == Sentence(10.5, 11.0, "In now.", (Word(10.5, 10.7, "In"), Word(10.75, 11.0, "now.")))


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("words")
    routine = folder / "words.qi"
    routine.write_text(ROUTINE, encoding="utf-8")
    assert main(["build", "--no-video", "--out", str(folder / "out"), str(routine)]) == 0
    return folder / "out" / "words"


def test_the_timeline_json_lists_the_words(build):
    data = json.loads((build / "words.timeline.json").read_text(encoding="utf-8"))
    sentences = [s for e in data["events"] for s in e["speech"]]
    assert [s["text"] for s in sentences] == ["Stand with your feet apart, knees soft.",
                                              "Rest both hands on the belly.", "Breathe in slowly."]
    for sentence in sentences:
        words = sentence["words"]
        assert [w["text"] for w in words] == sentence["text"].split()
        assert sentence["start"] <= words[0]["start"] and words[-1]["end"] <= sentence["end"]


def test_the_vtt_carries_a_cue_timestamp_before_each_later_word(build):
    data = json.loads((build / "words.timeline.json").read_text(encoding="utf-8"))
    starts = [w["start"] for e in data["events"] for s in e["speech"] for w in s["words"]]
    blocks = (build / "words.vtt").read_text(encoding="utf-8").split("\n\n")[1:]
    seen = []
    for block in blocks:
        timing, *lines = block.strip().split("\n")
        begin, end = [sum(float(x) * m for x, m in zip(re.split("[:]", t), (3600, 60, 1)))
                      for t in timing.split(" --> ")]
        stamps = [round(int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000, 3)
                  for h, m, s, ms in STAMP.findall(block)]
        words = " ".join(lines).split()
        assert len(stamps) == len(words) - 1  # every word but the first, which starts with the cue
        assert all(begin < t < end for t in stamps) and stamps == sorted(stamps)
        seen += stamps
    assert set(seen) <= set(starts) and len(seen) >= len(starts) - 3


def test_the_practice_page_marks_the_word_being_spoken(browser, build):  # noqa: F811
    data = json.loads((build / "words.timeline.json").read_text(encoding="utf-8"))
    sentence = next(s for e in data["events"] for s in e["speech"] if s["text"].startswith("Stand"))
    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto((build / "words.html").as_uri())
    wait_until(page, "() => document.getElementById('audio').readyState >= 1")
    marked = []
    for _k, word in enumerate(sentence["words"]):
        seek(page, word["start"] + 0.02)
        marked.append(page.evaluate("""() => {
            const c = document.getElementById('caption'), s = c.querySelectorAll('.spoken');
            return [c.dataset.word, s.length, s.length ? s[0].textContent : null, c.textContent];
        }"""))
    context.close()
    assert errors == []
    texts = [w["text"] for w in sentence["words"]]
    assert [m[0] for m in marked] == [str(k) for k in range(len(texts))]  # the mark moves word by word
    assert [m[2] for m in marked] == texts and all(m[1] == 1 for m in marked)
    assert all(m[3] == " ".join(texts) for m in marked)  # the caption itself reads as before


def test_espeak_times_each_word_from_its_word_events():
    from qidsl.engines.espeak_engine import EspeakEngine, _word_spans

    # (character from 1, ms) events for "Hold — now." at 1000 samples a second: the dash has none.
    assert _word_spans("Hold — now.", [(1, 0), (8, 400)], 1000, 900) == [(0, 400), (400, 400), (400, 900)]
    clip = EspeakEngine("de").synthesize("Atme tief ein. Halte den Atem.")
    for sentence in clip.sentences:
        assert [w.text for w in sentence.words] == sentence.text.split()
        assert all(a.start < b.start for a, b in pairwise(sentence.words))
        # From the events, not the estimate by letters.
        assert sentence.words != estimate_words(sentence.text, sentence.start, sentence.end)


VIDEO_ROUTINE = '''title: "Marked words"
{setting}
say "Lengthen the back of the neck, slowly and gently."
pause 1s
'''


def _frame(video: Path, seconds: float, out: Path):
    import subprocess

    from PIL import Image

    from tests.probe import ffmpeg_exe

    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-ss", f"{seconds:.3f}", "-i", str(video), "-frames:v", "1",
                    str(out)], check=True)
    return np.asarray(Image.open(out).convert("RGB")).astype(int)


def _marked_columns(frame) -> np.ndarray:
    """Columns of the caption's rows drawn in the accent colour (calm theme: 120, 200, 182)."""
    height = frame.shape[0]
    middle = frame[int(height * 0.25):int(height * 0.85)]
    close = np.abs(middle - np.array([120, 200, 182])).sum(axis=2) < 60
    return np.flatnonzero(close.any(axis=0))


@pytest.mark.parametrize("setting", ["captions: words", ""])
def test_captions_words_marks_the_spoken_word_in_the_video(setting, tmp_path):
    routine = tmp_path / "marked.qi"
    routine.write_text(VIDEO_ROUTINE.format(setting=setting), encoding="utf-8")
    assert main(["build", "--preview", "--out", str(tmp_path / "out"), str(routine)]) == 0
    folder = tmp_path / "out" / "marked"
    data = json.loads((folder / "marked.timeline.json").read_text(encoding="utf-8"))
    (sentence,) = [s for e in data["events"] for s in e["speech"]]
    words = sentence["words"]
    # In the middle of three words of the caption's first line: "Lengthen", "back", "neck,".
    frames = [_frame(folder / "marked.mp4", (words[k]["start"] + words[k]["end"]) / 2, tmp_path / f"{k}.png")
              for k in (0, 2, 5)]
    marked = [_marked_columns(frame) for frame in frames]
    if not setting:  # off by default: the caption is all in the text colour
        assert all(len(columns) == 0 for columns in marked)
        return
    assert all(len(columns) > 3 for columns in marked)
    centres = [columns.mean() for columns in marked]
    assert centres[0] < centres[1] < centres[2]  # the mark moves through the sentence, left to right
