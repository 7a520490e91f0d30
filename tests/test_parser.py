"""The parser: .qi text in, the model and syntax diagnostics out."""

from __future__ import annotations

import re

import pytest

from qidsl.lang import model as m
from qidsl.lang.parser import MAX_SYNTAX_ERRORS, decode_source, parse_text


ANY = m.Span("t.qi", 0, 0, 0, 0)  # spans take no part in model equality


def parse_ok(text: str) -> m.Routine:
    result = parse_text(text, "t.qi")
    assert result.diagnostics == (), [d.message for d in result.diagnostics]
    return result.routine


def errors(text: str):
    return [d for d in parse_text(text, "t.qi").diagnostics if d.is_error]


def one_error(text: str):
    found = errors(text)
    assert len(found) == 1, [(d.code, d.message) for d in found]
    return found[0]


def test_every_construct_of_the_language_maps_onto_the_model():
    routine = parse_ok('''title: "All"
tags: a, b

note "Props: a chair."
say "Hello."
inhale 4s "In."
exhale 6s
hold 1m30s "Still."
pause 1.5s
bell
bell 5s
breathe 4-7-8 x3
breathe 4-4-4-4 x5
do "seq" 2 times
do "seq"
include "other.qi"
section "S":
    say "In a section."
repeat 3 counted:
    inhale 2s
repeat 2:
    exhale 2s
each side left, "right hand":
    say "{side}"
define "seq":
    pause 1s
''')
    assert [s.key for s in routine.settings] == ["title", "tags"]
    assert routine.setting("tags").value == "a, b" and not routine.setting("tags").quoted
    assert routine.setting("title").quoted
    kinds = [type(node).__name__ for node in routine.body]
    assert kinds == ["Note", "Say", "Breath", "Breath", "Breath", "Pause", "Bell", "Bell", "BreathPattern",
                     "BreathPattern", "Do", "Do", "Include", "Section", "Repeat", "Repeat", "Sides", "Define"]
    body = routine.body
    assert body[2] == m.Breath("inhale", m.Duration(4.0, ANY), m.Text("In.", ANY), ANY)
    assert body[3] == m.Breath("exhale", m.Duration(6.0, ANY), None, ANY)
    assert body[4].duration.seconds == 90.0 and body[4].phase == "hold"
    assert body[5].duration.seconds == 1.5
    assert body[6].duration is None and body[7].duration.seconds == 5.0
    assert (body[8].inhale, body[8].hold, body[8].exhale, body[8].hold_after, body[8].count) == (4, 7, 8, None, 3)
    assert (body[9].hold_after, body[9].count) == (4, 5)
    assert (body[10].name.value, body[10].times, body[11].times) == ("seq", 2, 1)
    assert body[12].path.value == "other.qi"
    assert body[13].name.value == "S" and body[13].body == (m.Say(m.Text("In a section.", ANY), ANY),)
    assert (body[14].count, body[14].counted, body[15].counted) == (3, True, False)
    assert [s.value for s in body[16].sides] == ["left", "right hand"]
    assert body[17].name.value == "seq" and len(body[17].body) == 1


@pytest.mark.parametrize("written, seconds", [
    ("4s", 4), ("1.5s", 1.5), ("2m", 120), ("1m30s", 90), ("0.5s", 0.5), ("10m", 600), ("1h", 3600),
])
def test_durations_are_read_in_seconds(written, seconds):
    routine = parse_ok(f'title: "D"\n\npause {written}\n')
    assert routine.body[0].duration.seconds == seconds
    assert not routine.body[0].duration.unit_missing


def test_a_duration_without_unit_is_kept_for_the_checker_to_explain():
    duration = parse_ok('title: "D"\n\ninhale 4\n').body[0].duration
    assert duration.unit_missing and duration.seconds == 4


def test_text_escapes_apostrophes_and_hashes():
    routine = parse_ok(r'''title: "Q"

say "Don't lock the knees."
say "She said \"breathe\"."
say "A backslash \\ here, and # not a comment"  # but this is one
''')
    assert [n.text.value for n in routine.body] == [
        "Don't lock the knees.", 'She said "breathe".', "A backslash \\ here, and # not a comment"]


