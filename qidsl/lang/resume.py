"""The parser's loop: Lark's contextual lexer, the indenter and the LALR parser in one pass, resumable mid-file.

Two jobs, one loop.

Speed.  Lark runs a routine through three stacked generators (its
contextual lexer, the indenter, the parser's token loop), building a line
counter and calling a method or two per token at each level; on a large
routine that was most of ``qidsl check``'s time.  This loop does the same
work with Lark's own tables (each parser state's scanner, the unless
callbacks that turn a NAME into a keyword, the LALR action table and the
transformer's callbacks) in one function, with the same tokens, positions
and results.  Any mistake is raised by Lark's own code from the same place
(:meth:`_raise_lex_error`, :meth:`_raise_unexpected`), so diagnostics are
unchanged.

Recovery.  After a syntax error the parser mends the line and parses again
(see :func:`qidsl.lang.parser.parse_source`).  Starting each new attempt at
the top of the file made a file with many mistakes quadratic: 60 mistakes
in 500,000 lines meant 60 whole parses.  LALR parsing has the viable-prefix
property: everything before the token in error is a correct beginning of a
routine, and a mend changes only the line in error and the lines after it.
So once a mistake has been found, this loop notes the parser's state at
every line break (the LALR stacks, and the indenter's open levels) and,
after a mend, goes on from the last line break before the first changed
line.  A file is then read about twice, however many mistakes it holds.

It reads Lark's internals (the contextual lexer's per-state lexers and
their scanners, ``ParseConf``, ``ParserState``, ``LexerState``,
``LineCounter``, ``TextSlice``), which are not Lark's public API, so
pyproject.toml pins Lark to the exact version these were read from, and
tests/test_parser.py fails if another one is installed.  Lark's public
``InteractiveParser`` cannot start lexing a new text mid-way with the stacks
of an earlier parse, which is what keeps recovery linear.
"""

from __future__ import annotations

import re
import threading
from functools import partial
from typing import Any, NamedTuple, NoReturn

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedToken
from lark.indenter import DedentError
from lark.lexer import LexerState, LineCounter
from lark.parse_tree_builder import ChildFilterLALR_NoPlaceholders, ExpandSingleChild
from lark.parsers.lalr_analysis import Shift
from lark.parsers.lalr_parser_state import ParseConf, ParserState
from lark.utils import TextSlice

_str_new = str.__new__


def _new_token(type_: str, value: str, start_pos: int, line: int, column: int, end_line: int, end_column: int,
               end_pos: int) -> Token:
    """``Token(type_, value, ...)`` as Lark 1.3.1's ``Token._future_new`` makes it, without its two calls."""
    token = _str_new(Token, value)
    token.type = type_
    token.start_pos = start_pos
    token.value = value
    token.line = line
    token.column = column
    token.end_line = end_line
    token.end_column = end_column
    token.end_pos = end_pos
    return token


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


class _StateLexer(NamedTuple):
    """What one parser state's lexer needs per token (from Lark's BasicLexer for that state)."""

    pattern: Any  # the compiled alternation of the terminals allowed here
    more: tuple  # more alternations, tried in order after it (Python's re allows 100 groups in one)
    keywords: dict  # terminal -> {text: keyword terminal} (Lark's unless callbacks)
    callbacks: dict  # other lexer callbacks, called as Lark calls them
    ignore: frozenset
    newline: frozenset
    unusual: frozenset  # terminals the loop's common path does not handle (ignored, multi-line, with a callback)


