"""Parsing: ``.qi`` text in, a :class:`~qidsl.model.Routine` and diagnostics out.

Lark (LALR, positions propagated) does the parsing; this module turns its
exceptions into our diagnostics, with expected tokens in words.  After a
syntax error the offending line (and the block under it) is blanked and the
text parsed again, so one run reports every independent mistake.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.indenter import Indenter

from . import model as m
from .diagnostics import Diagnostic, error
from .settings import KNOWN_KEYS

STATEMENTS = (
    "say", "inhale", "exhale", "hold", "pause", "bell", "note", "breathe",
    "do", "include", "section", "repeat", "each", "define",
)
MAX_SYNTAX_ERRORS = 50


class _QiIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types: list = []
    CLOSE_PAREN_types: list = []
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 4


@lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = resources.files("qidsl.grammar").joinpath("qi.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", postlex=_QiIndenter(), propagate_positions=True,
                maybe_placeholders=False)


# ---------------------------------------------------------------------------
# Source text


@dataclass(frozen=True)
class Source:
    """A routine's text, as read from disk, with the name diagnostics use."""

    file: str
    text: str

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")


def decode_source(data: bytes, file: str) -> tuple[Source | None, list[Diagnostic]]:
    """Decode UTF-8 (a BOM is allowed); a file that is not UTF-8 gets a diagnostic at the bad byte."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        span = m.Span(file, line, column, line, column + 1)
        return None, [error("not-utf8", f"this file is not UTF-8 text (byte 0x{data[exc.start]:02x})",
                            span, "save the file as UTF-8 in your editor")]
    return Source(file, text.replace("\r\n", "\n").replace("\r", "\n")), []


# ---------------------------------------------------------------------------
# Layout: tabs and dedents, checked before Lark sees the text


def _is_blank(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _check_layout(lines: list[str], file: str) -> tuple[list[str], list[Diagnostic]]:
    """Report tabs in indentation and dedents to no known level, and repair them for parsing."""
    problems: list[Diagnostic] = []
    fixed = list(lines)
    levels = [0]
    for number, line in enumerate(lines, start=1):
        if _is_blank(line):
            continue
        indent_text = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent_text:
            col = indent_text.index("\t") + 1
            problems.append(error("tab-indent", "a tab is used for indentation",
                                  m.Span(file, number, col, number, len(indent_text) + 1),
                                  "indent with spaces only"))
            indent_text = indent_text.replace("\t", "    ")
            fixed[number - 1] = indent_text + line.lstrip(" \t")
        indent = len(indent_text)
        if indent > levels[-1]:
            levels.append(indent)
        elif indent < levels[-1]:
            while levels[-1] > indent:
                levels.pop()
            if levels[-1] != indent:
                known = " or ".join(str(level) for level in levels)
                problems.append(error("bad-dedent", "this line's indentation matches no enclosing block",
                                      m.Span(file, number, 1, number, indent + 1),
                                      f"indent it by {known} spaces, like a line above it"))
                fixed[number - 1] = " " * levels[-1] + line.lstrip(" \t")
    return fixed, problems


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
}


def _describe_expected(expected: set[str]) -> str:
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


def _token_span(file: str, token: Token) -> m.Span:
    return m.Span(file, token.line, token.column, token.end_line or token.line,
                  token.end_column or token.column + len(token))


def _first_column(line: str) -> int:
    return len(line) - len(line.lstrip(" ")) + 1


def _suggest(word: str, vocabulary) -> str | None:
    close = difflib.get_close_matches(word.lower(), vocabulary, n=1, cutoff=0.6)
    return close[0] if close else None


def _translate(exc: UnexpectedInput, lines: list[str], file: str) -> Diagnostic:
    """One Lark exception as a diagnostic in words, underlining the whole offending token."""
    if isinstance(exc, UnexpectedCharacters):
        line = lines[exc.line - 1] if exc.line - 1 < len(lines) else ""
        char = line[exc.column - 1: exc.column] or "?"
        if char == '"':
            return error("unclosed-text", "this text has no closing quote",
                         m.Span(file, exc.line, exc.column, exc.line, len(line) + 1),
                         'end the text with " on the same line')
        word = re.match(r"[^\s\"#:,]+", line[exc.column - 1:])
        width = len(word.group(0)) if word else 1
        span = m.Span(file, exc.line, exc.column, exc.line, exc.column + width)
        allowed = set(exc.allowed or ())
        if "STRING" in allowed and word:
            return error("text-not-quoted", "text must be in double quotes", span,
                         f'write "{word.group(0)}"')
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
                             span, "only a line ending with ':' (section, repeat, each side, define) "
                             "opens an indented block")
            return error("syntax", f"the block ends too early; expected {_describe_expected(expected)}", span)
        if token.type == "$END":
            last = len(lines)
            return error("syntax", f"the file ends too early; expected {_describe_expected(expected)}",
                         m.Span(file, last, 1, last, 1))
        span = _token_span(file, token)
        line = lines[token.line - 1] if token.line - 1 < len(lines) else ""
        if token.type == "_NL":
            end = len(line.split("#")[0].rstrip()) + 1
            span = m.Span(file, token.line, end, token.line, end + 1)
            if "COLON" in expected:
                return error("missing-colon", "a block's first line must end with ':'", span,
                             "add ':' at the end of the line")
            return error("syntax", f"this line ends too early; expected {_describe_expected(expected)}", span)
        at_line_start = token.column == _first_column(line)
        if at_line_start and token.type not in ("STRING",) and re.match(r"\w", str(token)):
            rest = line[token.end_column - 1:].lstrip()
            if str(token) in KNOWN_KEYS and rest.startswith(":"):
                return error("late-setting", f"the setting '{token}' must come before the first statement",
                             span, "move it up to the settings at the top of the file")
            if str(token) not in STATEMENTS:
                return _unknown_statement(str(token), span, lines)
        if "STRING" in expected and token.type != "STRING":
            return error("text-not-quoted", "text must be in double quotes", span, f'write "{token}"')
        if expected & {"DURATION", "NUMBER"}:
            return error("bad-duration", f"'{token}' is not a duration", span,
                         "write a number with a unit: 4s, 1.5s, 2m or 1m30s")
        if "INT" in expected:
            return error("bad-number", f"'{token}' is not a whole number", span)
        if "TIMES_COUNT" in expected:
            return error("missing-count", "a breath pattern needs a count", span, "write for example x3")
        if "PATTERN" in expected:
            return error("bad-pattern", f"'{token}' is not a breath pattern", span,
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
    hint = f"did you mean '{guess}'?" if guess else "statements are: " + ", ".join(STATEMENTS)
    return error("unknown-statement", f"unknown statement '{word}'", span, hint)


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


def _duration_seconds(text: str) -> float:
    total = 0.0
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)([hms])", text):
        total += float(amount) * {"h": 3600, "m": 60, "s": 1}[unit]
    return total


_ESCAPE = re.compile(r"\\(.)")


def unquote(token: str) -> str:
    """The text inside a STRING token: ``\\"`` is a quote, ``\\\\`` a backslash."""
    return _ESCAPE.sub(lambda match: match.group(1) if match.group(1) in '"\\' else match.group(0),
                       token[1:-1])


