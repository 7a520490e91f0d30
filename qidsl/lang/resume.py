"""Parsing again after a mended line, from just before it, not from the top of the file.

After a syntax error the parser mends the line and parses again (see
:func:`qidsl.lang.parser.parse_source`).  Starting each new attempt at the top
of the file made a file with many mistakes quadratic: 60 mistakes in 500,000
lines meant 60 whole parses.  LALR parsing has the viable-prefix property:
everything before the token in error is a correct beginning of a routine, and
a mend changes only the line in error and the lines after it.  So this driver
notes the parser's state at every line break (the LALR stacks, and the
indenter's open levels) and, after a mend, goes on from the last line break
before the first changed line.  A file is then read about twice, however
many mistakes it holds.

Lark's own loop is used for a clean file (the fast path); this slower loop,
which records states, only once a mistake has been found.

It drives Lark's parser state directly (``ParseConf``, ``ParserState``,
``LexerThread``, ``TextSlice``, ``PostLexConnector``), which is not Lark's
public API, so pyproject.toml pins Lark to the exact version these classes
were read from, and tests/test_parser.py fails if another one is installed.
Lark's public ``InteractiveParser`` cannot start lexing a new text mid-way
with the stacks of an earlier parse, which is what keeps recovery linear.
"""

from __future__ import annotations

from typing import NamedTuple

from lark import Lark, Token, Tree
from lark.lexer import LexerState, LexerThread
from lark.parser_frontends import PostLexConnector
from lark.parsers.lalr_parser_state import ParseConf, ParserState
from lark.utils import TextSlice


class _Snapshot(NamedTuple):
    """The parser just before a line break token: where it starts, and every stack."""

    pos: int  # offset of the line break token (a trailing comment's '#', or the newline)
    line: int  # the line that token starts on
    states: list
    values: list
    # Lark builds the lists of `x*` and `x+` by appending to the list of the
    # helper tree already on the stack (an optimisation for left recursion),
    # so a tree's length is noted here and cut back to it when resuming.
    lengths: tuple
    levels: list  # the indenter's open indentation levels


class ResumableParse:
    """Parses a text and, after a change at some line, the same text again from just before that line.

    ``indenter`` is this parse's own (its levels are read and set mid-file), so
    parses in several threads share nothing but Lark's read-only tables.
    """

    def __init__(self, lark: Lark, indenter):
        self.lark = lark
        frontend = lark.parser
        # The contextual lexer followed by this parse's indenter.
        self.lexer = PostLexConnector(frontend.lexer.lexer, indenter)
        self.indenter = indenter
        tables = frontend.parser.parser
        self.conf = ParseConf(tables.parse_table, tables.callbacks, "start")
        self.snapshots: list[_Snapshot] = []
        self.recording = False

    def parse(self, text: str):
        """The transformer's result for ``text``; raises Lark's UnexpectedInput on a mistake."""
        if not self.recording:
            # The first attempt takes Lark's own loop: most files are clean.
            self.recording = True
            return self.lark.parse(text)
        return self._drive(text, self.snapshots.pop() if self.snapshots else None)

    def changed_from(self, line: int) -> None:
        """Lines from ``line`` on will differ in the next text: forget the states noted after them."""
        while self.snapshots and self.snapshots[-1].line >= line:
            self.snapshots.pop()

    def _drive(self, text: str, start: _Snapshot | None):
        if start is None:
            offset, states, values = 0, None, None
            self.indenter.resume_levels = None
        else:
            offset, states, values = start.pos, list(start.states), list(start.values)
            for value, length in zip(values, start.lengths):
                if length is not None:
                    del value.children[length:]
            self.indenter.resume_levels = list(start.levels)
        # Lark's own ParsingFrontend hands LexerThread a PostLexConnector too (its annotation says Lexer).
        thread = LexerThread(self.lexer, LexerState(TextSlice(text, offset, len(text))))  # type: ignore[arg-type]
        state = ParserState(self.conf, thread, states, values)
        snapshots = self.snapshots
        indenter = self.indenter
        token = None
        for token in thread.lex(state):
            if token.type == "_NL":
                stack = state.value_stack
                snapshots.append(_Snapshot(
                    token.start_pos, token.line, list(state.state_stack), list(stack),
                    tuple(len(v.children) if isinstance(v, Tree) else None for v in stack),
                    list(indenter.indent_level)))
            state.feed_token(token)
        end = Token.new_borrow_pos("$END", "", token) if token is not None else Token("$END", "", 0, 1, 1)
        return state.feed_token(end, True)
