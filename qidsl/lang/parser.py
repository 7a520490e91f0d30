"""Parsing: ``.qi`` text in, a :class:`~qidsl.lang.model.Routine` and diagnostics out.

Lark's grammar, tables and transformer (the model is built while parsing)
do the parsing, run by one loop (:mod:`qidsl.lang.resume`); this module
turns Lark's exceptions into our diagnostics, with expected tokens in words.  After a
syntax error the offending line (and the block under it) is blanked and the
text parsed again, so one run reports every independent mistake; parsing
goes on from just before the mended line (:mod:`qidsl.lang.resume`), so the
time stays linear in the file however many mistakes it holds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import gc
import re
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources

from lark import Lark, Token, Transformer, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.indenter import Indenter

from . import model as m
from .diagnostics import Diagnostic, error
from .numbers import decimal, whole
from .limits import MAX_SYNTAX_ERRORS
from .resume import ResumableParse, resume_tables
from .settings import KNOWN_KEYS
from .statements import KEYWORDS, PHASES

STATEMENTS = KEYWORDS  # every statement's first word, from the table (qidsl.lang.statements)


class _QiIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types: list = []
    CLOSE_PAREN_types: list = []
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 4


class _ReentrantIndenter(_QiIndenter):
    """The indenter Lark is given: each parse keeps its indentation levels in an indenter of its own.

    Lark's Indenter stores the levels of the parse under way on itself, and
    one parser serves every thread (the language server checks documents
    concurrently), so a shared one would mix two parses' levels.  Routines
    are parsed by qidsl.lang.resume's loop, which does the indenter's work
    itself from these settings; Lark's own loop (``_lark().parse``) uses it.
    """

    def process(self, stream):
        return _QiIndenter.process(_QiIndenter(), stream)


# The file name of the parse under way, read by the one shared transformer.
# A context variable is per thread (and per asyncio task), so parses keep no
# shared state and need no lock: the LALR tables, the lexers and the
# transformer's methods are only read, and Lark makes a fresh parser and
# lexer state for every call to parse().
_FILE: ContextVar[str] = ContextVar("qidsl_parse_file", default="<text>")


@lru_cache(maxsize=1)
def _lark() -> Lark:
    # The model is built while parsing (transformer=), which is why positions
    # need not be propagated into a tree: see _ToModel.
    grammar = resources.files("qidsl.grammar").joinpath("qi.lark").read_text(encoding="utf-8")
    parser = Lark(grammar, parser="lalr", postlex=_ReentrantIndenter(), transformer=_ToModel(),
                  maybe_placeholders=False, cache=True)
    parser.parse('title: "warm-up"\n')
    resume_tables(parser)  # the loop's tables (each state's lexer is made when a parse first needs it)
    return parser


# ---------------------------------------------------------------------------
# Source text


@dataclass(frozen=True)
class Source:
    """A routine's text, as read from disk, with the name diagnostics use."""

    file: str
    text: str

    @cached_property
    def lines(self) -> list[str]:
        """The text's lines (split once: each diagnostic shown reads them; read only, never changed)."""
        return self.text.split("\n")