class _Tables:
    """Lark's tables for the loop, read once per grammar."""

    def __init__(self, lark: Lark):
        frontend = lark.parser
        self.contextual = frontend.lexer.lexer  # Lark's ContextualLexer (raises lexing errors)
        tables = frontend.parser.parser
        self.conf = ParseConf(tables.parse_table, tables.callbacks, "start")
        # The action table with each reduction's rule read out once: a shift is
        # the next state (an int), a reduction (size, rule name, callback, how: _CALL, _KEEP, _GROW).
        # Lark's own loop looked the callback up by rule, hashing it in Python.
        self.actions: dict[int, dict[str, Any]] = {
            state: {type_: arg if action is Shift else (len(arg.expansion), arg.origin.name,
                                                         *_plain(arg, self.conf.callbacks[arg], lark.options.transformer))
                    for type_, (action, arg) in row.items()}
            for state, row in self.conf.states.items()}
        if any(isinstance(name, str) for name in self.conf.callbacks):
            # (Lark calls a transformer's method named after a terminal on each such token; the loop does not)
            raise NotImplementedError("the loop does not call the transformer on tokens")
        postlex: Any = lark.options.postlex  # qidsl.lang.parser's Indenter
        self.nl_type, self.indent_type, self.dedent_type = postlex.NL_type, postlex.INDENT_type, postlex.DEDENT_type
        self.tab_len = postlex.tab_len
        self.lexers: dict[int, _StateLexer] = _LexersOnDemand(self.contextual.lexers, self.nl_type)

    @staticmethod
    def _state_lexer(lexer, nl_type: str) -> _StateLexer:
        scanner = lexer.scanner  # builds lexer.callback too
        keywords: dict[str, dict[str, str]] = {}
        callbacks = {}
        for name, callback in lexer.callback.items():
            unless = getattr(callback, "scanner", None)
            if type(callback).__name__ == "UnlessCallback" and unless is not None and all(
                    t.pattern.type == "str" and not t.pattern.flags for t in unless.terminals):
                keywords[name] = {t.pattern.value: t.name for t in unless.terminals}
            else:
                callbacks[name] = callback
        if nl_type in callbacks or nl_type in lexer.ignore_types:
            raise NotImplementedError(f"the loop reads {nl_type} as the indenter's line break")
        unusual = frozenset(lexer.ignore_types) | frozenset(lexer.newline_types) - {nl_type} | frozenset(callbacks)
        merged = _blanks_first(lexer, scanner._mres)
        if merged is not None:  # blanks skipped within the next token's match; the plain scanner if none follows
            return _StateLexer(merged, tuple(scanner._mres), keywords, callbacks, lexer.ignore_types,
                               lexer.newline_types, unusual)
        return _StateLexer(scanner._mres[0], tuple(scanner._mres[1:]), keywords, callbacks,
                           lexer.ignore_types, lexer.newline_types, unusual)


class _LexersOnDemand(dict):
    """Each parser state's :class:`_StateLexer`, made when a parse first reaches the state.

    A short routine reaches about half of the states, and making a state's
    lexer compiles its regular expressions: made on demand, ``qidsl check``
    of a small file starts sooner.  Made under a lock, so two parses in two
    threads never build one at once (Lark's scanners are built lazily too).
    """

    def __init__(self, lexers: dict, nl_type: str):
        super().__init__()
        self._lexers, self._nl_type = lexers, nl_type
        self._made: dict[int, _StateLexer] = {}  # states sharing one of Lark's lexers share one
        self._lock = threading.Lock()

    def __missing__(self, state: int) -> _StateLexer:
        with self._lock:
            lexer = self._lexers[state]
            made = self._made.get(id(lexer))
            if made is None:
                made = self._made[id(lexer)] = _Tables._state_lexer(lexer, self._nl_type)
            self[state] = made
            return made


_BLANKS = re.compile(r"\[[\t \x0c]+\]\+")  # an ignored terminal such as /[\t \f]+/: blanks only


def _blanks_first(lexer, alternations: list):
    """The state's alternation preceded by its ignored blanks, taken possessively (``[\t \f]*+``).

    Between two tokens on a line Lark matches the blanks as a token of their
    own and drops it: a turn of the loop for nothing, for a quarter of all
    matches.  Skipping them inside the next token's match gives the same
    tokens as long as no other terminal can start with a blank (checked
    here; if one might, or the state has no such terminal, None: no merging).
    """
    blanks = [t for t in lexer.terminals if t.name in lexer.ignore_types and t.pattern.type == "re"
              and _BLANKS.fullmatch(t.pattern.value)]
    if len(blanks) != 1 or len(alternations) != 1 or blanks[0].name in lexer.callback:
        return None
    others = [re.compile(t.pattern.to_regexp()) for t in lexer.terminals if t is not blanks[0]]
    samples = [blank + tail for blank in " \t\x0c" for tail in ("", "a", "1", '"', "#", "\n", ":", "x1", "×1")]
    if any(other.match(sample) for other in others for sample in samples):
        return None
    blank_class = blanks[0].pattern.value[:-1]  # [\t \f]
    return re.compile(f"{blank_class}*+(?:{alternations[0].pattern})", alternations[0].flags)


