"""``qidsl fmt``: one canonical layout for a routine, comments kept, meaning unchanged.

The layout: settings first, a blank line, then the body indented by four
spaces per level; one blank line before every top-level block; single blank
lines inside blocks kept where the author had them; durations written the
short way (``90s`` becomes ``1m30s``).
"""

from __future__ import annotations

import re
from collections import deque
from typing import assert_never

from . import model as m
from .numbers import plain
from .statements import KEYWORDS, keyword_of

INDENT = "    "
_BARE_SIDE = re.compile(r"^[^\W\d][\w-]*$")


def number(value: float) -> str:
    """A number as it would be written: no trailing zeros, never an exponent (``1e-06`` is ``0.000001``)."""
    return plain(value)


def duration(seconds: float) -> str:
    """``4s``, ``1.5s``, ``2m``, ``1m30s``."""
    if seconds < 60 or not float(seconds).is_integer():
        return f"{number(seconds)}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m" + (f"{rest}s" if rest else "")


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def find_comments(lines: list[str]) -> dict[int, tuple[str, bool]]:
    """Comments by line number: (text from '#', whether the line holds nothing else)."""
    comments = {}
    for number_, line in enumerate(lines, start=1):
        if "#" not in line:
            continue  # most lines: no need to read them character by character
        in_text = escaped = False
        for index, char in enumerate(line):
            if in_text:
                if escaped:
                    escaped = False
                elif char == "\\":
                    escaped = True
                elif char == '"':
                    in_text = False
            elif char == '"':
                in_text = True
            elif char == "#":
                comments[number_] = (line[index:].rstrip(), not line[:index].strip())
                break
    return comments


def _header(node: m.Statement) -> str:
    match node:
        case m.Say() | m.Note():
            return f"{keyword_of(node)} {quote(node.text.value)}"
        case m.Breath():
            text = f" {quote(node.text.value)}" if node.text else ""
            to = f" to {quote(node.to.value)}" if node.to else ""
            return f"{node.phase} {_duration(node.duration)}{text}{to}"
        case m.Pose():
            if not node.defines:
                return f"pose {quote(node.name.value)}"
            base = f" from {quote(node.base.value)}" if node.base else ""
            return (f"pose {quote(node.name.value)}{base}: "
                    + ", ".join(f"{a.joint} {number(a.degrees)}" for a in node.angles))
        case m.Pause():
            return f"pause {_duration(node.duration)}"
        case m.Bell():
            return "bell" + (f" {_duration(node.duration)}" if node.duration else "")
        case m.BreathPattern():
            parts = [node.inhale, node.hold, node.exhale] + ([node.hold_after] if node.hold_after is not None else [])
            return f"breathe {'-'.join(number(p) for p in parts)} x{node.count}"
        case m.Do():
            return f"do {quote(node.name.value)}" + (f" {node.times} times" if node.times != 1 else "")
        case m.Include():
            return f"include {quote(node.path.value)}"
        case m.Backdrop():
            file = quote(node.file.value) if node.quoted else node.file.value
            return f"backdrop {file}" + (f" from {_clock(node.start.seconds)}" if node.start else "")
        case m.Section() | m.Define():
            return f"{keyword_of(node)} {quote(node.name.value)}:"
        case m.Repeat():
            return f"repeat {node.count}{' counted' if node.counted else ''}:"
        case m.Sides():
            names = [s.value if _BARE_SIDE.match(s.value) and s.value not in KEYWORDS + ("side", "times", "counted")
                     else quote(s.value) for s in node.sides]
            return f"each side {', '.join(names)}:"
        case m.ForVariants():
            return f"{keyword_of(node)} {', '.join(v.value for v in node.variants)}:"
        case _:
            assert_never(node)


def statement_line(node) -> str:
    """A statement's first line in the canonical layout, without indentation or comment."""
    return _header(node)


def _duration(value: m.Duration) -> str:
    # A bare number (a check error) is kept bare so fmt never changes meaning.
    return number(value.seconds) if value.unit_missing else duration(value.seconds)


def _clock(seconds: float) -> str:
    """Where a backdrop starts in its clip, as m:ss (``from 0:12``, ``from 1:05.5``)."""
    minutes, rest = divmod(seconds, 60)
    whole = plain(rest)
    return f"{int(minutes)}:{'0' if rest < 10 else ''}{whole}"


