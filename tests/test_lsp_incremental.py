"""The language server's incremental parse gives exactly what a whole parse gives, edit after edit."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from qidsl.lang.parser import Source, parse_source
from qidsl.lsp.incremental import IncrementalParser, chunks
from tests.test_parse_concurrent import _spans

ROOT = Path(__file__).resolve().parent.parent
# Every case that is text (the server is given text, never bytes: not-utf8.qi is not one).
CORPUS = [p for p in sorted((ROOT / "tests" / "cases").rglob("*.qi")) + sorted((ROOT / "routines").glob("*.qi"))
          if p.name != "not-utf8.qi"]
INSERTS = ["x", "\n", " ", '"', ":", "    ", "4", "#", "\nsay \"New.\"\n", "\ntitle: \"Late\"\n", "\t"]


def same_as_whole(parser: IncrementalParser, text: str, file: str) -> None:
    source = Source(file, text)
    whole = parse_source(source)
    fast = parser.parse(source)
    assert fast.diagnostics == whole.diagnostics
    assert fast.routine == whole.routine
    assert _spans(fast.routine, []) == _spans(whole.routine, [])


def test_chunks_cut_before_each_top_level_statement():
    lines = ['title: "T"', "", 'section "A":', "    say \"x\"", "# c", "bell", '    say "odd"', ""]
    assert chunks(lines) == [(1, 'title: "T"\n'), (3, 'section "A":\n    say "x"\n# c'),
                             (6, 'bell\n    say "odd"\n')]
    assert chunks(["bell", "bell"]) == [(1, "bell"), (2, "bell")]


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_edit_of_every_case_parses_as_a_whole_parse_would(path):
    text = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    file = str(path)
    parser = IncrementalParser()
    same_as_whole(parser, text, file)
    rng = random.Random(path.name)
    current = text
    for _ in range(12):  # a burst of keystrokes: each edit builds on the last, as typing does
        position = rng.randrange(len(current) + 1)
        if rng.random() < 0.4 and position < len(current):
            current = current[:position] + current[position + 1:]
        else:
            current = current[:position] + rng.choice(INSERTS) + current[position:]
        same_as_whole(parser, current, file)
    same_as_whole(parser, text, file)  # and back to the original


def test_a_keystroke_parses_only_the_statement_it_touched(monkeypatch):
    import qidsl.lsp.incremental as incremental

    sections = [f'section "Part {n}":\n    say "Hello {n}."\n    inhale 4s\n' for n in range(50)]
    text = 'title: "Long"\n\n' + "\n".join(sections)
    parser = IncrementalParser()
    same_as_whole(parser, text, "long.qi")
    parsed = []
    real = incremental.parse_source
    monkeypatch.setattr(incremental, "parse_source", lambda source: parsed.append(source.text) or real(source))
    edited = text.replace('"Hello 25."', '"Hello, 25."')
    result = parser.parse(Source("long.qi", edited))
    assert len(parsed) == 1 and parsed[0].strip() == sections[25].replace("Hello", "Hello,").strip()
    assert result == parse_source(Source("long.qi", edited))
