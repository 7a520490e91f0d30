"""Expansion: includes, definitions, repetitions, sides and breath patterns into a flat list of steps."""

from __future__ import annotations

import pytest

from qidsl.compile import compile_routine
from qidsl.lang.diagnostics import QiError
from qidsl.lang.expand import expand
from qidsl.lang.loader import Loader
from qidsl.lang.parser import parse_text
from qidsl.lang.settings import resolve_settings
from qidsl.lang.steps import Repetition


def steps_of(body: str, settings: str = ""):
    result = compile_routine("e.qi", Loader(), text=f'title: "E"\n{settings}\n{body}')
    assert not result.errors, [d.message for d in result.errors]
    return result.expanded.steps


def brief(steps):
    """(kind, seconds, text) of each step: what a listener would notice."""
    return [(s.kind, s.seconds, s.text) for s in steps]


def test_nested_repeats_in_order_with_the_innermost_repetition():
    steps = steps_of('repeat 2:\n    say "Outer."\n    repeat 3:\n        inhale 2s\n')
    assert brief(steps) == ([("say", None, "Outer.")] + [("inhale", 2.0, None)] * 3) * 2
    outer = Repetition(1, 2, False)
    assert [s.repetition for s in steps[:4]] == [outer] + [Repetition(i, 3, False, outer) for i in (1, 2, 3)]
    assert steps[4].repetition == Repetition(2, 2, False)


def test_an_inner_uncounted_repeat_knows_the_round_of_the_counted_one_around_it():
    steps = steps_of('repeat 3 counted:\n    repeat 2:\n        inhale 2s\n        breathe 4-4-4 x2\n')
    rounds = [s.repetition.nearest_counted() for s in steps]
    assert all(r is not None and r.counted and r.total == 3 for r in rounds)
    per_round = len(steps) // 3  # the spoken count, then 2 x (inhale + 2 x 3 pattern phases)
    assert per_round == 1 + 2 * (1 + 2 * 3)
    assert [r.index for r in rounds] == [1] * per_round + [2] * per_round + [3] * per_round
    assert steps_of('repeat 2:\n    inhale 2s\n')[0].repetition.nearest_counted() is None


def test_a_counted_repeat_says_each_number():
    steps = steps_of('repeat 3 counted:\n    inhale 4s\n    exhale 4s\n')
    assert brief(steps) == [("count", None, "1"), ("inhale", 4.0, None), ("exhale", 4.0, None),
                            ("count", None, "2"), ("inhale", 4.0, None), ("exhale", 4.0, None),
                            ("count", None, "3"), ("inhale", 4.0, None), ("exhale", 4.0, None)]
    assert {s.repetition.counted for s in steps} == {True}
    assert [s.repetition.index for s in steps if s.kind == "count"] == [1, 2, 3]


def test_each_side_substitutes_the_side_in_every_text():
    steps = steps_of('define "reach":\n    inhale 3s "Reach {side}."\n\n'
                     'each side left, "right hand":\n    say "Turn to the {side}, then the {side} again."\n'
                     '    do "reach"\n    hold 2s\n')
    assert brief(steps) == [
        ("say", None, "Turn to the left, then the left again."), ("inhale", 3.0, "Reach left."), ("hold", 2.0, None),
        ("say", None, "Turn to the right hand, then the right hand again."), ("inhale", 3.0, "Reach right hand."),
        ("hold", 2.0, None)]
    assert [s.side for s in steps] == ["left"] * 3 + ["right hand"] * 3


def test_do_plays_a_definition_n_times_even_when_defined_later():
    steps = steps_of('do "wave" 3 times\ndo "wave"\n\ndefine "wave":\n    inhale 1s\n    exhale 2s\n')
    assert brief(steps) == [("inhale", 1.0, None), ("exhale", 2.0, None)] * 4


def test_definitions_inside_definitions_and_repeats():
    steps = steps_of('define "one":\n    pause 1s\ndefine "two":\n    do "one" 2 times\n    bell 2s\n'
                     'repeat 2:\n    do "two"\n')
    assert brief(steps) == [("pause", 1.0, None), ("pause", 1.0, None), ("bell", 2.0, None)] * 2


