"""The table of statements: every statement and block kind, declared once.

Each :class:`Kind` says what the front end needs to know about a statement
beyond its grammar rule.  Which stage reads what, precisely:

From the row (:data:`KINDS`), keyed on the keyword:

- ``keyword``: the parser's list of statements and its "unknown statement"
  hint (``STATEMENTS``); the checker's headers (:func:`header_words`); the
  formatter's words (:func:`keyword_of`) and the side names it must quote
  (:data:`KEYWORDS`); the language server's completion, hover and where a
  statement line starts (for its incremental re-parse); diff's cue kinds;
  the VS Code grammar's keywords (tested against the table);
- ``rule``: the parser makes every timed phase's rule with one method;
- ``usage``, ``help``, ``insert``: completion and hover;
- ``step`` and ``free_breath``: the step a timed phase expands to
  (:data:`qidsl.lang.steps.BREATH_KINDS`), which the timeline, the
  renderers and the breath-safety checks read, and whether it is never a
  retention (``stay``);
- ``opposite``: the phases that alternate (inhale, exhale), two of which in a
  row the checker warns about;
- ``block``, ``scope``: whether it holds a body; its highlighting.

From the model class, by the statement's shape (a text, a timed phase, a
block…), in one dispatch per stage whose last branch is ``assert_never``
(a ``match``, or where it runs once per statement played an ``isinstance``
chain, most frequent first, which takes half the time): how
it expands (``qidsl.lang.expand._Expander.node``), how many steps and seconds
it makes (``qidsl.lang.check.Sizer._of``), the texts whose length is limited
(``qidsl.lang.check._all_texts``) and how ``fmt`` writes its first line
(``qidsl.lang.formatter._header``).  The model's statements form a closed
union (:data:`qidsl.lang.model.Statement`), so a class left out of any of
them fails the type check.  Also by shape, with ``isinstance``: what else
``check`` asks (counts, nesting, what belongs at the top level), which
statements carry a cue for diff, and the language server's outline.

Not from the table: the parser's repairs of a line that did not parse (which
header ``section``, ``define``, ``for``, ``unless`` or ``each`` it meant),
which read text that has no model yet.

A new statement of an existing shape — ``stay`` is a timed phase like
``hold`` — is a grammar rule and a row here, nothing more
(tests/test_statements.py adds a toy one to a copy of the package to prove it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from . import model as m


@dataclass(frozen=True)
class Kind:
    """One statement of the language."""

    keyword: str  # the word it starts with ("each" for `each side`)
    rule: str  # its rule in grammar/qi.lark
    node: type  # the model class the parser makes of it
    usage: str  # how it is written: the completion's detail and the hover's first line
    help: str  # what it means, in a sentence or two: the hover text
    insert: str = ""  # what completion inserts (the keyword and a space unless given)
    step: str | None = None  # the step kind it expands to, for a timed phase (qidsl.lang.steps)
    # The breath flows freely through it (never a retention; see qidsl.lang.safety).
    free_breath: bool = False
    # The phase it alternates with (inhale and exhale): two in a row are warned about (check's breath-twice).
    opposite: str | None = None
    block: bool = False  # it ends with ':' and holds an indented body
    # VS Code: how its keyword is highlighted (tested against editors/vscode/syntaxes).
    scope: Literal["control", "breath", "text", "pattern"] = "control"

    @property
    def completion(self) -> str:
        return self.insert or self.keyword + " "


KINDS: tuple[Kind, ...] = (
    Kind("say", "say", m.Say, 'say "text"',
         "Spoken by the narrator and shown as a caption; lasts as long as the speech, plus the gap.",
         scope="text"),
    Kind("inhale", "inhale", m.Breath, 'inhale D "text"',
         "One in-breath of duration D; the text, if any, is spoken as it starts.", step="inhale", opposite="exhale",
         scope="breath"),
    Kind("exhale", "exhale", m.Breath, 'exhale D "text"',
         "One out-breath of duration D; the text, if any, is spoken as it starts.", step="exhale", opposite="inhale",
         scope="breath"),
    Kind("hold", "hold", m.Breath, 'hold D "text"',
         "Hold the breath for D (a retention after an inhale or an exhale); the text, if any, is spoken "
         "as it starts. To rest in a posture while breathing, write `stay`.", step="hold", scope="breath"),
    Kind("stay", "stay", m.Breath, 'stay D "text"',
         "Stay in the posture for D while the breath flows freely (never a retention); the text, if any, "
         "is spoken as it starts.", step="stay", free_breath=True, scope="breath"),
    Kind("pause", "pause", m.Pause, "pause D", "Silence for D.", scope="breath"),
    Kind("bell", "bell", m.Bell, "bell [D]", "A bell strike that rings out (about 3 s unless D is given).",
         scope="breath"),
    Kind("note", "note", m.Note, 'note "text"', "Shown on screen only, never spoken: disclaimers, props needed.",
         scope="text"),
    Kind("breathe", "breathe", m.BreathPattern, "breathe I-H-E[-H2] xN",
         "A breath pattern: inhale I s, hold H s, exhale E s (and hold H2 s), N times. "
         "`breathe 4-4-4-4 x5` is box breathing.", scope="pattern"),
    Kind("pose", "pose", m.Pose, 'pose "name"',
         "The figure takes a pose from the library (or one the routine defines) from here on; it takes no time. "
         "At the top level, `pose \"name\" [from \"base\"]: joint angle, …` defines a pose. A breath phase, "
         "hold or stay ending `to \"name\"` moves the figure to that pose over the phase.", scope="text"),
    Kind("do", "do", m.Do, 'do "name" [N times]', "Plays a sequence made with `define`."),
    Kind("include", "include", m.Include, 'include "file.qi"',
         "Brings in the definitions of another routine file, found next to this one."),
    Kind("backdrop", "backdrop", m.Backdrop, 'backdrop "file" [from m:ss]',
         "The picture behind everything from here on: a photo (slow pan and zoom) or a video clip (looped "
         "or trimmed, muted; `from 0:12` starts inside it), until the next `backdrop` or `backdrop none`."),
    Kind("section", "section", m.Section, 'section "Name":',
         "A chapter: a title on screen and an entry in the chapter list.", block=True),
    Kind("repeat", "repeat", m.Repeat, "repeat N [counted]:",
         "The block N times; `counted` has the narrator say each round's number and shows \"3 / 9\".", block=True),
    Kind("each", "sides", m.Sides, "each side a, b:",
         "The block once per side, with {side} replaced in every text.", insert="each side ", block=True),
    Kind("define", "define", m.Define, 'define "name":',
         "A reusable sequence, played with `do`; it may come before or after its use.",
         block=True),
    Kind("for", "only", m.ForVariants, "for a[, b]:",
         "The block plays only in the variants named (see `variants:`).", block=True),
    Kind("unless", "unless", m.ForVariants, "unless a[, b]:",
         "The block plays in every variant but those named (see `variants:`).", block=True),
)

BY_KEYWORD: dict[str, Kind] = {kind.keyword: kind for kind in KINDS}
KEYWORDS: tuple[str, ...] = tuple(BY_KEYWORD)
# The timed phases (inhale, exhale, hold, stay…): each expands to one step of its own kind.
PHASES: tuple[Kind, ...] = tuple(kind for kind in KINDS if kind.step is not None)


def keyword_of(node: m.Statement) -> str:
    """The word a statement was written with (``each`` for ``each side``)."""
    if isinstance(node, m.Breath):
        return node.phase
    if isinstance(node, m.ForVariants):
        return "unless" if node.unless else "for"
    return _BY_NODE[type(node)].keyword


def header_words(node: m.Statement) -> str:
    """The words that open a statement, as written: ``each side`` for sides, else the keyword."""
    word = keyword_of(node)
    return "each side" if word == "each" else word


# One row per model class that has a single keyword (the phases and for/unless share a class).
_BY_NODE: dict[type, Kind] = {}
for _kind in KINDS:
    _BY_NODE.setdefault(_kind.node, _kind)
