"""The timeline: every event of a routine with its exact start and end.

One function, :func:`build_timeline`, makes both the estimated timeline (for
``plan`` and ``check``: speech length guessed from the words) and the exact
one (for ``build``: speech length measured from the synthesised audio).  The
only difference is the :class:`SpeechTimer` it is given.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from collections.abc import Mapping

from .lazyre import LazyPattern
from .lang.diagnostics import Diagnostic, warning
from .lang.model import Span, frozen_builder
from .lang.settings import DEFAULT_BELL
from .lang.speech import ENGINES, SYMBOL_NAMES, Pace, symbol_names_for
from .engines.timing import Sentence, SpokenTiming, spoken_timing  # speech's own types, read here
# The event kinds renderers read come from here, the timeline, never from the front end.
# Where a backdrop's file is, and what ffmpeg says of it: read here, and by the renderers from here.
from .lang.mediafile import MediaInfo, media_path, probe_media  # noqa: F401
from .lang.steps import (BACKDROP, BELL, BREATH_KINDS, COUNT, EXHALE, HOLD, INHALE, NOTE, PAUSE, POSE, SAY,  # noqa: F401
                         SECTION, STAY, ExpandedRoutine, Repetition, Step)
# The figure's pose geometry: renderers read it from here, as they read the event kinds (see FigureMove).
from .lang import poses


if TYPE_CHECKING:  # only for the annotation
    from .lang.settings import Settings

INTRO_SECONDS = 3.0  # the title card, before the first cue
OUTRO_SECONDS = 4.0  # the end card, after the last event
SPEECH_MARGIN = 0.25  # least silence after a cue that stretched its breath phase
LONG_ROUTINE_SECONDS = 2 * 3600


class SpeechTimer(Protocol):
    """Gives the spoken length of a text: estimated, or measured from audio."""

    def timing(self, text: str) -> SpokenTiming: ...


@dataclass(frozen=True)
class Event:
    """One timed event.  ``speech`` holds the absolute times of its spoken sentences."""

    start: float
    end: float
    kind: str  # intro, section, say, count, inhale, exhale, hold, pause, bell, note, outro
    text: str | None
    section: str | None
    repetition: Repetition | None
    side: str | None
    phase: str | None  # inhale / exhale / hold for breath events
    line: int | None
    file: str | None
    spoken: str | None  # the exact text given to the speech engine, None when silent
    speech: tuple[Sentence, ...]

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class BackdropCue:
    """From ``start`` on, the picture behind everything is ``file`` (as written, ``{side}`` filled in;
    None: no picture), found at ``path``, a clip shown from ``offset`` seconds into it.

    ``line`` and ``source`` say where the statement (or the ``backdrop:`` setting) is written.
    """

    start: float
    file: str | None
    path: str | None
    offset: float
    line: int
    source: str


@dataclass(frozen=True)
class FigureMove:
    """The figure reaches ``pose`` at ``end``, moving from its pose before over ``start``..``end``.

    A ``pose`` statement is a move of no length (``start == end``): the figure
    takes the pose at once.  The easing is the pacer's (the scene track's).
    """

    start: float
    end: float
    pose: poses.Pose


@dataclass(frozen=True)
class Timeline:
    """The one truth every renderer reads."""

    settings: Settings
    notes: tuple[str, ...]
    duration: float
    events: tuple[Event, ...]
    warnings: tuple[Diagnostic, ...]
    # The video frame rate the events were laid on (every event lasts whole frames), or None.
    frame_rate: int | None = None
    # Where the picture behind everything changes (`backdrop`), in time order; not events: nothing
    # is spoken or timed by them, and the scene track (qidsl.renderers.scene) makes windows of them.
    backdrops: tuple[BackdropCue, ...] = ()
    # The figure's poses over time, in order (empty with `figure: none` or when the routine names no pose).
    figure: tuple[FigureMove, ...] = ()

    def at_sample(self, seconds: float, sample_rate: int) -> int:
        """The sample where ``seconds`` falls.  On a frame grid, exactly on its frame: times are kept to
        the millisecond, so two events a whole number of frames apart could otherwise land one
        sample nearer or further apart after an edit moved them both, and every later piece of the
        mixed narration would differ (and be encoded again) for a millisecond nobody hears."""
        if self.frame_rate:
            return round(round(seconds * self.frame_rate) * sample_rate / self.frame_rate)
        return int(round(seconds * sample_rate))

    def of_kind(self, *kinds: str) -> list[Event]:
        return [event for event in self.events if event.kind in kinds]

    @property
    def sections(self) -> list[Event]:
        return self.of_kind(SECTION)

    @property
    def spoken_texts(self) -> list[str]:
        """Every distinct text to synthesise, in order of first use."""
        return list(dict.fromkeys(e.spoken for e in self.events if e.spoken))


# Scripts written without spaces between words, where a character is a syllable or a word.
_UNSPACED = LazyPattern(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")  # (none is ASCII)
# Where a voice pauses inside a sentence.
_BREAKS = re.compile(r"[,;:\u2013\u2014()\u3001\uff0c\uff1b\uff1a]|\s-\s")
_SPELLED = re.compile(r"\b[A-Z]{2,}\b")  # CR, LF, DVD: read letter by letter
_SYMBOLS = re.compile(r"[\\/&%+=@#*]")  # read as a word: "backslash", "percent"


def sentence_features(sentence: str, cjk_letters: float = 4.0,
                      symbol_names: Mapping[str, str] | None = None) -> tuple[float, int, int, int, int]:
    """What a sentence's spoken length is estimated from: (letters, breaks, spelled, symbols, digits).

    ``letters`` counts letters read as words, a character of an unspaced
    script (CJK, kana, hangul, Thai) counting as ``cjk_letters`` and a sign
    named in ``symbol_names`` as the letters of its name (``\\`` is read
    "backslash", ``#`` "hash"); ``breaks`` the commas, colons, semicolons and
    dashes a voice pauses at; ``spelled`` the letters of all-capital words,
    read one by one; ``symbols`` the other signs read as a word (``\\``,
    ``%``, ``&`` in a language whose names for them are not known);
    ``digits`` the digits.
    """
    if sentence.isascii():
        unspaced, rest = 0, sentence
    else:
        unspaced = len(_UNSPACED.findall(sentence))
        rest = _UNSPACED.sub("", sentence)
    spelled = sum(len(word) for word in _SPELLED.findall(rest))
    letters = sum(1 for c in rest if c.isalpha()) - spelled
    digits = sum(1 for c in rest if c.isdigit())
    symbols = _SYMBOLS.findall(rest)
    named = [symbol_names[sign] for sign in symbols if symbol_names and sign in symbol_names]
    return (letters + cjk_letters * unspaced + sum(map(len, named)), len(_BREAKS.findall(sentence)), spelled,
            len(symbols) - len(named), digits)


class EstimatedSpeech:
    """Speech length from the letters and pauses of each sentence, at an engine's :class:`Pace`.

    The voice's part scales with ``1 / rate``; the pause the engines put
    between sentences (:data:`qidsl.engines.timing.SENTENCE_PAUSE`) does not.
    """

    def __init__(self, rate: float = 1.0, pace: Pace | None = None, symbol_names: Mapping[str, str] | None = None):
        self.rate = rate
        self.pace = pace or ENGINES["piper"].pace
        self.symbol_names = symbol_names if symbol_names is not None else SYMBOL_NAMES["en"]

    @classmethod
    def for_settings(cls, settings) -> EstimatedSpeech:
        """The estimate for a routine's engine and voice (joe's pace when no offline voice speaks it)."""
        info = ENGINES.get(settings.engine) if settings.engine else None
        pace = info.pace_for(settings.language) if info else ENGINES["piper"].pace
        return cls(settings.rate, pace, symbol_names_for(settings.language))

    def sentence_seconds(self, sentence: str) -> float:
        pace = self.pace
        letters, breaks, spelled, symbols, digits = sentence_features(sentence, pace.cjk_letters, self.symbol_names)
        seconds = (pace.base + pace.per_letter * letters + pace.per_break * breaks + pace.per_spelled * spelled
                   + pace.per_symbol * symbols + pace.per_digit * digits)
        return max(0.2, seconds) / self.rate

    def timing(self, text: str) -> SpokenTiming:
        return spoken_timing(text, self.sentence_seconds)


def _r(value: float) -> float:
    # Times are kept to the millisecond so the timeline is the same on every run.
    return round(value, 3)


class _Clock:
    """Time as it advances through the routine: free, or in whole frames of ``frame_rate``.

    A build lays its timeline on the video's frame grid: every event lasts a
    whole number of frames (speech rounded up, so it is never cut; written
    durations rounded to the nearest frame, within half a frame of what was
    written).  Then an edit that lengthens one cue moves everything after it
    by whole frames, and what a later stretch of video or audio holds,
    measured from its own start, does not change: its cached products stay
    valid.  Times stay in seconds to the millisecond; ``round(t * fps)``
    recovers the exact frame.
    """

    def __init__(self, frame_rate: int | None):
        self.frame_rate = frame_rate

    def length(self, seconds: float, at_least: float = 0.0) -> float:
        """``seconds`` on the grid; never shorter than ``at_least`` (speech that must fit)."""
        if not self.frame_rate or seconds <= 0:
            return seconds
        frames = max(round(seconds * self.frame_rate), math.ceil(at_least * self.frame_rate - 1e-6), 1)
        return frames / self.frame_rate


_SPOKEN_KINDS = frozenset((SAY, COUNT) + BREATH_KINDS)
_BREATH_KINDS = frozenset(BREATH_KINDS)
_SILENT = SpokenTiming(0.0, ())


_event = frozen_builder(Event)  # an Event per step: up to 30,000 of them
_sentence = frozen_builder(Sentence)


def _shifted(sentences: tuple[Sentence, ...], offset: float) -> tuple[Sentence, ...]:
    """``sentence.shifted(offset)`` of each: an estimate's sentences (no words) made without the frozen __init__."""
    return tuple([_sentence(round(offset + s.start, 3), round(offset + s.end, 3), s.text, ()) if not s.words
                  else s.shifted(offset) for s in sentences])