def decode_source(data: bytes, file: str) -> tuple[Source | None, list[Diagnostic]]:
    """Decode UTF-8 (a BOM is allowed); a file that is not UTF-8 gets a diagnostic at the bad byte."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        # The column counts characters, as the line is shown (see display_source).
        column = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        span = m.Span(file, line, column, line, column + 1)
        return None, [error("not-utf8", f"this file is not UTF-8 text (byte 0x{data[exc.start]:02x})",
                            span, "save the file as UTF-8 in your editor")]
    return Source(file, text.replace("\r\n", "\n").replace("\r", "\n")), []


def display_source(data: bytes, file: str) -> Source:
    """A file that is not UTF-8, decoded only to show its lines in diagnostics (bad bytes as \ufffd)."""
    text = data.decode("utf-8", "replace").removeprefix("\ufeff")
    return Source(file, text.replace("\r\n", "\n").replace("\r", "\n"))


# ---------------------------------------------------------------------------
# Layout: tabs and dedents, checked before Lark sees the text


def _is_blank(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _check_layout(lines: list[str], file: str) -> tuple[list[str], list[Diagnostic], set[int]]:
    """Report tabs in indentation and dedents to no known level, and repair them for parsing.

    Returns the lines to parse, the problems, and the numbers of the lines whose indentation was mended.
    """
    problems: list[Diagnostic] = []
    mended: set[int] = set()
    fixed = list(lines)
    levels = [0]
    tabbed = "\t" in "\n".join(lines)  # (most files have none: no look for tabs per line)
    for number, line in enumerate(lines, start=1):
        # (This loop runs once per line of the file: the common line, at the indentation of the
        # line before it, is passed over with one lstrip and two comparisons.)
        code = line.lstrip(" \t")
        if not code or code[0] == "#" or code[0].isspace() and _is_blank(line):
            # Blank to Lark too: a line of form feeds, U+2028 or other characters
            # that str.strip() counts as blank would otherwise set an indentation
            # Lark's indenter sees and this check does not.
            fixed[number - 1] = ""
            continue
        # Lark skips the spaces that open the text, so the first line is at level 0.
        indent = len(line) - len(code) if number > 1 else 0
        if tabbed and "\t" in line[:len(line) - len(code)]:
            indent_text = line[:len(line) - len(code)]
            col = indent_text.index("\t") + 1
            problems.append(error("tab-indent", "a tab is used for indentation",
                                  m.Span(file, number, col, number, len(indent_text) + 1),
                                  "indent with spaces only"))
            indent_text = indent_text.replace("\t", "    ")
            fixed[number - 1] = indent_text + code
            mended.add(number)
            indent = len(indent_text) if number > 1 else 0
        if indent == levels[-1]:
            continue
        if indent > levels[-1]:
            levels.append(indent)
        else:
            open_levels = list(levels)
            while levels[-1] > indent:
                levels.pop()
            if levels[-1] != indent:
                known = ", ".join(str(level) for level in open_levels[:-1]) + f" or {open_levels[-1]}"
                problems.append(error("bad-dedent", "this line's indentation matches no enclosing block",
                                      m.Span(file, number, 1, number, indent + 1),
                                      f"indent it by {known} spaces, like a line above it"))
                # Mend the line to the nearest open level (3 spaces in a 4-space block
                # was meant as 4), so the lines after it are not blamed too.
                nearest = min(open_levels, key=lambda level: (abs(level - indent), -level))
                levels = open_levels[: open_levels.index(nearest) + 1]
                fixed[number - 1] = " " * nearest + code
                mended.add(number)
    return fixed, problems, mended


# ---------------------------------------------------------------------------
# Lark errors in words

_TERMINAL_WORDS = {
    "STRING": "quoted text",
    "DURATION": "a duration such as 4s",
    "NUMBER": "a duration such as 4s",
    "INT": "a whole number",
    "PATTERN": "a breath pattern such as 4-7-8",
    "TIMES_COUNT": "a count such as x3",
    "NAME": "a name",
    "SETTING_KEY": "a setting such as title:",
    "SETTING_TEXT": "a value",
    "_NL": "the end of the line",
    "_INDENT": "an indented block",
    "_DEDENT": "the end of the block",
    "$END": "the end of the file",
    "COUNTED": "'counted'",
    "CLOCK": "a time in the clip such as 0:12",
}


def _describe_expected(expected: set[str]) -> str:
    if "COLON" in expected:
        # The lexer lets a line end anywhere (the indenter must see every newline), so
        # Lark lists it among the expected endings even where only ':' may end the line.
        expected = expected - {"_NL"}
    terminals = {t.name: t for t in _lark().terminals}
    words = []
    for name in sorted(expected):
        if name in _TERMINAL_WORDS:
            words.append(_TERMINAL_WORDS[name])
        elif name in terminals and terminals[name].pattern.type == "str":
            words.append(f"'{terminals[name].pattern.value}'")
        else:
            words.append(name.lower())
    words = list(dict.fromkeys(words))
    if len(words) > 6:
        return "a statement"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


# The parser makes a span for nearly every token it keeps, and a text, a
# duration and a statement for most lines: made without the frozen
# dataclasses' __init__ (see qidsl.lang.model.frozen_builder), every field given.
_new_span = m.frozen_builder(m.Span)
_new_text = m.frozen_builder(m.Text)
_new_duration = m.frozen_builder(m.Duration)
_new_say = m.frozen_builder(m.Say)
_new_note = m.frozen_builder(m.Note)
_new_breath = m.frozen_builder(m.Breath)


def _token_span(file: str, token: Token) -> m.Span:
    # Lark types a token's position Optional (a token made by hand has none); the lexer's always have one.
    return _new_span(file, token.line, token.column, token.end_line or token.line,
                     token.end_column or token.column + len(token))  # type: ignore[operator]


def _first_column(line: str) -> int:
    return len(line) - len(line.lstrip(" ")) + 1


_WORD = re.compile(r"[^\W\d][\w-]*")
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_QUOTE_LIKE = "'‘’“”«»„"


def _code_end(line: str) -> int:
    """The column just after the last character of code on a line (a trailing comment excluded)."""
    index = 0
    while index < len(line):
        char = line[index]
        if char == '"':
            closed = _STRING.match(line, index)
            if not closed:
                break
            index = closed.end()
            continue
        if char == "#":
            return len(line[:index].rstrip()) + 1
        index += 1
    return len(line.rstrip()) + 1


def _leading_word(line: str) -> tuple[str, int] | None:
    """The word a line starts with, and its column."""
    column = _first_column(line)
    word = _WORD.match(line, column - 1)
    return (word.group(0), column) if word else None


def _unquoted_text(file: str, number: int, line: str, column: int) -> Diagnostic:
    """Text written without double quotes: underline all of it and show it quoted."""
    end = _code_end(line)
    lead = _leading_word(line)
    if lead and lead[0] in ("section", "define") and line[:end - 1].endswith(":"):
        end -= 1  # the block's colon is not part of the name
    written = line[column - 1:end - 1].rstrip()
    span = m.Span(file, number, column, number, column + max(1, len(written)))
    inner = written.strip(_QUOTE_LIKE) if len(written) > 1 and written[0] in _QUOTE_LIKE else written
    return error("text-not-quoted", "text must be in double quotes", span,
                 f"write {quote_text(inner)}")


# (?<!\d): a search starting inside a run of digits fails at once, so a long run
# of digits costs its length, not its length squared.
_SPACED_UNIT = re.compile(r"(?<!\d)(\d+(?:\.\d+)?)\s+$")
_UNIT_WORDS = {"s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
               "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m", "h": "h"}


def _spaced_unit(file: str, number: int, line: str, column: int) -> Diagnostic | None:
    """``hold 10 s`` or ``pause 2 minutes``: a duration split by a space, or with its unit spelt out."""
    unit = re.match(r"[A-Za-z]+", line[column - 1:])
    amount = _SPACED_UNIT.search(line[:column - 1])
    if not unit or not amount or unit.group(0).lower() not in _UNIT_WORDS:
        return None
    start = amount.start() + 1
    span = m.Span(file, number, start, number, column + len(unit.group(0)))
    written = f"{amount.group(1)}{_UNIT_WORDS[unit.group(0).lower()]}"
    return error("spaced-duration", "a duration is written as one word, with a short unit", span,
                 f"write {written}")


# `repeat 3x:` too: `breathe 4-7-8 x3` writes its count with an x.
_REPEAT_TIMES = re.compile(r"\s*repeat\s+(\d+)(?:\s+(times?|rounds?)|\s*([x×]))(?!\w)")


def _repeat_times(file: str, number: int, line: str, column: int) -> Diagnostic | None:
    """``repeat 3 times:``: the word after a repeat's count (``do "x" 3 times`` is the one with 'times')."""
    match = _REPEAT_TIMES.match(line)
    if not match:
        return None
    word = 2 if match.group(2) else 3
    if match.start(word) + 1 != column:
        return None
    span = m.Span(file, number, column, number, match.end(word) + 1)
    rest = line[match.end(word):_code_end(line) - 1].strip()
    counted = " counted" if rest.startswith("counted") else ""
    why = " (an x count is for a breath pattern: breathe 4-7-8 x3)" if word == 3 else ""
    return error("repeat-times", f"a repeat's count is written without '{match.group(word)}'", span,
                 f"write repeat {match.group(1)}{counted}:{why}")


