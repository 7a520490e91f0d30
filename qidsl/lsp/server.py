"""The language server over standard input and output (pygls 2).

Diagnostics are those of ``qidsl check`` on the editor's text, published as
the document is opened and after each change.  Each check runs in a worker
thread (parsing keeps no shared state), so several documents are checked at
once and a slow one never blocks hover or completion; a check that finishes
after a newer one of the same document is dropped.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from .. import __version__
from ..lang import model as m
from ..lang.diagnostics import Diagnostic
from ..lang.loader import Loader
from ..lang.parser import ParseResult, Source
from . import features as f
from .incremental import IncrementalParser


class _EditorLoader(Loader):
    """Reads included files from the editor's unsaved text when they are open, else from disk."""

    def __init__(self, server: QiServer):
        super().__init__()
        self.server = server

    def parse_text(self, text: str, display: str) -> ParseResult:
        # The edited document itself: only the top-level statements an edit touched are parsed again.
        source = Source(display, f.normalise(text))
        self.sources[display] = source
        result = self._parsed[display] = self.server.parser.parse(source)
        return result

    def read(self, path: Path, display: str | None = None) -> ParseResult:
        display = display or str(path)
        if display not in self._parsed:
            open_doc = self.server.workspace.text_documents.get(from_fs_path(str(path)))
            if open_doc is not None:
                return super().parse_text(open_doc.source, display)
        return super().read(path, display)


_SEVERITY = {"error": t.DiagnosticSeverity.Error, "warning": t.DiagnosticSeverity.Warning}
_COMPLETION_KIND = {"keyword": t.CompletionItemKind.Keyword, "property": t.CompletionItemKind.Property,
                    "value": t.CompletionItemKind.Value, "reference": t.CompletionItemKind.Function,
                    "file": t.CompletionItemKind.File, "placeholder": t.CompletionItemKind.Variable}
_SYMBOL_KIND = {"section": t.SymbolKind.Module, "define": t.SymbolKind.Function,
                "repeat": t.SymbolKind.Array, "sides": t.SymbolKind.Array, "variants": t.SymbolKind.Namespace}


def _path_of(uri: str) -> str:
    return to_fs_path(uri) or uri


class QiServer(LanguageServer):
    """``qidsl lsp``: the front end of qidsl, answering an editor."""

    def __init__(self) -> None:
        super().__init__("qidsl", __version__)
        self.checked: dict[str, tuple[f.Document, Loader]] = {}  # uri -> the latest check of its text
        self.versions: dict[str, int] = {}  # uri -> the newest version asked to be checked
        self.others: dict[str, set[str]] = {}  # uri -> included files it published diagnostics to
        self.parser = IncrementalParser()

    # -- positions -------------------------------------------------------

    def position(self, lines: list[str], line: int, column: int) -> t.Position:
        """A front-end position (1-based, characters) in the editor's units."""
        index = min(max(line - 1, 0), max(len(lines) - 1, 0))
        text = lines[index] if lines else ""
        if line - 1 > index:  # past the end of the file: the end of its last line
            column = len(text) + 1
        return t.Position(index, self.workspace.position_codec.client_num_units(text[: max(column - 1, 0)]))

    def range(self, lines: list[str], span: m.Span) -> t.Range:
        return t.Range(self.position(lines, span.line, span.column),
                       self.position(lines, span.end_line, span.end_column))

    def from_client(self, doc: f.Document, position: t.Position) -> tuple[int, int]:
        """An editor position as the front end counts it (1-based line, column in characters)."""
        server = self.workspace.position_codec.position_from_client_units(
            doc.lines, t.Position(position.line, position.character))
        return server.line + 1, server.character + 1

    def location(self, span: m.Span, doc: f.Document) -> t.Location:
        lines = doc.lines if span.file == doc.path else _file_lines(span.file)
        return t.Location(from_fs_path(span.file), self.range(lines, span))

    # -- checking --------------------------------------------------------

    def analyse(self, uri: str) -> tuple[f.Document, Loader]:
        text = self.workspace.get_text_document(uri).source
        loader = _EditorLoader(self)
        return f.analyse(_path_of(uri), text, loader), loader

    def document(self, uri: str) -> f.Document:
        """The document as checked now: the latest check if the text has not changed since."""
        text = f.normalise(self.workspace.get_text_document(uri).source)
        found = self.checked.get(uri)
        if found is None or found[0].text != text:
            found = self.checked[uri] = self.analyse(uri)
        return found[0]

    def lsp_diagnostic(self, diagnostic: Diagnostic, lines: list[str]) -> t.Diagnostic:
        hint = f"\nhint: {diagnostic.hint}" if diagnostic.hint else ""
        return t.Diagnostic(range=self.range(lines, diagnostic.span), message=diagnostic.message + hint,
                            severity=_SEVERITY[diagnostic.severity], code=diagnostic.code, source="qidsl")

    async def check(self, uri: str, version: int | None) -> None:
        """Check a document in a worker thread and publish its diagnostics (if still current)."""
        self.versions[uri] = version or 0
        doc, loader = await asyncio.to_thread(self.analyse, uri)
        if self.versions.get(uri) != (version or 0) or uri not in self.workspace.text_documents:
            return  # a newer edit is being checked, or the document was closed
        self.checked[uri] = (doc, loader)
        by_file: dict[str, list[t.Diagnostic]] = {doc.path: []}
        for diagnostic in doc.compiled.diagnostics:
            file = diagnostic.span.file
            lines = doc.lines if file == doc.path else (loader.lines(file) or [])
            by_file.setdefault(file, []).append(self.lsp_diagnostic(diagnostic, lines))
        self.text_document_publish_diagnostics(
            t.PublishDiagnosticsParams(uri=uri, diagnostics=by_file.pop(doc.path), version=version))
        # Problems in included files are shown in those files, as `qidsl check` names them.
        others = {from_fs_path(file): found for file, found in by_file.items()}
        for gone in self.others.get(uri, set()) - set(others):
            self.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=gone, diagnostics=[]))
        for other, found in others.items():
            self.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=other, diagnostics=found))
        self.others[uri] = set(others)

    def close(self, uri: str) -> None:
        self.parser.forget(_path_of(uri))
        self.versions.pop(uri, None)
        self.checked.pop(uri, None)
        for other in self.others.pop(uri, set()) | {uri}:
            self.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=other, diagnostics=[]))


