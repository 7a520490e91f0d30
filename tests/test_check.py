"""The checker: every independent problem of a routine, with a code, a place and a hint."""

from __future__ import annotations

import os
from pathlib import Path

from qidsl.lang.check import MAX_NESTING, MAX_REPEAT
from qidsl.compile import compile_routine
from qidsl.lang.diagnostics import render
from qidsl.lang.loader import Loader


def compile_text(text: str, path: str = "r.qi"):
    return compile_routine(path, Loader(), text=text)


def codes(text: str) -> list[str]:
    return [d.code for d in compile_text(text).diagnostics]


def only(text: str, code: str):
    found = [d for d in compile_text(text).diagnostics if d.code == code]
    assert len(found) == 1, [(d.code, d.message) for d in compile_text(text).diagnostics]
    return found[0]


def head(body: str) -> str:
    return 'title: "T"\n\n' + body


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_clean_routine_has_no_diagnostics_and_gets_an_estimate():
    result = compile_text(head('section "A":\n    say "Hello."\n    inhale 4s\n    exhale 4s\n'))
    assert result.diagnostics == ()
    assert result.estimate is not None and result.expanded is not None


def test_errors_stop_before_expansion():
    result = compile_text(head('inhale 4\n'))
    assert result.errors and result.expanded is None and result.estimate is None


def test_missing_title():
    found = only('author: "x"\n\nsay "a"\n', "missing-title")
    assert found.is_error and 'title: "' in found.hint


def test_counts_must_be_between_1_and_the_limit():
    assert codes(head("repeat 0:\n    say \"x\"\n")) == ["bad-count"]
    assert codes(head(f"repeat {MAX_REPEAT}:\n    pause 1s\n")) == []
    found = only(head(f"repeat {MAX_REPEAT + 1}:\n    say \"x\"\n"), "bad-count")
    assert str(MAX_REPEAT) in found.message and (found.span.column, found.span.end_column) == (8, 12)
    assert codes(head('define "x":\n    say "a"\ndo "x" 0 times\n')) == ["bad-count"]
    assert codes(head("breathe 4-7-8 x0\n")) == ["bad-count"]


def test_huge_nested_repeats_are_refused_without_expanding():
    result = compile_text(head("repeat 100000000:\n    repeat 100000000:\n        say \"x\"\n"))
    assert [d.code for d in result.diagnostics] == ["bad-count", "bad-count"]
    assert result.expanded is None


def test_the_product_of_valid_counts_is_limited_too():
    text = head('define "a":\n    repeat 1000:\n        say "x"\ndefine "b":\n    do "a" 1000 times\ndo "b" 1000 times\n')
    found = only(text, "too-many-steps")
    assert "1,000,000,000" in found.message
    assert (found.span.line, found.span.column, found.span.end_column) == (8, 1, 3)  # under "do"


def test_a_routine_over_the_time_limit_is_an_error_and_over_two_hours_a_warning():
    assert codes(head("repeat 1000:\n    pause 1m\n")) == ["too-long"]
    warning = only(head("repeat 1000:\n    pause 10s\n"), "long-routine")
    assert not warning.is_error and "2.8 hours" in warning.message


def test_nesting_is_limited():
    deep = head("".join("    " * i + "repeat 2:\n" for i in range(MAX_NESTING + 1)) + "    " * (MAX_NESTING + 1)
                + 'say "x"\n')
    assert "too-deep" in codes(deep)


def test_unknown_sequence_suggests_the_nearest_name():
    found = only(head('define "rolling breath":\n    inhale 4s\n    exhale 4s\n\ndo "rolling breth"\n'),
                 "unknown-sequence")
    assert found.hint == 'did you mean "rolling breath"?'
    assert found.message == 'no sequence is named "rolling breth"'
    none_defined = only(head('do "wave"\n'), "unknown-sequence")
    assert none_defined.hint == 'define it with: define "wave":'


def test_a_sequence_may_be_used_before_its_definition():
    assert codes(head('do "later" 2 times\n\ndefine "later":\n    pause 1s\n')) == []


