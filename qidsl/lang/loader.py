"""Reading routine files and the files they include.

The :class:`Loader` reads and parses each file once, keeps its text for
rendering diagnostics, and resolves ``include`` lines: relative to the
including file, never outside the top routine's folder tree, no cycles, and
no deeper than :data:`MAX_INCLUDE_DEPTH`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import model as m
from .diagnostics import Diagnostic, error
from .parser import ParseResult, Source, decode_source, display_source, parse_source

MAX_INCLUDE_DEPTH = 8


@dataclass(frozen=True)
class Definition:
    """A ``define`` block and the file it came from."""

    node: m.Define
    file: str


@dataclass(frozen=True)
class Library:
    """Every definition a routine can ``do``: its own and those of the files it includes."""

    definitions: dict[str, Definition]
    diagnostics: tuple[Diagnostic, ...]


class Loader:
    """Reads, decodes and parses routine files, each once."""

    def __init__(self) -> None:
        self.sources: dict[str, Source] = {}
        self._parsed: dict[str, ParseResult] = {}

    def lines(self, file: str) -> list[str] | None:
        """The source lines of a file read so far, for rendering diagnostics."""
        source = self.sources.get(file)
        return source.lines if source else None

    def read(self, path: Path, display: str | None = None) -> ParseResult:
        """Parse the file at ``path``; I/O problems raise OSError for the caller to word."""
        display = display or str(path)
        if display in self._parsed:
            return self._parsed[display]
        data = Path(path).read_bytes()
        source, problems = decode_source(data, display)
        if source is None:
            self.sources[display] = display_source(data, display)  # to show the bad line
            result = ParseResult(None, tuple(problems))
        else:
            self.sources[display] = source
            result = parse_source(source)
        self._parsed[display] = result
        return result

    def parse_text(self, text: str, display: str) -> ParseResult:
        """Parse text that is not on disk (standard input, tests)."""
        source = Source(display, text.replace("\r\n", "\n").replace("\r", "\n"))
        self.sources[display] = source
        result = parse_source(source)
        self._parsed[display] = result
        return result

    def library(self, routine: m.Routine) -> Library:
        """Definitions of ``routine`` and, transitively, of everything it includes."""
        top = Path(routine.path)
        root = top.resolve().parent
        definitions: dict[str, Definition] = {}
        problems: list[Diagnostic] = []
        self._collect(routine, top, root, [top.resolve()], definitions, problems)
        return Library(definitions, tuple(problems))

    def _collect(self, routine, path: Path, root: Path, stack: list[Path],
                 definitions: dict[str, Definition], problems: list[Diagnostic]) -> None:
        for node in routine.body:
            if isinstance(node, m.Define):
                name = node.name.value
                if name in definitions:
                    earlier = definitions[name].node.name.span
                    problems.append(error("duplicate-define", f"\"{name}\" is already defined at "
                                          f"{earlier.file}:{earlier.line}", node.name.span,
                                          "give this sequence another name"))
                else:
                    definitions[name] = Definition(node, routine.path)
            elif isinstance(node, m.Include):
                self._include(node, path, root, stack, definitions, problems)

    def _include(self, node: m.Include, path: Path, root: Path, stack: list[Path],
                 definitions: dict[str, Definition], problems: list[Diagnostic]) -> None:
        written = node.path.value
        span = node.path.span
        target = Path(os.path.normpath(path.parent / written))
        resolved = target.resolve()
        if resolved == stack[-1]:
            problems.append(error("include-self", "a routine cannot include itself", span))
            return
        if resolved in stack:
            chain = " -> ".join(p.name for p in stack[stack.index(resolved):] + [resolved])
            problems.append(error("include-cycle", f"this include makes a cycle: {chain}", span,
                                  "remove one of the includes in the cycle"))
            return
        if not resolved.is_relative_to(root):
            problems.append(error("include-outside", f"\"{written}\" is outside this routine's folder",
                                  span, "keep included files in the routine's folder or below it"))
            return
        if len(stack) > MAX_INCLUDE_DEPTH:
            problems.append(error("include-depth", f"includes are nested more than {MAX_INCLUDE_DEPTH} deep",
                                  span))
            return
        if not resolved.is_file():
            problems.append(error("include-missing", f"cannot find \"{written}\"", span,
                                  f"looked for {target}"))
            return
        try:
            result = self.read(target, str(target))
        except OSError as exc:
            problems.append(error("include-unreadable", f"cannot read \"{written}\": {exc.strerror}", span))
            return
        problems.extend(result.diagnostics)
        if result.routine is not None:
            self._collect(result.routine, target, root, stack + [resolved], definitions, problems)