def _variant_header(file: str, number: int, line: str, column: int, width: int) -> Diagnostic | None:
    """A ``for``/``unless`` line whose variant names are missing, quoted, or not separated by commas."""
    lead = _leading_word(line)
    if not lead or lead[0] not in ("for", "unless") or column <= lead[1]:
        return None
    keyword = lead[0]
    written = line[lead[1] - 1 + len(keyword):_code_end(line) - 1].strip().rstrip(":").strip()
    names = [n.strip(_QUOTE_LIKE + '"') for n in re.split(r"[,\s]+", written)]
    names = [n for n in names if _WORD.fullmatch(n)]
    span = m.Span(file, number, column, number, column + max(1, width))
    if not names:
        return error("bad-variant-block", f"'{keyword}' needs the names of the variants it plays in", span,
                     f"write for example: {keyword} seated:")
    example = f"{keyword} {', '.join(names)}:"
    if "," not in written and len(names) > 1 and '"' not in written:
        return error("bad-variant-block", "separate the variants with commas", span, f"write {example}")
    return error("bad-variant-block", f"'{keyword}' is followed by variant names, one word each, "
                 "separated by commas", span, f"write {example}")


def _sides_header(file: str, number: int, line: str, column: int, width: int) -> Diagnostic | None:
    """``each side left right:``: the sides of an ``each side`` line not separated by commas."""
    lead = _leading_word(line)
    header = re.match(r"\s*each\s+side\s+", line)
    if not lead or lead[0] != "each" or not header or column <= header.end():
        return None
    written = line[header.end():_code_end(line) - 1].strip().rstrip(":").strip()
    names = [n for n in re.split(r"[,\s]+", written) if n]
    if len(names) < 2 or "," in written or '"' in written or not all(_WORD.fullmatch(n) for n in names):
        return None
    return error("syntax", "separate the sides with commas", m.Span(file, number, column, number, column + width),
                 f"write each side {', '.join(names)}:")


