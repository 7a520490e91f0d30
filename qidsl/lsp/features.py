"""What the language server answers, worked out from the front end alone (no protocol here).

Positions are the front end's: lines from 1, columns from 1 counted in
characters, ends exclusive (a :class:`~qidsl.lang.model.Span`).  The server
turns them into the editor's units.  Every function takes a :class:`Document`:
the text being edited and what :func:`analyse` made of it, which is exactly
what ``qidsl check`` makes of the same text.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..compile import Compiled, compile_routine
from ..lang import model as m
from ..lang.diagnostics import QiError
from ..lang.expand import expand
from ..lang.formatter import format_routine
from ..lang.loader import Loader
from ..lang.parser import Source, parse_source
from ..lang.variants import variant_names
from ..lang.statements import KEYWORDS, KINDS, keyword_of
from ..lang import poses
from ..lang.settings import BUNDLED_VOICE, ENGINES, FIGURES, KNOWN_KEYS, LEVELS, THEMES, resolve_settings
from ..timefmt import clock
from ..timeline import EstimatedSpeech, build_timeline
from ..words import SCREEN


@dataclass(frozen=True)
class Document:
    """One routine as the editor has it: its path, its text and the front end's view of it."""

    path: str
    text: str
    compiled: Compiled

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")


def normalise(text: str) -> str:
    """Line ends as the front end reads them (``\\r\\n`` and ``\\r`` become ``\\n``)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def analyse(path: str, text: str, loader: Loader | None = None) -> Document:
    """Check ``text`` as the file at ``path``, as ``qidsl check`` would (includes read by ``loader``).

    As ``qidsl check``, it makes no events on the estimated timelines (only their warnings are read).
    """
    text = normalise(text)
    compiled = compile_routine(path, loader or Loader(), text, events=False)
    return Document(path, text, compiled)


# ---------------------------------------------------------------------------
# Words for hover and completion

# How each statement is written, and what it means: from the table of statements.
STATEMENT_HELP = {kind.keyword: (kind.usage, kind.help) for kind in KINDS}

SETTING_HELP = {
    "title": "The routine's title (required): the title card, the MP3's title.",
    "author": "Who wrote the routine: the MP3's artist.",
    "language": "The language of the text, a BCP-47 tag such as en, en-GB, zh-CN.",
    "voice": f"The Piper voice: {BUNDLED_VOICE} (bundled, English; reads another language only when named) "
             "or a .onnx voice file next to the routine.",
    "tags": "Words that describe the routine, separated by commas.",
    "description": "A sentence about the routine.",
    "tempo": "0.5 to 2: every written duration is divided by it (0.8 is slower).",
    "rate": "0.5 to 2: the narrator's speaking speed.",
    "gap": "Silence after each `say`, in seconds (about 0.5 s unless given).",
    "engine": "The speech engine: piper, pico, espeak (offline) or gtts (online); without it, the "
              "routine's language picks its offline voice (`qidsl voices`).",
    "theme": "The video's colours: " + ", ".join(THEMES) + ".",
    "level": "Who the routine is for: " + ", ".join(LEVELS) + "; sets which breath-safety warnings "
             "`check` gives.",
    "variants": "The audiences this routine is written for, separated by commas; the first is the default.",
    "captions": "sentences (the default) or words: the video's caption marks the word being spoken.",
}

def keyword(node) -> str:
    """The statement word a node was written with."""
    return keyword_of(node)


# ---------------------------------------------------------------------------
# Finding things


def _contains(span: m.Span, line: int, column: int) -> bool:
    return (span.line, span.column) <= (line, column) <= (span.end_line, span.end_column)


def nodes_at(doc: Document, line: int, column: int) -> list:
    """The statements under a position, outermost first."""
    routine = doc.compiled.routine
    found: list[m.Statement] = []
    body = routine.body if routine else ()
    while True:
        inner = next((node for node in body if _contains(node.span, line, column)), None)
        if inner is None:
            return found
        found.append(inner)
        body = m.children(inner)


def setting_at(doc: Document, line: int, column: int) -> m.Setting | None:
    routine = doc.compiled.routine
    for item in routine.settings if routine else ():
        if _contains(item.span, line, column):
            return item
    return None


def definition_of(doc: Document, name: str):
    """The ``define`` named ``name`` (here or in an included file), or None."""
    library = doc.compiled.library
    return library.definitions.get(name) if library else None


def _include_target(doc: Document, node: m.Include) -> Path:
    return Path(os.path.normpath(Path(doc.path).parent / node.path.value))


# ---------------------------------------------------------------------------
# Hover


def estimate_seconds(doc: Document, node) -> float | None:
    """How long ``node`` lasts in the front end's estimate (speech at the pace of the routine's voice), or None.

    In a routine with variants, it is the time in the default (first) variant.  This is the estimate
    ``qidsl check`` and ``diff`` make; ``plan`` times Piper's speech by the voice itself, a little closer.
    """
    routine, library = doc.compiled.routine, doc.compiled.library
    if routine is None or library is None:
        return None
    settings = doc.compiled.settings or resolve_settings(routine)[0]
    body = node.body if isinstance(node, m.Define) else (node,)
    try:
        expanded = expand(m.Routine(routine.path, routine.settings, body), library, settings,
                          variant_names(settings)[0])
        timeline = build_timeline(expanded, EstimatedSpeech.for_settings(settings))
    except (QiError, KeyError, RecursionError, ValueError):  # an unknown or recursive `do`, too large
        return None
    return sum(e.duration for e in timeline.events if e.kind not in ("intro", "outro", "section"))


def _played_texts(doc: Document, body, depth: int = 0) -> list[str]:
    """The lines a sequence plays, in order, as the author wrote them (nested `do`s followed)."""
    out = []
    for node in body:
        if isinstance(node, (m.Say, m.Note)):
            out.append(f"{keyword(node)} “{node.text.value}”")
        elif isinstance(node, m.Breath):
            out.append(f"{node.phase} {clock_short(node.duration.seconds)}"
                       + (f" “{node.text.value}”" if node.text else ""))
        elif isinstance(node, m.Do) and depth < 8:
            found = definition_of(doc, node.name.value)
            inner = _played_texts(doc, found.node.body, depth + 1) if found else []
            out.extend(inner * node.times)
        elif isinstance(node, (m.Repeat, m.Sides, m.ForVariants)):
            out.append(f"{keyword(node)} …:")
            out.extend("    " + text for text in _played_texts(doc, node.body, depth + 1))
        elif isinstance(node, (m.Pause, m.Bell, m.BreathPattern)):
            out.append(keyword(node))
    return out


def clock_short(seconds: float) -> str:
    """4 -> ``4s``, 90 -> ``1:30``."""
    return f"{seconds:g}s" if seconds < 60 else clock(seconds)


def hover(doc: Document, line: int, column: int) -> tuple[str, m.Span] | None:
    """Markdown about the statement or setting under a position, and the range it speaks of."""
    item = setting_at(doc, line, column)
    if item is not None:
        help_text = SETTING_HELP.get(item.key)
        return (f"**{item.key}**: {help_text}" if help_text else f"**{item.key}**"), item.span
    nodes = nodes_at(doc, line, column)
    if not nodes:
        return None
    node = nodes[-1]
    word = keyword(node)
    form, meaning = STATEMENT_HELP[word]
    parts = [f"```qi\n{form}\n```", meaning]
    if isinstance(node, (m.Section, m.Repeat, m.Sides, m.Define, m.Do)):
        seconds = estimate_seconds(doc, node)
        if seconds is not None:
            what = {m.Define: "each time it is played", m.Do: "in all"}.get(type(node), "")
            parts.append(f"Lasts about **{clock(seconds)}** {what} (estimated at the pace of the routine's voice)."
                         .replace("  (", " ("))
    if isinstance(node, m.Do):
        found = definition_of(doc, node.name.value)
        if found is None:
            parts.append(f"No sequence is named “{node.name.value}”.")
        else:
            texts = _played_texts(doc, found.node.body)
            times = f" ({node.times} times)" if node.times > 1 else ""
            shown = texts[:20] + (["…"] if len(texts) > 20 else [])
            parts.append(f"Plays “{node.name.value}”{times}:\n\n```qi\n" + "\n".join(shown) + "\n```")
    return "\n\n".join(parts), node.span


# ---------------------------------------------------------------------------
# Completion


@dataclass(frozen=True)
class Completion:
    """One suggestion: ``text`` replaces columns ``start`` to ``end`` (exclusive) of the cursor's line."""

    label: str
    kind: str  # keyword, property, value, reference, file, placeholder
    detail: str
    text: str
    start: int
    end: int
    documentation: str | None = None


