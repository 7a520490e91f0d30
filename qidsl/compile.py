"""The front end in one call: read, parse, check, expand and estimate a routine.

``check``, ``plan`` and ``build`` all start here (:func:`compile_paths`), and
report what they found with :func:`print_diagnostics`; nothing in this module
loads speech engines, numpy or moviepy.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .lang.check import Sizer, check, empty_routine
from .lang.diagnostics import Diagnostic, error, render, sort_key
from .lang.expand import expand
from .lang.loader import Library, Loader
from .lang.parser import gc_paused as _gc_paused  # (benchmarks/check_speed.py runs the front end under it too)
from .lang.model import Routine, Span
from .lang.safety import breath_safety
from .lang.settings import Settings, resolve_settings
from .lang.steps import ExpandedRoutine
from .lang.variants import merge_variant_problems, variant_names
from .timeline import EstimatedSpeech, SpeechTimer, SpokenTiming, Timeline, build_timeline

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True)
class CompiledVariant:
    """One audience variant of a clean routine: what plays in it, its estimate, and its own problems."""

    name: str | None  # None for a routine that declares no variants
    expanded: ExpandedRoutine
    estimate: Timeline
    diagnostics: tuple[Diagnostic, ...]  # found in this variant (sizes, timing, breath safety), unmerged


@dataclass(frozen=True)
class Compiled:
    """What the front end made of one routine file.

    ``expanded`` and ``estimate`` are those of the default variant (the
    first declared); ``variants`` holds every variant's, the default first.
    Compiled with ``events=False`` (``qidsl check``, the language server),
    each estimate holds the duration and the warnings but no events.
    """

    path: str
    routine: Routine | None
    settings: Settings | None
    library: Library | None
    expanded: ExpandedRoutine | None
    estimate: Timeline | None
    diagnostics: tuple[Diagnostic, ...]
    variants: tuple[CompiledVariant, ...] = ()

    def variant(self, name: str | None) -> Compiled:
        """This routine as it plays in variant ``name``: its expansion, estimate and problems.

        Problems found in the other variants only are left out; those of the
        whole file are kept.
        """
        chosen = next(v for v in self.variants if v.name == name)
        merged = set(merge_variant_problems({v.name: list(v.diagnostics) for v in self.variants}))
        kept = [d for d in self.diagnostics if d not in merged] + list(chosen.diagnostics)
        return dataclasses.replace(self, expanded=chosen.expanded, estimate=chosen.estimate,
                                   diagnostics=_sorted(kept), variants=(chosen,))

    def retimed(self, speech: SpeechTimer, frame_rate: int | None = None) -> Compiled:
        """This routine with every variant's estimate laid out again with ``speech`` (a clean routine's).

        ``frame_rate`` lays it on a video's frame grid, as a build does.  The
        problems stay those of the front end's own estimate, which ``qidsl
        check`` reports.
        """
        speech = _MemoSpeech(speech)
        variants = tuple(dataclasses.replace(v, estimate=build_timeline(v.expanded, speech, frame_rate=frame_rate))
                         for v in self.variants)
        return dataclasses.replace(self, estimate=variants[0].estimate, variants=variants)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]


class _MemoSpeech:
    """A speech timer that works out each distinct text once (repeats say the same cues)."""

    def __init__(self, inner):
        self.inner = inner
        self.memo: dict[str, SpokenTiming] = {}

    def timing(self, text: str) -> SpokenTiming:
        found = self.memo.get(text)
        if found is None:
            found = self.memo[text] = self.inner.timing(text)
        return found


def compile_routine(path: str | Path, loader: Loader, text: str | None = None,
                    level: str | None = None, events: bool = True) -> Compiled:
    """Read (or take ``text``), parse, check and, when clean, expand and estimate a routine.

    Every audience variant is expanded and estimated.  ``level`` overrides
    the routine's ``level:`` for the breath-safety warnings (``--level``).
    Without ``events`` the estimates hold no events, only the duration and
    the warnings (all a check reports; see :func:`qidsl.timeline.build_timeline`).
    Raises OSError when the file cannot be read; everything wrong *inside*
    the file comes back as diagnostics.
    """
    with _gc_paused():
        return _compile(path, loader, text, level, events)


def _compile_variant(routine: Routine, library: Library, settings: Settings,
                     name: str | None, events: bool = True, sizer: Sizer | None = None) -> CompiledVariant:
    expanded = expand(routine, library, settings, name, sizer)
    problems: list[Diagnostic] = []
    empty = empty_routine(routine, len(expanded.steps))
    if empty is not None:
        problems.append(empty)
    estimate = build_timeline(expanded, _MemoSpeech(EstimatedSpeech.for_settings(settings)), with_events=events)
    problems.extend(estimate.warnings)
    problems.extend(breath_safety(expanded, settings.level))
    return CompiledVariant(name, expanded, estimate, tuple(problems))


def _compile(path: str | Path, loader: Loader, text: str | None, level: str | None = None,
             events: bool = True) -> Compiled:
    display = str(path)
    result = loader.parse_text(text, display) if text is not None else loader.read(Path(path), display)
    problems: list[Diagnostic] = list(result.diagnostics)
    routine = result.routine
    if routine is None:
        return Compiled(display, None, None, None, None, None, _sorted(problems))
    library = loader.library(routine)
    problems.extend(library.diagnostics)
    sizers: dict[str | None, Sizer] = {}  # each variant as check measured it, measured once
    problems.extend(check(routine, library, loader.lines, sizers))
    if any(p.is_error for p in problems):
        return Compiled(display, routine, None, library, None, None, _sorted(problems))
    settings, _ = resolve_settings(routine)  # its problems were reported by check
    settings = settings.with_overrides(level=level)
    variants = tuple(_compile_variant(routine, library, settings, name, events, sizers.get(name))
                     for name in variant_names(settings))
    problems.extend(merge_variant_problems({v.name: list(v.diagnostics) for v in variants}))
    default = variants[0]
    return Compiled(display, routine, settings, library, default.expanded, default.estimate, _sorted(problems),
                    variants)


def _sorted(problems: list[Diagnostic]) -> tuple[Diagnostic, ...]:
    unique = list(dict.fromkeys(problems))
    return tuple(sorted(unique, key=sort_key))


# Folders never searched for routines, even outside a git work tree: tools' packages.
_NEVER_SEARCHED = ("node_modules", "__pycache__")


def routines_under(folder: Path) -> list[Path]:
    """The ``*.qi`` files in ``folder`` and its subfolders, sorted by path.

    Hidden files and folders (``.venv``, ``.git``), ``node_modules`` and
    whatever git ignores there are left out: a virtual environment or a
    package folder can hold thousands of files that are not the user's.
    """
    found: list[Path] = []
    for root, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith(".") and name not in _NEVER_SEARCHED]
        found.extend(Path(root, name) for name in files if name.endswith(".qi") and not name.startswith("."))
    ignored = _git_ignored(folder, found)
    return sorted(path for path in found if path not in ignored and path.is_file())


def _git_ignored(folder: Path, files: list[Path]) -> set[Path]:
    """Those of ``files`` (under ``folder``) that git ignores; none when git or a work tree is not there."""
    if not files:
        return set()
    names = [os.fsencode(path.relative_to(folder)) for path in files]
    try:
        done = subprocess.run(["git", "-C", str(folder), "check-ignore", "-z", "--stdin"], input=b"\0".join(names),
                              capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):  # no git here: only hidden folders are left out
        return set()
    if done.returncode not in (0, 1):  # 128: not inside a work tree
        return set()
    return {folder / os.fsdecode(name) for name in done.stdout.split(b"\0") if name}


def find_routines(paths: list[str]) -> tuple[list[Path], list[str]]:
    """Files named, and ``*.qi`` files under folders named; plus the names that do not exist."""
    found: list[Path] = []
    missing: list[str] = []
    for name in paths:
        path = Path(name)
        try:
            is_dir = path.is_dir()
            exists = is_dir or path.exists()
        except (OSError, ValueError):  # a folder on the way we may not read, a name too long
            found.append(path)  # reading it says why, in one sentence
            continue
        if is_dir:
            found.extend(routines_under(path))
        elif exists:
            found.append(path)
        else:
            missing.append(name)
    return found, missing


def _say(message: str) -> None:
    print(f"qidsl: {message}", file=sys.stderr)


def _colour(stream) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def routines_or_usage(paths: list[str]) -> list[Path] | None:
    """The routine files named (folders searched for *.qi); None, after saying why, when there are none."""
    found, missing = find_routines(paths)
    for name in missing:
        _say(f"no such file or folder: {name}")
    if missing:
        return None
    if not found:
        _say("no .qi files found in " + ", ".join(paths))
        return None
    return found


def compile_all(files: list[Path], loader: Loader, level: str | None = None,
                events: bool = True) -> list[Compiled] | None:
    """Compile each file; None (after saying why) when one cannot be read at all."""
    results = []
    for file in files:
        try:
            results.append(compile_routine(file, loader, level=level, events=events))
        except OSError as exc:
            _say(f"cannot read {file}: {exc.strerror or exc}")
            return None
        except Exception as exc:  # a bug of ours: reported as a diagnostic, so --format json stays JSON
            if os.environ.get("QIDSL_DEBUG"):
                raise
            results.append(Compiled(str(file), None, None, None, None, None, (internal_error(str(file), exc),)))
    return results


def internal_error(file: str, exc: BaseException) -> Diagnostic:
    """A failure of qidsl itself while checking ``file``, as a diagnostic of its own (code ``internal-error``)."""
    reason = f"{type(exc).__name__}: {exc}"
    if len(reason) > 200:
        reason = reason[:199] + "…"
    return error("internal-error", f"qidsl failed while checking this file ({reason}); please report it",
                 Span(file, 1, 1, 1, 1), "run again with QIDSL_DEBUG=1 to see the details")


def compile_paths(paths: list[str], level: str | None = None,
                  events: bool = True) -> tuple[list[Path], Loader, list[Compiled]] | int:
    """Find the routines named (files or folders) and compile each; an exit code when that fails.

    ``level`` overrides each routine's ``level:`` (``--level``); without
    ``events`` the estimates hold no events (see :func:`compile_routine`).
    """
    files = routines_or_usage(paths)
    if files is None:
        return EXIT_USAGE
    loader = Loader()
    results = compile_all(files, loader, level, events)
    if results is None:
        return EXIT_PROBLEMS
    return files, loader, results


def _github(diagnostic: Diagnostic) -> str:
    def escape(text: str, prop: bool = False) -> str:
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return text.replace(":", "%3A").replace(",", "%2C") if prop else text

    span = diagnostic.span
    message = diagnostic.message + (f" ({diagnostic.hint})" if diagnostic.hint else "")
    return (f"::{diagnostic.severity} file={escape(span.file, True)},line={span.line},col={span.column},"
            f"endLine={span.end_line},endColumn={span.end_column},title={escape(diagnostic.code, True)}::"
            f"{escape(message)}")


def print_diagnostics(diagnostics: list[Diagnostic], loader: Loader, fmt: str = "text", stream=None) -> None:
    """Write diagnostics in one of the formats of ``qidsl check`` (text, json, github, sarif)."""
    stream = stream or sys.stdout
    if fmt == "sarif":
        from . import __version__
        from .lang.sarif import to_sarif

        stream.write(json.dumps(to_sarif(diagnostics, __version__), ensure_ascii=False, indent=2) + "\n")
        return
    if fmt == "json":
        # Made whole before writing, so a failure half-way cannot leave half a JSON document.
        stream.write(json.dumps([d.to_dict() for d in diagnostics], ensure_ascii=False, indent=2) + "\n")
        return
    colour = _colour(stream)
    for diagnostic in diagnostics:
        if fmt == "github":
            print(_github(diagnostic), file=stream)
        else:
            print(render(diagnostic, loader.lines(diagnostic.span.file), colour), file=stream)