_PHASE_WORDS = tuple(kind.keyword for kind in PHASES)


def _misplaced_to(file: str, number: int, line: str, column: int) -> Diagnostic | None:
    """``say "…" to "standing"``: ``to`` (moving the figure) on a statement that takes no time of its own."""
    lead = _leading_word(line)
    found = re.match(r'to(?![\w-])\s*("(?:[^"\\\n]|\\.)*")?', line[column - 1:])
    if not lead or not found or lead[0] in _PHASE_WORDS:
        return None
    span = m.Span(file, number, column, number, column + len(found.group(0).rstrip()))
    target = found.group(1) or '"…"'
    if lead[0] == "breathe":
        hint = (f"set the pose before it with: pose {target}, or write the pattern out as inhale, hold "
                f"and exhale lines, with to {target} on the one that moves")
    else:
        hint = f"set the pose on a line of its own with: pose {target}"
    what = "a breath pattern" if lead[0] == "breathe" else f"'{lead[0]}'"
    return error("to-not-here", f"{what} cannot move the figure: only a breath phase, hold or stay takes 'to'",
                 span, hint)


def quote_text(text: str) -> str:
    """``text`` as a .qi string: in double quotes, with ``\\`` and ``\"`` escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _suggest(word: str, vocabulary) -> str | None:
    close = difflib.get_close_matches(word.lower(), vocabulary, n=1, cutoff=0.6)
    return close[0] if close else None


def _translate(exc: UnexpectedInput, lines: list[str], file: str) -> Diagnostic:
    """One Lark exception as a diagnostic in words, underlining the whole offending token."""
    if isinstance(exc, UnexpectedCharacters):
        line = lines[exc.line - 1] if exc.line - 1 < len(lines) else ""
        char = line[exc.column - 1: exc.column] or "?"
        allowed = set(exc.allowed or ())
        if char == '"':
            closed = _STRING.match(line, exc.column - 1)
            if not closed:
                return error("unclosed-text", "this text has no closing quote",
                             m.Span(file, exc.line, exc.column, exc.line, len(line.rstrip()) + 1),
                             'end the text with " on the same line')
            return error("syntax", f"text is not expected here; expected {_describe_expected(allowed)}",
                         m.Span(file, exc.line, exc.column, exc.line, closed.end() + 1))
        word = re.match(r"[^\s\"#:,]+", line[exc.column - 1:])
        width = len(word.group(0)) if word else 1
        span = m.Span(file, exc.line, exc.column, exc.line, exc.column + width)
        spaced = (_spaced_unit(file, exc.line, line, exc.column) or _repeat_times(file, exc.line, line, exc.column)
                  or _misplaced_to(file, exc.line, line, exc.column)
                  or _variant_header(file, exc.line, line, exc.column, width)
                  or _sides_header(file, exc.line, line, exc.column, width))
        if spaced is not None:
            return spaced
        if "STRING" in allowed and word:
            return _unquoted_text(file, exc.line, line, exc.column)
        if exc.column == _first_column(line) and word:
            return _unknown_statement(word.group(0), span, lines)
        return error("syntax", f"unexpected '{word.group(0) if word else char}' here; expected "
                     f"{_describe_expected(allowed)}", span)
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        expected = set(exc.expected)
        if token.type in ("_INDENT", "_DEDENT"):
            line_no = token.end_line or token.line
            line = lines[line_no - 1] if line_no - 1 < len(lines) else ""
            col = _first_column(line)
            span = m.Span(file, line_no, col, line_no, len(line.rstrip()) + 1)
            if token.type == "_INDENT":
                return error("unexpected-indent", "this line is indented but no block opens above it",
                             span, "only a line ending with ':' (section, repeat, each side, define, "
                             "for, unless) opens an indented block")
            return error("syntax", f"the block ends too early; expected {_describe_expected(expected)}", span)
        if token.type == "$END":
            last = len(lines)
            return error("syntax", f"the file ends too early; expected {_describe_expected(expected)}",
                         m.Span(file, last, 1, last, 1))
        span = _token_span(file, token)
        line = lines[token.line - 1] if token.line - 1 < len(lines) else ""
        lead = _leading_word(line)
        if lead and token.column > lead[1] and lead[0] not in STATEMENTS \
                and not line[lead[1] - 1 + len(lead[0]):].lstrip().startswith(":"):
            # The line starts with a word that is no statement (at the top of a
            # file it was read as a setting's name): that word is the mistake.
            name, column = lead
            lead_span = m.Span(file, token.line, column, token.line, column + len(name))
            if name in KNOWN_KEYS:
                value = line[column - 1 + len(name):_code_end(line) - 1].strip()
                return error("missing-colon", f"the setting '{name}' needs ':' after its name", lead_span,
                             f"write {name}: {value}" if value else f"write ':' and the value after '{name}'")
            return _unknown_statement(name, lead_span, lines)
        if token.type == "_NL":
            end = _code_end(line)
            span = m.Span(file, token.line, end, token.line, end + 1)
            if "COLON" in expected:
                return error("missing-colon", "a block's first line must end with ':'", span,
                             "add ':' at the end of the line")
            if "TIMES_COUNT" in expected:
                return error("missing-count", "a breath pattern needs a count", span,
                             "add how many times, for example: breathe 4-7-8 x3")
            if "SETTING_TEXT" in expected and lead:
                return error("empty-setting", f"the setting '{lead[0]}' has no value", span,
                             f'write for example {lead[0]}: "…"')
            return error("syntax", f"this line ends too early; expected {_describe_expected(expected)}", span)
        at_line_start = token.column == _first_column(line)
        if at_line_start and token.type not in ("STRING",) and re.match(r"\w", str(token)):
            rest = line[token.end_column - 1:].lstrip()
            if str(token) in KNOWN_KEYS and rest.startswith(":"):
                return error("late-setting", f"the setting '{token}' must come before the first statement",
                             span, "move it up to the settings at the top of the file")
            if str(token) not in STATEMENTS:
                return _unknown_statement(str(token), span, lines)
        spaced = (_spaced_unit(file, token.line, line, token.column)
                  or _repeat_times(file, token.line, line, token.column)
                  or _misplaced_to(file, token.line, line, token.column)
                  or _variant_header(file, token.line, line, token.column, span.end_column - span.column)
                  or _sides_header(file, token.line, line, token.column, span.end_column - span.column))
        if spaced is not None:
            return spaced
        if "STRING" in expected and token.type != "STRING":
            return _unquoted_text(file, token.line, line, token.column)
        if expected & {"DURATION", "NUMBER"}:
            return error("bad-duration", f"'{token}' is not a duration", span,
                         "write a number with a unit: 4s, 1.5s, 2m or 1m30s")
        if "INT" in expected:
            return error("bad-number", f"'{token}' is not a whole number", span)
        if "TIMES_COUNT" in expected:
            return error("missing-count", "a breath pattern needs a count", span, "write for example x3")
        if "PATTERN" in expected:
            written = re.match(r"[^\s#]*", line[token.column - 1:]).group(0) or str(token)  # type: ignore[union-attr]  # * always matches
            span = m.Span(file, token.line, token.column, token.line, token.column + len(written))
            return error("bad-pattern", f"'{written}' is not a breath pattern", span,
                         "write inhale-hold-exhale seconds, such as 4-7-8 or 4-4-4-4")
        return error("syntax", f"unexpected '{token}' here; expected {_describe_expected(expected)}", span)
    if isinstance(exc, UnexpectedEOF):  # pragma: no cover - the Indenter always ends with $END
        last = len(lines)
        return error("syntax", "the file ends too early", m.Span(file, last, 1, last, 1))
    raise exc  # pragma: no cover


def _unknown_statement(word: str, span: m.Span, lines: list[str]) -> Diagnostic:
    guess = _suggest(word, STATEMENTS)
    if word.lower() in STATEMENTS:  # wrong case: Say, INHALE
        guess = word.lower()
    hint = f"did you mean '{guess}'?" if guess else \
        "statements are: " + ", ".join("each side" if s == "each" else s for s in STATEMENTS)
    return error("unknown-statement", f"unknown statement '{word}'", span, hint)


_PLACEHOLDER = 'note "…"'
_BLOCK_PLACEHOLDER = "repeat 1:"
_SIDES_PLACEHOLDER = f'each side "{m.UNKNOWN_SIDE}":'  # keeps {side} known inside a broken `each side` header


def _opens_block(lines: list[str], number: int) -> bool:
    """Whether the next non-blank line after ``number`` is indented deeper (a block under it)."""
    indent = _indent_width(lines[number - 1])
    for index in range(number, len(lines)):  # (no slice: that copied the rest of the file)
        if not _is_blank(lines[index]):
            return _indent_width(lines[index]) > indent
    return False


def _indent_width(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _move_back(diagnostic: Diagnostic, shift: int, indent: int) -> Diagnostic:
    """A diagnostic found on a mended line, with its columns as the line is written."""
    span = diagnostic.span
    if span.column <= indent or span.end_line != span.line:
        return diagnostic
    return dataclasses.replace(diagnostic, span=dataclasses.replace(
        span, column=span.column - shift, end_column=span.end_column - shift))


def _repair(lines: list[str], diagnostic: Diagnostic) -> bool:
    """Mend a wrong line so that parsing can go on and report what follows it.

    A missing ':' is added.  Any other wrong line inside a block (with the
    lines under it) gives way to a silent placeholder, so its block is not
    also reported as empty; at the top level it is blanked.  Returns False
    when the line was only blanked.
    """
    span = diagnostic.span
    line = lines[span.line - 1]
    if diagnostic.code == "repeat-times":  # drop the word, keep the count and the block
        lines[span.line - 1] = line[:span.column - 1] + " " * (span.end_column - span.column) + line[span.end_column - 1:]
        return True
    if diagnostic.code == "empty-setting":
        lines[span.line - 1] = line[:_code_end(line) - 1].rstrip() + ' "…"'
        return True
    if diagnostic.code != "missing-colon":
        indent = _first_column(line) - 1
        if diagnostic.code != "unexpected-indent" and _opens_block(lines, span.line):
            # A wrong block header: keep its block under a neutral header, so
            # the mistakes inside the block are found in the same run.
            sides = line.lstrip().startswith("each")
            lines[span.line - 1] = " " * indent + (_SIDES_PLACEHOLDER if sides else _BLOCK_PLACEHOLDER)
            return True
        _blank_lines(lines, span.line)
        if indent and diagnostic.code != "unexpected-indent":
            lines[span.line - 1] = " " * indent + _PLACEHOLDER
            return True
        return False
    # A setting's span is its name (the colon goes after it); a block header's
    # span is the place just after its last character.
    at = span.end_column if span.column == _first_column(line) else span.column
    lines[span.line - 1] = line[:at - 1] + ":" + line[at - 1:]
    return True


def _blank_lines(lines: list[str], number: int) -> None:
    """Blank line ``number`` and the lines indented under it (its block), keeping positions."""
    line = lines[number - 1]
    indent = len(line) - len(line.lstrip(" "))
    lines[number - 1] = ""
    for index in range(number, len(lines)):
        following = lines[index]
        if _is_blank(following):
            continue
        if len(following) - len(following.lstrip(" ")) <= indent:
            break
        lines[index] = ""


# ---------------------------------------------------------------------------
# Tree to model


@lru_cache(maxsize=4096)  # a routine writes the same few durations (4s, 1m) thousands of times
def _duration_seconds(text: str) -> float:
    total = 0.0
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)([hms])", text):
        total += decimal(amount) * {"h": 3600, "m": 60, "s": 1}[unit]
    return total


_ESCAPE = re.compile(r"\\(.)")


def unquote(token: str) -> str:
    """The text inside a STRING token: ``\\"`` is a quote, ``\\\\`` a backslash."""
    if "\\" not in token:
        return token[1:-1]
    return _ESCAPE.sub(lambda match: match.group(1) if match.group(1) in '"\\' else match.group(0),
                       token[1:-1])