def test_text_in_any_script():
    texts = ["双脚与肩同宽。", "Καλημέρα, ανασαίνουμε.", "Breathe 🌬️ and smile 🙂", "Привет", "שלום", "नमस्ते"]
    routine = parse_ok('title: "Σ"\n\n' + "".join(f'say "{t}"\n' for t in texts))
    assert [n.text.value for n in routine.body] == texts
    assert routine.setting("title").value == "Σ"


def test_crlf_lone_cr_and_missing_final_newline_mean_the_same_as_lf():
    lf = 'title: "N"\n\nsection "A":\n    say "x"\n    pause 2s\n'
    expected = parse_ok(lf)
    assert parse_ok(lf.replace("\n", "\r\n")) == expected
    assert parse_ok(lf.replace("\n", "\r")) == expected
    assert parse_ok(lf.rstrip("\n")) == expected


def test_a_byte_order_mark_is_allowed():
    source, problems = decode_source('\ufefftitle: "BOM"\n\nsay "x"\n'.encode("utf-8"), "b.qi")
    assert problems == [] and source.text.startswith("title")


def test_any_consistent_indentation_depth_works():
    two = 'title: "I"\n\nrepeat 2:\n  say "a"\n  repeat 2:\n     say "b"\n'
    four = 'title: "I"\n\nrepeat 2:\n    say "a"\n    repeat 2:\n        say "b"\n'
    assert parse_ok(two) == parse_ok(four)


def test_comments_and_blank_lines_anywhere():
    routine = parse_ok('''# top

title: "C"  # trailing
# between settings
language: en

# before
section "A":  # on a header
    # inside

    say "x"  # trailing
        # odd indentation inside a comment line is fine
    pause 1s
# end
''')
    assert [type(n).__name__ for n in routine.body] == ["Section"]
    assert len(routine.body[0].body) == 2


def test_every_node_has_the_span_of_its_source():
    routine = parse_ok('title: "S"\n\nsection "A":\n    inhale 4s "In."\n    repeat 2 counted:\n        do "x"\n'
                       'define "x":\n    say "y"\n')
    section = routine.body[0]
    assert (section.span.line, section.span.column) == (3, 1)
    assert (section.span.end_line, section.span.end_column) == (6, 15)  # to the end of its last statement
    assert section.name.span == m.Span("t.qi", 3, 9, 3, 12)
    breath = section.body[0]
    assert breath.span == m.Span("t.qi", 4, 5, 4, 20)
    assert breath.duration.span == m.Span("t.qi", 4, 12, 4, 14)
    assert breath.text.span == m.Span("t.qi", 4, 15, 4, 20)
    repeat = section.body[1]
    assert repeat.count_span == m.Span("t.qi", 5, 12, 5, 13)
    assert repeat.body[0].span == m.Span("t.qi", 6, 9, 6, 15)
    title = routine.setting("title")
    assert title.span == m.Span("t.qi", 1, 1, 1, 11) and title.value_span == m.Span("t.qi", 1, 8, 1, 11)


def test_an_unquoted_setting_value_ends_at_its_last_character():
    routine = parse_ok('title: "S"\nlanguage: en-GB   # trailing\n')
    assert routine.setting("language").value == "en-GB"
    assert routine.setting("language").value_span == m.Span("t.qi", 2, 11, 2, 16)


# ---------------------------------------------------------------------------
# Syntax errors in words


def test_unknown_statement_suggests_the_nearest_one():
    for line, word, guess in [("inhal 4s", "inhal", "inhale"), ("exale 4s", "exale", "exhale"),
                              ("sya \"x\"", "sya", "say"), ("Say \"x\"", "Say", "say"),
                              ("repaet 3:", "repaet", "repeat")]:
        for text in (f'title: "T"\n\n{line}\n', f'title: "T"\n\nsay "a"\n{line}\n'):
            found = one_error(text)
            assert found.code == "unknown-statement"
            assert found.message == f"unknown statement '{word}'"
            assert found.hint == f"did you mean '{guess}'?"
            assert (found.span.column, found.span.end_column) == (1, 1 + len(word))