# How the loop does a reduction (the last item of a reduction in _Tables.actions).
_CALL = 0  # call the rule's callback with its children
_KEEP = 1  # pass one child on (the second item is its index): no call
_GROW = 2  # append the new child to the list tree below it: no call


def _plain(rule, callback, transformer) -> tuple[Any, int]:
    """A rule's callback and how the loop runs it, without Lark's wrappers where they only pass children on.

    A ``?rule`` of one symbol (``?simple: say``) and a rule whose only kept
    child is one (``?statement: simple _NL``) give back that child: Lark gets
    there through two or three wrapper calls per reduction, the loop by
    index (``_KEEP``).  A list that grows by one (``statement*``:
    ``__start_star_1 -> __start_star_1 statement``) appends the new child to
    the list of the helper tree it has (``_GROW``): Lark does the same in
    four calls and wraps the list in a new tree of the same name, which the
    transformer's ``__default__`` only passes on (the rule using the list
    splices its children in).
    """
    if isinstance(callback, ChildFilterLALR_NoPlaceholders) and isinstance(callback.node_builder, ExpandSingleChild) \
            and len(callback.to_include) == 1 and not callback.to_include[0][1]:
        return callback.to_include[0][0], _KEEP
    if isinstance(callback, ExpandSingleChild) and len(rule.expansion) == 1:
        return 0, _KEEP
    builder = getattr(callback, "node_builder", None)
    if isinstance(callback, ChildFilterLALR_NoPlaceholders) and callback.to_include == [(0, True), (1, False)] \
            and isinstance(builder, partial) and getattr(builder.func, "__name__", "") == "default_callback" \
            and builder.args[0].startswith("_") and getattr(transformer, "helper_trees_pass_on", False):
        return None, _GROW
    return callback, _CALL


_TABLES: dict[int, _Tables] = {}


def resume_tables(lark: Lark) -> _Tables:
    """The tables of ``lark`` for this loop, read on first use."""
    found = _TABLES.get(id(lark))
    if found is None:
        found = _TABLES[id(lark)] = _Tables(lark)
    return found