class _Writer:
    """Lays out statements and puts every comment back where its reader expects it.

    An own-line comment goes with the statement below it, or, when it is
    indented under a block's last statement, at the end of that block.  A
    blank line before a statement or comment is kept (never right after a
    block's first line); top-level blocks always get one.
    """

    def __init__(self, lines: list[str]):
        self.source = lines
        self.comments = find_comments(lines)
        # A deque: taken from the front one by one (list.pop(0) made fmt quadratic in the comments).
        self.own_line = deque(sorted(n for n, (_, alone) in self.comments.items() if alone))
        self.out: list[str] = []
        self.after_header = False

    def blank(self) -> None:
        if self.out and self.out[-1] != "" and not self.after_header:
            self.out.append("")

    def append(self, text: str) -> None:
        self.out.append(text)
        self.after_header = False

    def blank_before(self, line: int) -> bool:
        return line > 1 and not self.source[line - 2].strip()

    def comments_before(self, line: int, indent: str, deeper_than: int | None = None) -> None:
        """Own-line comments above ``line``; with ``deeper_than``, only those indented more than that."""
        while self.own_line and self.own_line[0] < line:
            number_ = self.own_line[0]
            text = self.source[number_ - 1]
            if deeper_than is not None and len(text) - len(text.lstrip()) <= deeper_than:
                return
            self.own_line.popleft()
            if self.blank_before(number_):
                self.blank()
            self.append(indent + self.comments[number_][0])

    def emit(self, line: int, indent: str, text: str, blank_ok: bool = True) -> None:
        self.comments_before(line, indent)
        if blank_ok and self.blank_before(line):
            self.blank()
        trailing = self.comments.get(line)
        if trailing and not trailing[1]:
            text = f"{text}  {trailing[0]}"
        self.append(indent + text)

    def body(self, body, depth: int, limit: int) -> None:
        """Write ``body``; ``limit`` is the line of whatever follows it in the source.

        A loop over a stack of open blocks, not recursion: blocks nested a
        thousand deep (an error for check, but a file fmt can read) must not
        exhaust Python's stack.
        """
        # Each open block: its statements, depth, the line after it, the next position, the block.
        stack: list[list] = [[body, depth, limit, 0, None]]
        while stack:
            frame = stack[-1]
            statements, depth, limit, position, owner = frame
            if position == len(statements):
                stack.pop()
                if owner is not None:
                    self.comments_before(limit, INDENT * depth, deeper_than=owner.span.column - 1)
                    self.after_header = False
                continue
            frame[3] = position + 1
            node = statements[position]
            indent = INDENT * depth
            top_block = depth == 0 and isinstance(node, m.BLOCKS)
            previous_block = depth == 0 and position > 0 and isinstance(statements[position - 1], m.BLOCKS)
            if position > 0 and (top_block or previous_block):
                self.blank()
            # At the top, a blank line after the file's heading comment is kept (a library file has
            # no settings to separate them).
            self.emit(node.span.line, indent, _header(node), blank_ok=position > 0 or depth == 0)
            if isinstance(node, m.BLOCKS):
                self.after_header = True
                following = statements[position + 1].span.line if position + 1 < len(statements) else limit
                stack.append([node.body, depth + 1, following, 0, node])


def format_routine(routine: m.Routine, lines: list[str]) -> str:
    """The canonical text of ``routine``; ``lines`` is its source, for the comments."""
    writer = _Writer(lines)
    for setting in routine.settings:
        if not setting.quoted:
            # An unquoted value may hold a '"' (title: a"b  # note), which the
            # comment finder took for the start of text: the comment is what
            # follows the value.
            line = lines[setting.span.line - 1]
            hash_at = line.find("#", setting.value_span.end_column - 1)
            if hash_at >= 0:
                writer.comments[setting.span.line] = (line[hash_at:].rstrip(), False)
    for index, setting in enumerate(routine.settings):
        value = quote(setting.value) if setting.quoted else setting.value
        # Blank lines among the settings go; one after a heading comment stays.
        writer.emit(setting.span.line, "", f"{setting.key}: {value}", blank_ok=index == 0)
    if routine.settings and routine.body:
        writer.blank()
    writer.body(routine.body, 0, len(lines) + 1)
    writer.comments_before(len(lines) + 1, "")
    while writer.out and writer.out[-1] == "":
        writer.out.pop()
    return "\n".join(writer.out) + "\n"