_STATEMENT_LINE = re.compile(r"^\s*(" + "|".join(KEYWORDS) + r")\b")


def _in_body(lines: list[str], line: int) -> bool:
    """Whether a statement comes before ``line`` (settings may only come before the first one)."""
    return any(_STATEMENT_LINE.match(text) for text in lines[: line - 1])


def _inside_each_side(lines: list[str], line: int) -> bool:
    """Whether ``line`` is indented under an ``each side`` header (read from the indentation alone,
    so it works while the line is half typed)."""
    indent = len(lines[line - 1]) - len(lines[line - 1].lstrip(" "))
    for text in reversed(lines[: line - 1]):
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        depth = len(text) - len(text.lstrip(" "))
        if depth < indent:
            if stripped.startswith("each side"):
                return True
            indent = depth
        if depth == 0:
            return False
    return False


def _quoted_span(line_text: str, start: int, column: int) -> tuple[int, int]:
    """Columns to replace for a quoted argument that starts at index ``start`` (its quote, if typed)."""
    end = column
    closing = line_text.find('"', column - 1) if line_text[start:start + 1] == '"' else -1
    if closing != -1 and '"' not in line_text[start + 1:column - 1]:
        end = closing + 2
    return start + 1, end


def _language_tags() -> list[str]:
    tags = set(SCREEN) | {"en-GB", "en-US", "en-AU", "zh-CN", "zh-TW", "pt-BR", "fr-CA"}
    try:  # gTTS's languages, when gTTS is installed (it is a dependency of qidsl)
        from gtts.lang import tts_langs

        tags |= set(tts_langs())
    except Exception:  # noqa: BLE001 - a missing or broken gTTS leaves the short list
        pass
    return sorted(tags)


