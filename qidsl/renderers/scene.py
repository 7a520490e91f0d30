"""The scene track: what is on screen over time, worked out once for every picture of the routine.

The video painter (:mod:`qidsl.renderers.video`) draws its frames from it and
the practice page (``page.js``) only reads and interpolates it, from the
``scene`` of ``NAME.timeline.json`` (:mod:`qidsl.renderers.timeline_json`;
the format is in docs/cli.md).  Neither works out again what shows when.

The track is a few parallel tracks, each a list of windows sorted by start
that never overlap; what a track shows at ``t`` is its window with
``start <= t < end``, if any:

- ``steps``: one window per timed event, back to back from 0 to the end:
  the card, section, counter, side, phase with its pacer (levels and easing)
  and countdown, and the section's progress (step k of n) and place;
- ``captions``: exactly the caption cues of the SRT;
- ``notes``: a note inside a section, shown for :data:`NOTE_SECONDS` or until
  the next note;
- ``next``: "Next: <section>" in the :data:`NEXT_UP_SECONDS` before a section;
- ``backdrop``: the photo or clip behind everything (``backdrop``), from its
  statement to the next one, never over the title and end cards; each window
  names its file, the SHA-256 of its bytes, whether it is a photo or a clip,
  and for a clip the stretch used (``offset``: its in-point; ``loop``: it runs
  out before the window ends and plays again from the in-point).  What a
  video segment shows is keyed by this data (the screen it draws), so a changed
  file or stretch is a new segment, with no second key scheme.  While a backdrop
  shows, the figure (``pose``) is not drawn.
- ``figure``: the drawn figure's pose, from its first pose (or first move,
  from "standing") to the end card, back to back but for the stretches a
  backdrop shows (see :func:`hide_figure`): each window moves from ``a`` to
  ``b`` (joint angles in degrees) with the pacer's easing, a still pose being
  a window with ``a == b``.  Empty with ``figure: none`` or when the routine
  names no pose.

A new thing on screen (spoken words, a backdrop, a figure's pose) is one more
track of windows here, written out by :func:`scene_dict`.

With ``fps`` every time is first snapped to that frame grid, as the video
needs (see :func:`scene_track`); without it the times are the timeline's and
the cues' own, to the millisecond, as in the JSON.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..errors import BuildError
from ..memo import file_sha256
from ..timeline import (BREATH_KINDS, EXHALE, HOLD, INHALE, NOTE, PAUSE, SECTION, STAY, Event, FigureMove, Timeline,
                        poses, probe_media)
from ..words import screen_words

NOTE_SECONDS = 6.0  # how long a note inside a section stays on screen
NEXT_UP_SECONDS = 5.0  # "Next: <section>" shows this long before a section starts
NEUTRAL_LEVEL = 0.5  # the pacer on a hold that follows no breath (holding a posture)
EASE = "cosine"  # the pacer's easing: level = a + (b - a) * (1 - cos(pi * u)) / 2
# The figure moves in steps counted from the start of its window (the video and the page both draw it
# so): the same move is the same pictures wherever it falls, and a still pose is one picture, so the
# video's still stretches stay skip frames.  A move takes 15 steps a second, as the pacer's disk, or
# fewer when it is slow enough that no joint turns more than FIGURE_STEP_DEGREES a step (a hand at the
# end of the arm moves about 2.5 px a step at 720p, as the disk's edge does); the rates divide 15, so
# the figure's steps fall on the disk's and add no pictures while both move.
FIGURE_STEPS_PER_SECOND = 15
FIGURE_STEP_RATES = (1, 3, 5, 15)
FIGURE_STEP_DEGREES = 1.5


class CueLike(Protocol):
    """A caption cue as the captions renderer gives it."""

    @property
    def start(self) -> float: ...

    @property
    def end(self) -> float: ...

    @property
    def lines(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Pacer:
    """The breath disk's level (0 empty, 1 full) from ``a`` at the step's start to ``b`` at its end."""

    a: float
    b: float
    ease: str = EASE

    def level(self, u: float) -> float:
        """The level ``u`` (0..1) of the way through the step."""
        if self.a == self.b:
            return self.b
        return self.a + (self.b - self.a) * ease(u)


def ease(u: float) -> float:
    """Cosine ease-in-out: 0 at 0, 1 at 1, slow at both ends, as a breath starts and ends."""
    u = min(1.0, max(0.0, u))
    return 0.5 - 0.5 * math.cos(math.pi * u)


@dataclass(frozen=True)
class ScreenStep:
    """What shows through one timed event, and how its moving parts move.

    ``card`` ("intro" or "outro") leaves everything else unset.  ``phase`` is
    the event kind (inhale, exhale, hold, pause) and ``label`` its on-screen
    word; ``pacer`` is set for a breath; ``countdown`` says whole seconds left
    are shown (``max(1, ceil(end - t))``); ``progress`` is (k, n): the
    section's bar fills from k/n to (k+1)/n over the step; ``place`` names the
    section's place among the sections.
    """

    start: float
    end: float
    event: int  # index in the timeline's events (the JSON's "events")
    card: str | None = None
    section: str | None = None
    counter: str | None = None
    side: str | None = None
    phase: str | None = None
    label: str | None = None
    pacer: Pacer | None = None
    countdown: bool = False
    progress: tuple[int, int] | None = None
    place: str | None = None

    def seconds_left(self, t: float) -> int:
        """Whole seconds left at ``t``, counting down to 1 (never 0 while the step lasts)."""
        return max(1, math.ceil(self.end - t - 1e-6))


@dataclass(frozen=True)
class Window:
    """Something shown from ``start`` to ``end``: caption ``lines``, or a ``text``.

    ``words``: for a caption whose words are timed, when each of them (its
    lines split at spaces) is spoken, as (start, end) pairs; empty otherwise.
    """

    start: float
    end: float
    lines: tuple[str, ...] = ()
    text: str | None = None
    words: tuple[tuple[float, float], ...] = ()


Angles = tuple[tuple[str, float], ...]  # (joint, degrees), sorted by joint name (as poses.Pose has them)


@dataclass(frozen=True)
class FigureWindow:
    """The figure from ``start`` to ``end``: from angles ``a`` to ``b`` (pose ``pose``), eased as the pacer.

    ``view`` and ``facing`` are the pose's (:class:`qidsl.lang.poses.Pose`): a
    move to a pose seen from another side is drawn from that side throughout.
    """

    start: float
    end: float
    a: Angles
    b: Angles
    pose: str
    view: str = "front"
    facing: str = "right"
    ease: str = EASE
    steps: int = FIGURE_STEPS_PER_SECOND  # steps a second (see FIGURE_STEP_RATES)

    def angles(self, u: float) -> Angles:
        """The joints' angles ``u`` (0..1) of the way through the window."""
        if self.a == self.b:
            return self.b
        k = ease(u)
        return tuple((joint, x + (y - x) * k) for (joint, x), (_, y) in zip(self.a, self.b))

    def step(self, t: float) -> int:
        """The number of the step showing at ``t``, counted from the start (every ``t`` of a step has one pose)."""
        if self.a == self.b or self.end <= self.start:
            return 0
        return math.floor((t - self.start) * self.steps + 1e-6)

    def at(self, t: float) -> Angles:
        """The joints' angles at ``t``, moved in steps of 1/``steps`` s from the start."""
        if self.a == self.b or self.end <= self.start:
            return self.b
        return self.angles(self.step(t) / self.steps / (self.end - self.start))