def build_timeline(expanded: ExpandedRoutine, speech: SpeechTimer, frame_rate: int | None = None,
                   with_events: bool = True) -> Timeline:
    """Place every step of ``expanded`` in time, with speech lengths from ``speech``.

    With ``frame_rate`` (a build's video frame rate) every event lasts whole
    frames (see :class:`_Clock`); without it (``plan`` and ``check``) times are
    as written and as estimated.  Without ``with_events`` (``check`` and the
    language server, which read only the duration and the warnings) the
    timeline's events are left out: making an event and its sentences for
    each of up to 30,000 steps was most of the estimate's time.
    """
    settings = expanded.settings
    clock = _Clock(frame_rate)
    events: list[Event] = []
    problems: list[Diagnostic] = []
    overrun_places: set[tuple] = set()
    overrun_seen: set[tuple] = set()
    t = INTRO_SECONDS
    events.append(Event(0.0, t, "intro", settings.title, None, None, None, None, None, None, None, ()))
    open_section: Step | None = None
    section_start = 0.0
    section_at = 0  # index in events where the open section's event goes

    def close_section(now: float) -> None:
        if open_section is not None and with_events:
            events.insert(section_at, Event(
                _r(section_start), _r(now), SECTION, open_section.text, open_section.text,
                None, None, None, open_section.span.line, open_section.span.file, None, ()))

    timing_of = speech.timing
    backdrops: list[BackdropCue] = []
    figure = _Figure(settings.figure != "none")
    for step in expanded.steps:
        kind = step.kind
        if kind == POSE:
            figure.move(t, t, step)
            continue
        if kind == SECTION:
            close_section(t)
            open_section, section_start, section_at = step, t, len(events)
            continue
        if open_section is not None and step.section != open_section.text:
            close_section(t)  # a top-level statement after a section's block is outside it
            open_section = None
        if kind == BACKDROP:
            span = step.span
            path = str(media_path(span.file, step.text)) if step.text is not None else None
            backdrops.append(BackdropCue(_r(t), step.text, path, step.seconds or 0.0, span.line, span.file))
            continue
        spoken = step.text if kind in _SPOKEN_KINDS and step.text else None
        timing = timing_of(spoken) if spoken else _SILENT
        breath = kind in _BREATH_KINDS
        if kind == SAY or kind == COUNT:
            length = timing.duration + settings.gap
        elif breath:
            assert step.seconds is not None  # a breath phase always has its length
            length = step.seconds
            if timing.duration > step.seconds:
                # A cue inside a repeat overruns on every round: one warning for its place
                # (also spares hashing thousands of equal diagnostics later).
                where = step.text_span or step.span
                # Looked up first by the span object's identity (the steps of one statement share
                # it): hashing a Span, a dataclass, for every round was most of this loop's time.
                seen = (id(where), kind, step.seconds, timing.duration)
                place = (where, kind, step.seconds, timing.duration)
                if seen not in overrun_seen and place not in overrun_places:
                    overrun_seen.add(seen)
                    overrun_places.add(place)
                    overrun = timing.duration - step.seconds
                    problems.append(warning(
                        "cue-overruns-phase",
                        f"this cue takes {timing.duration:.1f}s to say but the {step.kind} lasts "
                        f"{step.seconds:.1f}s; the {step.kind} is stretched by {overrun + SPEECH_MARGIN:.1f}s",
                        step.text_span or step.span, "shorten the text or lengthen the phase"))
                length = timing.duration + SPEECH_MARGIN
        elif kind == PAUSE:
            assert step.seconds is not None  # so does a pause
            length = step.seconds
        elif kind == BELL:
            length = step.seconds if step.seconds is not None else DEFAULT_BELL
        elif kind == NOTE:
            length = 0.0
        else:  # pragma: no cover - expand only makes the kinds above
            raise ValueError(f"unknown step kind {kind!r}")
        if frame_rate:
            length = clock.length(length, at_least=timing.duration)
        # The figure's moves come before the events: check (without events) warns of a move too fast.
        if step.pose is not None:
            figure.move(t, t + length, step)
        if not with_events:
            t += length
            continue
        # The sentences (and their words) at their place in the routine, to the millisecond.
        sentences = _shifted(timing.sentences, t) if timing.sentences else ()
        span = step.span
        events.append(_event(
            round(t, 3), round(t + length, 3), kind, step.text, step.section, step.repetition, step.side,
            kind if breath else None, span.line, span.file, spoken, sentences))
        t += length
    close_section(t)
    events.append(Event(_r(t), _r(t + OUTRO_SECONDS), "outro", settings.title,
                        None, None, None, None, None, None, None, ()))
    duration = _r(t + OUTRO_SECONDS)
    if duration > LONG_ROUTINE_SECONDS and expanded.steps:
        file = expanded.steps[0].span.file
        problems.append(warning("long-routine",
                                f"this routine runs {duration / 3600:.1f} hours, longer than two hours",
                                Span(file, 1, 1, 1, 1), "split it into several routines"))
    problems.extend(figure.problems)
    return Timeline(settings, expanded.notes, duration, tuple(events) if with_events else (), tuple(problems),
                    frame_rate, backdrops=tuple(backdrops), figure=tuple(figure.moves))


