"""Chapters: one per section, for YouTube descriptions and the MP3's ID3 chapters.

Chapters cover the whole recording without gaps: the first starts at 0 (it
takes in the title card) and the last ends with the end card.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..outputs import write_text_atomic
from ..timefmt import clock
from ..timeline import BELL, BREATH_KINDS, COUNT, PAUSE, SAY, Timeline

# What counts as content before the first section: anything heard or timed.
_CONTENT = (SAY, COUNT, PAUSE, BELL) + BREATH_KINDS
YOUTUBE_MIN_CHAPTERS = 3
YOUTUBE_MIN_SECONDS = 10


@dataclass(frozen=True)
class Chapter:
    """A named stretch of the recording, in seconds."""

    title: str
    start: float
    end: float

    def __iter__(self):
        # Unpacks as (title, start, end), the shape mp3.write_mp3 takes.
        return iter((self.title, self.start, self.end))


def chapters(timeline: Timeline, from_zero: bool = True) -> list[Chapter]:
    """The chapters of ``timeline``: one per section, in order.

    Content before the first section is a chapter of its own, named after the
    routine's title (or "Introduction").  Each chapter ends where the next
    begins; a section with nothing in it, which would last no time, is left
    out.  The first starts at 0 (it takes in the title card, as YouTube and
    the MP3's chapters want) unless ``from_zero`` is false: then every
    chapter starts where it truly does, as the practice page and its class
    sheet say.
    """
    sections = timeline.sections
    first_section = sections[0].start if sections else timeline.duration
    marks: list[tuple[str, float]] = []
    if any(e.kind in _CONTENT and e.start < first_section for e in timeline.events):
        marks.append((" ".join(timeline.settings.title.split()) or "Introduction", 0.0))
    marks += [(" ".join(s.text.split()) if s.text else "", s.start) for s in sections]
    result: list[Chapter] = []
    for i, (title, start) in enumerate(marks):
        start = 0.0 if i == 0 and from_zero else start
        end = marks[i + 1][1] if i + 1 < len(marks) else timeline.duration
        if end > start:
            result.append(Chapter(title, start, end))
    return result


def youtube_lines(chapters: list[Chapter]) -> str:
    """Chapter lines for a YouTube description: ``0:00 Arriving``, one per line."""
    return "\n".join(f"{clock(c.start)} {c.title}" for c in chapters)


def youtube_warnings(chapters: list[Chapter]) -> list[str]:
    """Where ``chapters`` break YouTube's rules, each as one sentence (empty when all is well).

    YouTube shows chapters only when the first starts at 0:00, there are at
    least three, and each lasts at least ten seconds.
    """
    problems: list[str] = []
    if not chapters:
        return [f"YouTube needs at least {YOUTUBE_MIN_CHAPTERS} chapters; this routine has none."]
    if clock(chapters[0].start) != "0:00":
        problems.append(f"YouTube needs the first chapter to start at 0:00, not {clock(chapters[0].start)}.")
    if len(chapters) < YOUTUBE_MIN_CHAPTERS:
        problems.append(f"YouTube needs at least {YOUTUBE_MIN_CHAPTERS} chapters; this routine has "
                        f"{len(chapters)}.")
    for i, chapter in enumerate(chapters):
        # Judged on the whole seconds the description shows, as YouTube judges them.
        end = int(chapters[i + 1].start + 1e-6) if i + 1 < len(chapters) else chapter.end
        length = end - int(chapter.start + 1e-6)
        if length < YOUTUBE_MIN_SECONDS:
            problems.append(f"YouTube needs each chapter to last at least {YOUTUBE_MIN_SECONDS} s; "
                            f"'{chapter.title}' lasts {int(length)} s.")
    return problems


def write_chapters_txt(path: str | os.PathLike, chapters: list[Chapter]) -> None:
    """Write the YouTube chapter lines to ``path`` (UTF-8), atomically."""
    write_text_atomic(path, youtube_lines(chapters) + "\n" if chapters else "")
