"""The checker: a routine's model in, every independent problem out.

Errors stop a build; warnings do not (unless ``--strict``).  Limits on
repetition and size are checked here, on the model, before anything is
expanded, so a ``repeat 100000000`` answers at once.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import assert_never

from ..fonts.textfit import BOXES, text_width, face_name, needs_cjk
from ..words import screen_words
from . import model as m
from .diagnostics import Diagnostic, error, warning
# The limits, and the reasons for them, are in qidsl.lang.limits.
from .limits import MAX_NESTING, MAX_PHASE, MAX_REPEAT, MAX_SECONDS, MAX_STEPS, MAX_TEXT_CHARACTERS
from .loader import Library
from .numbers import HUGE, plain, shown
from . import poses
from .posebook import PoseBook
from .settings import Settings, resolve_settings
from .statements import BY_KEYWORD, header_words
from .variants import merge_variant_problems, variant_names
from .mediafile import backdrop_problems, music_file_problems
from .voicefile import voice_file_problems

PLACEHOLDERS = ("side",)
_SUGGESTIONS = 50  # "did you mean" guesses among the definitions, per routine
_LISTED = 10  # definitions named in a hint when there is no guess
_PLACEHOLDER = re.compile(r"\{([^{}\n]*)\}")


@dataclass(frozen=True)
class Size:
    """What a statement expands to: how many steps, and how many written seconds."""

    steps: int
    seconds: float

    def __add__(self, other: Size) -> Size:
        return _new_size(self.steps + other.steps, self.seconds + other.seconds)

    def __mul__(self, factor: int) -> Size:
        return _new_size(self.steps * factor, self.seconds * factor)


_ONE_STEP = Size(1, 0.0)  # (made once: a Size per statement was a tenth of the sizing)
_NOTHING = Size(0, 0.0)
_new_size = m.frozen_builder(Size)  # a Size per timed statement and block: made without the frozen __init__


class Sizer:
    """Computes expansion sizes without expanding, memoising each definition.

    ``variant`` is the audience variant measured: ``for``/``unless`` blocks
    count only where they play (None: a routine without variants).
    """

    def __init__(self, library: Library, variant: str | None = None):
        self.library = library
        self.variant = variant
        self._memo: dict[str, Size] = {}
        self._active: set[str] = set()
        # Each block's size, once measured: expansion asks again of every block whether it is
        # empty, and a block's size is the sum of its statements' (a walk per question was
        # quadratic in the nesting).  Keyed by id(): the model's nodes live as long as the routine.
        self._blocks: dict[int, Size] = {}

    def of_body(self, body) -> Size:
        steps, seconds = 0, 0.0  # summed as numbers: a Size made per statement was a tenth of `check`
        for node in body:
            size = self.of(node)
            steps += size.steps
            seconds += size.seconds
        return _new_size(steps, seconds)

    def of(self, node: m.Statement) -> Size:
        if isinstance(node, m.BLOCKS):
            found = self._blocks.get(id(node))
            if found is None:
                found = self._blocks[id(node)] = self._of(node)
            return found
        return self._of(node)

    def _of(self, node: m.Statement) -> Size:
        # (isinstance, most frequent first: a `match` on classes took twice as long, and this runs per statement)
        if isinstance(node, (m.Say, m.Note)):
            return _ONE_STEP
        if isinstance(node, (m.Breath, m.Pause)):
            return _new_size(1, _written(node.duration))
        if isinstance(node, m.Bell):
            return _new_size(1, _written(node.duration) if node.duration else 3.0)
        if isinstance(node, m.BreathPattern):
            phases = (node.inhale, node.hold, node.exhale, node.hold_after or 0.0)
            return _new_size(sum(1 for p in phases if p > 0), sum(phases)) * node.count
        if isinstance(node, m.Section):
            return _ONE_STEP + self.of_body(node.body)
        if isinstance(node, m.Repeat):
            return (self.of_body(node.body) + (_ONE_STEP if node.counted else _NOTHING)) * node.count
        if isinstance(node, m.Sides):
            return self.of_body(node.body) * len(node.sides)
        if isinstance(node, m.Do):
            return self.of_definition(node.name.value) * node.times
        if isinstance(node, m.ForVariants):
            return self.of_body(node.body) if node.plays_in(self.variant) else _NOTHING
        if isinstance(node, m.Backdrop):
            return _ONE_STEP
        if isinstance(node, m.Pose):
            return _NOTHING if node.defines else _ONE_STEP
        if isinstance(node, (m.Define, m.Include)):
            return _NOTHING  # nothing happens where they are written
        # A statement class added to the model but not here fails the type check (and loudly here).
        assert_never(node)

    def of_definition(self, name: str) -> Size:
        if name in self._memo:
            return self._memo[name]
        definition = self.library.definitions.get(name)
        if definition is None or name in self._active:
            return Size(0, 0.0)  # reported elsewhere (unknown name, recursion)
        self._active.add(name)
        size = self.of_body(definition.node.body)
        self._active.discard(name)
        self._memo[name] = size
        return size


def _written(duration: m.Duration) -> float:
    """A duration's seconds for the routine's total: none for a bare number, which is reported on its own."""
    return 0.0 if duration.unit_missing else duration.seconds


def _text_offset_span(text: m.Text, start: int, end: int) -> m.Span:
    """The span of characters ``start:end`` of a quoted text (exact when it has no escapes)."""
    span = text.span
    if span.line != span.end_line:
        return span
    return m.Span(span.file, span.line, span.column + 1 + start, span.line, span.column + 1 + end)


def _sub_span(span: m.Span, width: int) -> m.Span:
    return m.Span(span.file, span.line, span.column, span.line, span.column + width)


class _Checker:
    def __init__(self, routine: m.Routine, library: Library,
                 source_lines: Callable[[str], list[str] | None] | None = None,
                 sizers: dict[str | None, Sizer] | None = None):
        self.routine = routine
        self.sizers = {} if sizers is None else sizers
        self.source_lines = source_lines
        self._lines: dict[str, list[str] | None] = {}
        self.library = library
        self.problems: list[Diagnostic] = []
        self.used: set[str] = set()
        self.uses_side = self._definitions_using_side()
        self._guesses: dict[str, str | None] = {}
        self._fits: dict[tuple[str, str], bool] = {}  # (box, text): whether the text fits the box
        self.settings: Settings | None = None  # resolved by run(), before the walk
        self.variants_named: set[str] = set()  # variants some for/unless block names
        self.in_variant_block = 0  # inside a top-level for/unless: sections allowed, define/include not
        self._media: dict[tuple, list[Diagnostic]] = {}  # each backdrop file is looked at once
        self.poses = PoseBook(library)
        self.sides: list[tuple[m.Text, ...]] = []  # the sides of the `each side` blocks around the walk

    # -- helpers -------------------------------------------------------------

    def err(self, *args, **kwargs) -> None:
        self.problems.append(error(*args, **kwargs))

    def warn(self, *args, **kwargs) -> None:
        self.problems.append(warning(*args, **kwargs))

    def _definitions_using_side(self) -> set[str]:
        """Names of definitions whose texts (directly or through `do`) say {side}."""
        direct: dict[str, bool] = {}
        calls: dict[str, set[str]] = {}
        for name, definition in self.library.definitions.items():
            texts = [t for node in m.walk(definition.node.body) for t in _texts_of(node)]
            direct[name] = any("{side}" in t.value for t in texts)
            calls[name] = {n.name.value for n in m.walk(definition.node.body) if isinstance(n, m.Do)}
        # From the definitions that say {side}, up to every definition playing
        # one of them: each call followed once (a pass over all of them until
        # nothing changed was quadratic in a long chain of definitions).
        callers: dict[str, list[str]] = {}
        for name, called in calls.items():
            for callee in called:
                callers.setdefault(callee, []).append(name)
        using = {name for name, yes in direct.items() if yes}
        pending = list(using)
        while pending:
            for caller in callers.get(pending.pop(), ()):
                if caller not in using:
                    using.add(caller)
                    pending.append(caller)
        return using

    # -- the walk ------------------------------------------------------------

    def run(self) -> list[Diagnostic]:
        settings, problems = resolve_settings(self.routine)
        self.settings = settings
        self.problems.extend(problems)
        self._next_label = screen_words(settings.language)["next"]
        self._screen_texts()
        self.problems.extend(voice_file_problems(self.routine, settings))
        self.problems.extend(music_file_problems(self.routine, settings))
        default = self.routine.setting("backdrop")
        if settings.backdrop and default is not None:
            self.problems.extend(backdrop_problems(settings.backdrop, default.value_span, self.routine.path,
                                                   self.routine.path))
        # A misspelt `titel:` is reported once, as an unknown setting whose hint says title.
        misspelt = any(p.code == "unknown-setting" and p.hint == "did you mean 'title'?" for p in problems)
        if self.routine.setting("title") is None and not is_library(self.routine) and not misspelt:
            first = self.routine.settings[0].span if self.routine.settings else None
            line = first.line if first else 1
            self.err("missing-title", "this routine has no title",
                     m.Span(self.routine.path, line, 1, line, 1), 'add a first line such as: title: "Morning Qigong"')
        self.body(self.routine.body, depth=0, top=True, in_sides=False, in_define=False)
        for definition in self.library.definitions.values():
            self.body(definition.node.body, depth=1, top=False, in_sides=False, in_define=True)
        for name, definition in self.library.definitions.items():
            if name not in self.used and definition.file == self.routine.path and not is_library(self.routine):
                self.warn("unused-define", f"the sequence \"{name}\" is defined but never used",
                          definition.node.name.span, f'play it with: do "{name}"')
        self._unused_variants()
        self._recursion()
        if not any(p.code in ("recursive-define", "too-deep", "bad-count", "too-long") for p in self.problems):
            # The size is meaningless (or already reported: a bad count, a duration over the limit) otherwise.
            self.problems.extend(merge_variant_problems(
                {variant: self._limits(self.sizers.setdefault(variant, Sizer(self.library, variant)))
                 for variant in variant_names(settings)}))
        return self.problems

    def _screen_text(self, box_name: str, value: str, span: m.Span, what: str, extra: int = 0) -> bool:
        """Warn when ``value`` cannot be shown whole in its box at 720p; True when it fits."""
        if len(value) > MAX_TEXT_CHARACTERS:
            return False  # an error of its own (see long_text); fitting megabytes would take minutes
        box = BOXES[box_name]
        assert self.settings is not None  # run() resolves them first
        fits = self._fits.get((box_name, value))
        if fits is None:  # a routine repeats its notes and names: each text is fitted once
            fits = self._fits[(box_name, value)] = box.fit(value, language=self.settings.language).within_limits
        if fits:
            return True
        # About how many characters the box holds at its smallest size, for the hint.
        face = face_name(box.bold, needs_cjk(value))
        per_char = text_width(value, box.min_size, face) / max(1, len(value))
        room = int(box.lines * box.width / max(per_char, 1e-6) * 0.9) - extra  # extra: words we add
        self.warn("text-too-long", f"this {what} is too long to show whole on the video at 720p",
                  span, f"shorten it to about {room} characters; it would be drawn smaller than reads well")
        return False

    def _screen_texts(self) -> None:
        """The title, author and title-card notes fit their boxes (qidsl.fonts.textfit), or a warning says so.

        Notes, section names and side names are measured on the walk (:meth:`_shown`).
        """
        routine = self.routine
        assert self.settings is not None  # run() resolves them first
        for key, box in (("title", "title"), ("author", "author")):
            setting = routine.setting(key)
            if setting is not None and setting.value.strip() and routine.path == setting.span.file:
                self.long_text(setting.value, setting.value_span)
                self._screen_text(box, setting.value, setting.value_span, key)
        # Notes before the first section or cue are on the title card, together (as expand puts them).
        # (Every variant's notes are measured together: a card fits them all.)
        card: list[m.Note] = []
        overflowing = False
        for node, _ in m.title_card_notes(routine.body)[0]:
            card.append(node)
            if len(node.text.value) > MAX_TEXT_CHARACTERS:
                continue  # an error of its own, reported on the walk
            # A note more is a line more: once the card overflows, every later note does too (and
            # fitting the growing text again for each of hundreds of notes took seconds).
            overflowing = overflowing or bool(node.text.value.strip()) and not BOXES["card_notes"].fit(
                "\n".join(n.text.value for n in card), language=self.settings.language).within_limits
            if overflowing and node.text.value.strip():
                self.warn("text-too-long", "the notes on the title card are too long to show whole "
                          "on the video at 720p", node.text.span,
                          "shorten them, or move this one into the first section")
        self._card_notes = {id(n) for n in card}

    def _shown(self, node) -> None:
        """A note, section name or side name of this file fits the screen (called on the walk)."""
        if node.span.file != self.routine.path:
            return  # an included file's texts are checked when that file is
        if isinstance(node, m.Note) and node.text.value.strip() and id(node) not in self._card_notes:
            self._screen_text("note", node.text.value, node.text.span, "note")
        elif isinstance(node, m.Section) and node.name.value.strip():
            if self._screen_text("section", node.name.value, node.name.span, "section name"):
                label = self._next_label.format(node.name.value)
                self._screen_text("next", label, node.name.span, "section name (shown as what comes next)",
                                  len(label) - len(node.name.value))
        elif isinstance(node, m.Sides):
            for side in node.sides:
                label = side.value[:1].upper() + side.value[1:]
                if label.strip():
                    self._screen_text("side", label, side.span, "side name")

    def body(self, body, depth: int, top: bool, in_sides: bool, in_define: bool) -> None:
        previous = None
        for node in body:
            self.statement(node, depth, top, in_sides, in_define)
            if isinstance(node, m.Breath):
                if isinstance(previous, m.Breath) and node.phase == previous.phase \
                        and BY_KEYWORD[node.phase].opposite:
                    self.warn("breath-twice", f"two {node.phase}s in a row", _sub_span(node.span, len(node.phase)),
                              f"an {node.phase} usually follows an {BY_KEYWORD[node.phase].opposite} or a hold")
                previous = node
            elif not isinstance(node, m.Note):
                previous = node

    def statement(self, node, depth: int, top: bool, in_sides: bool, in_define: bool) -> None:
        # Once per statement of the routine and its definitions, so each kind (most frequent
        # first) asks only its own questions, in this order: the lengths of its texts, whether
        # they fit the screen, the texts themselves, its duration, then what is its own.
        lengths_ok = True
        for text in _all_texts(node):
            if len(text.value) > MAX_TEXT_CHARACTERS:
                self.long_text(text.value, text.span)
                lengths_ok = False
        side_known = in_sides or in_define
        if isinstance(node, m.BLOCKS):
            if lengths_ok and isinstance(node, (m.Section, m.Sides)):
                self._shown(node)
            self.block(node, depth, top, in_sides, in_define)
        elif not lengths_ok:
            return  # nothing more is asked of a statement whose text is megabytes long
        elif isinstance(node, m.Say):
            self.text(node.text, side_known)
        elif isinstance(node, m.Breath):
            if node.text is not None:
                self.text(node.text, side_known)
            self.duration(node.duration)
            if node.to is not None:
                self.pose_name(node.to)
        elif isinstance(node, m.Note):
            self._shown(node)
            self.text(node.text, side_known)
        elif isinstance(node, (m.Pause, m.Bell)):
            if node.duration is not None:
                self.duration(node.duration)
        elif isinstance(node, m.BreathPattern):
            self.count(node.count, node.count_span, "a breath pattern")
            if node.inhale <= 0 or node.exhale <= 0:
                self.err("bad-pattern", "a breath pattern needs an inhale and an exhale longer than 0",
                         node.pattern_span, "write for example 4-7-8")
            elif max(node.inhale, node.hold, node.exhale, node.hold_after or 0) > MAX_PHASE:
                self.err("bad-pattern", f"a phase of a breath pattern can be at most {MAX_PHASE:,} seconds",
                         node.pattern_span, "write for example 4-7-8")
        elif isinstance(node, m.Do):
            self.do(node, side_known)
        elif isinstance(node, m.Backdrop):
            if node.quoted:
                self.text(node.file, side_known)  # a path may say {side}
            self.backdrop(node)
        elif isinstance(node, m.Pose):
            self.pose(node, top and not self.in_variant_block)
        elif isinstance(node, m.Include) and (not top or self.in_variant_block):
            self.err("include-not-top", "include belongs at the top level of a routine",
                     _sub_span(node.span, len("include")), "move it out of the block")

    def backdrop(self, node: m.Backdrop) -> None:
        """A backdrop's word (none), its `from`, and its file: every side's when it says {side}."""
        if not node.quoted:
            if not node.none:
                self.err("unknown-backdrop", f"unknown backdrop '{node.file.value}'", node.file.span,
                         f'write backdrop none, or a file in quotes: backdrop "{node.file.value}"')
            elif node.start is not None:
                self.err("bad-backdrop", "backdrop none has no place to start from", node.start.span,
                         "remove the from part")
            return
        written = node.file.value
        if not written.strip() or _PLACEHOLDER.sub("", written) != written.replace("{side}", ""):
            return  # an empty text or an unknown placeholder: reported as a text
        names = [side.value for side in self.sides[-1]] if "{side}" in written and self.sides else [None]
        if "{side}" in written and not self.sides:
            return  # played from a definition: each side's file is found when the sides are known (build)
        for name in dict.fromkeys(names):
            path = written if name is None else written.replace("{side}", name)
            key = (node.file.span.file, path, node.start.seconds if node.start else None)
            if key not in self._media:
                self._media[key] = backdrop_problems(path, node.file.span, self.routine.path, node.span.file,
                                                     node.start)
                self.problems.extend(self._media[key])
            if any(p.severity == "error" for p in self._media[key]):
                break  # one side's file missing: the others are likely too, one message is enough

    def block(self, node, depth: int, top: bool, in_sides: bool, in_define: bool) -> None:
        keyword = _keyword(node)
        header = _sub_span(node.span, len(keyword))
        if depth >= MAX_NESTING:
            self.err("too-deep", f"blocks are nested more than {MAX_NESTING} deep", header)
            return
        if isinstance(node, m.Section):
            if not top:
                self.err("section-not-top", "a section cannot be inside another block", header,
                         "sections are chapters: write them at the top level")
            if not node.name.value.strip():
                self.err("empty-name", "a section needs a name", node.name.span)
        if isinstance(node, m.Define):
            if not top or self.in_variant_block:
                self.err("define-not-top", "define belongs at the top level of a routine", header,
                         "move the definition out of the block")
            if not node.name.value.strip():
                self.err("empty-name", "a sequence needs a name", node.name.span)
        if isinstance(node, m.Repeat):
            self.count(node.count, node.count_span, "a repeat")
        if isinstance(node, m.Sides):
            seen: set[str] = set()  # (a list searched for each side was quadratic in 20,000 sides)
            for side in node.sides:
                if side.value in seen:
                    self.err("duplicate-side", f"the side '{side.value}' is listed twice", side.span)
                seen.add(side.value)
        if not node.body and not self._commented_under(header):
            # A forgotten indent would change the routine silently (the lines
            # play once, after the block): empty only on purpose, said with a comment.
            self.err("empty-block", f"this {keyword} is empty", header,
                     "indent the statements that belong to it under this line (a block left empty on "
                     "purpose has an indented comment under it, such as # to be written)")
        if isinstance(node, m.Define) and top and not self.in_variant_block:
            return  # checked once, through the library, below
        if isinstance(node, m.ForVariants):
            self.variant_block(node)
            if top:  # a whole section may belong to some variants only
                self.in_variant_block += 1
                self.body(node.body, depth + 1, top=True, in_sides=in_sides, in_define=in_define)
                self.in_variant_block -= 1
                return
        if isinstance(node, m.Sides):
            self.sides.append(node.sides)
        self.body(node.body, depth + 1, top=False, in_sides=in_sides or isinstance(node, m.Sides),
                  in_define=in_define)
        if isinstance(node, m.Sides):
            self.sides.pop()

    def _commented_under(self, header: m.Span) -> bool:
        """Whether the lines right under a block's header hold a comment indented deeper than it."""
        if header.file not in self._lines:  # read once a file: a file of many empty blocks stays linear
            self._lines[header.file] = self.source_lines(header.file) if self.source_lines else None
        lines = self._lines[header.file]
        if not lines or header.line > len(lines):
            return False
        indent = len(lines[header.line - 1]) - len(lines[header.line - 1].lstrip())
        for line in lines[header.line:]:
            stripped = line.lstrip()
            if not stripped:
                continue
            if not stripped.startswith("#"):
                return False
            if len(line) - len(stripped) > indent:
                return True
        return False

    def variant_block(self, node: m.ForVariants) -> None:
        """The names of a ``for``/``unless`` block: declared, and each once."""
        declared = self.settings.variants if self.settings else ()
        library = is_library(self.routine) or node.span.file != self.routine.path
        seen: list[str] = []
        for name in node.variants:
            if name.value in seen:
                self.err("duplicate-variant", f"the variant '{name.value}' is named twice", name.span)
                continue
            seen.append(name.value)
            self.variants_named.add(name.value)
            if name.value in declared or (library and not declared):
                continue  # a library's blocks name the variants of the routines that include it
            if not declared:
                self.warn("unknown-variant", f"'{name.value}' is not a variant of this routine", name.span,
                          f"declare the variants at the top, for example: variants: {name.value}")
                continue
            close = difflib.get_close_matches(name.value, declared, n=1, cutoff=0.6)
            self.warn("unknown-variant", f"'{name.value}' is not a variant of this routine", name.span,
                      f"did you mean '{close[0]}'?" if close else
                      "its variants are: " + ", ".join(declared))
            if close:
                self.variants_named.add(close[0])

    def _unused_variants(self) -> None:
        """A declared variant that no for/unless block names (forgotten, or misspelt in the blocks)."""
        line = self.routine.setting("variants")
        if line is None or not self.settings or not self.settings.variants:
            return
        for name in self.settings.variants:
            if name in self.variants_named:
                continue
            span = line.value_span
            at = line.value.find(name) if not line.quoted else -1
            if at >= 0 and span.line == span.end_line:
                span = m.Span(span.file, span.line, span.column + at, span.line, span.column + at + len(name))
            self.warn("unused-variant", f"no 'for' or 'unless' block names the variant '{name}'", span,
                      f"add a block such as 'for {name}:', or remove '{name}' from the variants")

    def count(self, value: int, span: m.Span, what: str) -> None:
        if not 1 <= value <= MAX_REPEAT:
            self.err("bad-count", f"the count of {what} must be between 1 and {MAX_REPEAT}, not {shown(value)}",
                     span, "split a very long practice into several routines" if value > MAX_REPEAT else None)

    def duration(self, duration: m.Duration) -> None:
        if duration.unit_missing:
            number = plain(duration.seconds) if duration.seconds < HUGE else "4"
            self.err("missing-unit", "a duration needs a unit", duration.span,
                     f"write {number}s for {number} seconds, or {number}m for minutes")
        elif duration.seconds <= 0:
            self.err("zero-duration", "a duration must be longer than 0", duration.span)
        elif duration.seconds > MAX_SECONDS:
            # Checked on its own, not only in the routine's total: a duration in a
            # sequence never played is in no total, and fmt must write it back.
            self.err("too-long", f"a duration can be at most {MAX_SECONDS // 3600} hours", duration.span,
                     "split a very long practice into several routines")

    def long_text(self, value: str, span: m.Span) -> bool:
        """A text (or name, or title) over the length limit is an error; True when it is within it."""
        if len(value) <= MAX_TEXT_CHARACTERS:
            return True
        self.err("text-too-many-characters", f"a text can be at most {MAX_TEXT_CHARACTERS:,} characters, "
                 f"this one has {len(value):,}", _sub_span(span, 1), "split it into several shorter ones")
        return False

    def text(self, text: m.Text, side_known: bool) -> None:
        if not text.value.strip():
            self.err("empty-text", "this text is empty", text.span)
        for match in _PLACEHOLDER.finditer(text.value):
            name = match.group(1)
            span = _text_offset_span(text, match.start(), match.end())
            if name not in PLACEHOLDERS:
                close = difflib.get_close_matches(name, PLACEHOLDERS, n=1, cutoff=0.5)
                self.err("unknown-placeholder", f"unknown placeholder {{{name}}}", span,
                         f"did you mean {{{close[0]}}}?" if close else "the only placeholder is {side}")
            elif not side_known:
                self.err("side-outside", "{side} is only known inside an 'each side' block", span,
                         "put this line inside: each side left, right:")

    def do(self, node: m.Do, side_known: bool) -> None:
        name = node.name.value
        if node.times_span is not None:
            self.count(node.times, node.times_span, "do … times")
        if name not in self.library.definitions:
            close = self._close_definition(name)
            names = [f'"{n}"' for n in itertools.islice(self.library.definitions, _LISTED)]
            if len(self.library.definitions) > _LISTED:
                names.append("…")
            hint = f'did you mean "{close}"?' if close else (
                "define it with: define \"" + name + "\":" if not self.library.definitions
                else "defined sequences: " + ", ".join(names))
            self.err("unknown-sequence", f"no sequence is named \"{name}\"", node.name.span, hint)
            if close:  # the author meant it: don't also call it unused
                self.used.add(close)
            return
        self.used.add(name)
        if name in self.uses_side and not side_known:
            self.err("side-outside", f"\"{name}\" says {{side}}, so it must be played inside an 'each side' block",
                     node.name.span)

    def pose(self, node: m.Pose, top: bool) -> None:
        """A pose taken names a known pose; a pose defined is at the top level, from known joints in range."""
        if not node.defines:
            self.pose_name(node.name)
            return
        if not top:
            self.err("pose-definition-not-top", "a pose is defined at the top level of a routine",
                     _sub_span(node.span, len("pose")), "move the definition out of the block")
        if node.base is not None:
            if node.base.value == node.name.value:
                self.err("recursive-pose", f"the pose \"{node.name.value}\" cannot start from itself",
                         node.base.span, 'start it from a library pose, such as "standing"')
            elif self.poses.resolve(node.base.value) is None and node.base.value in self.poses.defined:
                self.err("recursive-pose", f"the poses \"{node.name.value}\" and \"{node.base.value}\" start "
                         "from each other in a circle", node.base.span, 'start one of them from a library pose')
            else:
                self.pose_name(node.base)
        seen: set[str] = set()
        for angle in node.angles:
            joint = poses.joint(angle.joint)
            if joint is None:
                close = difflib.get_close_matches(angle.joint, poses.JOINT_NAMES, n=1, cutoff=0.6)
                self.err("unknown-joint", f"the figure has no joint named '{angle.joint}'", angle.joint_span,
                         f"did you mean '{close[0]}'?" if close else "joints: " + ", ".join(poses.JOINT_NAMES))
                continue
            if angle.joint in seen:
                self.err("duplicate-joint", f"'{angle.joint}' is given twice in this pose", angle.joint_span)
            seen.add(angle.joint)
            low, high = joint.minimum, joint.maximum
            if not joint.allows(angle.degrees):
                self.err("angle-out-of-range", f"{plain(angle.degrees)}° is outside what the {angle.joint} can "
                         f"turn ({plain(low)}° to {plain(high)}°)", angle.degrees_span,
                         f"write an angle from {plain(low)} to {plain(high)}")

    def pose_name(self, name: m.Text) -> None:
        """The pose ``name`` names is known: in every side of the `each side` around it, for ``{side}``."""
        written: list[tuple[str, str | None]]
        if "{side}" in name.value:
            # Inside a definition the sides are those of where it is played: left and right stand for them.
            sides = [s.value for s in self.sides[-1]] if self.sides else ["left", "right"]
            if m.UNKNOWN_SIDE in sides:
                return  # the `each side` header is broken, and said so: its sides are not known
            written = [(name.value.replace("{side}", side), side) for side in sides]
        else:
            written = [(name.value, None)]
        for value, side in written:
            if self.poses.resolve(value) is not None:
                continue
            close = self.poses.suggest(value)
            where = f" (on the side '{side}')" if side is not None else ""
            hint = f'did you mean "{close}"?' if close else "see the poses in docs/poses.md, or define it with: " \
                f'pose "{value}" from "standing": left-shoulder 90'
            self.err("unknown-pose", f"no pose is named \"{value}\"{where}", name.span, hint)
            return  # one message for the line

    def _close_definition(self, name: str) -> str | None:
        """The defined name ``name`` was probably meant to be, for the first few unknown names.

        Each guess compares against every definition, so past
        :data:`_SUGGESTIONS` guesses none is made: many unknown names in a file
        of many definitions would otherwise cost their product.
        """
        if name in self._guesses:
            return self._guesses[name]
        if len(self._guesses) >= _SUGGESTIONS:
            return None
        close = difflib.get_close_matches(name, list(self.library.definitions), n=1, cutoff=0.6)
        self._guesses[name] = close[0] if close else None
        return self._guesses[name]

    def _recursion(self) -> None:
        """A definition that plays itself, directly or through others, would never end."""
        graph = {name: [n for n in m.walk(d.node.body) if isinstance(n, m.Do)]
                 for name, d in self.library.definitions.items()}
        state: dict[str, int] = {}
        path: list[str] = []  # the definitions being visited, outermost first

        def visit(name: str, depth: int) -> None:
            state[name] = 1
            path.append(name)
            for call in graph.get(name, ()):
                callee = call.name.value
                if state.get(callee) == 1:
                    cycle = path[path.index(callee):] + [callee]
                    if len(cycle) == 2:
                        self.err("recursive-define", f"\"{callee}\" plays itself, so it would never end",
                                 call.name.span, "a sequence cannot contain a do of itself")
                    else:
                        chain = " → ".join(f'"{n}"' for n in cycle)
                        self.err("recursive-define", f"these sequences play each other in a circle, so they "
                                 f"would never end: {chain}", call.name.span,
                                 "a sequence cannot play itself, not even through other sequences")
                elif callee in graph and callee not in state:
                    if depth >= MAX_NESTING:
                        self.err("too-deep", f"sequences call each other more than {MAX_NESTING} deep",
                                 call.name.span)
                    else:
                        visit(callee, depth + 1)
            path.pop()
            state[name] = 2

        for name in graph:
            if name not in state:
                visit(name, 0)

    def _limits(self, sizer: Sizer) -> list[Diagnostic]:
        """The size limits, measured in one variant."""
        total = sizer.of_body(self.routine.body)
        if total.steps <= MAX_STEPS and total.seconds <= MAX_SECONDS:
            return []
        # Point at the innermost statement that alone is over the limit.
        culprit, body = None, self.routine.body
        while True:
            over = [n for n in body if _over(sizer.of(n))]
            if not over:
                break
            culprit = over[0]
            body = m.children(culprit) if not isinstance(culprit, m.Do) else ()
        span = culprit.span if culprit is not None else m.Span(self.routine.path, 1, 1, 1, 1)
        first_line = _sub_span(span, len(_keyword(culprit)) if culprit is not None else 1)
        if total.steps > MAX_STEPS:
            return [error("too-many-steps", f"this routine expands to {total.steps:,} steps; the limit is "
                          f"{MAX_STEPS:,}", first_line, "lower the repeat counts")]
        return [error("too-long", f"this routine runs {total.seconds / 3600:,.1f} hours; the limit is "
                      f"{MAX_SECONDS // 3600} hours", first_line, "lower the repeat counts or durations")]


