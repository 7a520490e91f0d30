"""Re-parse only what an edit touched, with the result a whole parse would give.

A routine is a run of settings, then top-level statements, each starting on
a line of its own at the left margin; nothing inside one reaches into the
next (indentation returns to 0 between them).  So the text is cut into
*chunks* there: the lines before the first top-level statement (settings,
comments), then each top-level statement with the lines under it.  A chunk
is parsed alone (padded with blank lines so positions stay true), and
remembered by its first line and text: after a keystroke, only the chunk
that changed is parsed again.

Whenever a chunk has a problem (or a setting turns up after the first
statement), the whole text is parsed instead, so diagnostics, recovery and
all are exactly those of :func:`~qidsl.lang.parser.parse_source`.
"""

from __future__ import annotations

import re
import threading

from ..lang import model as m
from ..lang.parser import ParseResult, Source, parse_source
from ..lang.statements import KEYWORDS

_TOP_STATEMENT = re.compile(r"(" + "|".join(KEYWORDS) + r")\b")

Chunk = tuple[int, str]  # first line (from 1), text


def chunks(lines: list[str]) -> list[Chunk]:
    """The text cut before each top-level statement line (the first chunk holds the settings)."""
    starts = [0] + [n for n, line in enumerate(lines) if n and _TOP_STATEMENT.match(line)]
    bounds = starts + [len(lines)]
    return [(bounds[i] + 1, "\n".join(lines[bounds[i]:bounds[i + 1]])) for i in range(len(starts))]


class IncrementalParser:
    """Parses documents chunk by chunk, remembering each document's chunks from its last parse."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards the memo only; parsing runs outside it
        self._memo: dict[str, dict[Chunk, tuple]] = {}

    def parse(self, source: Source) -> ParseResult:
        if not source.text.strip():
            return parse_source(source)
        with self._lock:
            known = self._memo.get(source.file, {})
        parsed: dict[Chunk, tuple] = {}
        settings: list[m.Setting] = []
        body: list = []
        for index, chunk in enumerate(chunks(source.lines)):
            found = known.get(chunk)
            if found is None:
                first, text = chunk
                if not text.strip():
                    found = ((), ())
                else:
                    result = parse_source(Source(source.file, "\n" * (first - 1) + text))
                    if result.diagnostics or result.routine is None:
                        return self._whole(source)
                    found = (result.routine.settings, result.routine.body)
            if found[0] and index > 0:  # a setting after the first statement: let the whole parse word it
                return self._whole(source)
            parsed[chunk] = found
            settings.extend(found[0])
            body.extend(found[1])
        with self._lock:
            self._memo[source.file] = parsed
        return ParseResult(m.Routine(source.file, tuple(settings), tuple(body)), ())

    def _whole(self, source: Source) -> ParseResult:
        with self._lock:
            self._memo.pop(source.file, None)
        return parse_source(source)

    def forget(self, file: str) -> None:
        """Drop what is remembered of a document (it was closed)."""
        with self._lock:
            self._memo.pop(file, None)