def _step_rate(a: Angles, b: Angles, seconds: float) -> int:
    """The fewest steps a second (of FIGURE_STEP_RATES) that turn no joint more than FIGURE_STEP_DEGREES a step."""
    turn = max((abs(y - x) for (_, x), (_, y) in zip(a, b)), default=0.0)
    fastest = turn / seconds * math.pi / 2 if seconds > 0 else math.inf  # the cosine easing's top speed
    return next((rate for rate in FIGURE_STEP_RATES if fastest / rate <= FIGURE_STEP_DEGREES),
                FIGURE_STEPS_PER_SECOND)


@dataclass(frozen=True)
class Backdrop:
    """A photo or clip behind everything from ``start`` to ``end`` (see the module's docstring).

    A clip's picture at ``t`` is its picture at ``offset + (t - start)``, or
    with ``loop`` at ``offset + (t - start) % (length - offset)``.
    """

    start: float
    end: float
    file: str  # as written in the routine ({side} filled in)
    path: str  # where it was found (not in the JSON: it names this machine's folders)
    kind: str  # "photo" or "clip"
    media: str  # SHA-256 of the file's bytes
    offset: float = 0.0  # a clip's in-point (`from`)
    length: float | None = None  # a clip's length in seconds; None for a photo
    loop: bool = False  # the clip runs out before the window ends and plays again from its in-point

    def clip_time(self, t: float) -> float:
        """Where in the clip the picture at ``t`` (inside the window) is, in seconds."""
        into = max(0.0, t - self.start)
        if self.loop and self.length is not None and self.length > self.offset:
            into %= self.length - self.offset
        return self.offset + into