def test_duplicate_and_recursive_definitions():
    assert "duplicate-define" in codes(head('define "a":\n    pause 1s\ndefine "a":\n    pause 2s\ndo "a"\n'))
    found = only(head('define "a":\n    do "b"\ndefine "b":\n    do "a"\ndo "a"\n'), "recursive-define")
    assert found.span.line == 6
    assert codes(head('define "a":\n    do "a"\ndo "a"\n')) == ["recursive-define"]


def test_placeholders():
    found = only(head('each side left, right:\n    say "Turn to the {sid}."\n'), "unknown-placeholder")
    assert found.hint == "did you mean {side}?"
    assert (found.span.column, found.span.end_column) == (22, 27)  # exactly under {sid}
    assert codes(head('say "Look to the {side}."\n')) == ["side-outside"]
    # a sequence that says {side} may only be played inside an each side block
    sequence = 'define "turn":\n    say "Turn {side}."\n'
    assert codes(head(sequence + 'each side left, right:\n    do "turn"\n')) == []
    assert codes(head(sequence + 'do "turn"\n')) == ["side-outside"]
    assert codes(head('each side left, left:\n    say "{side}"\n')) == ["duplicate-side"]


def test_durations_need_a_unit_and_must_be_positive():
    found = only(head("inhale 4\n"), "missing-unit")
    assert found.hint == "write 4s for 4 seconds, or 4m for minutes"
    assert codes(head("pause 0s\n")) == ["zero-duration"]


def test_breath_pattern_needs_inhale_and_exhale():
    assert codes(head("breathe 0-4-4 x3\n")) == ["bad-pattern"]
    assert codes(head("breathe 4-0-4 x3\n")) == []


def test_blocks_in_the_wrong_place():
    assert codes(head('section "A":\n    section "B":\n        say "x"\n')) == ["section-not-top"]
    assert "define-not-top" in codes(head('repeat 2:\n    define "x":\n        say "y"\n'))
    assert codes(head('repeat 2:\n    include "x.qi"\n    say "x"\n'))[0] == "include-not-top"


def test_empty_texts_and_names():
    assert codes(head('say ""\n')) == ["empty-text"]
    assert "empty-name" in codes(head('section " ":\n    say "x"\n'))


def test_an_empty_block_is_an_error_unless_a_comment_says_it_is_empty_on_purpose():
    forgotten = only(head('section "Empty":\nsay "x"\n'), "empty-block")
    assert forgotten.is_error and "on purpose" in forgotten.hint
    assert only(head('repeat 3:\ninhale 4s\nexhale 4s\n'), "empty-block").is_error
    assert codes(head('section "Later":\n    # to be written\nsay "x"\n')) == []
    assert codes(head('repeat 3:\n\n        # later\n\nsay "x"\n')) == []
    # A comment at the block's own indentation (or less) is not under it.
    assert codes(head('repeat 3:\n# later\nsay "x"\n')) == ["empty-block"]
    assert codes(head('section "A":\n    repeat 3:\n    # later\n    say "x"\n')) == ["empty-block"]


def test_warnings():
    assert codes(head("inhale 4s\ninhale 4s\n")) == ["breath-twice"]
    assert codes(head("exhale 4s\nnote \"x\"\nexhale 4s\n")) == ["breath-twice"]  # notes are not breaths
    assert codes(head("inhale 4s\nhold 2s\ninhale 4s\nexhale 4s\n")) == []
    assert codes(head('define "unused":\n    say "x"\nsay "y"\n')) == ["unused-define"]
    overrun = only(head('inhale 1s "This is much too long to say within a single second of breath."\n'),
                   "cue-overruns-phase")
    assert not overrun.is_error and overrun.span.line == 3 and "stretched" in overrun.message
    # warnings alone still give a timeline
    assert compile_text(head("inhale 4s\ninhale 4s\n")).estimate is not None