def test_a_word_like_no_statement_lists_the_statements():
    found = one_error('title: "T"\n\nflourish 4s\n')
    assert found.code == "unknown-statement" and "each side" in found.hint and "say" in found.hint


def test_expected_tokens_are_described_in_words_never_in_grammar_names():
    texts = ['title: "T"\n\nrepeat 3 4:\n    say "x"\n', 'title: "T"\n\nsay "a" "b"\n',
             'title: "T"\n\neach side left right:\n    say "x"\n', 'title: "T"\n\ndo "x" 3\n',
             'title: "T"\n\nnote\n', 'title: "T"\n\nbreathe\n', 'title: "T"\n\neach left:\n    say "x"\n',
             'title: "T"\n\nrepeat 3:\n', 'title: "T"\n\nsection\n', 'title: "T"\n\nbell 4s 5s\n']
    for text in texts:
        for found in errors(text):
            words = f"{found.message} {found.hint or ''}"
            assert not re.search(r"__ANON|_NL|_INDENT|_DEDENT|\$END|[A-Z]{2,}_[A-Z]|STRING|DURATION", words), words


def test_text_must_be_in_double_quotes_and_the_whole_text_is_underlined():
    found = one_error('title: "T"\n\nsay Breathe in slowly  # note\n')
    assert found.code == "text-not-quoted"
    assert (found.span.column, found.span.end_column) == (5, 22)
    assert found.hint == 'write "Breathe in slowly"'
    curly = one_error('title: "T"\n\nsay \u201cHello\u201d\n')
    assert curly.hint == 'write "Hello"'


def test_unclosed_text():
    found = one_error('title: "T"\n\nsay "unclosed\n')
    assert found.code == "unclosed-text"
    assert (found.span.line, found.span.column, found.span.end_column) == (3, 5, 14)


def test_a_missing_colon_is_reported_and_the_block_under_it_still_checked():
    found = errors('title: "T"\n\nrepeat 3 counted\n    inhal 4s\n')
    assert [d.code for d in found] == ["missing-colon", "unknown-statement"]
    assert found[0].span.column == 17


def test_a_setting_without_colon():
    found = one_error('title "My routine"\n\nsay "x"\n')
    assert found.code == "missing-colon" and found.hint == 'write title: "My routine"'
    # the setting is understood despite the mistake, so no "missing title" follows
    assert parse_text('title "My routine"\n\nsay "x"\n').routine.setting("title").value == "My routine"


def test_a_setting_after_the_first_statement():
    found = one_error('title: "T"\n\nsay "x"\nvoice: joe\n')
    assert found.code == "late-setting" and (found.span.column, found.span.end_column) == (1, 6)


def test_layout_mistakes_tabs_and_dedents():
    tab = errors('title: "T"\n\nrepeat 2:\n\tsay "x"\n\tsay "y"\n')
    assert [d.code for d in tab] == ["tab-indent", "tab-indent"]
    dedent = one_error('title: "T"\n\nrepeat 2:\n    repeat 2:\n        say "x"\n      say "y"\n')
    assert dedent.code == "bad-dedent" and dedent.span.line == 6
    assert dedent.hint == "indent it by 0, 4 or 8 spaces, like a line above it"
    indent = one_error('title: "T"\n\nsay "x"\n    say "y"\n')
    assert indent.code == "unexpected-indent" and indent.span.line == 4


def test_every_independent_syntax_error_is_reported_in_one_run():
    text = 'title: "T"\n\n' + "".join(f'say "ok {i}"\ninhal {i}s\n' for i in range(10))
    found = errors(text)
    assert [d.span.line for d in found] == [4 + 2 * i for i in range(10)]
    assert parse_text(text).routine is not None  # the rest is still understood


def test_the_number_of_syntax_errors_reported_is_capped():
    text = 'title: "T"\n\n' + "bogus\n" * (MAX_SYNTAX_ERRORS * 3)
    assert len(errors(text)) == MAX_SYNTAX_ERRORS


def test_an_empty_file():
    for text in ("", "\n\n", "   \n\t\n"):
        found = one_error(text)
        assert found.code == "empty-file"
        assert parse_text(text).routine is None