@dataclass(frozen=True)
class SceneTrack:
    """The whole picture over time (see the module's docstring)."""

    duration: float
    steps: tuple[ScreenStep, ...]
    captions: tuple[Window, ...]
    notes: tuple[Window, ...]
    next: tuple[Window, ...]
    backdrop: tuple[Backdrop, ...] = ()
    figure: tuple[FigureWindow, ...] = ()


def scene_track(timeline: Timeline, cues: Sequence[CueLike], fps: int | None = None) -> SceneTrack:
    """What ``timeline`` shows over time, its captions being ``cues`` (those of the SRT).

    With ``fps`` every event and cue time is snapped to whole frames first:
    times are kept to the millisecond, so a time on the frame grid is off by
    up to half a millisecond, differently after an edit moved it; snapped,
    every comparison (countdown, caption, next-up) falls on the same frame
    wherever the event sits.
    """
    snap: Callable[[float], float] = (lambda t: round(t * fps) / fps) if fps else (lambda t: t)
    words = screen_words(timeline.settings.language or "en")
    order = sorted(range(len(timeline.events)), key=lambda k: timeline.events[k].start)
    events = [(k, timeline.events[k]) for k in order]
    # Sections and notes are markers; everything else occupies time back to back.
    timed = [(k, e) for k, e in events if e.kind not in (SECTION, NOTE)]
    sections = [e for _, e in events if e.kind == SECTION]
    steps = _steps(timed, words, snap)
    captions = tuple(Window(snap(c.start), snap(c.end), tuple(c.lines),
                            words=tuple((snap(w.start), snap(w.end)) for w in getattr(c, "words", ())))
                     for c in sorted(cues, key=lambda c: c.start))
    notes = _notes(timeline, [e for _, e in events], sections, snap)
    end = next((snap(e.start) for _, e in timed if e.kind == "outro"), snap(timeline.duration))
    backdrop = _backdrops(timeline, steps, snap)
    # The figure is off while a backdrop shows: the footage or photo already shows the movement.
    figure = hide_figure(_figure(timeline.figure, end, snap), [(b.start, b.end) for b in backdrop])
    return SceneTrack(snap(timeline.duration), steps, captions, notes, _next_up(sections, words, snap),
                      backdrop=backdrop, figure=figure)


@functools.lru_cache(maxsize=64)
def _media(path: str, size: int, mtime: int) -> tuple[str, str, float | None]:
    """A backdrop file's kind, the SHA-256 of its bytes and a clip's length (kept while it is unchanged)."""
    info = probe_media(Path(path))
    if isinstance(info, str):
        raise BuildError(f"cannot show the backdrop {path}: {'it is not a photo or clip' if info == 'unsupported' else info}")
    return info.kind, file_sha256(Path(path)), info.seconds  # the build has hashed it already (its fingerprint)


def media_of(path: str) -> tuple[str, str, float | None]:
    """(kind, SHA-256, clip length or None) of the backdrop at ``path``; BuildError when it cannot be shown."""
    try:
        stat = os.stat(path)
        return _media(path, stat.st_size, stat.st_mtime_ns)
    except OSError as exc:
        raise BuildError(f"cannot read the backdrop {path}: {exc.strerror or exc}") from exc


def _backdrops(timeline: Timeline, steps: tuple[ScreenStep, ...],
               snap: Callable[[float], float]) -> tuple[Backdrop, ...]:
    """Each backdrop from its cue to the next, between the title card's end and the end card's start."""
    cues = timeline.backdrops
    if not cues:
        return ()
    first = next((s.end for s in steps if s.card == "intro"), 0.0)
    last = next((s.start for s in steps if s.card == "outro"), snap(timeline.duration))
    windows = []
    for i, cue in enumerate(cues):
        if cue.file is None or cue.path is None:
            continue
        start = max(first, snap(cue.start))
        end = min(last, snap(cues[i + 1].start) if i + 1 < len(cues) else last)
        if end <= start:
            continue
        kind, digest, length = media_of(cue.path)
        offset = cue.offset if kind == "clip" else 0.0
        loop = kind == "clip" and length is not None and end - start > length - offset + 1e-6
        windows.append(Backdrop(start, end, cue.file, cue.path, kind, digest, offset, length, loop))
    return tuple(windows)