def _files(folder: Path, suffix: str, exclude: Path | None, limit: int = 200) -> list[str]:
    found = []
    for path in sorted(folder.rglob(f"*{suffix}")):
        if path.is_file() and path.resolve() != exclude and not any(p.startswith(".") for p in path.parts):
            found.append(path.relative_to(folder).as_posix())
            if len(found) >= limit:
                break
    return found


def complete(doc: Document, line: int, column: int) -> list[Completion]:
    """What may be typed at a position."""
    lines = doc.lines
    if not 1 <= line <= len(lines):
        return []
    text = lines[line - 1]
    before = text[: column - 1]
    folder = Path(doc.path).parent

    brace = re.search(r"\{(\w*)$", before)
    if brace and before.count('"') % 2 == 1:  # inside quoted text
        if not _inside_each_side(lines, line):
            return []
        end = column + 1 if text[column - 1:column] == "}" else column
        return [Completion("{side}", "placeholder", "the side being played", "{side}",
                           brace.start() + 1, end, "Replaced by each side of the `each side` block in turn.")]

    quoted = re.match(r'^(\s*(do|include)\s+)("?[^"]*)$', before)
    if quoted:
        start, end = _quoted_span(text, len(quoted.group(1)), column)
        if quoted.group(2) == "do":
            names = dict.fromkeys(re.findall(r'^\s*define\s+"((?:[^"\\]|\\.)*)"', doc.text, re.MULTILINE))
            library = doc.compiled.library
            for name, _definition in (library.definitions.items() if library else ()):
                names.setdefault(name, None)
            return [Completion(name, "reference", "a sequence made with define", f'"{name}"', start, end)
                    for name in names]
        exclude = Path(doc.path).resolve()
        return [Completion(name, "file", "a routine file", f'"{name}"', start, end)
                for name in _files(folder, ".qi", exclude)]

    posing = re.match(r'^(\s*pose\s+|.*\s(?:to|from)\s+)("?[^"]*)$', before)
    if posing and (posing.group(1).lstrip().startswith("pose") or re.match(r"\s*(pose|inhale|exhale|hold|stay)\b",
                                                                             text)):
        start, end = _quoted_span(text, len(posing.group(1)), column)
        library = doc.compiled.library
        own = list(library.poses) if library else []
        return [Completion(name, "value", "a pose of the routine" if name in own else "a pose of the library",
                           f'"{name}"', start, end) for name in dict.fromkeys(own + poses.pose_names())]

    block = re.match(r"^\s*(for|unless)\s+(?:[\w-]+\s*,\s*)*([\w-]*)$", before)
    if block:
        declared = doc.compiled.routine.setting("variants") if doc.compiled.routine else None
        variants = [name.strip() for name in declared.value.split(",") if name.strip()] if declared else []
        start = column - len(block.group(2))
        return [Completion(name, "value", f"the variant {name}", name, start, column) for name in variants]

    value = re.match(r"^([A-Za-z_]+):\s*(\S*)$", before)
    if value and value.group(1) in KNOWN_KEYS and not _in_body(lines, line):
        key, start = value.group(1), len(before) - len(value.group(2)) + 1
        choices = {"language": _language_tags(), "theme": list(THEMES), "engine": list(ENGINES),
                   "voice": [BUNDLED_VOICE] + _files(folder, ".onnx", None), "level": list(LEVELS),
                   "captions": ["sentences", "words"], "figure": list(FIGURES), "tempo": ["0.8", "1", "1.2"], "rate": ["0.9", "1", "1.1"], "gap": ["0.5s", "1s"]}
        return [Completion(choice, "value", f"{key}: {choice}", choice, start, column)
                for choice in choices.get(key, [])]

    word = re.match(r"^(\s*)([A-Za-z]*)$", before)
    if not word:
        return []
    start = len(word.group(1)) + 1
    end = start + len(re.match(r"[A-Za-z]*", text[start - 1:]).group(0))  # type: ignore[union-attr]  # [A-Za-z]* always matches
    items = [Completion(kind.keyword, "keyword", kind.usage, kind.completion, start, end, kind.help)
             for kind in KINDS]
    if not word.group(1) and not _in_body(lines, line):
        items = [Completion(key, "property", f"{key}: …", key + ": ", start, end, SETTING_HELP.get(key))
                 for key in KNOWN_KEYS] + items
    return items


