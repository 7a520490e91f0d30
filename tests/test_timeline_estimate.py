"""The estimated timeline that `plan` and `check` show before any speech is made."""

from __future__ import annotations

import pytest

from qidsl.compile import compile_routine
from qidsl.lang.loader import Loader
from qidsl.engines.timing import SENTENCE_PAUSE
from qidsl.lang.speech import ENGINES, SYMBOL_NAMES, Pace, symbol_names_for
from qidsl.timeline import INTRO_SECONDS, OUTRO_SECONDS, SPEECH_MARGIN, EstimatedSpeech, sentence_features

FIVE_WORDS = "One two three four five."  # 19 letters
JOE = ENGINES["piper"].pace
FIVE_WORDS_SECONDS = round(JOE.base + 19 * JOE.per_letter, 3)  # about 1.25 s


def estimate(body: str, settings: str = ""):
    result = compile_routine("t.qi", Loader(), text=f'title: "T"\n{settings}\n{body}')
    assert not result.errors, [d.message for d in result.errors]
    return result.estimate


def events(timeline, *kinds):
    return [(e.kind, e.start, e.end) for e in timeline.events if not kinds or e.kind in kinds]


def test_speech_is_estimated_from_its_letters_at_the_voices_pace_plus_the_gap():
    timeline = estimate(f'say "{FIVE_WORDS}"\n')
    end = 3.0 + FIVE_WORDS_SECONDS + 0.5
    assert events(timeline) == [("intro", 0.0, INTRO_SECONDS), ("say", 3.0, end), ("outro", end, round(end + 4.0, 3))]
    assert timeline.duration == round(end + OUTRO_SECONDS, 3)


@pytest.mark.parametrize("rate", ["2", "0.5", "1.25"])
def test_rate_scales_the_speaking_speed(rate):
    timeline = estimate(f'say "{FIVE_WORDS}"\n', settings=f"rate: {rate}\n")
    (say,) = timeline.of_kind("say")
    assert say.duration == pytest.approx(FIVE_WORDS_SECONDS / float(rate) + 0.5, abs=0.002)


def test_gap_is_the_silence_after_each_say():
    (say,) = estimate(f'say "{FIVE_WORDS}"\n', settings="gap: 1.5s\n").of_kind("say")
    assert say.duration == pytest.approx(FIVE_WORDS_SECONDS + 1.5)


def test_sentences_are_timed_inside_a_cue_with_the_engines_pause_between_them():
    (say,) = estimate('say "Stand tall. Breathe in slowly now."\n', settings="rate: 2\n").of_kind("say")
    first = (JOE.base + 9 * JOE.per_letter) / 2  # 9 letters, twice as fast
    second = (JOE.base + 18 * JOE.per_letter) / 2
    # The pause between sentences is the engine's, whatever the rate.
    assert [(s.text, s.start, s.end) for s in say.speech] == [
        ("Stand tall.", 3.0, round(3.0 + first, 3)),
        ("Breathe in slowly now.", round(3.0 + first + SENTENCE_PAUSE, 3),
         round(3.0 + first + SENTENCE_PAUSE + second, 3))]


def test_the_pace_is_the_voice_of_the_routines_language():
    # German and French take Pico's pace for that language, Swedish eSpeak NG's.
    text = "Atme ruhig ein."  # 12 letters
    lengths = {tag: estimate(f'say "{text}"\n', settings=f"language: {tag}\n").of_kind("say")[0].duration
               for tag in ("en", "de", "fr", "sv")}
    paces = {"en": JOE, "de": ENGINES["pico"].pace_for("de"), "fr": ENGINES["pico"].pace_for("fr"),
             "sv": ENGINES["espeak"].pace_for("sv")}
    assert len(set(paces.values())) == 4
    for tag, pace in paces.items():
        assert lengths[tag] == pytest.approx(round(pace.base + 12 * pace.per_letter, 3) + 0.5), tag


def test_what_a_sentence_is_estimated_from():
    assert sentence_features("Breathe in, hold; and out - slowly.") == (25, 3, 0, 0, 0)
    assert sentence_features("Every line ends with CR LF.") == (17, 0, 4, 0, 0)
    assert sentence_features("A backslash \\ stays, 100 % of it.") == (19, 1, 0, 2, 3)
    # a sign whose name is known is read as that word: "backslash" (9 letters), "percent" (7)
    assert sentence_features("A backslash \\ stays, 100 % of it.", symbol_names=SYMBOL_NAMES["en"]) \
        == (19 + 9 + 7, 1, 0, 0, 3)
    # a character of an unspaced script counts as several letters
    assert sentence_features("双脚与肩同宽，膝盖微屈。", cjk_letters=4.0) == (40.0, 1, 0, 0, 0)


