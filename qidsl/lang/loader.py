"""Reading routine files and the files they include.

The :class:`Loader` reads and parses each file once, keeps its text for
rendering diagnostics, and resolves ``include`` lines: relative to the
including file, never outside the top routine's folder tree, no cycles, and
no deeper than :data:`MAX_INCLUDE_DEPTH`.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from . import model as m
from .diagnostics import Diagnostic, error
from .limits import MAX_INCLUDE_DEPTH
from .parser import ParseResult, Source, decode_source, display_source, parse_source


def read_routine_bytes(path: Path) -> bytes:
    """The bytes of a routine file.

    Raises OSError, with a sentence as its ``strerror``, for a folder, a named
    pipe or a device as well as for the usual failures: opened without
    blocking and checked before reading, a FIFO cannot hang the read and
    /dev/zero cannot fill the memory.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = ("a folder" if stat.S_ISDIR(mode) else "a named pipe (FIFO)" if stat.S_ISFIFO(mode)
                    else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
            raise OSError(errno.EINVAL, f"it is {kind}, not a routine file" if kind.startswith("a ")
                          else f"it is {kind}", str(path))
        with os.fdopen(fd, "rb", closefd=False) as stream:
            return stream.read()
    finally:
        os.close(fd)


def _include_problem(exc: Exception) -> str:
    """Why an included path cannot be used, in words."""
    if isinstance(exc, ValueError):  # os functions refuse a NUL byte this way
        return "a file name cannot hold a NUL character"
    if getattr(exc, "errno", None) == errno.ENAMETOOLONG:
        return "the path is longer than the file system allows"
    return (getattr(exc, "strerror", None) or str(exc)).rstrip(".")


@dataclass(frozen=True)
class Definition:
    """A ``define`` block and the file it came from."""

    node: m.Define
    file: str


@dataclass(frozen=True)
class PoseDefinition:
    """A top-level ``pose "name" [from "base"]: joint angle, …`` and the file it came from."""

    node: m.Pose
    file: str


@dataclass(frozen=True)
class Library:
    """Every definition a routine can ``do`` or pose in: its own and those of the files it includes."""

    definitions: dict[str, Definition]
    diagnostics: tuple[Diagnostic, ...]
    poses: dict[str, PoseDefinition] = field(default_factory=dict)


def _first(known: dict, node: m.Define | m.Pose, code: str, what: str, kind: str, problems: list[Diagnostic]) -> bool:
    """Whether ``node`` is the first definition of its name in ``known``; if not, says where the first is."""
    name = node.name.value
    if name not in known:
        return True
    earlier = known[name].node.name.span
    problems.append(error(code, f"{what}\"{name}\" is already defined at {earlier.file}:{earlier.line}",
                          node.name.span, f"give this {kind} another name"))
    return False


class Loader:
    """Reads, decodes and parses routine files, each once."""

    def __init__(self) -> None:
        self.sources: dict[str, Source] = {}
        self._parsed: dict[str, ParseResult] = {}

    def lines(self, file: str) -> list[str] | None:
        """The source lines of a file read so far, for rendering diagnostics."""
        source = self.sources.get(file)
        return source.lines if source else None

    def read(self, path: Path, display: str | None = None) -> ParseResult:
        """Parse the file at ``path``; I/O problems raise OSError for the caller to word."""
        display = display or str(path)
        if display in self._parsed:
            return self._parsed[display]
        data = read_routine_bytes(Path(path))
        source, problems = decode_source(data, display)
        if source is None:
            self.sources[display] = display_source(data, display)  # to show the bad line
            result = ParseResult(None, tuple(problems))
        else:
            self.sources[display] = source
            result = parse_source(source)
        self._parsed[display] = result
        return result

    def parse_text(self, text: str, display: str) -> ParseResult:
        """Parse text that is not on disk (standard input, tests)."""
        source = Source(display, text.replace("\r\n", "\n").replace("\r", "\n"))
        self.sources[display] = source
        result = parse_source(source)
        self._parsed[display] = result
        return result

    def library(self, routine: m.Routine) -> Library:
        """Definitions of ``routine`` and, transitively, of everything it includes."""
        top = Path(routine.path)
        root = top.resolve().parent
        definitions: dict[str, Definition] = {}
        poses: dict[str, PoseDefinition] = {}
        problems: list[Diagnostic] = []
        self._collect(routine, top, root, [top.resolve()], (definitions, poses), problems)
        return Library(definitions, tuple(problems), poses)

    def _collect(self, routine, path: Path, root: Path, stack: list[Path],
                 found: tuple[dict[str, Definition], dict[str, PoseDefinition]], problems: list[Diagnostic]) -> None:
        definitions, poses = found
        for node in routine.body:
            if isinstance(node, m.Define):
                if _first(definitions, node, "duplicate-define", "", "sequence", problems):
                    definitions[node.name.value] = Definition(node, routine.path)
            elif isinstance(node, m.Pose) and node.defines:
                if _first(poses, node, "duplicate-pose", "the pose ", "pose", problems):
                    poses[node.name.value] = PoseDefinition(node, routine.path)
            elif isinstance(node, m.Include):
                self._include(node, path, root, stack, found, problems)

    def _include(self, node: m.Include, path: Path, root: Path, stack: list[Path],
                 found: tuple[dict[str, Definition], dict[str, PoseDefinition]],
                 problems: list[Diagnostic]) -> None:
        written = node.path.value
        span = node.path.span
        try:
            target = Path(os.path.normpath(path.parent / written))
            resolved = target.resolve()
        except (OSError, ValueError) as exc:
            problems.append(error("include-unreadable", f"cannot read \"{written}\": {_include_problem(exc)}",
                                  span))
            return
        if resolved == stack[-1]:
            problems.append(error("include-self", "a routine cannot include itself", span))
            return
        if resolved in stack:
            chain = " -> ".join(p.name for p in stack[stack.index(resolved):] + [resolved])
            problems.append(error("include-cycle", f"this include makes a cycle: {chain}", span,
                                  "remove one of the includes in the cycle"))
            return
        if not resolved.is_relative_to(root):
            problems.append(error("include-outside", f"\"{written}\" is outside this routine's folder",
                                  span, "keep included files in the routine's folder or below it"))
            return
        if len(stack) > MAX_INCLUDE_DEPTH:
            problems.append(error("include-depth", f"includes are nested more than {MAX_INCLUDE_DEPTH} deep",
                                  span))
            return
        try:
            result = self.read(target, str(target))
        except (OSError, ValueError) as exc:
            if isinstance(exc, FileNotFoundError):
                problems.append(error("include-missing", f"cannot find \"{written}\"", span,
                                      f"looked for {target}"))
            else:
                problems.append(error("include-unreadable", f"cannot read \"{written}\": "
                                      f"{_include_problem(exc)}", span))
            return
        problems.extend(result.diagnostics)
        if result.routine is not None:
            self._collect(result.routine, target, root, stack + [resolved], found, problems)