def test_a_file_that_is_not_utf8_points_at_the_bad_byte():
    source, problems = decode_source('title: "x"\nsay "Caf\u00e9"\n'.encode("latin-1"), "l.qi")
    assert source is None
    (problem,) = problems
    assert problem.code == "not-utf8" and (problem.span.line, problem.span.column) == (2, 9)
    assert "0xe9" in problem.message


def test_lark_is_pinned_to_the_version_whose_parser_state_resume_uses():
    """qidsl/lang/resume.py runs Lark's own tables and classes (the contextual lexer's per-state scanners,
    the parse table, ParseConf, ParserState, LexerState, Token's slots): not public API, so Lark is pinned
    exactly, and this is the version installed."""
    import tomllib
    from pathlib import Path

    import lark

    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8"))
    (pin,) = [d for d in project["project"]["dependencies"] if d.startswith("lark")]
    assert re.fullmatch(r"lark==\d+\.\d+\.\d+", pin), pin
    assert lark.__version__ == pin.removeprefix("lark==")


def test_recovery_after_many_mistakes_resumes_mid_file_with_the_pinned_lark():
    """The resumable parse (private Lark classes) finds each mistake in a long file and goes on after it."""
    body = "".join(f'section "S{i}":\n    say "ok"\n    {"inhal 4s" if i % 10 == 0 else "inhale 4s"}\n'
                   for i in range(200))
    found = errors('title: "T"\n' + body)
    assert [d.code for d in found] == ["unknown-statement"] * 20
    assert [d.span.line for d in found] == [4 + 30 * i for i in range(20)]


def test_the_fast_constructors_make_the_same_objects_as_the_dataclasses():
    """The parser's spans, expand's steps and the timeline's events are made without the frozen __init__
    (qidsl.lang.model.frozen_builder): the objects compare, hash and print as the dataclass makes them."""
    from qidsl.lang import model as m
    from qidsl.lang.parser import _new_span
    from qidsl.timeline import Event

    assert _new_span("a.qi", 1, 2, 3, 4) == m.Span("a.qi", 1, 2, 3, 4)
    assert repr(_new_span("a.qi", 1, 2, 3, 4)) == repr(m.Span("a.qi", 1, 2, 3, 4))
    assert hash(_new_span("a.qi", 1, 2, 3, 4)) == hash(m.Span("a.qi", 1, 2, 3, 4))
    values = (0.0, 1.5, "say", "Hi.", "S", None, None, None, 3, "a.qi", "Hi.", ())
    made = m.frozen_builder(Event)(*values)
    assert made == Event(*values) and repr(made) == repr(Event(*values))
    with pytest.raises(AttributeError):
        made.start = 2.0  # still frozen


def _every_field(value):
    """Every value inside a parse result, spans included (they are left out of the nodes' equality)."""
    import dataclasses

    if dataclasses.is_dataclass(value):
        return (type(value).__name__, tuple(_every_field(getattr(value, f.name)) for f in dataclasses.fields(value)))
    if isinstance(value, tuple | list):
        return tuple(_every_field(v) for v in value)
    return value


def test_the_parser_loop_builds_what_larks_own_loop_builds():
    """qidsl.lang.resume runs Lark's lexer, indenter and parser in one loop: on every routine of the
    goldens it gives the very model (spans and all) that Lark's own parse gives, and the same first error."""
    from pathlib import Path

    from lark.exceptions import LarkError, UnexpectedInput

    from qidsl.lang.parser import _lark
    from qidsl.lang.resume import ResumableParse

    root = Path(__file__).resolve().parent.parent
    files = sorted(root.glob("tests/cases/**/*.qi")) + sorted(root.glob("routines/*.qi"))
    assert len(files) > 20
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace").replace("\r\n", "\n")
        outcomes = []
        for parse in (_lark().parse, ResumableParse(_lark()).parse):
            try:
                outcomes.append(_every_field(parse(text)))
            except UnexpectedInput as exc:
                outcomes.append((type(exc).__name__, exc.line, exc.column, str(getattr(exc, "token", "")),
                                 sorted(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())))
            except LarkError as exc:  # a dedent to no open level (the layout check mends these first)
                outcomes.append((type(exc).__name__, str(exc)))
        assert outcomes[0] == outcomes[1], path
