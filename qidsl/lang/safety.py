"""Breath-safety warnings: long retentions, long fast breathing, long retentions with no note.

They are measured on the expanded routine (so a ``repeat``, a ``do`` and a
``breathe`` pattern count as they will be practised, ``tempo`` included) and
depend on the routine's ``level:`` (or ``--level``).  They are warnings only:
the instructor decides.  The thresholds, and where they come from, are in
docs/language.md ("Breath safety").
"""

from __future__ import annotations

from dataclasses import dataclass

from .diagnostics import Diagnostic, warning
from .model import Span
from .steps import (BELL, COUNT, EXHALE, FREE_BREATH_KINDS, HOLD, INHALE, NOTE, PAUSE, POSE, SAY, SECTION,
                    ExpandedRoutine, Step)


@dataclass(frozen=True)
class Limits:
    """What one level allows, in seconds."""

    retention: float  # the longest breath hold after an inhale or an exhale
    fast_breathing: float  # the longest stretch of fast breathing


LIMITS = {
    "beginner": Limits(retention=10.0, fast_breathing=30.0),
    "intermediate": Limits(retention=20.0, fast_breathing=60.0),
    "advanced": Limits(retention=60.0, fast_breathing=120.0),
}
FAST_BREATHS_PER_MINUTE = 30.0  # 1.5 times the top of an adult's resting rate (12 to 20 a minute)
NOTE_AFTER = 10.0  # a retention longer than this calls for a safety note in the routine
_FAST_CYCLE = 60.0 / FAST_BREATHS_PER_MINUTE  # seconds: a breath this short or shorter is fast
_IGNORED = frozenset((NOTE, SECTION, COUNT, POSE))  # take no breath: they neither start nor end a retention
# The breath goes back to its own rhythm: a hold after these is a posture.  A `stay` is one of them:
# resting in the posture, breathing freely, is never a retention.
_INTERRUPTIONS = frozenset((SAY, PAUSE, BELL) + FREE_BREATH_KINDS)
_PHASES = frozenset((INHALE, EXHALE))  # what a retention follows


def _first_line(span: Span) -> Span:
    if span.end_line == span.line:
        return span
    return Span(span.file, span.line, span.column, span.line, span.column + 1)


def _seconds(value: float) -> str:
    return f"{value:.0f}s" if abs(value - round(value)) < 0.05 else f"{value:.1f}s"


@dataclass
class _Retention:
    first: Step
    after: str  # "inhale" or "exhale"
    seconds: float
    written: bool  # a `hold` written as such (not a phase of a `breathe` pattern): `stay` may be meant


def _retentions(steps) -> list[_Retention]:
    """Every breath hold straight after an inhale or an exhale (holds in a row add up)."""
    found: list[_Retention] = []
    previous: str | None = None
    previous_span: Span | None = None
    current: _Retention | None = None
    for step in steps:  # (once per step played: each kind read once, looked up in a set)
        kind = step.kind
        if kind in _IGNORED:
            continue
        if kind == HOLD:
            if current is not None:
                current.seconds += step.seconds or 0.0
                continue
            if previous is not None:
                # The phases of a breathe pattern share its span (one object: compared by identity, as fast).
                current = _Retention(step, previous, step.seconds or 0.0, step.span is not previous_span)
                found.append(current)
                continue
        current = None
        previous = kind if kind in _PHASES else None
        previous_span = step.span
    return found


def _fast_stretches(steps) -> list[tuple[Step, int, float]]:
    """Stretches of fast breathing: (first inhale, breaths, seconds)."""
    stretches: list[tuple[Step, int, float]] = []
    cycles: list[tuple[Step, float]] = []  # the breaths since the last interruption: (inhale, length)

    def close_run() -> None:
        first, count, seconds = None, 0, 0.0
        for inhale, length in cycles + [(None, float("inf"))]:
            if length <= _FAST_CYCLE + 1e-9:
                if first is None:
                    first = inhale
                count += 1
                seconds += length
                continue
            if first is not None:
                stretches.append((first, count, seconds))
            first, count, seconds = None, 0, 0.0
        cycles.clear()

    for step in steps:  # (once per step played: each kind read once, looked up in a set)
        kind = step.kind
        if kind in _IGNORED:
            continue
        if kind in _INTERRUPTIONS:
            if cycles:
                close_run()
            continue
        if kind == INHALE:
            cycles.append((step, step.seconds or 0.0))
        elif cycles:  # a phase before the first inhale belongs to no breath
            inhale, length = cycles[-1]
            cycles[-1] = (inhale, length + (step.seconds or 0.0))
    close_run()
    return stretches


def _retention_hint(level: str, retention: _Retention) -> str:
    """What to do about a long retention: `stay` if the breath is meant to flow, else shorten it.

    Only levels above the routine's own whose limit allows the hold are suggested.
    """
    names = list(LIMITS)
    higher = [name for name in names[names.index(level) + 1:]
              if retention.seconds <= LIMITS[name].retention + 1e-9]
    if higher:
        hint = f"shorten the hold, or set the level the class is ready for (level: {' or '.join(higher)})"
    else:
        hint = "shorten the hold, or split it with a few breaths between"
    if retention.written:
        return "if the breath is meant to flow while the posture is held, write stay instead of hold; otherwise " + hint
    return hint


def breath_safety(expanded: ExpandedRoutine, level: str) -> list[Diagnostic]:
    """The breath-safety warnings of one expanded routine (one variant) at ``level``."""
    limits = LIMITS[level]
    steps = expanded.steps
    problems: list[Diagnostic] = []
    # Keyed by the span's identity: each statement's span is one object, however often it is played,
    # and hashing the span's fields for each of 14,000 retentions was a tenth of checking them.
    longest: dict[int, _Retention] = {}
    for retention in _retentions(steps):
        key = id(retention.first.span)
        if key not in longest or retention.seconds > longest[key].seconds:
            longest[key] = retention
    for retention in longest.values():
        if retention.seconds > limits.retention + 1e-9:
            problems.append(warning(
                "long-retention",
                f"the breath is held for {_seconds(retention.seconds)} after an {retention.after}; the {level} "
                f"level holds it for at most {_seconds(limits.retention)}",
                _first_line(retention.first.span), _retention_hint(level, retention)))
    reported: set[Span] = set()
    for first, count, seconds in _fast_stretches(steps):
        if seconds <= limits.fast_breathing + 1e-9 or first.span in reported:
            continue
        reported.add(first.span)
        rate = count / seconds * 60.0
        problems.append(warning(
            "long-fast-breathing",
            f"fast breathing (about {rate:.0f} breaths a minute) goes on for {_seconds(seconds)}; the {level} "
            f"level keeps it to at most {_seconds(limits.fast_breathing)} at a time",
            _first_line(first.span), "split it into shorter rounds with slow, easy breaths between them"))
    long_ones = [r for r in longest.values() if r.seconds > NOTE_AFTER + 1e-9]
    if long_ones and not (expanded.notes or any(step.kind == NOTE for step in steps)):
        earliest = min(long_ones, key=lambda r: (r.first.span.line, r.first.span.column))
        problems.append(warning(
            "no-safety-note",
            f"this routine holds the breath for longer than {_seconds(NOTE_AFTER)} but has no safety note",
            _first_line(earliest.first.span),
            'add a note at the top, for example: note "Hold only as long as it is comfortable; skip the holds '
            'if you are pregnant or have high blood pressure or a heart condition."'))
    return problems
