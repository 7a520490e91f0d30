"""Expansion: definitions, repetitions, sides and breath patterns into a flat list of steps.

Sizes are checked on the model first (:class:`qidsl.lang.check.Sizer`), so an
over-large routine is refused before a single step is made.
"""

from __future__ import annotations

from typing import assert_never

from . import model as m
from .check import Sizer
from .diagnostics import QiError, error
from .limits import MAX_SECONDS, MAX_STEPS
from .loader import Library
from .settings import Settings
from ..words import pattern_words
from .posebook import PoseBook
from .steps import (BACKDROP, BELL, COUNT, EXHALE, HOLD, INHALE, NOTE, PAUSE, POSE, SAY, SECTION, ExpandedRoutine,
                    Repetition, Step)

_step = m.frozen_builder(Step)  # a Step per step played: up to 30,000


class _Expander:
    def __init__(self, library: Library, settings: Settings, variant: str | None = None,
                 sizer: Sizer | None = None):
        self.library = library
        self.settings = settings
        self.variant = variant
        self.steps: list[Step] = []
        # The words said on each phase of a `breathe` pattern; None in a language
        # we have no words for, where the picture and silence guide the breath.
        self.pattern_words = pattern_words(settings.language)
        self.sizer = sizer or Sizer(library, variant)
        self.poses = PoseBook(library)

    def empty(self, node) -> bool:
        """Whether a block (or a `do`) makes no step at all, however often it is played.

        Such a block is skipped, not played: an empty `repeat 1000:` nested
        three deep would otherwise turn a billion times for nothing, since the
        limits count steps.  So the work is bounded by the steps made.
        """
        return self.sizer.of(node).steps == 0  # (the sizer keeps each block's size)

    def seconds(self, duration: m.Duration | None) -> float | None:
        return None if duration is None else duration.seconds / self.settings.tempo

    def add(self, kind, seconds, text, span, ctx, text_span=None, pose: m.Text | None = None) -> None:
        section, repetition, side = ctx
        if text is not None and side is not None:
            text = text.replace("{side}", side)
        resolved = None
        if pose is not None:
            # `{side}` in a pose's name is the side: "drawing the bow {side}" is the bow drawn to that side.
            name = pose.value.replace("{side}", side) if side is not None else pose.value
            resolved = self.poses.resolve(name)  # (an unknown name is check's error; nothing to draw)
        self.steps.append(_step(kind, seconds, text, section, repetition, side, span, text_span, resolved,
                                pose.span if pose is not None else None))

    def body(self, body, ctx) -> None:
        node = self.node
        for statement in body:
            node(statement, ctx)

    def node(self, node: m.Statement, ctx) -> None:
        # (isinstance, most frequent first: a `match` on classes took twice as long, and this runs once
        # per statement played; a say's step is made here, without add's questions about sides and poses)
        if isinstance(node, m.Say):
            section, repetition, side = ctx
            text = node.text.value
            self.steps.append(_step(SAY, None, text if side is None else text.replace("{side}", side), section,
                                    repetition, side, node.span, None, None, None))
        elif isinstance(node, m.Breath):
            # A timed phase is a step of its own kind: its keyword (see qidsl.lang.statements.PHASES).
            self.add(node.phase, self.seconds(node.duration), node.text.value if node.text else None,
                     node.span, ctx, node.text.span if node.text else None, node.to)
        elif isinstance(node, m.Note):
            self.add(NOTE, None, node.text.value, node.span, ctx)
        elif isinstance(node, m.Pause):
            self.add(PAUSE, self.seconds(node.duration), None, node.span, ctx)
        elif isinstance(node, m.Bell):
            self.add(BELL, self.seconds(node.duration), None, node.span, ctx)
        elif isinstance(node, m.BreathPattern):
            self.pattern(node, ctx)
        elif isinstance(node, m.Section):
            self.add(SECTION, None, node.name.value, node.span, (node.name.value, None, None))
            self.body(node.body, (node.name.value, None, None))
        elif isinstance(node, m.Pose):
            if not node.defines:  # a definition plays nothing where it is written
                self.add(POSE, None, None, node.span, ctx, pose=node.name)
        elif isinstance(node, m.Repeat):
            if not self.empty(node):
                section, repetition, side = ctx
                for index in range(1, node.count + 1):
                    inner = (section, Repetition(index, node.count, node.counted, repetition), side)
                    if node.counted:
                        self.add(COUNT, None, str(index), node.span, inner)
                    self.body(node.body, inner)
        elif isinstance(node, m.Sides):
            if not self.empty(node):
                section, repetition, _ = ctx
                for name in node.sides:
                    self.body(node.body, (section, repetition, name.value))
        elif isinstance(node, m.Do):
            if not self.empty(node):
                definition = self.library.definitions[node.name.value]
                for _ in range(node.times):
                    self.body(definition.node.body, ctx)
        elif isinstance(node, m.ForVariants):
            if not self.empty(node) and node.plays_in(self.variant):
                self.body(node.body, ctx)
        elif isinstance(node, m.Backdrop):
            # From here on, wherever this is played (a define's, a repeat's, a side's, a variant's).
            self.add(BACKDROP, node.start.seconds if node.start else None, None if node.none else node.file.value,
                     node.span, ctx)
        elif isinstance(node, (m.Define, m.Include)):
            pass  # they do nothing where they are written
        else:
            # A statement class added to the model but not here must not vanish from the outputs.
            assert_never(node)

    def pattern(self, node: m.BreathPattern, ctx) -> None:
        section, repetition, side = ctx
        phases = [(INHALE, node.inhale), (HOLD, node.hold), (EXHALE, node.exhale), (HOLD, node.hold_after or 0)]
        for index in range(1, node.count + 1):
            inner = (section, Repetition(index, node.count, False, repetition), side)
            for kind, seconds in phases:
                if seconds > 0:
                    text = self.pattern_words[kind] if self.pattern_words else None
                    self.add(kind, seconds / self.settings.tempo, text, node.span, inner)


def expand(routine: m.Routine, library: Library, settings: Settings,
           variant: str | None = None, sizer: Sizer | None = None) -> ExpandedRoutine:
    """Flatten a checked routine as it plays in ``variant`` (None: no variants).

    ``sizer`` is the one check measured this variant with, if there is one
    (see :func:`qidsl.lang.check.check`).  Raises QiError if it is too large to expand.
    """
    sizer = sizer or Sizer(library, variant)
    size = sizer.of_body(routine.body)
    if size.steps > MAX_STEPS or size.seconds > MAX_SECONDS:
        raise QiError([error("too-large", "this routine is too large to expand",
                             m.Span(routine.path, 1, 1, 1, 1))])
    expander = _Expander(library, settings, variant, sizer)
    # Notes before the first section or cue belong on the title card (a variant's own too).
    card, start = m.title_card_notes(routine.body)
    notes = [note.text.value for note, block in card if block is None or block.plays_in(variant)]
    default = routine.setting("backdrop")
    if settings.backdrop and default is not None:  # `backdrop:`: the picture from the first cue
        expander.add(BACKDROP, None, settings.backdrop, default.value_span, (None, None, None))
    expander.body(routine.body[start:], (None, None, None))
    return ExpandedRoutine(settings, tuple(expander.steps), tuple(notes))