def _file_lines(path: str) -> list[str]:
    try:
        return f.normalise(Path(path).read_text(encoding="utf-8-sig", errors="replace")).split("\n")
    except OSError:
        return []


server = QiServer()


@server.feature(t.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: QiServer, params: t.DidOpenTextDocumentParams) -> None:
    await ls.check(params.text_document.uri, params.text_document.version)


@server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: QiServer, params: t.DidChangeTextDocumentParams) -> None:
    await ls.check(params.text_document.uri, params.text_document.version)


@server.feature(t.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: QiServer, params: t.DidSaveTextDocumentParams) -> None:
    # Included files may have changed on disk: check again.
    uri = params.text_document.uri
    await ls.check(uri, ls.workspace.get_text_document(uri).version)


@server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: QiServer, params: t.DidCloseTextDocumentParams) -> None:
    ls.close(params.text_document.uri)


@server.feature(t.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: QiServer, params: t.DocumentFormattingParams) -> list[t.TextEdit] | None:
    uri = params.text_document.uri
    text = ls.workspace.get_text_document(uri).source
    result = f.formatted(_path_of(uri), text)
    if result is None or result == text:
        return [] if result is not None else None
    lines = f.normalise(text).split("\n")
    whole = t.Range(t.Position(0, 0), ls.position(lines, len(lines), len(lines[-1]) + 1))
    return [t.TextEdit(range=whole, new_text=result)]


@server.feature(t.TEXT_DOCUMENT_HOVER)
def hover(ls: QiServer, params: t.HoverParams) -> t.Hover | None:
    doc = ls.document(params.text_document.uri)
    found = f.hover(doc, *ls.from_client(doc, params.position))
    if found is None:
        return None
    markdown, span = found
    return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=markdown),
                   range=ls.range(doc.lines, span))


@server.feature(t.TEXT_DOCUMENT_COMPLETION, t.CompletionOptions(trigger_characters=['"', "{", ":"]))
def completion(ls: QiServer, params: t.CompletionParams) -> t.CompletionList:
    doc = ls.document(params.text_document.uri)
    line, column = ls.from_client(doc, params.position)
    items = []
    for number, item in enumerate(f.complete(doc, line, column)):
        edit_range = ls.range(doc.lines, m.Span(doc.path, line, item.start, line, item.end))
        documentation = (t.MarkupContent(kind=t.MarkupKind.Markdown, value=item.documentation)
                         if item.documentation else None)
        items.append(t.CompletionItem(label=item.label, kind=_COMPLETION_KIND[item.kind], detail=item.detail,
                                      documentation=documentation, sort_text=f"{number:04d}",
                                      filter_text=item.text, text_edit=t.TextEdit(edit_range, item.text)))
    return t.CompletionList(is_incomplete=False, items=items)


@server.feature(t.TEXT_DOCUMENT_DEFINITION)
def definition(ls: QiServer, params: t.DefinitionParams) -> t.Location | None:
    doc = ls.document(params.text_document.uri)
    span = f.definition(doc, *ls.from_client(doc, params.position))
    return ls.location(span, doc) if span else None


@server.feature(t.TEXT_DOCUMENT_REFERENCES)
def references(ls: QiServer, params: t.ReferenceParams) -> list[t.Location]:
    doc = ls.document(params.text_document.uri)
    spans = f.references(doc, *ls.from_client(doc, params.position), params.context.include_declaration)
    return [ls.location(span, doc) for span in spans]


@server.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbols(ls: QiServer, params: t.DocumentSymbolParams) -> list[t.DocumentSymbol]:
    doc = ls.document(params.text_document.uri)

    def convert(symbol: f.Symbol) -> t.DocumentSymbol:
        return t.DocumentSymbol(name=symbol.name, kind=_SYMBOL_KIND[symbol.kind], detail=symbol.kind,
                                range=ls.range(doc.lines, symbol.span),
                                selection_range=ls.range(doc.lines, symbol.name_span),
                                children=[convert(child) for child in symbol.children])

    return [convert(symbol) for symbol in f.symbols(doc)]


@server.feature(t.TEXT_DOCUMENT_FOLDING_RANGE)
def folding_range(ls: QiServer, params: t.FoldingRangeParams) -> list[t.FoldingRange]:
    doc = ls.document(params.text_document.uri)
    kinds = {"region": t.FoldingRangeKind.Region, "comment": t.FoldingRangeKind.Comment}
    return [t.FoldingRange(start_line=start - 1, end_line=end - 1, kind=kinds[kind])
            for start, end, kind in f.folding(doc)]


def serve() -> None:
    """Answer an editor on standard input and output until it exits."""
    server.start_io()
