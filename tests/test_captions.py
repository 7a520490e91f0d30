"""Captions: read back with independent SRT and WebVTT parsers and held to the broadcast rules."""

import html
import re

import pytest
import srt
import webvtt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qidsl.renderers.captions import caption_cues, write_srt, write_vtt
from qidsl.timeline import Sentence, SpokenTiming
from tests.renderer_fixtures import SentenceTimer, step, timeline

MAX_CHARS, MAX_LINES, MIN_SECONDS, MAX_SECONDS = 42, 2, 1.0, 7.0


def _ms(stamp: str) -> int:
    h, m, s = stamp.replace(",", ".").split(":")
    return round((int(h) * 3600 + int(m) * 60 + float(s)) * 1000)


def written(tmp_path, line):
    """The captions of ``line`` as each parser reads them: [(start_ms, end_ms, [lines])]."""
    cues = caption_cues(line)
    write_srt(tmp_path / "c.srt", cues)
    write_vtt(tmp_path / "c.vtt", cues)
    from_srt = [(round(s.start.total_seconds() * 1000), round(s.end.total_seconds() * 1000),
                 s.content.split("\n")) for s in srt.parse((tmp_path / "c.srt").read_text(encoding="utf-8"))]
    from_vtt = [(_ms(c.start), _ms(c.end), [html.unescape(x) for x in c.lines])
                for c in webvtt.read(str(tmp_path / "c.vtt")).captions]
    assert from_srt == from_vtt
    return from_srt


def ms(seconds: float) -> int:
    return round(seconds * 1000)


def assert_rules(parsed, duration: float):
    for i, (start, end, lines) in enumerate(parsed):
        assert 1 <= len(lines) <= MAX_LINES, lines
        assert all(0 < len(x) <= MAX_CHARS for x in lines), lines
        assert end - start <= MAX_SECONDS * 1000
        assert end > start
        if i + 1 < len(parsed):
            assert end <= parsed[i + 1][0], "cues overlap"
        if end - start < MIN_SECONDS * 1000:
            # Only when the next cue (or the end of the recording) left no room.
            assert (i + 1 < len(parsed) and end == parsed[i + 1][0]) or end == ms(duration)


def said(*cues):
    """Steps and a timer for cues made of sentences: said(("text", seconds), ...), ..."""
    sentences = {" ".join(t for t, _ in cue): list(cue) for cue in cues}
    return [step("say", text) for text in sentences], SentenceTimer(sentences)


def test_cues_are_the_spoken_sentences_at_their_times(tmp_path):
    steps, timer = said([("Stand with your feet apart.", 2.1), ("Knees soft.", 1.2)],
                        [("Let the shoulders drop.", 1.8)])
    line = timeline(steps + [step("inhale", "Breathe in slowly.", seconds=4.0)],
                    SentenceTimer({**timer.sentences, "Breathe in slowly.": [("Breathe in slowly.", 1.5)]}))
    sentences = [s for e in line.events for s in e.speech]
    parsed = written(tmp_path, line)
    assert parsed == [(ms(s.start), ms(s.end), [s.text]) for s in sentences]
    assert_rules(parsed, line.duration)


def test_a_long_sentence_becomes_several_cues_sharing_its_time(tmp_path):
    text = ("Float the hands up along the centre line, then let them roll backwards, forward and "
            "down again, slowly, as if stroking the surface of still water.")
    assert len(text) > 84
    steps, timer = said([(text, 9.0)])
    line = timeline(steps, timer)
    (sentence,) = line.of_kind("say")[0].speech
    parsed = written(tmp_path, line)
    assert len(parsed) >= 2
    assert_rules(parsed, line.duration)
    assert " ".join(" ".join(lines) for _, _, lines in parsed) == text
    # Contiguous, spanning exactly the sentence, each part's time in proportion to its characters.
    assert parsed[0][0] == ms(sentence.start) and parsed[-1][1] == ms(sentence.end)
    assert all(a[1] == b[0] for a, b in zip(parsed, parsed[1:]))
    chars = [len(" ".join(lines)) for _, _, lines in parsed]
    for (start, end, _), n in zip(parsed, chars):
        assert end - start == pytest.approx(9000 * n / sum(chars), abs=2)
    # Balanced: no part is a lonely scrap.
    assert min(chars) > 0.5 * max(chars)


def test_a_short_cue_is_held_for_a_second_when_there_is_room(tmp_path):
    steps, timer = said([("Rest.", 0.4)])
    line = timeline(steps + [step("pause", seconds=3.0)], timer)
    (sentence,) = line.of_kind("say")[0].speech
    assert written(tmp_path, line) == [(ms(sentence.start), ms(sentence.start) + 1000, ["Rest."])]


def test_a_short_cue_gives_way_to_the_next_one(tmp_path):
    steps, timer = said([("Now.", 0.3), ("Lift both arms above the head.", 2.0)])
    line = timeline(steps, timer)
    first, second = line.of_kind("say")[0].speech
    parsed = written(tmp_path, line)
    assert parsed[0][:2] == (ms(first.start), ms(second.start))
    assert parsed[1][:2] == (ms(second.start), ms(second.end))
    assert_rules(parsed, line.duration)


