"""The light commands: ``check``, ``fmt`` and ``plan`` (no speech, numpy or video)."""

from __future__ import annotations

import difflib
import os
import sys
import unicodedata
from pathlib import Path

from .compile import (EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, Compiled, compile_paths, internal_error,
                      print_diagnostics, routines_or_usage)
from .lang.formatter import format_routine
from .lang.loader import Loader, read_routine_bytes
from .lang.parser import decode_source, display_source, parse_source
from .outputs import write_text_atomic
from .timefmt import clock


def _say(message: str) -> None:
    print(f"qidsl: {message}", file=sys.stderr)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def run_check(paths: list[str], fmt: str = "text", strict: bool = False) -> int:
    """``qidsl check``: report every problem; exit 1 on errors (or warnings with ``strict``)."""
    if fmt == "text" or os.environ.get("QIDSL_DEBUG"):
        return _check(paths, fmt, strict)
    try:
        return _check(paths, fmt, strict)
    except Exception as exc:  # a bug of ours: still valid JSON or annotations, for the CI reading them
        print_diagnostics([internal_error(paths[0], exc)], Loader(), fmt)
        return EXIT_PROBLEMS


def _check(paths: list[str], fmt: str, strict: bool) -> int:
    compiled = compile_paths(paths)
    if isinstance(compiled, int):
        return compiled
    files, loader, results = compiled
    # A file included by several routines checked together is reported once.
    diagnostics = list(dict.fromkeys(d for result in results for d in result.diagnostics))
    print_diagnostics(diagnostics, loader, fmt)
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    if fmt == "text":
        summary = "no problems" if not diagnostics else f"{_count(errors, 'error')}, {_count(warnings, 'warning')}"
        print(f"{summary} in {_count(len(files), 'file')}", file=sys.stderr)
    return EXIT_PROBLEMS if errors or (strict and warnings) else EXIT_OK


def run_fmt(paths: list[str], check_only: bool = False, diff: bool = False) -> int:
    """``qidsl fmt``: rewrite files in the canonical layout (or report with --check / --diff)."""
    files = routines_or_usage(paths)
    if files is None:
        return EXIT_USAGE
    changed, failed = [], False
    loader = Loader()
    for file in files:
        try:
            data = read_routine_bytes(file)
        except OSError as exc:
            _say(f"cannot read {file}: {exc.strerror or exc}")
            return EXIT_PROBLEMS
        source, problems = decode_source(data, str(file))
        result = parse_source(source) if source else None
        loader.sources[str(file)] = source or display_source(data, str(file))
        syntax = list(problems) + ([d for d in result.diagnostics if d.is_error] if result else [])
        if syntax or result is None or result.routine is None:
            print_diagnostics(syntax, loader, "text", sys.stderr)
            _say(f"{file} was not formatted: fix the errors above first")
            failed = True
            continue
        formatted = format_routine(result.routine, source.lines)
        original = data.decode("utf-8-sig")
        if formatted == original:
            continue
        changed.append(file)
        if diff:
            sys.stdout.writelines(difflib.unified_diff(
                original.splitlines(keepends=True), formatted.splitlines(keepends=True),
                f"{file} (before)", f"{file} (formatted)"))
        elif check_only:
            print(f"would reformat {file}")
        else:
            write_text_atomic(file, formatted)
            print(f"reformatted {file}", file=sys.stderr)
    if failed:
        return EXIT_PROBLEMS
    if (check_only or diff) and changed:
        return EXIT_PROBLEMS
    return EXIT_OK


def _width(char: str) -> int:
    """Columns a character takes in a terminal: 2 for CJK and emoji, 0 for combining marks."""
    if char == "\ufe0f":  # emoji presentation: the symbol before it is drawn two columns wide
        return 1
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal columns (ending in an ellipsis) and padded to that width."""
    total = sum(map(_width, text))
    if total <= width:
        return text + " " * (width - total)
    used, kept = 0, []
    for char in text:
        if used + _width(char) > width - 1:
            break
        kept.append(char)
        used += _width(char)
    return "".join(kept) + "…" + " " * (width - 1 - used)


def plan_table(compiled: Compiled) -> str:
    """The text ``qidsl plan`` prints for a clean routine."""
    timeline = compiled.estimate
    settings = timeline.settings
    out = [f"{settings.title} — about {clock(timeline.duration)} "
           f"(estimated: speech at 150 words a minute × rate {settings.rate:g}, tempo {settings.tempo:g})", ""]
    out.append(f"{'start':>8}  {'length':>6}  {'section':<24}  {'rep':<7}  {'event':<7}  text")
    for event in timeline.events:
        if event.kind == "section":
            continue
        rep = ""
        if event.repetition:
            rep = f"{event.repetition.index}/{event.repetition.total}"
        text = event.text or ""
        if event.side and event.kind not in ("say",):
            text = f"{text} [{event.side}]".strip()
        out.append(f"{clock(event.start):>8}  {event.duration:>5.1f}s  {_shorten(event.section or '', 24)}  "
                   f"{rep:<7}  {event.kind:<7}  {_shorten(text, 60)}".rstrip())
    out.append("")
    out.append("sections")
    for section in timeline.sections:
        out.append(f"{clock(section.start):>8}  {clock(section.duration):>6}  {section.text}")
    out.append(f"{'total':>8}  {clock(timeline.duration):>6}")
    return "\n".join(out) + "\n"


def run_plan(path: str) -> int:
    """``qidsl plan``: the estimated timeline as a table."""
    try:
        is_dir = Path(path).is_dir()
    except (OSError, ValueError):  # no permission, a name too long: reading it below says so
        is_dir = False
    if is_dir:
        _say("plan takes one .qi file, not a folder")
        return EXIT_USAGE
    compiled_paths = compile_paths([path])
    if isinstance(compiled_paths, int):
        return compiled_paths
    _, loader, (compiled,) = compiled_paths
    if compiled.errors:
        print_diagnostics(list(compiled.diagnostics), loader, "text", sys.stderr)
        return EXIT_PROBLEMS
    print_diagnostics(compiled.warnings, loader, "text", sys.stderr)
    sys.stdout.write(plan_table(compiled))
    return EXIT_OK