def _quoted(file: str, token: Token) -> m.Text:
    """The Text of a STRING token (made by the lexer, so its position is whole)."""
    return _new_text(unquote(token.value), _new_span(file, token.line, token.column, token.end_line, token.end_column))


def _end(child) -> tuple[int, int]:
    """Where a child of a rule ends: a token, a model node or a block's body."""
    if isinstance(child, Token):
        return child.end_line, child.end_column  # type: ignore[return-value]  # the lexer's tokens have positions
    if isinstance(child, tuple):
        return _end(child[-1])
    return child.span.end_line, child.span.end_column


class _ToModel(Transformer):
    """Maps every grammar rule onto a model node.  Unknown rules raise (see __default__).

    It runs inside the LALR parser (Lark's ``transformer=`` option), so no
    parse tree is built: this roughly halves the time to parse a routine.
    Positions come from the tokens: statement rules keep their keyword token
    (``!`` in the grammar), so a statement's span runs from its keyword to
    its last token, or for a block to the end of its last statement.
    """

    @property
    def file(self) -> str:
        """The file being parsed in this thread (set by parse_source)."""
        return _FILE.get()

    # Lark's helper rules only pass their list on (below): the parser's loop
    # grows the list of one in place instead of asking for a new tree per item.
    helper_trees_pass_on = True

    def __default__(self, data, children, meta):
        if data.startswith("_"):
            # Lark's own helper rules (`x*` becomes __start_star_0); the rule
            # using them splices their children in, as it does for a tree.
            return Tree(data, children)
        raise NotImplementedError(f"grammar rule {data!r} has no model mapping")

    def _span(self, children) -> m.Span:
        first = children[0]
        last = children[-1]
        if last.__class__ is Token:  # (most statements end with a token: no call to _end)
            return _new_span(_FILE.get(), first.line, first.column, last.end_line, last.end_column)
        if last.__class__ is tuple and not last:  # an empty block ends with its header
            last = children[-2]
        end_line, end_column = _end(last)
        return _new_span(_FILE.get(), first.line, first.column, end_line, end_column)

    def _text(self, token: Token) -> m.Text:
        return _quoted(_FILE.get(), token)

    def start(self, children):
        settings = tuple(c for c in children if isinstance(c, m.Setting))
        body = tuple(c for c in children if not isinstance(c, m.Setting))
        return settings, body

    def setting(self, children):
        key, value = children[0], children[1]
        quoted = value.type == "STRING"
        text = unquote(str(value)) if quoted else str(value).strip()
        value_span = _token_span(self.file, value)
        if not quoted:  # an unquoted value ends at its last visible character
            value_span = m.Span(self.file, value.line, value.column, value.line, value.column + len(text))
        span = m.Span(self.file, key.line, key.column, value_span.end_line, value_span.end_column)
        return m.Setting(str(key), text, quoted, span, value_span)

    # The statements of most lines (say, note, a timed phase) and their durations are made
    # with the file read once and no helper but _quoted: they are most of a routine.
    # (A token's .value is the text it matched, the str that str(token) copies.)

    def duration(self, children):
        token = children[0]
        span = _new_span(_FILE.get(), token.line, token.column, token.end_line, token.end_column)
        if token.type == "NUMBER":
            return _new_duration(decimal(token.value), span, True)
        return _new_duration(_duration_seconds(token.value), span, False)

    def say(self, children):
        keyword, text = children
        file = _FILE.get()
        return _new_say(_quoted(file, text), _new_span(file, keyword.line, keyword.column, text.end_line,
                                                       text.end_column))

    def note(self, children):
        keyword, text = children
        file = _FILE.get()
        return _new_note(_quoted(file, text), _new_span(file, keyword.line, keyword.column, text.end_line,
                                                        text.end_column))

    def _breath(self, children):
        file = _FILE.get()
        keyword, last = children[0], children[-1]
        to = last if last.__class__ is m.Text else None  # `… to "pose"` (see target)
        text = _quoted(file, children[2]) if len(children) > 2 and children[2].__class__ is Token else None
        end = last if last.__class__ is Token else last.span  # a text token, a target's Text or the Duration
        return _new_breath(keyword.value, children[1], text,
                           _new_span(file, keyword.line, keyword.column, end.end_line, end.end_column), to)

    def target(self, children):
        return self._text(children[0])

    def pose_base(self, children):
        return self._text(children[-1])  # after the FROM token (one terminal serves backdrop's `from` too)

    def angle(self, children):
        joint, value = children
        written = str(value).replace("\u2212", "-").removesuffix("\u00b0")
        joint_span, value_span = _token_span(self.file, joint), _token_span(self.file, value)
        span = m.Span(self.file, joint.line, joint.column, value_span.end_line, value_span.end_column)
        sign = -1.0 if written.startswith("-") else 1.0
        return m.Angle(str(joint), sign * decimal(written.lstrip("+-")), span, joint_span, value_span)

    def pose(self, children):
        base = next((c for c in children if c.__class__ is m.Text), None)
        angles = tuple(c for c in children if isinstance(c, m.Angle))
        defines = any(c.__class__ is Token and c.type == "COLON" for c in children)
        return m.Pose(self._text(children[1]), base, angles, defines, self._span(children))

    def pause(self, children):
        return m.Pause(children[1], self._span(children))

    def bell(self, children):
        return m.Bell(children[1] if len(children) > 1 else None, self._span(children))

    def breathe(self, children):
        _, pattern, count = children
        parts = [decimal(p) for p in str(pattern).split("-")]
        hold_after = parts[3] if len(parts) == 4 else None
        return m.BreathPattern(parts[0], parts[1], parts[2], hold_after, whole(re.sub(r"\D", "", str(count))),
                               self._span(children), _token_span(self.file, pattern),
                               _token_span(self.file, count))

    def do(self, children):
        times = children[2] if len(children) > 2 else None
        return m.Do(self._text(children[1]), whole(str(times)) if times is not None else 1, self._span(children),
                    _token_span(self.file, times) if times is not None else None)

    def include(self, children):
        return m.Include(self._text(children[1]), self._span(children))

    def backdrop(self, children):
        file = children[1]
        start = None
        if len(children) > 2:  # `from` and a time: m:ss, or a duration such as 12s
            token = children[-1]
            if token.type == "CLOCK":
                minutes, seconds = str(token).split(":")
                value = decimal(minutes) * 60 + decimal(seconds)
            else:
                value = _duration_seconds(str(token))
            start = _new_duration(value, _token_span(self.file, token), False)
        quoted = file.type == "STRING"
        text = self._text(file) if quoted else m.Text(str(file), _token_span(self.file, file))
        return m.Backdrop(text, quoted, start, self._span(children))

    def body(self, children):
        return tuple(children)

    def section(self, children):
        return m.Section(self._text(children[1]), children[-1], self._span(children))

    def define(self, children):
        return m.Define(self._text(children[1]), children[-1], self._span(children))

    def repeat(self, children):
        count = children[1]
        counted = any(isinstance(c, Token) and c.type == "COUNTED" for c in children)
        return m.Repeat(whole(str(count)), counted, children[-1], self._span(children), _token_span(self.file, count))

    def sides(self, children):
        names = []
        for child in children[2:-1]:
            if child.type == "COMMA":
                continue
            if child.type == "STRING":
                names.append(self._text(child))
            else:
                names.append(m.Text(str(child), _token_span(self.file, child)))
        return m.Sides(tuple(names), children[-1], self._span(children))

    def _variants(self, children, unless: bool):
        names = tuple(m.Text(str(c), _token_span(self.file, c)) for c in children[1:-1] if c.type == "NAME")
        return m.ForVariants(names, unless, children[-1], self._span(children))

    def only(self, children):
        return self._variants(children, unless=False)

    def unless(self, children):
        return self._variants(children, unless=True)