def test_no_cue_stays_more_than_seven_seconds(tmp_path):
    text = "Slowly, slowly, let everything go now."
    steps, timer = said([(text, 20.0)])
    line = timeline(steps, timer)
    (sentence,) = line.of_kind("say")[0].speech
    parsed = written(tmp_path, line)
    assert len(parsed) >= 3
    assert_rules(parsed, line.duration)
    assert parsed[0][0] == ms(sentence.start) and parsed[-1][1] == ms(sentence.end)
    assert " ".join(" ".join(lines) for _, _, lines in parsed) == text


def test_japanese_wraps_between_characters_not_before_punctuation(tmp_path):
    text = ("両手をゆっくりと上げて、息を吸いながら体の中心線に沿って浮かせます。"
            "手のひらを返して、肩の力を抜きながらゆっくりと下ろしていきましょう。"
            "足の裏でしっかりと大地を感じてください。")
    assert len(text) > 84
    steps, timer = said([(text, 8.0)])
    line = timeline(steps, timer)
    parsed = written(tmp_path, line)
    assert len(parsed) >= 2
    assert_rules(parsed, line.duration)
    all_lines = [x for _, _, lines in parsed for x in lines]
    assert "".join(all_lines) == text  # no spaces invented between characters
    assert not any(x[0] in "、。" for x in all_lines)


def test_chinese_with_latin_words_keeps_both_intact(tmp_path):
    text = "把双手放在小腹前，掌心向上，想象手中捧着一团温暖的 Qi 气，随着呼吸慢慢地扩大和收缩，然后轻轻放下双手。"
    steps, timer = said([(text, 6.0)])
    parsed = written(tmp_path, timeline(steps, timer))
    assert_rules(parsed, 60)
    joined = "".join(x for _, _, lines in parsed for x in lines)
    assert joined.replace(" ", "") == text.replace(" ", "")
    assert any(" Qi " in x or x.startswith("Qi ") or x.endswith(" Qi") for _, _, ls in parsed for x in ls)


def test_markup_characters_survive_both_formats(tmp_path):
    text = "Tom & Jerry say <breathe> --> relax."
    steps, timer = said([(text, 2.5)])
    parsed = written(tmp_path, timeline(steps, timer))
    assert parsed[0][2] == [text]
    assert "&amp;" in (tmp_path / "c.vtt").read_text(encoding="utf-8")


def test_files_are_replaced_whole(tmp_path):
    (tmp_path / "c.srt").write_text("old captions", encoding="utf-8")
    steps, timer = said([("Hello there.", 1.5)])
    written(tmp_path, timeline(steps, timer))
    assert "old" not in (tmp_path / "c.srt").read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.srt", "c.vtt"]


def test_a_silent_routine_has_no_captions(tmp_path):
    line = timeline([step("pause", seconds=2.0), step("bell", seconds=3.0)], SentenceTimer({}))
    assert caption_cues(line) == []
    assert written(tmp_path, line) == []


# --- the rules hold for any speech ---------------------------------------------------

WORDS = ["breathe", "in", "out,", "and", "relax.", "shoulder-width", "Dan", "Tian", "gently",
         "counterclockwise", "呼吸", "放松。", "ゆっくり", "https://example.org/a-very-long-link-that-goes-on-and-on"]


class QueueTimer:
    """Gives each cue, in order, the next of a list of timings."""

    def __init__(self, timings):
        self.timings = list(timings)

    def timing(self, text):
        return self.timings.pop(0)


sentence_st = st.tuples(st.lists(st.sampled_from(WORDS), min_size=1, max_size=40).map(" ".join),
                        st.floats(0.1, 15.0))
cues_st = st.lists(st.tuples(st.lists(sentence_st, min_size=1, max_size=3), st.floats(0.0, 3.0)),
                   min_size=1, max_size=5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cues=cues_st)
def test_rules_hold_for_any_speech(tmp_path, cues):
    steps, timings = [], []
    for i, (sentences, pause) in enumerate(cues):
        out, t = [], 0.0
        for text, seconds in sentences:
            out.append(Sentence(round(t, 3), round(t + seconds, 3), text))
            t += seconds
        timings.append(SpokenTiming(round(t, 3), tuple(out)))
        steps.append(step("say", f"cue {i}"))
        if pause:
            steps.append(step("pause", seconds=pause))
    line = timeline(steps, QueueTimer(timings), gap=0.0)
    parsed = written(tmp_path, line)
    assert_rules(parsed, line.duration)
    shown = " ".join(" ".join(lines) for _, _, lines in parsed)
    spoken = " ".join(s.text for e in line.events for s in e.speech)
    assert re.sub(r"\s", "", shown) == re.sub(r"\s", "", spoken)  # every word shown, in order
    for sentence in (s for e in line.events for s in e.speech):
        if len(sentence.text) <= MAX_CHARS and MIN_SECONDS <= sentence.end - sentence.start <= MAX_SECONDS:
            assert (ms(sentence.start), ms(sentence.end), [sentence.text]) in parsed
