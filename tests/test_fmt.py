"""`qidsl fmt`'s layout: one canonical form, comments kept, meaning unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from qidsl.lang.formatter import duration, format_routine
from qidsl.lang.parser import parse_text

CASES = Path(__file__).parent / "cases" / "valid"


def fmt(text: str) -> str:
    result = parse_text(text, "f.qi")
    assert not [d for d in result.diagnostics if d.is_error]
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    return format_routine(result.routine, normalised.split("\n"))


def test_an_untidy_routine_gets_the_canonical_layout():
    untidy = '''title:   "Untidy"
language:en


say   "Hello."
section "Loose":
  inhale   90s
  exhale 120s   "Out."



  repeat 2 :
        hold 1.50s
each side left,right :
   pause 2s
'''
    assert fmt(untidy) == '''title: "Untidy"
language: en

say "Hello."

section "Loose":
    inhale 1m30s
    exhale 2m "Out."

    repeat 2:
        hold 1.5s

each side left, right:
    pause 2s
'''


def test_comments_stay_where_they_were():
    text = '''# Heading.

title: "C"  # trailing on a setting
tags: a, b # hash right after the value

# Above the section.
section "One":  # on the header
    say "Hello. # text, not a comment"  # a real one
    # own line, inside

    repeat 2:
        inhale 4s
        # end of the inner block
    # end of the section

# between sections
section "Two":
    pause 2s
# the very end
'''
    formatted = fmt(text)
    assert formatted == text.replace("tags: a, b # hash", "tags: a, b  # hash")
    assert fmt(formatted) == formatted


def test_a_comment_on_a_deeper_line_is_indented_with_its_block():
    text = 'title: "C"\n\nsection "A":\n  say "x"\n      # odd indentation\n  pause 1s\n'
    assert fmt(text) == 'title: "C"\n\nsection "A":\n    say "x"\n    # odd indentation\n    pause 1s\n'


@pytest.mark.parametrize("seconds, written", [
    (4, "4s"), (1.5, "1.5s"), (0.25, "0.25s"), (59, "59s"), (60, "1m"), (90, "1m30s"), (120, "2m"),
    (61.5, "61.5s"), (3600, "60m"), (0.000001, "0.000001s"), (1e-9, "0.000000001s"), (0.1 + 0.2, "0.30000000000000004s"),
])
def test_durations_are_written_the_short_way(seconds, written):
    assert duration(seconds) == written
    assert parse_text(f'title: "D"\n\npause {written}\n').routine.body[0].duration.seconds == seconds


def test_text_is_requoted_with_its_escapes():
    text = 'title: "Quote \\"me\\""\n\nsay "Don\'t. \\"Yes.\\" Back\\\\slash."\n'
    assert fmt(text) == text


def test_side_names_keep_quotes_only_when_needed():
    text = 'title: "S"\n\neach side "left", "right hand", "repeat", "times", "2nd":\n    say "{side}"\n'
    assert fmt(text) == ('title: "S"\n\neach side left, "right hand", "repeat", "times", "2nd":\n'
                         '    say "{side}"\n')


def test_a_duration_missing_its_unit_is_left_for_check_to_report():
    assert fmt('title: "U"\n\ninhale 4\n') == 'title: "U"\n\ninhale 4\n'


def test_crlf_becomes_lf_and_a_final_newline_is_added():
    assert fmt('title: "W"\r\n\r\nsay "x"\r\npause 2s') == 'title: "W"\n\nsay "x"\npause 2s\n'


def test_do_times_breathe_include_and_bell():
    text = ('title: "M"\n\ninclude "parts/x.qi"\nbell\nbell 4s\nbreathe 4-7-8 x3\nbreathe 1.5-0-3-0.5 x2\n'
            'do "a" 1 times\ndo "a" 3 times\n\ndefine "a":\n    pause 1s\n')
    assert fmt(text) == text.replace('do "a" 1 times', 'do "a"')


@pytest.mark.parametrize("path", sorted(CASES.glob("*.qi")), ids=lambda p: p.stem)
def test_golden_cases_keep_their_meaning_and_format_once(path):
    text = path.read_bytes().decode("utf-8")
    once = fmt(text)
    assert fmt(once) == once
    assert parse_text(once, "f.qi").routine == parse_text(text, "f.qi").routine


def test_a_routine_nested_a_thousand_deep_formats_without_exhausting_the_stack():
    """check calls it too deep; fmt, which only needs to read it, once died of RecursionError."""
    text = 'title: "T"\n' + "".join(" " * level + "repeat 2:\n" for level in range(1000)) + " " * 1000 + 'say "x"\n'
    formatted = fmt(text)
    assert formatted.splitlines()[-1] == "    " * 1000 + 'say "x"'
    assert fmt(formatted) == formatted


def test_an_unquoted_setting_holding_a_quote_keeps_its_comment():
    text = 'title: a"b  # the name\n\nsay "x"\n'
    assert fmt(text) == text