@v_args(meta=True)
class _ToModel(Transformer):
    """Maps every grammar rule onto a model node.  Unknown rules raise (see __default__)."""

    def __init__(self, file: str):
        super().__init__()
        self.file = file

    def __default__(self, data, children, meta):
        raise NotImplementedError(f"grammar rule {data!r} has no model mapping")

    def _span(self, meta) -> m.Span:
        return m.Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    def _text(self, token: Token) -> m.Text:
        return m.Text(unquote(str(token)), _token_span(self.file, token))

    def _texts(self, children) -> list[m.Text]:
        return [self._text(c) for c in children if isinstance(c, Token) and c.type == "STRING"]

    def start(self, meta, children):
        settings = tuple(c for c in children if isinstance(c, m.Setting))
        body = tuple(c for c in children if not isinstance(c, m.Setting))
        return settings, body

    def setting(self, meta, children):
        key, value = children[0], children[1]
        quoted = value.type == "STRING"
        text = unquote(str(value)) if quoted else str(value).strip()
        return m.Setting(str(key), text, quoted, self._span(meta), _token_span(self.file, value))

    def duration(self, meta, children):
        token = children[0]
        if token.type == "NUMBER":
            return m.Duration(float(token), _token_span(self.file, token), unit_missing=True)
        return m.Duration(_duration_seconds(str(token)), _token_span(self.file, token))

    def say(self, meta, children):
        return m.Say(self._text(children[0]), self._span(meta))

    def note(self, meta, children):
        return m.Note(self._text(children[0]), self._span(meta))

    def _breath(self, phase, meta, children):
        texts = self._texts(children)
        return m.Breath(phase, children[0], texts[0] if texts else None, self._span(meta))

    def inhale(self, meta, children):
        return self._breath("inhale", meta, children)

    def exhale(self, meta, children):
        return self._breath("exhale", meta, children)

    def hold(self, meta, children):
        return self._breath("hold", meta, children)

    def pause(self, meta, children):
        return m.Pause(children[0], self._span(meta))

    def bell(self, meta, children):
        return m.Bell(children[0] if children else None, self._span(meta))

    def breathe(self, meta, children):
        pattern, count = children
        parts = [float(p) for p in str(pattern).split("-")]
        hold_after = parts[3] if len(parts) == 4 else None
        return m.BreathPattern(parts[0], parts[1], parts[2], hold_after, int(re.sub(r"\D", "", str(count))),
                               self._span(meta), _token_span(self.file, pattern), _token_span(self.file, count))

    def do(self, meta, children):
        times = next((c for c in children if isinstance(c, Token) and c.type == "INT"), None)
        return m.Do(self._text(children[0]), int(times) if times is not None else 1, self._span(meta),
                    _token_span(self.file, times) if times is not None else None)

    def include(self, meta, children):
        return m.Include(self._text(children[0]), self._span(meta))

    def body(self, meta, children):
        return tuple(children)

    def section(self, meta, children):
        return m.Section(self._text(children[0]), children[-1], self._span(meta))

    def define(self, meta, children):
        return m.Define(self._text(children[0]), children[-1], self._span(meta))

    def repeat(self, meta, children):
        count = children[0]
        counted = any(isinstance(c, Token) and c.type == "COUNTED" for c in children)
        return m.Repeat(int(count), counted, children[-1], self._span(meta), _token_span(self.file, count))

    def sides(self, meta, children):
        names = []
        for child in children[:-1]:
            if child.type == "STRING":
                names.append(self._text(child))
            else:
                names.append(m.Text(str(child), _token_span(self.file, child)))
        return m.Sides(tuple(names), children[-1], self._span(meta))


