"""On-screen texts wrap where a reader pauses, by the same rules as the captions.

Notes, titles, section names, "Next:" labels and side labels break after
punctuation or before a conjunction, never after an article or a preposition
and never inside a name (qidsl/fonts/breaks.py, shared with the captions).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qidsl.compile import compile_routine
from qidsl.fonts import textfit
from qidsl.fonts.breaks import CLINGING, BreakRules
from qidsl.fonts.textfit import BOXES
from qidsl.lang.loader import Loader
from qidsl.renderers.captions import caption_cues
from qidsl.renderers.scene import NEXT_UP_SECONDS
from qidsl.renderers.video import VideoFrames

ENGLISH_CLINGING = set(CLINGING["en"].split())
GOLDEN = Path(__file__).parent / "cases" / "screen" / "wrapped.txt"
# Labels that used to break badly, and texts of the shipped and test routines.
TEXTS = {
    "next": ["Next: Waking the Waist", "Next: Rolling the Hands Backwards", "Next: Side to Side",
             "Next: Standing Like a Tree by the Quiet River at Dawn", "Next: Opening the Heart and the Hips"],
    "section": ["Rolling the Hands Backwards", "Standing Like a Tree by the Quiet River at Dawn",
                "A Long Name for a Short Stretch of the Spine in the Morning"],
    "side": ["Left arm and shoulder", "The whole of the left side", "Right hand on the Dan Tian"],
    "note": ["Keep a chair within reach. If you feel dizzy at any moment, sit down, rest and breathe "
             "normally until it passes, then carry on gently.",
             "Rest both hands on the Dan Tian, just below the navel, and feel the warmth of the palms.",
             "Lengthen the back of the neck, and let the shoulders sink towards the floor."],
    "title": ["A Very Long Morning Routine for Opening the Shoulders, the Hips and the Heart"],
}


def fitted(box: str, text: str, language: str = "en"):
    return BOXES[box].fit(text, language=language)


def test_a_next_label_breaks_before_the_article_not_after_it():
    # The video used to show "Next: Waking the / Waist".
    assert fitted("next", "Next: Waking the Waist").lines == ("Next:", "Waking the Waist")
    # A name longer than the line must break somewhere: inside the name, not after its "the" too.
    assert fitted("next", "Next: Rolling the Hands Backwards").lines == ("Next:", "Rolling the Hands", "Backwards")
    # "Waking the Waist" is kept whole when the line has room for it after "Next:"; else it follows.
    assert fitted("note", "Next: Waking the Waist").lines == ("Next: Waking the Waist",)
    assert fitted("side", "Waking the Waist here").lines == ("Waking the Waist", "here")


@pytest.mark.parametrize("box,text", [(box, text) for box, texts in TEXTS.items() for text in texts])
def test_no_screen_line_ends_on_an_article_or_a_preposition(box, text):
    placed = fitted(box, text)
    assert " ".join(placed.lines) == text  # every word, in order
    for line in placed.lines[:-1]:
        assert line.split()[-1].lower() not in ENGLISH_CLINGING, placed.lines


def test_break_rules_follow_the_routines_language():
    # German: "die" is an article, and nouns are capitalised (two capitals are no name).
    lines = textfit.wrap("Atme ruhig in die Tiefe Atmung", lambda s: textfit.text_width(s, 30, "regular"), 300,
                         BreakRules("de"))
    assert all(line.split()[-1] not in ("in", "die") for line in lines[:-1]), lines
    assert BOXES["note"].fit("a b", language="de") == BOXES["note"].fit("a b", language="en")


def test_wrapping_stays_linear_and_keeps_every_word():
    # 20 kB of words at the smallest size: every word kept, in order, each line within the width.
    words = ["the" if i % 7 == 0 else "Breath" if i % 5 == 0 else "w" * (1 + i % 9) for i in range(3500)]
    text = " ".join(words)
    measure = lambda s: textfit.text_width(s, 6, "regular")  # noqa: E731
    lines = textfit.wrap(text, measure, 410)
    assert " ".join(lines).split() == words
    assert all(measure(line) <= 410 + 1e-6 for line in lines)
    assert sum(1 for line in lines[:-1] if line.split()[-1] == "the") == 0
    note = BOXES["note"].fit(text)
    assert not note.within_limits and " ".join(note.lines) == text


def test_the_renderer_draws_the_next_label_with_natural_breaks(tmp_path):
    routine = ('title: "T"\nsection "Arriving":\n    say "Welcome."\n    hold 8s\n'
               'section "Waking the Waist":\n    say "Circle the hips."\n')
    result = compile_routine("t.qi", Loader(), text=routine)
    assert not result.errors
    timeline = result.estimate
    frames = VideoFrames(timeline, caption_cues(timeline), 1280, 720)
    waist = [e for e in timeline.sections if e.text == "Waking the Waist"][0]
    frames(waist.start - NEXT_UP_SECONDS / 2)
    placed = [lines for lines, _ in frames._painter.placed]
    assert ("Next:", "Waking the Waist") in placed, placed
    assert ("Next: Waking the", "Waist") not in placed


def test_golden_wrapped_screen_texts():
    out = []
    for box, texts in TEXTS.items():
        for text in texts:
            placed = fitted(box, text)
            out.append(f"[{box}] {placed.size}px{'' if placed.within_limits else ' (below its limits)'}")
            out.extend(f"    {line}" for line in placed.lines)
    actual = "\n".join(out) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(actual, encoding="utf-8")
    assert GOLDEN.read_text(encoding="utf-8") == actual