def test_settings_problems():
    text = ('title: "S"\ntitel: "x"\ntempo: 3\nrate: 0.4\nlanguage: english!\nengine: pipr\ntheme: neon\n'
            'gap: lots\n\nsay "x"\n')
    found = {d.code: d for d in compile_text(text).diagnostics}
    assert found["unknown-setting"].hint == "did you mean 'title'?"
    assert found["unknown-engine"].hint == "did you mean 'piper'?"
    assert "calm" in found["unknown-theme"].hint
    assert found["bad-language"].span.column == 11
    bad = [d.message for d in compile_text(text).diagnostics if d.code == "bad-setting"]
    assert bad == ["'tempo' must be between 0.5 and 2", "'rate' must be between 0.5 and 2",
                   "'gap' must be a number, not 'lots'"]
    for tag in ("en", "en-GB", "zh-CN", "zh-Hant-TW", "pt-BR", "es-419"):
        assert codes(f'title: "T"\nlanguage: {tag}\nengine: gtts\n\nsay "x"\n') == [], tag
    assert codes('title: "T"\nlanguage: de\n\nsay "x"\n') == []  # Pico speaks German
    assert codes('title: "T"\ntempo: 0.5\nrate: 2\ngap: 1s\nengine: gtts\ntheme: light\n\nsay "x"\n') == []


def test_several_independent_problems_in_one_run():
    text = head('inhal 4s\nsay "unclosed\nrepeat 0:\n    exhale 6\ndo "nowhere"\n'
                'each side left, right:\n    say "{sid}"\n')
    assert codes(text) == ["unknown-statement", "unclosed-text", "bad-count", "missing-unit", "unknown-sequence",
                           "unknown-placeholder"]


# ---------------------------------------------------------------------------
# Includes


def test_include_brings_the_definitions_of_a_file_in_a_subfolder(tmp_path):
    write(tmp_path, "lib/breaths.qi", 'title: "Lib"\n\ndefine "calm":\n    inhale 4s\n    exhale 4s\n')
    top = write(tmp_path, "top.qi", 'title: "Top"\n\ninclude "lib/breaths.qi"\ndo "calm" 2 times\n')
    result = compile_routine(top, Loader())
    assert result.diagnostics == ()
    assert [s.kind for s in result.expanded.steps] == ["inhale", "exhale"] * 2


def test_includes_resolve_next_to_the_including_file_not_the_working_folder(tmp_path, monkeypatch):
    write(tmp_path, "a/lib/one.qi", 'title: "1"\n\ninclude "two.qi"\n')
    write(tmp_path, "a/lib/two.qi", 'title: "2"\n\ndefine "x":\n    pause 1s\n')
    top = write(tmp_path, "a/top.qi", 'title: "T"\n\ninclude "lib/one.qi"\ndo "x"\n')
    monkeypatch.chdir(tmp_path)
    assert compile_routine(Path("a/top.qi"), Loader()).diagnostics == ()
    assert compile_routine(top, Loader()).diagnostics == ()


def test_include_problems(tmp_path):
    write(tmp_path, "outside.qi", 'title: "O"\n')
    folder = tmp_path / "routines"
    missing = write(folder, "missing.qi", 'title: "M"\n\ninclude "nope.qi"\n')
    itself = write(folder, "self.qi", 'title: "S"\n\ninclude "self.qi"\n')
    cycle = write(folder, "a.qi", 'title: "A"\n\ninclude "sub/b.qi"\n')
    write(folder, "sub/b.qi", 'title: "B"\n\ninclude "../a.qi"\n')
    outside = write(folder, "out.qi", 'title: "O"\n\ninclude "../outside.qi"\n')
    sneaky = write(folder, "sneaky.qi", 'title: "O"\n\ninclude "sub/../../outside.qi"\n')

    def problem(path):
        (found,) = compile_routine(path, Loader()).diagnostics
        return found

    assert problem(missing).code == "include-missing"
    assert problem(itself).code == "include-self"
    found = problem(cycle)
    assert found.code == "include-cycle" and "a.qi -> b.qi -> a.qi" in found.message
    assert found.span.file.endswith("b.qi")  # reported where the cycle closes
    assert problem(outside).code == "include-outside"
    assert problem(sneaky).code == "include-outside"


def test_an_include_that_is_a_fifo_or_a_folder_is_named_so(tmp_path):
    """A FIFO once blocked the check for ever, a folder was said to be missing."""
    os.mkfifo(tmp_path / "pipe.qi")
    (tmp_path / "sub.qi").mkdir()
    top = write(tmp_path, "top.qi", 'title: "T"\n\ninclude "pipe.qi"\ninclude "sub.qi"\nsay "x"\n')
    found = [(d.code, d.message) for d in compile_routine(top, Loader()).diagnostics]
    assert found == [("include-unreadable", 'cannot read "pipe.qi": it is a named pipe (FIFO), not a routine file'),
                     ("include-unreadable", 'cannot read "sub.qi": it is a folder, not a routine file')]