def _keyword(node: m.Statement) -> str:
    """The words a statement starts with, to underline them."""
    return header_words(node)


def is_library(routine: m.Routine) -> bool:
    """A file of definitions only, with no title: made to be included, not played."""
    return (routine.setting("title") is None and bool(routine.body)
            and all(isinstance(node, (m.Define, m.Include)) for node in routine.body))


def empty_routine(routine: m.Routine, steps: int) -> Diagnostic | None:
    """A warning for a titled routine that expands to nothing at all."""
    title = routine.setting("title")
    if title is None or steps:
        return None
    return warning("empty-routine", "this routine has nothing to say or do", title.span,
                   'add a section, for example: section "Arriving":')


def _over(size: Size) -> bool:
    return size.steps > MAX_STEPS or size.seconds > MAX_SECONDS


def _texts_of(node) -> tuple[m.Text, ...]:
    """The texts of a statement that are spoken or shown, and may hold a placeholder."""
    if isinstance(node, (m.Say, m.Note)):
        return (node.text,)
    if isinstance(node, m.Breath):
        return () if node.text is None else (node.text,)
    if isinstance(node, m.Backdrop) and node.quoted:
        return (node.file,)  # a path may say {side}
    return ()


def _all_texts(node: m.Statement) -> tuple[m.Text, ...]:
    """Every quoted text and name a statement holds (its length is limited: see qidsl.lang.limits)."""
    # (isinstance, most frequent first: a `match` on classes took twice as long, and this runs per statement)
    if isinstance(node, (m.Say, m.Note)):
        return (node.text,)
    if isinstance(node, m.Breath):
        if node.to is None:
            return () if node.text is None else (node.text,)
        return (node.to,) if node.text is None else (node.text, node.to)
    if isinstance(node, (m.Pause, m.Bell, m.BreathPattern, m.Repeat)):
        return ()
    if isinstance(node, m.Pose):
        return (node.name,) + ((node.base,) if node.base is not None else ())
    if isinstance(node, (m.Section, m.Define, m.Do)):
        return (node.name,)
    if isinstance(node, m.Include):
        return (node.path,)
    if isinstance(node, m.Backdrop):
        return (node.file,)
    if isinstance(node, m.Sides):
        return node.sides
    if isinstance(node, m.ForVariants):
        return node.variants
    assert_never(node)


def check(routine: m.Routine, library: Library,
          source_lines: Callable[[str], list[str] | None] | None = None,
          sizers: dict[str | None, Sizer] | None = None) -> list[Diagnostic]:
    """Every problem of ``routine`` (with its included definitions), errors and warnings.

    ``source_lines`` gives a file's lines (such as :meth:`Loader.lines`): an
    empty block with a comment under it is empty on purpose, not an error.
    ``sizers``, when given, receives the :class:`Sizer` that measured each
    variant for the size limits, for expansion to use again (measuring a
    large routine is a tenth of checking it).
    """
    return _Checker(routine, library, source_lines, sizers).run()
