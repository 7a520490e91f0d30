"""The typed model of a routine: what the parser builds and every stage passes on.

Every node is a frozen dataclass carrying the :class:`Span` of the source it
came from.  Spans are excluded from equality, so two routines that mean the
same thing compare equal even when laid out differently (this is what lets
``parse(fmt(x)) == parse(x)`` be tested).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

_T = TypeVar("_T")

# The side the parser gives a broken `each side` header (already an error), so `{side}` stays known below it.
UNKNOWN_SIDE = "…"


@dataclass(frozen=True)
class Span:
    """A range of source text: 1-based line and column, end exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


def _span() -> Span:
    return field(compare=False, repr=False)


@dataclass(frozen=True)
class Text:
    """Quoted text as the author wrote it, escapes resolved."""

    value: str
    span: Span = _span()


@dataclass(frozen=True)
class Duration:
    """A written duration.  ``unit_missing`` marks ``inhale 4`` so check can say so."""

    seconds: float
    span: Span = _span()
    unit_missing: bool = False


@dataclass(frozen=True)
class Setting:
    """One ``key: value`` metadata line."""

    key: str
    value: str
    quoted: bool
    span: Span = _span()
    value_span: Span = _span()


@dataclass(frozen=True)
class Say:
    text: Text
    span: Span = _span()


@dataclass(frozen=True)
class Breath:
    """``inhale``/``exhale``/``hold`` with a duration and optional spoken text."""

    phase: str  # "inhale", "exhale", "hold" or "stay"
    duration: Duration
    text: Text | None
    span: Span = _span()
    to: Text | None = None  # `… to "arms overhead"`: the pose the figure moves to over the phase


@dataclass(frozen=True)
class Pause:
    duration: Duration
    span: Span = _span()


@dataclass(frozen=True)
class Bell:
    duration: Duration | None
    span: Span = _span()


@dataclass(frozen=True)
class Note:
    text: Text
    span: Span = _span()


@dataclass(frozen=True)
class BreathPattern:
    """``breathe 4-7-8 x3``: phase lengths in seconds (0 for an absent hold)."""

    inhale: float
    hold: float
    exhale: float
    hold_after: float | None
    count: int
    span: Span = _span()
    pattern_span: Span = _span()
    count_span: Span = _span()


@dataclass(frozen=True)
class Do:
    name: Text
    times: int
    span: Span = _span()
    times_span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Include:
    path: Text
    span: Span = _span()


@dataclass(frozen=True)
class Backdrop:
    """``backdrop "media/rolling.mp4" from 0:12`` or ``backdrop none``.

    ``file`` is the path as written (quoted), or the bare word written instead
    (``none`` ends the backdrop; any other word is reported by check).
    ``start`` is where in a clip it starts (``from``), None from its beginning.
    """

    file: Text
    quoted: bool
    start: Duration | None
    span: Span = _span()

    @property
    def none(self) -> bool:
        """``backdrop none``: no picture from here on."""
        return not self.quoted and self.file.value == "none"


