"""The expanded routine: a flat sequence of steps, the input of the timeline.

Expansion (``qidsl.lang.expand``) turns includes, definitions, repetitions and
sides into these; the timeline gives each one its time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .model import Span
from .statements import PHASES

if TYPE_CHECKING:  # only for the annotation: importing it here would make a cycle
    from .poses import Pose
    from .settings import Settings

# Step kinds, in the order a reader meets them in docs/language.md.
SECTION = "section"  # a section starts (text = its name)
SAY = "say"
COUNT = "count"  # the spoken number of a counted repetition
INHALE, EXHALE, HOLD = "inhale", "exhale", "hold"
STAY = "stay"  # resting in a posture, the breath free: timed like a hold, never a retention
PAUSE = "pause"
BELL = "bell"
NOTE = "note"
# The picture behind everything changes: text = the file as written ({side} filled in), None for
# `backdrop none`; seconds = where in a clip it starts (`from`), None from its beginning.
BACKDROP = "backdrop"
POSE = "pose"  # the figure takes a pose (it takes no time; see qidsl.lang.posebook)
# The timed phases, one step kind each, from the table of statements (inhale, exhale, hold, stay…).
BREATH_KINDS: tuple[str, ...] = tuple(kind.step for kind in PHASES if kind.step)
FREE_BREATH_KINDS: tuple[str, ...] = tuple(kind.step for kind in PHASES if kind.step and kind.free_breath)


@dataclass(frozen=True)
class Repetition:
    """Where a step sits in its innermost ``repeat``: ``index`` of ``total``, from 1.

    ``outer`` is the repetition of the enclosing ``repeat`` (or breath
    pattern), so an inner uncounted repeat still knows the round of the
    counted one around it.
    """

    index: int
    total: int
    counted: bool
    outer: Repetition | None = None

    def nearest_counted(self) -> Repetition | None:
        """This repetition if counted, else the nearest enclosing counted one (None if none)."""
        here: Repetition | None = self
        while here is not None and not here.counted:
            here = here.outer
        return here


@dataclass(frozen=True)
class Step:
    """One thing that happens, not yet placed in time.

    ``seconds`` is the written duration already divided by the tempo (None
    for speech, whose length the speech engine decides, and for markers; for
    a backdrop, where in its clip it starts).
    ``text`` is spoken for say/count/breath steps and shown for notes.
    """

    kind: str
    seconds: float | None
    text: str | None
    section: str | None
    repetition: Repetition | None
    side: str | None
    span: Span
    text_span: Span | None = None  # where the spoken text is written, for warnings about it
    # The figure's pose: the one a `pose` step sets, or the one a phase moves to (`… to "name"`), resolved.
    pose: Pose | None = None
    pose_span: Span | None = None  # where that pose is named, for warnings about the move


@dataclass(frozen=True)
class ExpandedRoutine:
    """The routine flattened, with its settings and its top-level notes."""

    settings: Settings
    steps: tuple[Step, ...]
    notes: tuple[str, ...]  # notes before the first section: shown on the title card