def hide_figure(windows: Sequence[FigureWindow], hidden: Sequence[tuple[float, float]]) -> tuple[FigureWindow, ...]:
    """``windows`` with the figure off over each (start, end) of ``hidden`` (where a backdrop shows).

    The footage shows the movement then, and a drawn figure beside a filmed
    person would compete with it.  A still pose is cut at the edges; a move
    lies within one event, and a backdrop starts and ends between events, so
    a move is either hidden whole or not at all.
    """
    out: list[FigureWindow] = []
    for window in windows:
        pieces = [window]
        for start, end in hidden:
            kept = []
            for piece in pieces:
                if end <= piece.start or start >= piece.end:
                    kept.append(piece)
                elif piece.a == piece.b:
                    if piece.start < start:
                        kept.append(dataclasses.replace(piece, end=start))
                    if end < piece.end:
                        kept.append(dataclasses.replace(piece, start=end))
            pieces = kept
        out.extend(pieces)
    return tuple(out)


def _figure(moves: Sequence[FigureMove], end: float, snap: Callable[[float], float]) -> tuple[FigureWindow, ...]:
    """The figure's windows: each move, and the pose held between moves, up to ``end`` (the end card).

    A move of no length (a ``pose`` statement) changes the pose at once; a
    move before any pose starts from "standing".
    """
    windows: list[FigureWindow] = []
    held: poses.Pose | None = None
    at = 0.0

    def still(pose: poses.Pose, until: float) -> None:
        if until <= at:
            return
        last = windows[-1] if windows else None
        if last is not None and last.a == last.b == pose.angles and last.end == at and last.pose == pose.name:
            windows[-1] = dataclasses.replace(last, end=until)  # one window, not two
        else:
            windows.append(FigureWindow(at, until, pose.angles, pose.angles, pose.name, pose.view, pose.facing))

    for move in moves:
        start, stop = snap(move.start), snap(move.end)
        if held is None:
            at = start
            if stop > start:
                held = poses.STANDING
        if held is not None:
            still(held, start)
        target = move.pose
        if stop > start and held is not None:
            windows.append(FigureWindow(start, stop, held.angles, target.angles, target.name, target.view,
                                        target.facing, steps=_step_rate(held.angles, target.angles, stop - start)))
        held, at = target, max(stop, start)
    if held is not None:
        still(held, end)
    return tuple(windows)


def _steps(timed: list[tuple[int, Event]], words: dict[str, str],
           snap: Callable[[float], float]) -> tuple[ScreenStep, ...]:
    progress = _progress(timed)
    steps: list[ScreenStep] = []
    previous: Pacer | None = None
    for i, (k, event) in enumerate(timed):
        start, end = snap(event.start), snap(event.end)
        pacer = _pacer(event.kind, previous)
        previous = pacer
        if event.kind in ("intro", "outro"):
            steps.append(ScreenStep(start, end, k, card=event.kind))
            continue
        # The nearest counted repeat's round stays up while an inner uncounted one runs.
        counted = event.repetition.nearest_counted() if event.repetition else None
        place = progress.get(i)
        phase = event.kind if event.kind in BREATH_KINDS or event.kind == PAUSE else None
        steps.append(ScreenStep(
            start, end, k, section=event.section,
            counter=words["round"].format(counted.index, counted.total) if counted else None,
            side=event.side[:1].upper() + event.side[1:] if event.side else None,
            phase=phase, label=words[phase] if phase else None, pacer=pacer, countdown=phase is not None,
            progress=place[0] if place else None, place=words["place"].format(*place[1]) if place else None))
    return tuple(steps)


def _pacer(kind: str, previous: Pacer | None) -> Pacer | None:
    """An inhale fills the disk, an exhale empties it, a hold keeps the level the breath before ended on.

    A stay rests half full: the breath is free, neither held in nor out.
    """
    if kind == INHALE:
        return Pacer(0.0, 1.0)
    if kind == EXHALE:
        return Pacer(1.0, 0.0)
    if kind == HOLD:
        rest = previous.b if previous is not None else NEUTRAL_LEVEL
        return Pacer(rest, rest)
    if kind == STAY:
        return Pacer(NEUTRAL_LEVEL, NEUTRAL_LEVEL)
    return None