# ---------------------------------------------------------------------------
# Definitions, references, symbols, folding, formatting


def _name_under(doc: Document, line: int, column: int) -> tuple[str, m.Text] | None:
    """The sequence name under a position: a ``do``'s or a ``define``'s."""
    for node in reversed(nodes_at(doc, line, column)):
        if isinstance(node, (m.Do, m.Define)) and (node.span.line == line):
            return node.name.value, node.name
    return None


def definition(doc: Document, line: int, column: int) -> m.Span | None:
    """Where the thing under a position is defined: a ``do``'s ``define``, an ``include``'s file."""
    nodes = nodes_at(doc, line, column)
    node = nodes[-1] if nodes else None
    if isinstance(node, m.Include):
        target = _include_target(doc, node)
        return m.Span(str(target), 1, 1, 1, 1) if target.is_file() else None
    named = _name_under(doc, line, column)
    if named is None:
        return None
    found = definition_of(doc, named[0])
    return found.node.name.span if found else None


def references(doc: Document, line: int, column: int, include_declaration: bool = True) -> list[m.Span]:
    """Every ``do`` of the sequence under a position (and its ``define``), here and in included files."""
    named = _name_under(doc, line, column)
    if named is None:
        return []
    name = named[0]
    bodies = [doc.compiled.routine.body] if doc.compiled.routine else []
    library = doc.compiled.library
    for found in (library.definitions.values() if library else ()):
        if found.file != doc.path:
            bodies.append(found.node.body)
    spans = []
    for body in bodies:
        spans += [node.name.span for node in m.walk(body) if isinstance(node, m.Do) and node.name.value == name]
    found = definition_of(doc, name)
    if include_declaration and found is not None:
        spans.insert(0, found.node.name.span)
    return list(dict.fromkeys(spans))


@dataclass(frozen=True)
class Symbol:
    """An entry of the outline: a section, a sequence, or a block inside them."""

    name: str
    kind: str  # section, define, repeat, sides, variants
    span: m.Span
    name_span: m.Span
    children: tuple[Symbol, ...]


def _header_span(node) -> m.Span:
    span = node.span
    return m.Span(span.file, span.line, span.column, span.line, span.column + len(keyword(node)))


def symbols(doc: Document) -> list[Symbol]:
    """The outline: sections and sequences, with their repeats and sides inside."""

    def of(body) -> tuple[Symbol, ...]:
        out = []
        for node in body:
            if isinstance(node, (m.Section, m.Define)):
                out.append(Symbol(node.name.value, keyword(node), node.span, node.name.span, of(node.body)))
            elif isinstance(node, m.Repeat):
                out.append(Symbol(f"repeat {node.count}" + (" counted" if node.counted else ""), "repeat",
                                  node.span, _header_span(node), of(node.body)))
            elif isinstance(node, m.Sides):
                out.append(Symbol("each side " + ", ".join(s.value for s in node.sides), "sides", node.span,
                                  _header_span(node), of(node.body)))
            elif isinstance(node, m.ForVariants):
                out.append(Symbol(keyword(node) + " " + ", ".join(v.value for v in node.variants), "variants",
                                  node.span, _header_span(node), of(node.body)))
        return tuple(out)

    routine = doc.compiled.routine
    return list(of(routine.body)) if routine else []


def folding(doc: Document) -> list[tuple[int, int, str]]:
    """Ranges of lines that fold: every block, and runs of two or more comment lines."""
    ranges = []
    routine = doc.compiled.routine
    for node in m.walk(routine.body) if routine else ():
        if isinstance(node, m.BLOCKS) and node.span.end_line > node.span.line:
            ranges.append((node.span.line, node.span.end_line, "region"))
    run_start = None
    lines = doc.lines
    for number, text in enumerate(lines + [""], start=1):
        if text.strip().startswith("#"):
            run_start = run_start or number
        else:
            if run_start is not None and number - 1 > run_start:
                ranges.append((run_start, number - 1, "comment"))
            run_start = None
    return sorted(ranges)


def formatted(path: str, text: str) -> str | None:
    """``text`` in the canonical layout of ``qidsl fmt``, or None while it has syntax errors."""
    source = Source(path, normalise(text))
    if not source.text.strip():
        return None
    result = parse_source(source)
    if result.routine is None or any(d.is_error for d in result.diagnostics):
        return None
    return format_routine(result.routine, source.lines)