def test_include_brings_definitions_from_a_file_in_a_subfolder(tmp_path):
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "lib.qi").write_text('title: "Lib"\n\ndefine "calm":\n    inhale 4s "In."\n'
                                               '    exhale 6s "Out."\n', encoding="utf-8")
    top = tmp_path / "top.qi"
    top.write_text('title: "Top"\n\ninclude "parts/lib.qi"\n\nsection "A":\n    do "calm" 2 times\n',
                   encoding="utf-8")
    result = compile_routine(top, Loader())
    assert result.diagnostics == ()
    assert brief(result.expanded.steps) == [("section", None, "A")] + [("inhale", 4.0, "In."),
                                                                       ("exhale", 6.0, "Out.")] * 2
    # the steps remember where they were written: in the included file
    assert result.expanded.steps[1].span.file.endswith("lib.qi") and result.expanded.steps[1].span.line == 4


def test_breathe_patterns_become_their_phases():
    steps = steps_of("breathe 4-7-8 x2\n")
    assert brief(steps) == [("inhale", 4.0, "In."), ("hold", 7.0, "Hold."), ("exhale", 8.0, "Out.")] * 2
    assert [s.repetition.index for s in steps] == [1, 1, 1, 2, 2, 2]
    box = steps_of("breathe 4-4-4-4 x5\n")
    assert [s.kind for s in box] == ["inhale", "hold", "exhale", "hold"] * 5 and len(box) == 20
    no_hold = steps_of("breathe 4-0-6 x1\n")
    assert [(s.kind, s.seconds) for s in no_hold] == [("inhale", 4.0), ("exhale", 6.0)]


def test_pattern_words_follow_the_language_and_are_silent_without_words():
    steps = steps_of("breathe 4-7-8 x1\n", settings="language: zh-CN\n")
    assert [s.text for s in steps] == ["吸气。", "屏息。", "呼气。"]
    steps = steps_of("breathe 4-7-8 x1\n", settings="language: de-AT\n")
    assert [s.text for s in steps] == ["Ein.", "Halten.", "Aus."]
    steps = steps_of("breathe 4-7-8 x1\n", settings="language: fi\n")  # no words for Finnish: silent
    assert [s.text for s in steps] == [None, None, None]


@pytest.mark.parametrize("tempo, factor", [("0.5", 2.0), ("2", 0.5), ("0.8", 1.25), ("1", 1.0)])
def test_tempo_divides_every_written_duration(tempo, factor):
    steps = steps_of('inhale 4s\nexhale 6s\nhold 1m\npause 2s\nbell 3s\nbreathe 4-2-4 x1\nsay "Talk."\n',
                     settings=f"tempo: {tempo}\n")
    assert [s.seconds for s in steps] == pytest.approx(
        [4 * factor, 6 * factor, 60 * factor, 2 * factor, 3 * factor, 4 * factor, 2 * factor, 4 * factor, None])


def test_sections_and_title_card_notes():
    expanded = compile_routine("e.qi", Loader(), text='title: "E"\n\nnote "No props needed."\n'
                               'note "Not medical advice."\nsection "A":\n    note "Shown, not spoken."\n'
                               '    say "x"\n').expanded
    assert expanded.notes == ("No props needed.", "Not medical advice.")
    assert brief(expanded.steps) == [("section", None, "A"), ("note", None, "Shown, not spoken."),
                                     ("say", None, "x")]
    assert {s.section for s in expanded.steps} == {"A"}


def test_limits_refuse_a_huge_routine_before_expanding_it():
    """Each count is allowed, but together they make a billion steps: refused at once, nothing made."""
    routine = parse_text('title: "Big"\n\nrepeat 1000:\n    repeat 1000:\n        repeat 1000:\n'
                         '            say "x"\n', "big.qi").routine
    library = Loader().library(routine)
    settings, _ = resolve_settings(routine)
    with pytest.raises(QiError) as raised:
        expand(routine, library, settings)
    assert raised.value.diagnostics[0].code == "too-large"


def test_limits_count_definitions_too():
    routine = parse_text('title: "Big"\n\ndefine "a":\n    repeat 1000:\n        pause 1s\n'
                         'define "b":\n    do "a" 1000 times\ndo "b" 1000 times\n', "big.qi").routine
    settings, _ = resolve_settings(routine)
    with pytest.raises(QiError):
        expand(routine, Loader().library(routine), settings)