def test_errors_inside_an_included_file_are_reported_with_its_name(tmp_path):
    write(tmp_path, "lib.qi", 'title: "L"\n\ndefine "x":\n    inhal 4s\n')
    top = write(tmp_path, "top.qi", 'title: "T"\n\ninclude "lib.qi"\ndo "x"\n')
    (found,) = compile_routine(top, Loader()).diagnostics
    assert found.code == "unknown-statement" and found.span.file.endswith("lib.qi") and found.span.line == 4


def test_includes_nested_too_deep(tmp_path):
    for i in range(12):
        write(tmp_path, f"f{i}.qi", f'title: "{i}"\n\ninclude "f{i + 1}.qi"\n')
    write(tmp_path, "f12.qi", 'title: "end"\n')
    assert "include-depth" in [d.code for d in compile_routine(tmp_path / "f0.qi", Loader()).diagnostics]


# ---------------------------------------------------------------------------
# Rendering


def test_a_diagnostic_renders_with_location_source_line_caret_and_hint():
    text = head('say "ok"\ndo "rolling breth"\n\ndefine "rolling breath":\n    pause 1s\n')
    result = compile_text(text)
    rendered = [render(d, text.split("\n")) for d in result.diagnostics]
    assert rendered[0] == (
        'r.qi:4:4: error: no sequence is named "rolling breth"\n'
        '    do "rolling breth"\n'
        "       ^~~~~~~~~~~~~~~\n"
        '    hint: did you mean "rolling breath"?')


def test_colour_is_only_added_when_asked():
    result = compile_text(head("inhale 4\n"))
    lines = head("inhale 4\n").split("\n")
    assert "\033[" not in render(result.diagnostics[0], lines)
    assert "\033[1;31merror" in render(result.diagnostics[0], lines, colour=True)