def test_a_sign_costs_the_word_the_voice_reads_it_as():
    # joe reads "\\" as "backslash" and "#" as "hash": a long and a short word, not one price for both.
    (long_sign,) = estimate('say "A \\\\ stays."\n').of_kind("say")
    (short_sign,) = estimate('say "A # stays."\n').of_kind("say")
    assert long_sign.duration - short_sign.duration == pytest.approx(5 * JOE.per_letter, abs=0.002)
    assert symbol_names_for("en-GB")["&"] == "and"
    # in a language whose names for signs are not known, every sign costs the voice's per_symbol
    assert symbol_names_for("sv") == {}
    swedish = ENGINES["espeak"].pace_for("sv")
    (say,) = estimate('say "A \\\\ b."\n', settings="language: sv\n").of_kind("say")
    assert say.duration == pytest.approx(round(swedish.base + 2 * swedish.per_letter + swedish.per_symbol, 3) + 0.5)


def test_unspaced_scripts_count_characters():
    # Chinese is spoken offline by eSpeak NG's Mandarin voice, a character at its pace of 4.4 letters
    (say,) = estimate('say "双脚与肩同宽微屈"\n', settings="language: zh-CN\n").of_kind("say")
    pace = ENGINES["espeak"].pace
    assert say.duration == pytest.approx(round(pace.base + 8 * 4.4 * pace.per_letter, 3) + 0.5)


def test_breath_phases_last_as_written_with_their_cue_spoken_at_the_start():
    timeline = estimate('inhale 4s "In."\nexhale 6s\nhold 10s "Rest."\npause 2s\nbell 5s\nbell\n')
    assert events(timeline)[1:-1] == [("inhale", 3.0, 7.0), ("exhale", 7.0, 13.0), ("hold", 13.0, 23.0),
                                       ("pause", 23.0, 25.0), ("bell", 25.0, 30.0), ("bell", 30.0, 33.0)]
    inhale = timeline.of_kind("inhale")[0]
    assert inhale.spoken == "In." and inhale.speech[0].start == inhale.start and inhale.phase == "inhale"
    assert timeline.of_kind("exhale")[0].spoken is None
    assert timeline.warnings == ()


def test_a_cue_longer_than_its_phase_stretches_it_and_warns():
    text = "This cue has far too many words to be said in one short second."  # 49 letters: 2.9 s
    timeline = estimate(f'inhale 1s "{text}"\nexhale 4s\n')
    inhale, exhale = timeline.of_kind("inhale")[0], timeline.of_kind("exhale")[0]
    spoken = round(JOE.base + 49 * JOE.per_letter, 3)
    assert inhale.duration == pytest.approx(spoken + SPEECH_MARGIN)
    assert exhale.start == inhale.end  # speech is never overlapped or cut
    (warning,) = timeline.warnings
    assert warning.code == "cue-overruns-phase" and warning.span.line == 3
    assert f"{spoken:.1f}s" in warning.message and "1.0s" in warning.message


def test_tempo_divides_written_durations_but_not_speech():
    timeline = estimate(f'inhale 4s\nsay "{FIVE_WORDS}"\n', settings="tempo: 0.5\n")
    assert events(timeline, "inhale", "say") == [("inhale", 3.0, 11.0), ("say", 11.0, round(11.5 + FIVE_WORDS_SECONDS, 3))]


def test_sections_span_their_events_and_repetitions_are_marked():
    timeline = estimate('section "A":\n    pause 2s\nsection "B":\n    repeat 2 counted:\n        hold 3s\n')
    count = round(JOE.base + JOE.per_digit, 3) + 0.5  # a spoken count, then the gap
    assert [(s.text, s.start, s.end) for s in timeline.sections] == [("A", 3.0, 5.0),
                                                                    ("B", 5.0, round(11.0 + 2 * count, 3))]
    holds = timeline.of_kind("hold")
    assert [(h.section, h.repetition.index, h.repetition.total) for h in holds] == [("B", 1, 2), ("B", 2, 2)]
    counts = timeline.of_kind("count")
    assert [c.spoken for c in counts] == ["1", "2"] and counts[0].duration == pytest.approx(count)


def test_notes_take_no_time():
    timeline = estimate('say "x"\nnote "Shown only."\npause 1s\n')
    (note,) = timeline.of_kind("note")
    assert note.duration == 0 and note.spoken is None


def test_the_estimate_is_the_same_on_every_run():
    body = 'section "A":\n    repeat 3 counted:\n        inhale 4s "Up."\n        exhale 4s "Down."\n' \
           '    each side left, right:\n        say "Turn {side}."\n'
    assert estimate(body) == estimate(body)