class _Figure:
    """The figure's moves as the timeline is laid out, and a warning for a move too fast to follow."""

    def __init__(self, shown: bool):
        self.shown = shown
        self.moves: list[FigureMove] = []
        self.problems: list[Diagnostic] = []
        self._warned: set[tuple] = set()
        self._pose: poses.Pose | None = None

    def move(self, start: float, end: float, step: Step) -> None:
        target = step.pose
        if target is None:
            return  # an unknown pose: check's error
        before = self._pose if self._pose is not None else poses.STANDING
        self._pose = target
        if end > start:
            self._speed(before, target, end - start, step)
        if self.shown:
            self.moves.append(FigureMove(_r(start), _r(end), target))

    def _speed(self, before: poses.Pose, target: poses.Pose, seconds: float, step: Step) -> None:
        joint, speed = poses.max_speed(before, target, seconds)
        if speed <= poses.FASTEST_FOLLOWABLE:
            return
        where = step.pose_span or step.span
        place = (where, target.name, joint.name)
        if place in self._warned:
            return  # once for a move inside a repeat
        self._warned.add(place)
        self.problems.append(warning(
            "move-too-fast",
            f"moving to \"{target.name}\" turns the {joint.name} {speed:.0f}° a second; a class can follow "
            f"at most {poses.FASTEST_FOLLOWABLE:.0f}° a second", where,
            "a move led by the breath is slow (arms raised overhead over a 4 s inhale turn 45° a second); "
            "faster is a swing nobody copies while breathing: lengthen the phase"))