def _progress(timed: list[tuple[int, Event]]) -> dict[int, tuple[tuple[int, int], tuple[int, int]]]:
    """For each timed event in a section: ((its step k of n in the section), (the section's place r of m)).

    The on-screen progress is the section's own and counts steps, not
    seconds: step k of n fills from k/n to (k+1)/n over the event.  So a cue
    that gets longer or shorter changes no other frame of the video (nothing
    drawn depends on absolute time or on another event's length), and an
    edit costs only the segments that show it.
    """
    runs: list[list[int]] = []
    previous: object = object()
    for i, (_, e) in enumerate(timed):
        if e.kind in ("intro", "outro") or e.section is None:
            previous = object()
            continue
        if e.section != previous:
            runs.append([])
            previous = e.section
        runs[-1].append(i)
    return {i: ((k, len(run)), (r + 1, len(runs))) for r, run in enumerate(runs) for k, i in enumerate(run)}


def _notes(timeline: Timeline, events: list[Event], sections: list[Event],
           snap: Callable[[float], float]) -> tuple[Window, ...]:
    # Notes at the same instant are shown together; each lasts until NOTE_SECONDS
    # pass or the next note arrives.  Notes before the first section are on the
    # title card already (timeline.notes) and are not repeated.
    first_section = snap(sections[0].start) if sections else math.inf
    grouped: dict[float, list[str]] = {}
    for e in events:
        if e.kind != NOTE or not e.text:
            continue
        start = snap(e.start)
        if start < first_section and e.text in timeline.notes:
            continue
        grouped.setdefault(start, []).append(e.text)
    starts = sorted(grouped)
    windows = []
    for i, start in enumerate(starts):
        end = start + NOTE_SECONDS
        if i + 1 < len(starts):
            end = min(end, starts[i + 1])
        windows.append(Window(start, snap(end), text=" ".join(grouped[start])))
    return tuple(windows)


def _next_up(sections: list[Event], words: dict[str, str], snap: Callable[[float], float]) -> tuple[Window, ...]:
    """ "Next: <section>" from NEXT_UP_SECONDS before each section to its start, never before the
    section before it starts (then that one is next)."""
    windows = []
    previous = -math.inf
    for section in sections:
        start = snap(section.start)
        begin = max(snap(round(start - NEXT_UP_SECONDS, 3)), previous)
        if begin < start:
            windows.append(Window(begin, start, text=words["next"].format(section.text or "")))
        previous = start
    return tuple(windows)


def scene_dict(track: SceneTrack) -> dict:
    """The JSON-ready form of ``track`` (the ``scene`` of the timeline JSON)."""
    def step(s: ScreenStep) -> dict:
        return {
            "start": s.start, "end": s.end, "event": s.event, "card": s.card, "section": s.section,
            "counter": s.counter, "side": s.side, "phase": s.phase, "label": s.label,
            "pacer": None if s.pacer is None else {"from": s.pacer.a, "to": s.pacer.b, "ease": s.pacer.ease},
            "countdown": s.countdown,
            "progress": None if s.progress is None else {"step": s.progress[0], "steps": s.progress[1]},
            "place": s.place,
        }

    figure = {}
    if track.figure:
        # The skeleton once (bones, lengths, joints' ranges), then the windows: the page draws from these alone.
        figure = {"figure": {"skeleton": poses.skeleton_dict(), "windows": [
            {"start": w.start, "end": w.end, "pose": w.pose, "view": w.view, "facing": w.facing,
             "ease": w.ease, "steps": w.steps, "from": dict(w.a), "to": dict(w.b)} for w in track.figure]}}
    return {
        "steps": [step(s) for s in track.steps],
        "captions": [{"start": w.start, "end": w.end, "lines": list(w.lines),
                      **({"words": [{"start": a, "end": b} for a, b in w.words]} if w.words else {})}
                     for w in track.captions],
        "notes": [{"start": w.start, "end": w.end, "text": w.text} for w in track.notes],
        "next": [{"start": w.start, "end": w.end, "text": w.text} for w in track.next],
        "backdrop": [{"start": b.start, "end": b.end, "file": b.file, "kind": b.kind, "media": b.media,
                      "from": b.offset, "length": b.length, "loop": b.loop} for b in track.backdrop],
        **figure,
    }