# Every timed phase of the table (inhale, exhale, hold, stay…) is made the same way.
for _phase in PHASES:
    setattr(_ToModel, _phase.rule, _ToModel._breath)


# ---------------------------------------------------------------------------
# Entry points


@dataclass(frozen=True)
class ParseResult:
    """The routine (None only when nothing could be read) and every problem found while parsing."""

    routine: m.Routine | None
    diagnostics: tuple[Diagnostic, ...]


@contextlib.contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while the front end runs.

    Parsing and expanding make many small objects that live until the end,
    and the collector kept walking them: pausing it made `qidsl check` on a
    10,000-line routine about a third faster (benchmarks/check_speed.py), and
    keeps parsing linear (with it on, 200,000 lines parsed a third slower per
    line than 50,000).  Whatever cyclic garbage is left is collected once it
    resumes.

    On resuming, the objects made meanwhile are moved to the oldest
    generation (``gc.freeze()`` then ``gc.unfreeze()``, which moves lists, not
    objects): left young, the first collection after the pause walked every
    one of them, 0.8 s after checking 200,000 lines.  The oldest generation
    is collected in full only as it grows by a quarter, so cycles among them
    are still freed, at a cost proportional to what was made.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def parse_source(source: Source) -> ParseResult:
    """Parse a routine's text, recovering from syntax errors to report them all."""
    with gc_paused():
        return _parse_source(source)