@dataclass(frozen=True)
class Section:
    name: Text
    body: tuple[Statement, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Repeat:
    count: int
    counted: bool
    body: tuple[Statement, ...]
    span: Span = _span()
    count_span: Span = _span()


@dataclass(frozen=True)
class Sides:
    """``each side left, right:`` — the body once per side."""

    sides: tuple[Text, ...]
    body: tuple[Statement, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Define:
    name: Text
    body: tuple[Statement, ...]
    span: Span = _span()


@dataclass(frozen=True)
class ForVariants:
    """``for seated, short:`` (``unless`` False) or ``unless short:`` (``unless`` True).

    The body plays only in the variants named, or with ``unless`` in every
    variant but those (see :func:`plays_in`).
    """

    variants: tuple[Text, ...]
    unless: bool
    body: tuple[Statement, ...]
    span: Span = _span()

    def plays_in(self, variant: str | None) -> bool:
        """Whether the body plays in ``variant`` (None: a routine that declares no variants)."""
        named = any(v.value == variant for v in self.variants)
        return named != self.unless


@dataclass(frozen=True)
class Angle:
    """One joint's angle in a pose definition: ``left-elbow 170``."""

    joint: str
    degrees: float
    span: Span = _span()  # the joint's name and its angle
    joint_span: Span = _span()
    degrees_span: Span = _span()


@dataclass(frozen=True)
class Pose:
    """``pose "name"``: the figure takes that pose from here on (it takes no time).

    With a colon it defines a pose instead (``defines``): ``pose "wide bow"
    from "drawing the bow left": left-elbow 170`` starts from ``base`` and
    changes the joints named; without ``from`` the joints not named are
    those of "standing".  A definition plays nothing where it is written.
    """

    name: Text
    base: Text | None
    angles: tuple[Angle, ...]
    defines: bool
    span: Span = _span()


Statement = (
    Say | Breath | Pause | Bell | Note | BreathPattern | Do | Include | Backdrop | Section | Repeat | Sides | Define
    | ForVariants | Pose
)
BLOCKS = (Section, Repeat, Sides, Define, ForVariants)


@dataclass(frozen=True)
class Routine:
    """A parsed ``.qi`` file: its settings and its top-level statements."""

    path: str
    settings: tuple[Setting, ...]
    body: tuple[Statement, ...]

    def setting(self, key: str) -> Setting | None:
        """The last ``key:`` line, or None."""
        found = None
        for item in self.settings:
            if item.key == key:
                found = item
        return found


def children(node: Statement) -> tuple[Statement, ...]:
    """The statements inside a block, or () for a simple statement."""
    return node.body if isinstance(node, BLOCKS) else ()


def walk(body: tuple[Statement, ...]):
    """Every statement of ``body``, depth first, blocks before their contents.

    A loop over a stack, not recursion, so blocks nested any depth are walked.
    """
    stack = [iter(body)]
    while stack:
        for node in stack[-1]:
            yield node
            inner = children(node)
            if inner:
                stack.append(iter(inner))
                break
        else:
            stack.pop()


def title_card_notes(body: tuple[Statement, ...]) -> tuple[list[tuple[Note, ForVariants | None]], int]:
    """The notes shown on the title card, and the index in ``body`` where the rest begins.

    They are the notes before the first section or cue, and those of a
    ``for``/``unless`` block there that holds only notes (``for chair: note
    "…"``), each with that block (None for a note of every variant).
    """
    notes: list[tuple[Note, ForVariants | None]] = []
    index = 0
    for index, node in enumerate(body):
        if isinstance(node, Note):
            notes.append((node, None))
        elif isinstance(node, ForVariants) and node.body and all(isinstance(n, Note) for n in node.body):
            notes.extend((n, node) for n in node.body if isinstance(n, Note))
        elif not isinstance(node, (Define, Include)):
            return notes, index
    return notes, len(body)


def frozen_builder(cls: type[_T]) -> Callable[..., _T]:
    """A constructor for the frozen dataclass ``cls``, every field given in order, about twice as fast.

    A frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__``; this fills the new object's ``__dict__`` at once,
    which is what that ``__init__`` amounts to (the object is the same and
    compares, hashes and prints the same).  For the front end's loops that
    make one object per token or per step (expand's steps, the timeline's
    events).  Only for a class without ``__slots__`` or ``__post_init__``.
    """
    if "__slots__" in cls.__dict__ or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} needs its own __init__")
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    # Written out field by field, as dataclasses writes its __init__ (a loop over the
    # names cost more than it saved for a class of two or three fields).
    source = (f"def build({', '.join(names)}):\n    made = new(cls)\n    fields = made.__dict__\n"
              + "".join(f"    fields[{name!r}] = {name}\n" for name in names) + "    return made\n")
    scope: dict = {}
    exec(source, {"new": object.__new__, "cls": cls}, scope)  # noqa: S102 - field names only
    build = scope["build"]
    build.__doc__ = f"{cls.__name__}(...), every field given in order (see frozen_builder)."
    return build
