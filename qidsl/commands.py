"""The light commands: ``check``, ``fmt`` and ``plan`` (no speech or video; ``plan`` may ask a voice its timing)."""

from __future__ import annotations

import difflib
import os
import sys
import unicodedata
from pathlib import Path

from .compile import (EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, Compiled, compile_paths, internal_error,
                      print_diagnostics, routines_or_usage)
from .lang.limits import MAX_VOICED_CHARACTERS
from .lang.loader import Loader, read_routine_bytes
from .lang.speech import ENGINES
from .lang.parser import decode_source, display_source, parse_source
from .outputs import write_text_atomic
from .timefmt import clock


def _say(message: str) -> None:
    print(f"qidsl: {message}", file=sys.stderr)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def run_check(paths: list[str], fmt: str = "text", strict: bool = False, level: str | None = None,
              profile: str | None = None) -> int:
    """``qidsl check``: report every problem; exit 1 on errors (or warnings with ``strict``).

    Every audience variant is checked; ``level`` overrides the routines' ``level:``; ``profile``
    adds a platform's warnings (:mod:`qidsl.profiles`) on the estimated timeline.
    """
    if fmt == "text" or os.environ.get("QIDSL_DEBUG"):
        return _check(paths, fmt, strict, level, profile)
    try:
        return _check(paths, fmt, strict, level, profile)
    except Exception as exc:  # a bug of ours: still valid JSON, SARIF or annotations, for the CI reading them
        print_diagnostics([internal_error(paths[0], exc)], Loader(), fmt)
        return EXIT_PROBLEMS


def _check(paths: list[str], fmt: str, strict: bool, level: str | None, profile: str | None = None) -> int:
    # Only a profile reads the estimated timeline's events; the diagnostics need none.
    compiled = compile_paths(paths, level, events=profile is not None)
    if isinstance(compiled, int):
        return compiled
    files, loader, results = compiled
    # A file included by several routines checked together is reported once.
    diagnostics = list(dict.fromkeys(d for result in results for d in result.diagnostics))
    if profile:
        from .profiles import profile_warnings

        diagnostics += list(dict.fromkeys(d for result in results
                                          for d in profile_warnings(profile, result.routine, result.estimate)))
    diagnostics += _programme_problems(paths, files, results, loader)
    print_diagnostics(diagnostics, loader, fmt)
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    if fmt == "text":
        summary = "no problems" if not diagnostics else f"{_count(errors, 'error')}, {_count(warnings, 'warning')}"
        print(f"{summary} in {_count(len(files), 'file')}", file=sys.stderr)
    return EXIT_PROBLEMS if errors or (strict and warnings) else EXIT_OK


def _programme_problems(paths: list[str], files: list[Path], results, loader: Loader) -> list:
    """The mistakes in the ``programme.toml`` of a folder checked on its own (none without one)."""
    from .lang.check import is_library
    from .programme import programme_file, read_programme

    toml = programme_file(paths)
    if toml is None:
        return []
    routines = [file for file, result in zip(files, results) if result.routine is None or
                not is_library(result.routine)]
    _, problems, source = read_programme(toml, routines)
    loader.sources[str(toml)] = source
    return problems


def _format_routine(routine, lines: list[str]) -> str:
    # Imported here: `check`, which runs far more often, never lays a routine out.
    from .lang.formatter import format_routine

    return format_routine(routine, lines)


def run_fmt(paths: list[str], check_only: bool = False, diff: bool = False) -> int:
    """``qidsl fmt``: rewrite files in the canonical layout (or report with --check / --diff).

    ``-`` alone reads standard input and writes the formatted text to standard output.
    """
    if "-" in paths:
        if paths != ["-"]:
            _say("'-' (standard input) cannot be formatted together with files")
            return EXIT_USAGE
        return _fmt_stdin(check_only, diff)
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
        if syntax or source is None or result is None or result.routine is None:
            print_diagnostics(syntax, loader, "text", sys.stderr)
            _say(f"{file} was not formatted: fix the errors above first")
            failed = True
            continue
        formatted = _format_routine(result.routine, source.lines)
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