class ResumableParse:
    """Parses a text and, after a change at some line, the same text again from just before that line.

    Each parse keeps its own stacks and indentation levels, so parses in
    several threads share nothing but Lark's read-only tables.
    """

    def __init__(self, lark: Lark):
        self.tables = resume_tables(lark)
        self.snapshots: list[_Snapshot] = []
        self.recording = False

    def parse(self, text: str):
        """The transformer's result for ``text``; raises Lark's UnexpectedInput on a mistake."""
        if not self.recording:
            # The first attempt notes no states: most files are clean.
            self.recording = True
            return self._drive(text, None, record=False)
        return self._drive(text, self.snapshots.pop() if self.snapshots else None, record=True)

    def changed_from(self, line: int) -> None:
        """Lines from ``line`` on will differ in the next text: forget the states noted after them."""
        while self.snapshots and self.snapshots[-1].line >= line:
            self.snapshots.pop()

    def _drive(self, text: str, start: _Snapshot | None, record: bool):
        # One function, every variable a local (no closure: a variable a nested
        # function reads is a cell, slower to read in the loop), one token per
        # turn.  The line breaks, indents and dedents, which every rule leaves
        # out, are fed as None: no token is made for them unless an error or the
        # end of the file needs one (see _made).
        tables = self.tables
        conf = tables.conf
        if start is None:
            pos, line = 0, 1
            state_stack: list = [conf.start_state]
            value_stack: list = []
            levels = [0]
        else:
            pos, line = start.pos, start.line
            state_stack, value_stack, levels = list(start.states), list(start.values), list(start.levels)
            for value, length in zip(value_stack, start.lengths):
                if length is not None:
                    del value.children[length:]
        line_start = text.rfind("\n", 0, pos) + 1
        end = len(text)
        actions = tables.actions
        lexers = tables.lexers
        nl_type, indent_type, dedent_type = tables.nl_type, tables.indent_type, tables.dedent_type
        tab_len = tables.tab_len
        snapshots = self.snapshots
        # The last token the lexer made (Lark's lexer_state.last_token) and the
        # last one given to the parser: a Token, None before the first, or the
        # type of a line break, indent or dedent not made (made from `broken`).
        last: Token | str | None = None
        fed: Token | str | None = None
        broken: tuple = ()  # the last line break: its text, position and indentation
        queued: list[str] = []  # the indents or dedents after a line break (all of one type)
        bad_dedent = ""
        token: Token | None
        while True:
            if queued:
                type_ = fed = queued.pop()
                if not type_:
                    raise DedentError(bad_dedent)
                token = None
            elif pos < end:
                # (unpacked: reading a named tuple's fields by name costs a call each, per token)
                pattern, more, keywords, lexer_callbacks, ignore, newline, unusual = lexers[state_stack[-1]]
                match = pattern.match(text, pos)
                if match is None:
                    for pattern in more:
                        match = pattern.match(text, pos)
                        if match is not None:
                            break
                    else:
                        self._raise_lex_error(text, pos, line, line_start, self._made(last, broken),
                                              state_stack, value_stack)
                type_ = match.lastgroup
                value = match.group(type_)  # (without the blanks before it, skipped in the same match)
                pos = match.end()
                start_pos = pos - len(value)
                column = start_pos - line_start + 1
                if type_ == nl_type:
                    # The indenter (Lark's Indenter.handle_NL): the line break, then
                    # an indent or as many dedents as blocks end here.
                    start_line = line
                    newlines = value.count("\n")
                    if newlines:
                        line += newlines
                        line_start = start_pos + value.rindex("\n") + 1
                    token = None
                    last = fed = type_
                    indent_str = value.rsplit("\n", 1)[1]
                    broken = (value, indent_str, start_pos, start_line, column, line, pos - line_start + 1, pos)
                    if record:
                        snapshots.append(_Snapshot(
                            start_pos, start_line, list(state_stack), list(value_stack),
                            tuple(len(v.children) if isinstance(v, Tree) else None for v in value_stack),
                            list(levels)))
                    indent = indent_str.count(" ") + indent_str.count("\t") * tab_len
                    if indent > levels[-1]:
                        levels.append(indent)
                        queued.append(indent_type)
                    elif indent < levels[-1]:
                        while indent < levels[-1]:
                            levels.pop()
                            queued.append(dedent_type)
                        if indent != levels[-1]:  # raised once the line break is fed, as Lark does
                            bad_dedent = f"Unexpected dedent to column {indent}. Expected dedent to {levels[-1]}"
                            queued.append("")
                elif type_ in unusual:  # ignored, perhaps across lines, or with a callback: as Lark does it
                    start_line = line
                    if type_ in newline:
                        newlines = value.count("\n")
                        if newlines:
                            line += newlines
                            line_start = start_pos + value.rindex("\n") + 1
                    token = _new_token(type_, value, start_pos, start_line, column, line, pos - line_start + 1, pos)
                    if type_ in ignore:
                        if type_ in lexer_callbacks:  # called, as Lark calls it, then dropped
                            lexer_callbacks[type_](token)
                        continue
                    if type_ in keywords:
                        token.type = type_ = keywords[type_].get(value, type_)
                    elif type_ in lexer_callbacks:
                        token = lexer_callbacks[type_](token)
                        type_ = token.type
                    last = fed = token
                else:
                    # On one line, no callback.  Token(type_, value, ...) as Lark
                    # 1.3.1's Token._future_new makes it, without its three calls.
                    if type_ in keywords:
                        type_ = keywords[type_].get(value, type_)
                    token = _str_new(Token, value)
                    token.type = type_
                    token.start_pos = start_pos
                    token.value = value
                    token.line = token.end_line = line
                    token.column = column
                    token.end_column = pos - line_start + 1
                    token.end_pos = pos
                    last = fed = token
            else:
                break
            # Lark's ParserState.feed_token, with the stacks of this parse: reduce
            # as long as the state asks, then shift the token.
            arg = actions[state_stack[-1]].get(type_)
            while arg.__class__ is not int:
                if arg is None:
                    self._raise_unexpected(token if token is not None else self._filtered(type_, broken),
                                           state_stack, value_stack)
                size, origin, callback, how = arg
                if how is _KEEP:
                    if size != 1:
                        value = value_stack[callback - size]
                        del value_stack[-size:]
                        value_stack.append(value)
                        del state_stack[-size:]
                    else:
                        del state_stack[-1]
                elif how is _GROW:
                    value = value_stack.pop()
                    value_stack[-1].children.append(value)  # (Lark reuses the list too: left recursion)
                    del state_stack[-2:]
                elif size:
                    children = value_stack[-size:]
                    del value_stack[-size:]
                    value_stack.append(callback(children))
                    del state_stack[-size:]
                else:
                    value_stack.append(callback([]))
                state_stack.append(actions[state_stack[-1]][origin])
                arg = actions[state_stack[-1]].get(type_)
            state_stack.append(arg)
            value_stack.append(token)
        ending = self._made(last, broken)
        while len(levels) > 1:
            levels.pop()
            fed = Token.new_borrow_pos(dedent_type, "", ending) if ending else Token(dedent_type, "", 0, 0, 0, 0, 0, 0)
            self._feed(fed, state_stack, value_stack)
        fed = self._made(fed, broken)
        # `if fed`, as Lark has it: a token is a str, and an empty one (a dedent) counts as none.
        final = Token.new_borrow_pos("$END", "", fed) if fed else Token("$END", "", 0, 1, 1)
        return self._feed(final, state_stack, value_stack, True)

    def _made(self, token: Token | str | None, broken: tuple) -> Token | None:
        """``token``, or (given its type) the line break, indent or dedent the loop did not make."""
        if token is None or isinstance(token, Token):
            return token
        return self._filtered(token, broken)

    def _filtered(self, type_: str, broken: tuple) -> Token:
        """The line break, indent or dedent of type ``type_`` after the line break ``broken``, as Lark makes it."""
        value, indent_str, *position = broken
        return _new_token(type_, value if type_ == self.tables.nl_type else indent_str, *position)

    def _feed(self, token: Token, state_stack: list, value_stack: list, is_end: bool = False) -> Any:
        """Lark's ParserState.feed_token for the tokens at the end of the file, with the stacks of this parse."""
        actions = self.tables.actions
        type_ = token.type
        while True:
            arg = actions[state_stack[-1]].get(type_)
            if arg is None:
                self._raise_unexpected(token, state_stack, value_stack)
            if arg.__class__ is int:  # shift
                state_stack.append(arg)
                value_stack.append(token)
                return None
            size, origin, callback, how = arg
            children = value_stack[-size:] if size else []
            if size:
                del state_stack[-size:]
                del value_stack[-size:]
            if how is _KEEP:
                value = children[callback]
            elif how is _GROW:
                children[0].children.append(children[1])
                value = children[0]
            else:
                value = callback(children)
            new_state = actions[state_stack[-1]][origin]
            state_stack.append(new_state)
            value_stack.append(value)
            if is_end and new_state == self.tables.conf.end_state:
                return value

    def _parser_state(self, state_stack: list, value_stack: list) -> ParserState:
        no_lexer: Any = None  # the state is only read (its position, for Lark's lexer and the exception)
        return ParserState(self.tables.conf, no_lexer, state_stack, value_stack)

    def _raise_unexpected(self, token: Token, state_stack: list, value_stack: list) -> NoReturn:
        """The error Lark's parser raises for a token its state does not take."""
        expected = {s for s in self.tables.conf.states[state_stack[-1]] if s.isupper()}
        raise UnexpectedToken(token, expected, state=self._parser_state(state_stack, value_stack),
                              interactive_parser=None)

    def _raise_lex_error(self, text: str, pos: int, line: int, line_start: int, last: Token | None,
                         state_stack: list, value_stack: list) -> NoReturn:
        """Text no terminal of this state matches: Lark's contextual lexer raises its own error from here."""
        counter = LineCounter("\n")
        counter.char_pos, counter.line, counter.line_start_pos = pos, line, line_start
        counter.column = pos - line_start + 1
        lexer_state = LexerState(TextSlice(text, 0, len(text)), counter, last)
        next(self.tables.contextual.lex(lexer_state, self._parser_state(state_stack, value_stack)))
        raise AssertionError(f"Lark's lexer took the text at offset {pos} that this loop could not")
