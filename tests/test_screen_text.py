"""What the screen shows: counters through inner repeats, countdowns inside the disk, long texts whole.

Frames are drawn by the video's own frame function (no encode needed to
judge pixels); the painter reports the text layers it placed, which is what
"shown whole" is compared against.  ``check`` measures with the same table.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qidsl.compile import compile_routine
from qidsl.fonts import textfit
from qidsl.fonts.textfit import BOXES
from qidsl.lang.loader import Loader
from qidsl.renderers.captions import caption_cues
from qidsl.renderers.video import VideoFrames
from qidsl.renderers.video_layers import Layout, box_layer, countdown_text

LONG_NOTE = ("Keep a chair within reach. If you feel dizzy at any moment, sit down, rest and breathe "
             "normally until it passes, then carry on gently.")
HARD = f'''title: "A Very Long Morning Routine for Opening the Shoulders, the Hips and the Heart"
author: "Qi Studio"

section "Standing Like a Tree by the Quiet River at Dawn":
    note "{LONG_NOTE}"
    say "Welcome."
    hold 1m45s
    repeat 3 counted:
        say "Lift."
        repeat 2:
            inhale 4s "In."
            exhale 4s "Out."
    each side "left arm and shoulder", "right arm and shoulder":
        hold 3s
    exhale 2m5s
'''


def compiled(text: str, name: str = "hard.qi"):
    result = compile_routine(name, Loader(), text=text)
    assert not result.errors, [d.message for d in result.errors]
    return result


@pytest.fixture(scope="module")
def hard():
    timeline = compiled(HARD).estimate
    return timeline, VideoFrames(timeline, caption_cues(timeline), 1280, 720)


def kinds(timeline, kind):
    return [e for e in timeline.events if e.kind == kind]


def test_the_counted_round_stays_on_screen_through_an_inner_repeat(hard):
    timeline, frames = hard
    inner = [e for e in timeline.events if e.kind in ("inhale", "exhale") and e.repetition is not None]
    assert len(inner) == 3 * 2 * 2
    for n, event in enumerate(inner):
        for t in (event.start + 0.1, (event.start + event.end) / 2, event.end - 0.1):
            assert frames.scene.at(t).screen.counter == f"Round {n // 4 + 1} / 3"
    # And it is drawn: the counter's layer is on the frame.
    frames(inner[5].start + 1.0)
    assert (("Round 2 / 3",) in [lines for lines, _ in frames._painter.placed])


def disk_spill(frames, t):
    """Pixels changed by the pacer outside its disk (the digits spilling), and the disk's radius."""
    picture = frames(t).astype(int)
    moment = frames.scene.at(t)
    base = frames._compose(moment.screen, frames.state(t).place).astype(int)  # with the section's place
    lay = frames.layout
    radius = lay.pacer_min_radius + (lay.pacer_max_radius - lay.pacer_min_radius) * moment.level
    cx, cy = lay.pacer_centre
    ys, xs = np.mgrid[0:lay.height, 0:lay.width]
    outside = np.hypot(xs + 0.5 - cx, ys + 0.5 - cy) > radius + 1.0
    changed = np.abs(picture - base).max(axis=2) > 8
    changed[lay.bar_box[1]:lay.bar_box[3]] = False  # the progress bar is drawn per frame too
    inside_dark = np.abs(picture - np.array(frames.theme.on_accent)).max(axis=2) < 60
    return int((changed & outside).sum()), int((inside_dark & ~outside).sum()), radius


def test_a_three_digit_countdown_stays_inside_its_disk(hard):
    timeline, frames = hard
    hold = kinds(timeline, "hold")[0]
    exhale = kinds(timeline, "exhale")[-1]
    assert hold.duration == pytest.approx(105) and exhale.duration == pytest.approx(125)
    for t, shown in ((hold.start + 0.5, "1:45"), (exhale.start + 0.5, "2:05"),
                     (exhale.end - 60.5, "1:01"), (exhale.end - 58.5, "59")):
        moment = frames.scene.at(t)
        assert countdown_text(moment.seconds_left) == shown
        spill, digits, radius = disk_spill(frames, t)
        assert spill == 0, (shown, spill)
        assert digits > 0.04 * math.pi * radius ** 2, (shown, digits)  # the digits are there, and readable


def test_countdowns_read_as_seconds_then_minutes():
    assert [countdown_text(s) for s in (1, 9, 59, 60, 61, 105, 600, 3599)] == [
        "1", "9", "59", "1:00", "1:01", "1:45", "10:00", "59:59"]