def _fmt_stdin(check_only: bool, diff: bool) -> int:
    """``qidsl fmt -``: standard input formatted onto standard output (nothing on stdout if it has errors)."""
    name = "<stdin>"
    data = sys.stdin.buffer.read()
    source, problems = decode_source(data, name)
    result = parse_source(source) if source else None
    loader = Loader()
    loader.sources[name] = source or display_source(data, name)
    syntax = list(problems) + ([d for d in result.diagnostics if d.is_error] if result else [])
    if syntax or source is None or result is None or result.routine is None:
        print_diagnostics(syntax, loader, "text", sys.stderr)
        _say("standard input was not formatted: fix the errors above first")
        return EXIT_PROBLEMS
    formatted = _format_routine(result.routine, source.lines)
    original = data.decode("utf-8-sig")
    if diff:
        sys.stdout.writelines(difflib.unified_diff(
            original.splitlines(keepends=True), formatted.splitlines(keepends=True),
            f"{name} (before)", f"{name} (formatted)"))
    elif check_only:
        if formatted != original:
            print(f"would reformat {name}")
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(formatted.encode("utf-8"))
        sys.stdout.buffer.flush()
        return EXIT_OK
    return EXIT_PROBLEMS if formatted != original else EXIT_OK


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


def _voice(settings) -> str:
    """The engine and voice that will speak a routine, e.g. ``piper en_US-joe-medium``."""
    if not settings.engine:
        return "no offline voice"
    return f"{settings.engine} {ENGINES[settings.engine].voice_for(settings.language, settings.voice)}"


def timed_by_voice(compiled: Compiled, base_dir: Path) -> tuple[Compiled, bool]:
    """``compiled`` with its estimates timed by the routine's voice itself where its engine can tell.

    Piper's voices can (:mod:`qidsl.engines.piper_timing`): their estimate
    lands within about 1 % of the build, where the pace of letters can be 3 %
    off on a short routine.  The events are laid on the frame grid of a
    build's video, as a build lays them.  Returns whether it was done; a
    voice that cannot be read is said on stderr and the pace of letters stands.
    """
    from .build import BuildOptions
    from .engines.synthesize import make_timer
    from .errors import BuildError

    assert compiled.settings is not None  # only a clean routine is timed
    texts = list(dict.fromkeys(text for variant in compiled.variants for text in variant.estimate.spoken_texts))
    characters = sum(map(len, texts))
    if characters > MAX_VOICED_CHARACTERS:  # known before the voice is even loaded
        _say(f"this routine has {characters:,} characters of speech, more than the {MAX_VOICED_CHARACTERS:,} "
             "plan times with the voice; the estimate below counts letters at the voice's pace instead.")
        return compiled, False
    try:
        timer = make_timer(compiled.settings, base_dir)
        if timer is None:
            return compiled, False
        timer.prepare(texts)
    except BuildError as exc:
        _say(f"{str(exc).rstrip('.')}; the estimate below counts letters at the pace measured for "
             f"{compiled.settings.engine} instead.")
        return compiled, False
    # On the frame grid of a build's video at its usual rate, as `qidsl build` lays the timeline.
    return compiled.retimed(timer, frame_rate=BuildOptions().fps), True


def plan_table(compiled: Compiled, voice_timed: bool = False) -> str:
    """The text ``qidsl plan`` prints for a clean routine (its variant's, see :meth:`Compiled.variant`).

    ``voice_timed`` says the estimate was timed by the voice itself (:func:`timed_by_voice`).
    """
    timeline = compiled.estimate
    assert timeline is not None  # a clean routine has its estimate
    settings = timeline.settings
    variant = compiled.variants[0].name if compiled.variants else None
    title = settings.title + (f" (variant: {variant})" if variant else "")
    how = f"timed by {_voice(settings)} itself" if voice_timed else f"at the pace of {_voice(settings)}"
    out = [f"{title} — about {clock(timeline.duration)} "
           f"(estimated: speech {how} × rate {settings.rate:g}, tempo {settings.tempo:g})", ""]
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


def variants_table(compiled: Compiled) -> str:
    """Each variant's time per section and in total, side by side ('—' where a section does not play)."""
    names = [v.name or "" for v in compiled.variants]  # a routine with variants names each
    times: dict[tuple[str, int], dict[str, float]] = {}  # (section, its occurrence) -> variant -> seconds
    for variant in compiled.variants:
        seen: dict[str, int] = {}
        for section in variant.estimate.sections:
            text = section.text or ""  # a section event always has its name
            seen[text] = seen.get(text, 0) + 1
            times.setdefault((text, seen[text]), {})[variant.name or ""] = section.duration
    width = min(24, max([len("variants")] + [sum(map(_width, name)) for name, _ in times]))
    columns = [max(6, len(name)) for name in names]
    out = ["variants", "  " + _shorten("", width) + "".join(f"  {name:>{w}}" for name, w in zip(names, columns))]
    for (title, _), by_variant in times.items():
        cells = [clock(by_variant[name]) if name in by_variant else "—" for name in names]
        out.append("  " + _shorten(title, width) + "".join(f"  {c:>{w}}" for c, w in zip(cells, columns)))
    totals = [clock(v.estimate.duration) for v in compiled.variants]
    out.append("  " + _shorten("total", width) + "".join(f"  {c:>{w}}" for c, w in zip(totals, columns)))
    return "\n".join(line.rstrip() for line in out) + "\n"