# ---------------------------------------------------------------------------
# Entry points


@dataclass(frozen=True)
class ParseResult:
    """The routine (None only when nothing could be read) and every problem found while parsing."""

    routine: m.Routine | None
    diagnostics: tuple[Diagnostic, ...]


def parse_source(source: Source) -> ParseResult:
    """Parse a routine's text, recovering from syntax errors to report them all."""
    file = source.file
    if not source.text.strip():
        return ParseResult(None, (error("empty-file", "this file is empty", m.Span(file, 1, 1, 1, 1),
                                        'start with a title, for example: title: "Morning Qigong"'),))
    lines, problems = _check_layout(source.lines, file)
    original_lines = source.lines
    tree = None
    for _ in range(MAX_SYNTAX_ERRORS + 1):
        try:
            tree = _lark().parse("\n".join(lines) + "\n")
            break
        except UnexpectedInput as exc:
            diagnostic = _translate(exc, original_lines, file)
            problems.append(diagnostic)
            if len(problems) > MAX_SYNTAX_ERRORS or not lines[diagnostic.span.line - 1].strip():
                break
            _blank_lines(lines, diagnostic.span.line)
    if tree is None:
        return ParseResult(None, tuple(problems))
    settings, body = _ToModel(file).transform(tree)
    return ParseResult(m.Routine(file, settings, body), tuple(problems))


def parse_text(text: str, file: str = "<text>") -> ParseResult:
    """Parse ``text`` as a routine named ``file`` in diagnostics."""
    return parse_source(Source(file, text.replace("\r\n", "\n").replace("\r", "\n")))
