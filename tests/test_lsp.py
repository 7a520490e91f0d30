"""`qidsl lsp` driven as an editor drives it: a real server process, spoken to over stdio (pytest-lsp)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

QIDSL = str(Path(sys.executable).parent / "qidsl")
pytestmark = pytest.mark.asyncio(loop_scope="module")

TWO_MISTAKES = '''title: "Two mistakes"

define "rolling breath":
    inhale 4s "Float the hands up."
    exhale 4s "Roll them down."

section "Arriving":
    inhal 4s "Breathe in."
    do "rolling breath"
    pause 4
'''

# Chinese and emoji before the offending text: the editor counts UTF-16 code units.
WIDE = '''title: "宽 🙂"

section "🙂 One":
    each side left, right:
        say "🙂🙂 你好 {sid}"
    inhal 4s "🧘 ok"
'''


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[QIDSL, "lsp"]), scope="module")
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(t.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), process_id=None))
    yield
    await lsp_client.shutdown_session()


async def diagnostics_for(client: LanguageClient, uri: str, count: int | None = None):
    """Wait for the diagnostics of ``uri`` (``count`` of them, when given)."""

    async def wait():
        while True:
            found = client.diagnostics.get(uri)
            if found is not None and (count is None or len(found) == count):
                return found
            await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    return await asyncio.wait_for(wait(), timeout=20)


def open_file(client: LanguageClient, path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    uri = from_fs_path(str(path))
    client.diagnostics.pop(uri, None)
    client.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(uri=uri, language_id="qi", version=1, text=text)))
    return uri


def utf16(line: str, column: int) -> int:
    """A 1-based character column as a 0-based UTF-16 offset, counted independently of the server."""
    return len(line[: column - 1].encode("utf-16-le")) // 2


def check_json(path: Path) -> list[dict]:
    done = subprocess.run([QIDSL, "check", "--format", "json", str(path)], capture_output=True, text=True)
    return json.loads(done.stdout)


def as_editor_sees(found) -> list[tuple]:
    return [(d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character,
             d.code, d.severity, d.message) for d in found]


def expected_from_check(path: Path, text: str) -> list[tuple]:
    lines = text.split("\n")
    out = []
    for d in check_json(path):
        severity = t.DiagnosticSeverity.Error if d["severity"] == "error" else t.DiagnosticSeverity.Warning
        message = d["message"] + (f"\nhint: {d['hint']}" if d["hint"] else "")
        out.append((d["line"] - 1, utf16(lines[d["line"] - 1], d["column"]), d["end_line"] - 1,
                    utf16(lines[d["end_line"] - 1], d["end_column"]), d["code"], severity, message))
    return out


async def test_a_document_with_two_mistakes_gets_both_with_their_ranges_then_the_update(client, tmp_path):
    path = tmp_path / "two.qi"
    uri = open_file(client, path, TWO_MISTAKES)
    found = await diagnostics_for(client, uri)
    assert as_editor_sees(found) == [
        (7, 4, 7, 9, "unknown-statement", t.DiagnosticSeverity.Error,
         "unknown statement 'inhal'\nhint: did you mean 'inhale'?"),
        (9, 10, 9, 11, "missing-unit", t.DiagnosticSeverity.Error,
         "a duration needs a unit\nhint: write 4s for 4 seconds, or 4m for minutes"),
    ]
    assert as_editor_sees(found) == expected_from_check(path, TWO_MISTAKES)  # exactly what `qidsl check` says

    # The editor sends the keystroke that mends `inhal`: one mistake is left.
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        t.VersionedTextDocumentIdentifier(uri=uri, version=2),
        [t.TextDocumentContentChangePartial(range=t.Range(t.Position(7, 9), t.Position(7, 9)), text="e")]))
    found = await diagnostics_for(client, uri, count=1)
    assert as_editor_sees(found)[0][:5] == (9, 10, 9, 11, "missing-unit")

    # And the last one: a clean routine has no diagnostics.
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        t.VersionedTextDocumentIdentifier(uri=uri, version=3),
        [t.TextDocumentContentChangePartial(range=t.Range(t.Position(9, 11), t.Position(9, 11)), text="s")]))
    assert list(await diagnostics_for(client, uri, count=0)) == []


async def test_ranges_count_utf16_units_past_chinese_and_emoji(client, tmp_path):
    path = tmp_path / "wide.qi"
    uri = open_file(client, path, WIDE)
    found = await diagnostics_for(client, uri)
    assert [(d.code, d.range.start.line, d.range.start.character, d.range.end.character) for d in found] == [
        # `{sid}` is the 20th character, after two emoji (two UTF-16 units each) and 你好.
        ("unknown-placeholder", 4, 21, 26),
        ("unknown-statement", 5, 4, 9),
    ]
    assert as_editor_sees(found) == expected_from_check(path, WIDE)


async def test_formatting_gives_what_qidsl_fmt_writes(client, tmp_path):
    messy = 'title:   "Messy"\nsection "A":\n  say   "Hello."\n  hold 90s\n'
    path = tmp_path / "messy.qi"
    uri = open_file(client, path, messy)
    await diagnostics_for(client, uri)
    edits = await client.text_document_formatting_async(t.DocumentFormattingParams(
        t.TextDocumentIdentifier(uri), t.FormattingOptions(tab_size=4, insert_spaces=True)))
    assert len(edits) == 1
    assert (edits[0].range.start.line, edits[0].range.start.character) == (0, 0)
    assert (edits[0].range.end.line, edits[0].range.end.character) == (4, 0)
    subprocess.run([QIDSL, "fmt", str(path)], check=True, capture_output=True)
    assert edits[0].new_text == path.read_text(encoding="utf-8")
    assert edits[0].new_text == 'title: "Messy"\n\nsection "A":\n    say "Hello."\n    hold 1m30s\n'

    # A document with a syntax error is left alone, as `qidsl fmt` leaves the file.
    broken = open_file(client, tmp_path / "broken.qi", 'title: "B"\nsay "unclosed\n')
    assert await client.text_document_formatting_async(t.DocumentFormattingParams(
        t.TextDocumentIdentifier(broken), t.FormattingOptions(tab_size=4, insert_spaces=True))) is None


ROUTINE = '''title: "Hover"
language: en

define "rolling breath":
    inhale 4s "Float the hands up."
    exhale 4s "Roll them down."

section "Arriving":
    bell 2s
    repeat 3:
        do "rolling breath"

section "Closing":
    each side left, right:
        say "Turn to the {side}."
'''


async def hover_at(client, uri, line, character):
    return await client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(uri),
                                                                t.Position(line, character)))


async def test_hover_says_what_a_statement_does_and_how_long_blocks_last(client, tmp_path):
    uri = open_file(client, tmp_path / "hover.qi", ROUTINE)
    await diagnostics_for(client, uri)
    bell = await hover_at(client, uri, 8, 5)
    assert "A bell strike that rings out" in bell.contents.value
    assert (bell.range.start.line, bell.range.start.character, bell.range.end.character) == (8, 4, 11)
    # The section: a 2 s bell, then 3 x (4 s + 4 s); the cues fit inside their phases.
    section = await hover_at(client, uri, 7, 2)
    assert "Lasts about **0:26**" in section.contents.value
    repeat = await hover_at(client, uri, 9, 6)
    assert "Lasts about **0:24**" in repeat.contents.value
    do = await hover_at(client, uri, 10, 12)
    assert "Lasts about **0:08** in all" in do.contents.value
    assert "inhale 4s “Float the hands up.”\nexhale 4s “Roll them down.”" in do.contents.value
    setting = await hover_at(client, uri, 1, 3)
    assert setting.contents.value.startswith("**language**: The language of the text")
    assert await hover_at(client, uri, 11, 0) is None  # a blank line


async def complete_at(client, uri, line, character) -> list[t.CompletionItem]:
    result = await client.text_document_completion_async(t.CompletionParams(
        t.TextDocumentIdentifier(uri), t.Position(line, character)))
    return result.items


def change_whole(client, uri, version, text):
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        t.VersionedTextDocumentIdentifier(uri=uri, version=version), [t.TextDocumentContentChangeWholeDocument(text)]))


async def test_completion_offers_what_fits_where_the_cursor_is(client, tmp_path):
    (tmp_path / "moves").mkdir()
    (tmp_path / "moves" / "shared.qi").write_text('define "shared flow":\n    pause 1s\n', encoding="utf-8")
    text = ROUTINE + '    do "\n    \nlanguage: \ninclude "\n'
    uri = open_file(client, tmp_path / "complete.qi", ROUTINE)
    await diagnostics_for(client, uri)
    change_whole(client, uri, 2, 'tempo: 1\n' + 'lang' + "\n" + text.split("\n", 1)[1])
    # Line 1 ('lang') is before the first statement: settings and statements are offered.
    labels = [i.label for i in await complete_at(client, uri, 1, 4)]
    assert "language" in labels and "title" in labels and "say" in labels
    key = next(i for i in await complete_at(client, uri, 1, 4) if i.label == "language")
    assert key.text_edit.new_text == "language: "
    assert (key.text_edit.range.start.character, key.text_edit.range.end.character) == (0, 4)

    change_whole(client, uri, 3, text)
    lines = text.split("\n")
    do_line = lines.index('    do "')
    names = await complete_at(client, uri, do_line, 8)
    assert [i.label for i in names] == ["rolling breath"]
    assert names[0].text_edit.new_text == '"rolling breath"'
    assert names[0].text_edit.range.start.character == 7
    statements = [i.label for i in await complete_at(client, uri, do_line + 1, 4)]
    assert {"say", "inhale", "exhale", "hold", "repeat", "each", "do"} <= set(statements)
    assert "title" not in statements  # settings belong before the first statement
    # `language:` after the body is a late setting: nothing is offered; before it, the tags are.
    early = 'title: "T"\nlanguage: \ntheme: \n'
    change_whole(client, uri, 4, early)
    languages = [i.label for i in await complete_at(client, uri, 1, 10)]
    assert {"en", "en-GB", "de", "zh-CN"} <= set(languages)
    assert [i.label for i in await complete_at(client, uri, 2, 7)] == ["calm", "light"]
    # Inside `each side`, a `{` in text offers {side}; outside it, nothing.
    sides = 'title: "T"\n\nsection "S":\n    each side left, right:\n        say "To the {"\n    say "{"\n'
    change_whole(client, uri, 5, sides)
    inside = await complete_at(client, uri, 4, 21)
    assert [i.label for i in inside] == ["{side}"]
    assert (inside[0].text_edit.range.start.character, inside[0].text_edit.new_text) == (20, "{side}")
    assert list(await complete_at(client, uri, 5, 10)) == []
    # After `include "`, the routine files of the folder.
    change_whole(client, uri, 6, 'include "\n')
    assert [i.label for i in await complete_at(client, uri, 0, 9)] == ["moves/shared.qi"]


async def test_definition_references_symbols_and_folding(client, tmp_path):
    (tmp_path / "more.qi").write_text('define "from afar":\n    pause 1s\n', encoding="utf-8")
    text = 'include "more.qi"\n' + ROUTINE.replace("bell 2s", 'do "from afar"')
    uri = open_file(client, tmp_path / "nav.qi", text)
    await diagnostics_for(client, uri)
    lines = text.split("\n")
    do_line = next(n for n, line in enumerate(lines) if 'do "rolling breath"' in line)

    found = await client.text_document_definition_async(t.DefinitionParams(
        t.TextDocumentIdentifier(uri), t.Position(do_line, 14)))
    assert found.uri == uri and (found.range.start.line, found.range.start.character) == (4, 7)
    afar = await client.text_document_definition_async(t.DefinitionParams(
        t.TextDocumentIdentifier(uri), t.Position(9, 10)))
    assert afar.uri == from_fs_path(str(tmp_path / "more.qi"))
    assert (afar.range.start.line, afar.range.start.character, afar.range.end.character) == (0, 7, 18)
    include = await client.text_document_definition_async(t.DefinitionParams(
        t.TextDocumentIdentifier(uri), t.Position(0, 12)))
    assert include.uri == from_fs_path(str(tmp_path / "more.qi"))

    refs = await client.text_document_references_async(t.ReferenceParams(
        text_document=t.TextDocumentIdentifier(uri), position=t.Position(4, 10),
        context=t.ReferenceContext(include_declaration=True)))
    assert [(r.range.start.line, r.range.start.character) for r in refs] == [(4, 7), (do_line, 11)]

    symbols = await client.text_document_document_symbol_async(t.DocumentSymbolParams(
        t.TextDocumentIdentifier(uri)))
    assert [(s.name, s.kind) for s in symbols] == [
        ("rolling breath", t.SymbolKind.Function), ("Arriving", t.SymbolKind.Module),
        ("Closing", t.SymbolKind.Module)]
    assert [c.name for c in symbols[1].children] == ["repeat 3"]
    assert [c.name for c in symbols[2].children] == ["each side left, right"]
    assert (symbols[1].range.start.line, symbols[1].range.end.line) == (8, 11)

    folds = await client.text_document_folding_range_async(t.FoldingRangeParams(t.TextDocumentIdentifier(uri)))
    assert [(r.start_line, r.end_line) for r in folds] == [(4, 6), (8, 11), (10, 11), (13, 15), (14, 15)]


async def test_a_mistake_in_an_included_file_is_shown_in_that_file(client, tmp_path):
    (tmp_path / "lib.qi").write_text('define "x":\n    pause 4\n', encoding="utf-8")
    uri = open_file(client, tmp_path / "main.qi", 'title: "M"\ninclude "lib.qi"\nsay "Hi."\n')
    lib = from_fs_path(str(tmp_path / "lib.qi"))
    found = await diagnostics_for(client, lib)
    assert [(d.code, d.range.start.line, d.range.start.character) for d in found] == [("missing-unit", 1, 10)]
    assert list(client.diagnostics[uri]) == []


async def test_several_documents_opened_at_once_each_get_their_own_diagnostics(client, tmp_path):
    texts = {f"doc{n}.qi": f'title: "Doc {n}"\n\nsection "S":\n' + "    inhale 4s\n" * n + "    pause 4\n"
             for n in range(1, 6)}
    uris = {name: open_file(client, tmp_path / name, text) for name, text in texts.items()}  # no waiting between
    for n, (_name, uri) in enumerate(uris.items(), start=1):
        found = await diagnostics_for(client, uri)
        # Each sees its own missing unit, on its own line (after its own n inhales).
        assert [(d.code, d.range.start.line) for d in found if d.code == "missing-unit"] == [("missing-unit", 3 + n)]