def run_plan(path: str, level: str | None = None, variant: str | None = None, quick: bool = False) -> int:
    """``qidsl plan``: the estimated timeline as a table (of ``variant``, else the default one).

    A routine with variants also gets each variant's time per section and in total.  A Piper
    voice times the speech (:func:`timed_by_voice`) unless ``quick``.
    """
    try:
        is_dir = Path(path).is_dir()
    except (OSError, ValueError):  # no permission, a name too long: reading it below says so
        is_dir = False
    if is_dir:
        _say("plan takes one .qi file, not a folder")
        return EXIT_USAGE
    compiled_paths = compile_paths([path], level)
    if isinstance(compiled_paths, int):
        return compiled_paths
    _, loader, (compiled,) = compiled_paths
    if compiled.errors:
        print_diagnostics(list(compiled.diagnostics), loader, "text", sys.stderr)
        return EXIT_PROBLEMS
    assert compiled.settings is not None  # a routine without errors has its settings
    declared = compiled.settings.variants
    if variant is not None and variant not in declared:
        _say(f"{path} has no variant '{variant}'" + (f"; its variants are: {', '.join(declared)}" if declared
                                                     else "; it declares none"))
        return EXIT_USAGE
    print_diagnostics(compiled.warnings, loader, "text", sys.stderr)
    compiled, voice_timed = (compiled, False) if quick else timed_by_voice(compiled, Path(path).parent)
    shown = compiled.variant(variant or compiled.variants[0].name)
    sys.stdout.write(plan_table(shown, voice_timed))
    if declared:
        sys.stdout.write("\n" + variants_table(compiled))
    return EXIT_OK


def run_cache(action: str, out: str, cache_dir: str | None, max_size: str | None, older_than: str | None) -> int:
    """``qidsl cache``: the store's size by product kind; ``qidsl cache prune``: remove least recently used."""
    from .engines.cache import default_cache_dir
    from .store import Store, parse_age, parse_size

    store = Store(Path(cache_dir) if cache_dir else default_cache_dir(Path(out)))
    if action == "prune":
        if max_size is None and older_than is None:
            _say("cache prune needs --max-size SIZE, --older-than AGE or both")
            return EXIT_USAGE
        try:
            cap = parse_size(max_size) if max_size is not None else None
            age = parse_age(older_than) if older_than is not None else None
        except ValueError as exc:
            _say(str(exc))
            return EXIT_USAGE
        pruned = store.prune(max_size=cap, older_than=age)
        held = f"; {_entries(pruned.held)} kept because a running build holds them" if pruned.held else ""
        print(f"removed {_entries(pruned.removed)} "
              f"({_megabytes(pruned.removed_bytes)}); {_megabytes(pruned.kept_bytes)} left in {store.directory}{held}")
        return EXIT_OK
    sizes = store.sizes()
    print(f"store: {store.directory}")
    if not sizes:
        print("  empty")
        return EXIT_OK
    width = max(len(kind) for kind in sizes)
    for kind, (count, size) in sorted(sizes.items(), key=lambda item: -item[1][1]):
        print(f"  {kind:<{width}}  {_counted(count)}  {_megabytes(size):>10}")
    print(f"  {'total':<{width}}  {_counted(sum(c for c, _ in sizes.values()))}  "
          f"{_megabytes(sum(s for _, s in sizes.values())):>10}")
    return EXIT_OK


def _entries(n: int) -> str:
    return f"{n} entr{'y' if n == 1 else 'ies'}"


def _counted(n: int) -> str:
    """``      1 entry  `` / ``    306 entries``: a column of counts."""
    return f"{n:>7,} {'entry' if n == 1 else 'entries':<7}"


def _megabytes(size: int) -> str:
    return f"{size / 2 ** 20:.1f} MiB"