def test_a_file_of_definitions_only_needs_no_title_and_builds_nothing(tmp_path, capsys):
    from qidsl.cli import main

    library = tmp_path / "lib" / "shared.qi"
    library.parent.mkdir()
    library.write_text('define "calm":\n    inhale 4s\n    exhale 6s\n', encoding="utf-8")
    assert main(["check", str(library)]) == 0
    assert main(["build", str(tmp_path / "lib"), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "shared.qi only holds definitions for other routines to include; nothing to build" in err
    assert not (tmp_path / "out").exists()
    # A routine without a title that plays something is still an error.
    assert codes('section "A":\n    say "x"\n') == ["missing-title"]


def engine_of(text: str) -> str | None:
    return compile_text(text).settings.engine


def test_a_routine_without_an_engine_gets_an_offline_voice_of_its_language():
    assert engine_of('title: "T"\n\nsay "x"\n') == "piper"
    assert engine_of('title: "T"\nlanguage: en-GB\n\nsay "x"\n') == "piper"
    for tag in ("de", "de-AT", "fr-CA", "es-419", "it"):
        assert engine_of(f'title: "T"\nlanguage: {tag}\n\nsay "x"\n') == "pico", tag
    for tag in ("zh-CN", "sv", "pt-BR", "ru"):
        assert engine_of(f'title: "T"\nlanguage: {tag}\n\nsay "x"\n') == "espeak", tag
    # joe reads German when asked for by name, and then nothing is said about it
    named = 'title: "T"\nlanguage: de\nvoice: joe\n\nsay "x"\n'
    assert engine_of(named) == "piper" and codes(named) == []


def test_a_language_no_offline_voice_speaks_is_a_warning_naming_what_to_do():
    # eSpeak NG's Japanese reads kanji as "Chinese letter": it is no Japanese voice.
    result = compile_text('title: "T"\nlanguage: ja\n\nsay "x"\n')
    assert result.settings.engine is None
    (found,) = result.diagnostics
    assert (found.code, found.severity, found.span.line, found.span.column) == ("no-offline-voice", "warning", 2, 11)
    assert found.message == "no offline voice speaks 'ja', so `qidsl build` will stop"
    assert "engine: gtts" in found.hint and "voice: voices/NAME.onnx" in found.hint
    assert codes('title: "T"\nlanguage: ja\nengine: gtts\n\nsay "x"\n') == []


def test_an_engine_that_cannot_speak_the_language_is_an_error_at_the_engine():
    result = compile_text('title: "T"\nlanguage: de\nengine: piper\n\nsay "x"\n')
    (found,) = result.diagnostics
    assert (found.code, found.severity, found.span.line, found.span.column) == ("engine-language", "error", 3, 9)
    assert found.message == "the bundled Piper voice 'joe' speaks English, not 'de'"
    assert found.hint == ("remove `engine: piper` to use pico's voice for it, or write `voice: joe` "
                          "to have joe read it anyway")
    found = compile_text('title: "T"\nlanguage: sv\nengine: pico\n\nsay "x"\n').diagnostics[0]
    assert (found.message, found.hint) == ("pico has no voice for 'sv'",
                                           "remove the engine line to use espeak, which speaks it")
    assert codes('title: "T"\nlanguage: ja\nengine: espeak\n\nsay "x"\n') == ["engine-language"]
    assert codes('title: "T"\nlanguage: en-GB\nengine: pico\n\nsay "x"\n') == []


def test_stay_after_an_exhale_is_no_retention_but_hold_there_is_with_a_hint_naming_stay():
    routine = 'level: {level}\nnote "Only as long as it is comfortable."\n\nsection "A":\n' \
        '    inhale 4s\n    exhale 6s\n    {word} 15s "Rest in the posture."\n'
    assert codes('title: "T"\n' + routine.format(level="beginner", word="stay")) == []
    found = only('title: "T"\n' + routine.format(level="beginner", word="hold"), "long-retention")
    assert found.message == "the breath is held for 15s after an exhale; the beginner level holds it for at most 10s"
    assert found.hint == ("if the breath is meant to flow while the posture is held, write stay instead of hold; "
                          "otherwise shorten the hold, or set the level the class is ready for "
                          "(level: intermediate or advanced)")


def test_the_retention_hint_never_suggests_the_level_the_routine_has_nor_one_too_low():
    routine = 'title: "T"\nlevel: {level}\nnote "Careful."\n\nsection "A":\n    inhale 4s\n    hold {seconds}s\n'
    hint = only(routine.format(level="intermediate", seconds=30), "long-retention").hint
    assert hint.endswith("(level: advanced)") and "intermediate" not in hint
    hint = only(routine.format(level="beginner", seconds=30), "long-retention").hint
    assert hint.endswith("(level: advanced)")  # intermediate allows 20 s: not enough
    hint = only(routine.format(level="intermediate", seconds=90), "long-retention").hint
    assert hint.endswith("split it with a few breaths between") and "level:" not in hint


def test_a_breathe_patterns_long_hold_is_not_told_to_stay():
    hint = only('title: "T"\nlevel: beginner\nnote "n"\n\nbreathe 4-16-8 x1\n', "long-retention").hint
    assert "stay" not in hint


def test_a_text_over_the_length_limit_is_refused_at_once():
    from qidsl.lang.limits import MAX_TEXT_CHARACTERS

    assert codes(head(f'say "{"a" * MAX_TEXT_CHARACTERS}"\n')) == []
    found = only(head(f'say "{"{side}" * MAX_TEXT_CHARACTERS}"\n'), "text-too-many-characters")
    assert found.message == f"a text can be at most 2,000 characters, this one has {6 * MAX_TEXT_CHARACTERS:,}"
    assert (found.span.line, found.span.column, found.span.end_column) == (3, 5, 6)


def test_every_text_over_the_length_limit_is_an_error_and_is_not_fitted_to_the_screen():
    """Titles, notes, section and side names over the limit are refused, not measured (no text-too-long)."""
    big = "word " * 1000
    for text in (f'title: "{big}"\nsay "x"\n', f'title: "T"\nnote "{big}"\n',
                 f'title: "T"\nsection "S":\n    note "{big}"\n', f'title: "T"\nsection "{big}":\n    say "x"\n',
                 f'title: "T"\neach side "{big}":\n    say "{{side}}"\n', f'title: "T"\ndo "{big}"\n'):
        assert codes(text) == ["text-too-many-characters"], text[:40]
