"""Diagnostics: the one shape every problem in a routine is reported in.

A diagnostic renders as ``file:line:col: severity: message``, then the
source line, then a marker (``^~~~``) under the whole offending text, then an
optional hint.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Span


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a routine."""

    severity: str  # "error" or "warning"
    code: str  # stable identifier, e.g. "unknown-statement"
    message: str
    span: Span
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_dict(self) -> dict:
        """The JSON form documented in docs/cli.md."""
        return {
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }


def error(code: str, message: str, span: Span, hint: str | None = None) -> Diagnostic:
    return Diagnostic("error", code, message, span, hint)


def warning(code: str, message: str, span: Span, hint: str | None = None) -> Diagnostic:
    return Diagnostic("warning", code, message, span, hint)


class QiError(Exception):
    """Raised by a stage that cannot go on; carries every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("\n".join(f"{d.span}: {d.message}" for d in diagnostics))
        self.diagnostics = diagnostics


def sort_key(diagnostic: Diagnostic):
    span = diagnostic.span
    return (span.file, span.line, span.column, diagnostic.code)


_COLOURS = {"error": "\033[1;31m", "warning": "\033[1;33m", "hint": "\033[36m", "reset": "\033[0m"}


def render(diagnostic: Diagnostic, source_lines: list[str] | None, colour: bool = False) -> str:
    """The text form: location, message, the source line and a marker under the span."""
    span = diagnostic.span

    def paint(text: str, what: str) -> str:
        return f"{_COLOURS[what]}{text}{_COLOURS['reset']}" if colour else text

    head = f"{span}: {paint(diagnostic.severity, diagnostic.severity)}: {diagnostic.message}"
    out = [head]
    if source_lines is not None and 1 <= span.line <= len(source_lines):
        line = source_lines[span.line - 1].rstrip("\r\n")
        # Expand tabs the same way in the line and the marker so they stay aligned.
        prefix = line[: span.column - 1]
        if span.end_line == span.line:
            width = max(1, span.end_column - span.column)
        else:
            width = max(1, len(line) - (span.column - 1))
        width = min(width, max(1, len(line) - (span.column - 1)))
        pad = "".join("\t" if ch == "\t" else " " for ch in prefix)
        out.append(f"    {line}")
        out.append("    " + pad + paint("^" + "~" * (width - 1), diagnostic.severity))
    if diagnostic.hint:
        out.append(f"    {paint('hint', 'hint')}: {diagnostic.hint}")
    return "\n".join(out)
