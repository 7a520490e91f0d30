"""`qidsl import`: a draft routine from a recorded lesson's captions (SRT and WebVTT).

Each lesson under tests/cases/import/ (written for these tests) has its
expected draft beside it (NAME.qi); ``UPDATE_GOLDEN=1`` rewrites them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qidsl.cli import main
from qidsl.commands import timed_by_voice
from qidsl.compile import compile_routine
from qidsl.importer import (
    Cue,
    Repeat,
    Statement,
    cue_kind,
    find_repeats,
    join_split_sentences,
    lesson_length,
    read_cues,
)
from qidsl.lang.loader import Loader

CASES = Path(__file__).parent / "cases" / "import"
LESSONS = sorted(p for p in CASES.iterdir() if p.suffix in (".srt", ".vtt"))
LANGUAGE = {"atmung-de": "de"}  # an SRT file names no language: the command line does
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.fixture(autouse=True)
def _no_colour(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")


def _import(lesson: Path, folder: Path, capsys) -> Path:
    target = folder / f"{lesson.stem}.qi"
    args = ["import", str(lesson), "-o", str(target)]
    if lesson.stem in LANGUAGE:
        args += ["--language", LANGUAGE[lesson.stem]]
    assert main(args) == 0
    assert f"wrote {target}" in capsys.readouterr().err
    return target


def test_three_srt_lessons_and_a_vtt_one_are_written_for_the_tests():
    assert sorted(p.suffix for p in LESSONS) == [".srt", ".srt", ".srt", ".vtt"]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_the_draft_is_as_stored_and_passes_check_and_fmt(lesson, tmp_path, capsys):
    draft = _import(lesson, tmp_path, capsys)
    golden = lesson.with_suffix(".qi")
    text = draft.read_text(encoding="utf-8")
    if UPDATE:
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), f"the draft differs from {golden.name}"
    assert main(["check", "--strict", str(draft)]) == 0
    assert "no problems in 1 file" in capsys.readouterr().err
    assert main(["fmt", "--check", str(draft)]) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_the_draft_lasts_as_long_as_the_lesson(lesson, tmp_path, capsys):
    """Within 10 %, estimated as `plan --quick` does and timed by the voice as `plan` does.

    The title card plays over the lesson's first seconds, and the end card
    follows its last words: the lesson is compared with what lies between.
    """
    draft = _import(lesson, tmp_path, capsys)
    length = lesson_length(read_cues(lesson)[0])
    compiled = compile_routine(draft, Loader())
    timed, _ = timed_by_voice(compiled, draft.parent)
    for timeline in (compiled.estimate, timed.estimate):
        outro = next(e for e in timeline.events if e.kind == "outro")
        assert abs(outro.start - length) <= 0.1 * length, (outro.start, length)


def test_say_inhale_exhale_and_hold_by_the_words_in_the_routines_language():
    assert cue_kind("Breathe in through the nose.", "en") == "inhale"
    assert cue_kind("Let the breath go, all the way down.", "en-GB") == "exhale"
    assert cue_kind("Hold.", "en") == "hold"
    assert cue_kind("Breathe in, and breathe out.", "en") == "say"  # both: a sentence about breathing
    assert cue_kind("Hands in front of the belly.", "en") == "say"
    assert cue_kind("Atme tief ein.", "de") == "inhale"
    assert cue_kind("Atme langsam aus.", "de") == "exhale"
    assert cue_kind("Inspirez profondément.", "fr") == "inhale"
    assert cue_kind("Exhala despacio.", "es") == "exhale"
    assert cue_kind("Atme tief ein.", "en") == "say"  # not words we know in English
    assert cue_kind("Breathe in.", "sv") == "say"  # a language we have no words for: all say
    assert cue_kind("[bell]", "en") == "bell"
    assert cue_kind("[gentle music]", "en") == "sound"


def test_a_sentence_split_across_two_cues_is_joined():
    cues = [Cue(0, 2, "Stand with your feet apart,"), Cue(2.1, 3, "knees soft."), Cue(3.2, 4, "Good.")]
    assert join_split_sentences(cues) == [Cue(0, 3, "Stand with your feet apart, knees soft."), Cue(3.2, 4, "Good.")]


def test_the_last_time_through_may_end_in_a_longer_silence():
    inhale, exhale = Statement("inhale", 4, "In."), Statement("exhale", 4, "Out.")
    items = [inhale, exhale, Statement("pause", 2), inhale, exhale, Statement("pause", 2),
             inhale, exhale, Statement("pause", 9), Statement("say", None, "Rest.")]
    assert find_repeats(items) == [Repeat(3, (inhale, exhale, Statement("pause", 2))), Statement("pause", 7),
                                   Statement("say", None, "Rest.")]


def test_a_passage_with_other_times_is_not_a_repeat():
    items = [Statement("inhale", 4, "In."), Statement("inhale", 8, "In.")]
    assert find_repeats(items) == items


def test_an_existing_draft_is_kept_unless_forced(tmp_path, capsys):
    lesson = CASES / "morning-breath.srt"
    target = tmp_path / "mine.qi"
    target.write_text("title: \"Mine\"\n", encoding="utf-8")
    assert main(["import", str(lesson), "-o", str(target)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "title: \"Mine\"\n"
    assert main(["import", str(lesson), "-o", str(target), "--force"]) == 0
    assert "repeat 3:" in target.read_text(encoding="utf-8")


def test_standard_output(capsys):
    assert main(["import", str(CASES / "waist-circles.vtt"), "-o", "-"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Drafted by qidsl import from waist-circles.vtt")
    assert 'say "Rub gently until the area feels \\"warm\\"."' in out  # quotes escaped, tags gone


@pytest.mark.parametrize("name, data, message", [
    ("bad.srt", b"1\nnot a time\nhello\n", "bad.srt is not a readable SRT file"),
    ("bad.vtt", b"WEBVTT\n\n", "bad.vtt has no captions to make a routine from"),
    ("latin.srt", "1\n00:00:01,000 --> 00:00:02,000\nGrüß dich\n".encode("latin-1"), "is not UTF-8 text"),
    ("missing.srt", None, "cannot read"),
])
def test_a_file_that_cannot_be_read_is_one_sentence(tmp_path, capsys, name, data, message):
    lesson = tmp_path / name
    if data is not None:
        lesson.write_bytes(data)
    assert main(["import", str(lesson), "-o", "-"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and message in err and "Traceback" not in err and err.count("\n") == 1