def test_a_routine_longer_than_two_hours_is_warned_about():
    timeline = estimate("repeat 800:\n    pause 10s\n")
    assert [w.code for w in timeline.warnings] == ["long-routine"]
    assert not estimate("repeat 700:\n    pause 10s\n").warnings


def test_estimated_speech_directly():
    pace = Pace(base=0.2, per_letter=0.05, per_break=0.3, per_spelled=0.25, per_symbol=0.45, per_digit=0.15)
    timer = EstimatedSpeech(rate=1.0, pace=pace)
    assert timer.timing(FIVE_WORDS).duration == pytest.approx(0.2 + 19 * 0.05)
    assert timer.timing("Hi, CR 2 & you.").duration == pytest.approx(0.2 + 8 * 0.05 + 0.3 + 2 * 0.25 + 0.15)
    unnamed = EstimatedSpeech(rate=1.0, pace=pace, symbol_names={})
    assert unnamed.timing("Hi, CR 2 & you.").duration == pytest.approx(0.2 + 5 * 0.05 + 0.3 + 2 * 0.25 + 0.45 + 0.15)
    assert timer.timing(".").duration == 0.2  # a sentence takes at least 0.2 s
    assert EstimatedSpeech(rate=2.0, pace=pace).timing(FIVE_WORDS).duration == pytest.approx((0.2 + 19 * 0.05) / 2)
    assert EstimatedSpeech().pace == JOE


class _FixedSpeech:
    """Speech of a known length per text, as a build's measured speech would be."""

    def __init__(self, lengths: dict[str, float]):
        self.lengths = lengths

    def timing(self, text):
        from qidsl.engines.timing import Sentence, SpokenTiming
        return SpokenTiming(self.lengths[text], (Sentence(0.0, self.lengths[text], text),))


def _built(body: str, lengths: dict[str, float], fps: int = 30):
    from qidsl.timeline import build_timeline
    compiled = compile_routine("t.qi", Loader(), text=f'title: "T"\n{body}')
    return build_timeline(compiled.expanded, _FixedSpeech(lengths), frame_rate=fps)


GRID_BODY = 'say "A."\ninhale 1.55s "B."\npause 0.71s\nsay "C."\nbell 2.01s\n'


@pytest.mark.parametrize("fps", [24, 25, 30, 60])
def test_a_build_timeline_lays_every_event_on_whole_frames(fps):
    timeline = _built(GRID_BODY, {"A.": 1.234, "B.": 0.8, "C.": 2.0001}, fps)
    for event in timeline.events:
        for t in (event.start, event.end):
            assert abs(t * fps - round(t * fps)) < 0.5e-3 * fps
    say_a = timeline.of_kind("say")[0]
    assert say_a.duration >= 1.234  # speech is never cut by the grid
    (inhale,) = timeline.of_kind("inhale")
    assert abs(inhale.duration - 1.55) <= 0.5 / fps + 1e-3  # written lengths move by half a frame at most


def test_a_longer_cue_moves_later_events_by_whole_frames():
    before = _built(GRID_BODY, {"A.": 1.234, "B.": 0.8, "C.": 2.0})
    after = _built(GRID_BODY, {"A.": 1.9, "B.": 0.8, "C.": 2.0})
    assert all(abs(e.start * 30 - round(e.start * 30)) < 0.02 for e in before.events + after.events)
    shifts = [round(b.start * 30) - round(a.start * 30) for a, b in zip(before.events, after.events)]
    assert shifts[:2] == [0, 0] and set(shifts[2:]) == {20}  # 0.666 s more speech: 20 frames
    later = [(round(e.end * 30) - round(e.start * 30), e.kind) for e in before.events[3:]]
    assert later == [(round(e.end * 30) - round(e.start * 30), e.kind) for e in after.events[3:]]


def test_check_without_events_reports_the_same_duration_and_problems():
    # `qidsl check` and the language server compile with events=False: only the events may differ.
    text = ('title: "T"\nvariants: short, long\nsection "A":\n    inhale 1s "A cue far too long for one second."\n'
            '    for long:\n        repeat 1000:\n            hold 40s\n    exhale 4s\n    say "Done."\n')
    full = compile_routine("t.qi", Loader(), text=text)
    light = compile_routine("t.qi", Loader(), text=text, events=False)
    assert {d.code for d in full.diagnostics} >= {"cue-overruns-phase", "long-routine", "long-retention"}
    assert light.diagnostics == full.diagnostics
    for with_events, without in zip(full.variants, light.variants, strict=True):
        assert without.estimate.events == () and len(with_events.estimate.events) > 3
        assert without.estimate.duration == with_events.estimate.duration
        assert without.estimate.warnings == with_events.estimate.warnings