def _parse_source(source: Source) -> ParseResult:
    file = source.file
    if not source.text.strip():
        return ParseResult(None, (error("empty-file", "this file is empty", m.Span(file, 1, 1, 1, 1),
                                        'start with a title, for example: title: "Morning Qigong"'),))
    lines, problems, mended = _check_layout(source.lines, file)
    # Lines whose indentation the layout check mended (tabs, bad dedents):
    # how many columns it moved their text, to point into the line as written.
    moved = {number: _indent_width(lines[number - 1]) - _indent_width(source.lines[number - 1])
             for number in mended if lines[number - 1] != source.lines[number - 1]}
    parsed = None
    parser = _lark()
    # After a mend, parsing goes on from just before it.
    attempt = ResumableParse(parser)
    repaired: set[int] = set()
    for _ in range(2 * MAX_SYNTAX_ERRORS + 1):
        try:
            token = _FILE.set(file)
            try:
                parsed = attempt.parse("\n".join(lines) + "\n")
            finally:
                _FILE.reset(token)
            break
        except UnexpectedInput as exc:
            diagnostic = _translate(exc, lines, file)
            number = diagnostic.span.line
            if number in moved:
                diagnostic = _move_back(diagnostic, moved[number], _indent_width(lines[number - 1]))
            if len(problems) >= MAX_SYNTAX_ERRORS:
                break
            if number > len(lines) or not lines[number - 1].strip():
                problems.append(diagnostic)
                break
            attempt.changed_from(number)  # a mend changes this line and the lines under it
            if number in repaired:
                # The repair did not make the line right: drop it, without a
                # second message about the same line.
                _blank_lines(lines, number)
                continue
            problems.append(diagnostic)
            if _repair(lines, diagnostic):
                repaired.add(number)
    if parsed is None:
        return ParseResult(None, tuple(problems))
    settings, body = parsed
    return ParseResult(m.Routine(file, settings, body), tuple(problems))


def parse_text(text: str, file: str = "<text>") -> ParseResult:
    """Parse ``text`` as a routine named ``file`` in diagnostics."""
    return parse_source(Source(file, text.replace("\r\n", "\n").replace("\r", "\n")))