def test_a_long_note_title_section_and_side_are_shown_whole(hard):
    timeline, frames = hard
    painter = frames._painter
    say = kinds(timeline, "say")[0]
    frames(say.start + 0.2)
    placed = {" ".join(lines): box for lines, box in painter.placed}
    lay = frames.layout
    assert LONG_NOTE in placed  # every word, in order, wrapped onto lines
    note_box = placed[LONG_NOTE]
    assert note_box[0] >= lay.margin_x and note_box[2] <= lay.pacer_box[0]  # clear of the pacer
    assert "Standing Like a Tree by the Quiet River at Dawn" in placed
    frames(0.5)
    assert "A Very Long Morning Routine for Opening the Shoulders, the Hips and the Heart" in {
        " ".join(lines) for lines, _ in painter.placed}
    side = kinds(timeline, "hold")[1]
    frames(side.start + 0.5)
    assert "Left arm and shoulder" in {" ".join(lines) for lines, _ in painter.placed}
    for _, (left, _top, right, bottom) in painter.placed:
        assert left >= lay.margin_x - 2 and right <= lay.width - lay.margin_x + 2 and bottom <= lay.height


@pytest.mark.parametrize("text", [
    "Rest.", LONG_NOTE, LONG_NOTE * 3, "Überschwängliche Ausatmung während der Schulterkreise",
    "把双手放在小腹前，掌心向上，想象手中捧着一团温暖的气", "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW"])
@pytest.mark.parametrize("box", sorted(BOXES))
def test_drawn_text_keeps_to_its_box_and_is_never_cut(text, box):
    for width, height in ((1280, 720), (640, 360)):
        lay = Layout(width, height)
        layer = box_layer(box, text, lay)
        assert "".join(layer.lines).replace(" ", "") == text.replace(" ", "")
        assert layer.size[0] <= lay.px(BOXES[box].width) + 3


def test_check_and_the_renderer_agree_on_what_fits():
    painter_fit = BOXES["note"].fit(LONG_NOTE)
    assert painter_fit.within_limits and len(painter_fit.lines) <= BOXES["note"].lines
    assert not BOXES["note"].fit(LONG_NOTE * 3).within_limits
    # The renderer draws exactly the lines check measured, at 720p.
    assert box_layer("note", LONG_NOTE, Layout(1280, 720)).lines == painter_fit.lines


def test_check_warns_at_the_line_of_a_text_that_cannot_fit():
    text = HARD.replace(LONG_NOTE, LONG_NOTE * 3)
    result = compile_routine("long.qi", Loader(), text=text)
    warnings = [d for d in result.diagnostics if d.code == "text-too-long"]
    assert [(d.span.line, d.span.column, d.message) for d in warnings] == [
        (5, 10, "this note is too long to show whole on the video at 720p")]
    assert warnings[0].hint.startswith("shorten it to about ")
    assert not [d for d in compiled(HARD).diagnostics if d.code == "text-too-long"]


def test_check_warns_about_long_titles_side_names_and_card_notes():
    text = ('title: "' + "A Very Long Title " * 12 + '"\n'
            'note "' + LONG_NOTE + '"\nnote "' + LONG_NOTE + '"\n'
            'section "S":\n    each side "' + "the whole left side " * 4 + '", right:\n        hold 2s\n')
    result = compile_routine("t.qi", Loader(), text=text)
    found = [(d.span.line, d.message) for d in result.diagnostics if d.code == "text-too-long"]
    assert found == [
        (1, "this title is too long to show whole on the video at 720p"),
        (3, "the notes on the title card are too long to show whole on the video at 720p"),
        (5, "this side name is too long to show whole on the video at 720p")]


def test_every_title_card_note_past_the_first_that_overflows_is_warned_about():
    notes = [f"Note {i}: keep the knees soft and the shoulders low." for i in range(40)]
    text = 'title: "T"\n' + "".join(f'note "{note}"\n' for note in notes) + 'section "S":\n    hold 2s\n'
    # Where the card overflows, fitting all the notes up to each one as the video will show them.
    first = next(i for i in range(len(notes))
                 if not textfit.BOXES["card_notes"].fit("\n".join(notes[:i + 1])).within_limits)
    result = compile_routine("t.qi", Loader(), text=text)
    warned = [d.span.line for d in result.diagnostics if d.code == "text-too-long"]
    assert 0 < first < len(notes) - 1
    assert warned == list(range(first + 2, len(notes) + 2))  # note i is on line i + 2


def test_the_advance_table_is_the_shipped_fonts():
    measured = textfit._measure_fonts()
    from qidsl.fonts import _advances
    assert measured == _advances.ADVANCES
