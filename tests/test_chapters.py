"""Chapters: one per section, covering the recording, as YouTube wants them."""

import pytest

from qidsl.renderers.chapters import Chapter, chapters, write_chapters_txt, youtube_lines, youtube_warnings
from tests.renderer_fixtures import SentenceTimer, step, timeline


def morning(title="Morning Flow"):
    """A routine whose times are easy to work out by hand.

    Title card 3 s; "Welcome." 1.5 s + 0.5 s gap -> Arriving at 5 s; a 60 s
    pause -> Rolling at 65 s (1:05); a one-hour hold -> Closing at 3665 s
    (1:01:05); a 3 s bell, then the 4 s end card -> 3672 s.
    """
    steps = [
        step("say", "Welcome."),
        step("section", "Arriving"),
        step("pause", seconds=60.0, section="Arriving"),
        step("section", "Rolling the Hands"),
        step("hold", seconds=3600.0, section="Rolling the Hands"),
        step("section", "Closing"),
        step("bell", seconds=3.0, section="Closing"),
    ]
    return timeline(steps, SentenceTimer({"Welcome.": [("Welcome.", 1.5)]}), title=title)


def test_chapters_cover_the_routine_one_per_section():
    line = morning()
    assert line.duration == 3672.0
    assert chapters(line) == [
        Chapter("Morning Flow", 0.0, 5.0),
        Chapter("Arriving", 5.0, 65.0),
        Chapter("Rolling the Hands", 65.0, 3665.0),
        Chapter("Closing", 3665.0, 3672.0),
    ]


def test_youtube_lines_golden(tmp_path):
    marks = chapters(morning())
    expected = "0:00 Morning Flow\n0:05 Arriving\n1:05 Rolling the Hands\n1:01:05 Closing"
    assert youtube_lines(marks) == expected
    write_chapters_txt(tmp_path / "m.chapters.txt", marks)
    assert (tmp_path / "m.chapters.txt").read_text(encoding="utf-8") == expected + "\n"


def test_introduction_without_a_title():
    assert chapters(morning(title=""))[0].title == "Introduction"


def test_first_section_takes_in_the_title_card():
    steps = [step("section", "Arriving"), step("pause", seconds=20.0, section="Arriving"),
             step("section", "Closing"), step("pause", seconds=15.0, section="Closing")]
    line = timeline(steps, SentenceTimer({}))
    assert chapters(line) == [Chapter("Arriving", 0.0, 23.0), Chapter("Closing", 23.0, 42.0)]
    # The practice page's list gives the section's true start, as its printed class sheet does.
    assert chapters(line, from_zero=False) == [Chapter("Arriving", 3.0, 23.0), Chapter("Closing", 23.0, 42.0)]


def test_a_note_before_the_first_section_is_not_a_chapter():
    steps = [step("note", "Not medical advice."), step("section", "Only"),
             step("pause", seconds=5.0, section="Only")]
    assert chapters(timeline(steps, SentenceTimer({}))) == [Chapter("Only", 0.0, 12.0)]


def test_a_routine_without_sections_is_one_chapter():
    line = timeline([step("pause", seconds=5.0)], SentenceTimer({}), title="Quick Rest")
    assert chapters(line) == [Chapter("Quick Rest", 0.0, 12.0)]


def test_chapters_unpack_as_title_start_end():
    title, start, end = chapters(morning())[1]
    assert (title, start, end) == ("Arriving", 5.0, 65.0)


def test_a_routine_that_suits_youtube_gets_no_warnings():
    marks = [Chapter("A", 0, 10), Chapter("B", 10, 20), Chapter("C", 20, 30)]
    assert youtube_warnings(marks) == []


@pytest.mark.parametrize("marks, complaint", [
    ([Chapter("A", 0, 30), Chapter("B", 30, 60)], "at least 3 chapters; this routine has 2"),
    ([Chapter("A", 0, 10), Chapter("B", 10, 19.5), Chapter("C", 19.5, 40)], "'B' lasts 9 s"),
    ([Chapter("A", 0, 10), Chapter("B", 10, 20), Chapter("C", 20, 29.9)], "'C' lasts 9 s"),
    ([Chapter("A", 2, 20), Chapter("B", 20, 40), Chapter("C", 40, 60)], "start at 0:00, not 0:02"),
    ([], "this routine has none"),
])
def test_youtube_rules_broken_are_named(marks, complaint):
    problems = youtube_warnings(marks)
    assert len(problems) == 1
    assert complaint in problems[0]


def test_the_golden_routine_warns_of_its_short_chapters():
    problems = youtube_warnings(chapters(morning()))
    assert problems == [
        "YouTube needs each chapter to last at least 10 s; 'Morning Flow' lasts 5 s.",
        "YouTube needs each chapter to last at least 10 s; 'Closing' lasts 7 s.",
    ]
