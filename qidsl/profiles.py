"""Platform profiles: the published rules of YouTube, Insight Timer and podcast directories.

``qidsl check --profile NAME`` and ``qidsl build --profile NAME`` report a
routine's mistakes against a platform's rules as warnings, at the line they
come from where there is one (the section that makes a chapter too short,
the ``title:`` that is too long, the last statement when an ending bell is
missing); a rule about the whole routine points at its ``title:`` line.
Every rule names its source in :data:`SOURCES` (and docs/profiles.md).
What a build makes for each platform is in :mod:`qidsl.profile_outputs`.

Pure Python: ``check`` uses it on the estimated timeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lang import model as m
from .lang.diagnostics import Diagnostic, warning
from .timefmt import clock
from .timeline import BELL, BREATH_KINDS, COUNT, PAUSE, SAY, Timeline

PROFILES = ("youtube", "insight-timer", "podcast")

# Where each rule comes from (read on the day it was written; see docs/profiles.md).
SOURCES = {
    "youtube-chapters": "https://support.google.com/youtube/answer/9884579",
    "youtube-metadata": "https://developers.google.com/youtube/v3/docs/videos#resource",
    "insight-timer": "https://help.insighttimer.com/en/support/solutions/articles/67000664986",
    "insight-timer-checklist": "https://insight-timer.freshdesk.com/support/solutions/articles/67000664751",
    "podcast-audio": "https://podcasters.apple.com/support/893-audio-requirements",
    "podcast-metadata": "https://podcasters.apple.com/support/823-podcast-requirements",
}
YOUTUBE_TITLE_CHARACTERS = 100
YOUTUBE_DESCRIPTION_BYTES = 5000
YOUTUBE_TAG_CHARACTERS = 500  # all tags together
INSIGHT_SHORTEST, INSIGHT_LONGEST = 45.0, 90 * 60.0  # what Insight Timer hosts
INSIGHT_BEST = (10 * 60.0, 20 * 60.0)  # what it recommends for a guided meditation
INSIGHT_DESCRIPTION_CHARACTERS = 500  # its upload checklist asks for at least this
PODCAST_LOUDNESS = (-17.0, -15.0)  # Apple: -16 LKFS, within 1 dB
_SOUNDING = (SAY, COUNT, PAUSE, BELL) + BREATH_KINDS


@dataclass(frozen=True)
class _Places:
    """Where a routine's things are written, for the warnings' spans."""

    routine: m.Routine

    def setting(self, key: str) -> m.Span:
        found = self.routine.setting(key) or self.routine.setting("title")
        if found is not None:
            return found.value_span if found.key == key else found.span
        return m.Span(self.routine.path, 1, 1, 1, 2)

    def line(self, file: str | None, line: int | None, fallback: str = "title") -> m.Span:
        """The statement written at ``file:line`` (its first line), or the ``fallback`` setting's place."""
        if line is not None:
            for node in m.walk(self.routine.body):
                span = node.span
                if span.line == line and (file is None or span.file == file):
                    if isinstance(node, m.Section):
                        return node.name.span
                    end = span.end_column if span.end_line == span.line else span.column + 1
                    return m.Span(span.file, span.line, span.column, span.line, end)
        return self.setting(fallback)


def _warn(code: str, message: str, span: m.Span, source: str, hint: str | None = None) -> Diagnostic:
    where = f"rule: {SOURCES[source]}"
    return warning(code, message, span, f"{hint}; {where}" if hint else where)


def youtube_warnings(routine: m.Routine, timeline: Timeline) -> list[Diagnostic]:
    """YouTube's rules for chapters, title, description and tags."""
    # Imported here: `qidsl check` loads this module for --profile's choices, and stays light without it.
    from .renderers.chapters import YOUTUBE_MIN_CHAPTERS, YOUTUBE_MIN_SECONDS, chapters

    places = _Places(routine)
    settings = timeline.settings
    out: list[Diagnostic] = []
    chapter_list = chapters(timeline)
    sections = {(e.text or ""): e for e in timeline.sections}
    if len(chapter_list) < YOUTUBE_MIN_CHAPTERS:
        out.append(_warn("youtube-chapters", f"YouTube shows chapters only when there are at least "
                         f"{YOUTUBE_MIN_CHAPTERS}; this routine makes {len(chapter_list)}", places.setting("title"),
                         "youtube-chapters", "give it at least three sections"))
    elif clock(chapter_list[0].start) != "0:00":
        out.append(_warn("youtube-chapters", "YouTube needs the first chapter at 0:00",
                         places.setting("title"), "youtube-chapters"))
    for i, chapter in enumerate(chapter_list):
        # Judged on the whole seconds the description shows, as YouTube judges them.
        end = int(chapter_list[i + 1].start + 1e-6) if i + 1 < len(chapter_list) else chapter.end
        length = end - int(chapter.start + 1e-6)
        if length < YOUTUBE_MIN_SECONDS:
            event = sections.get(chapter.title)
            span = places.line(event.file, event.line) if event else places.setting("title")
            out.append(_warn("youtube-chapter-short", f"YouTube needs each chapter to last at least "
                             f"{YOUTUBE_MIN_SECONDS} s; \"{chapter.title}\" lasts {int(length)} s", span,
                             "youtube-chapters", "lengthen the section or join it with its neighbour"))
    if len(settings.title) > YOUTUBE_TITLE_CHARACTERS:
        out.append(_warn("youtube-title", f"a YouTube title has at most {YOUTUBE_TITLE_CHARACTERS} characters; "
                         f"this one has {len(settings.title)}", places.setting("title"), "youtube-metadata"))
    for key, value in (("title", settings.title), ("description", settings.description or "")):
        if "<" in value or ">" in value:
            out.append(_warn("youtube-characters", f"YouTube does not accept < or > in a video's {key}",
                             places.setting(key), "youtube-metadata"))
    description = youtube_description(timeline)
    if len(description.encode("utf-8")) > YOUTUBE_DESCRIPTION_BYTES:
        out.append(_warn("youtube-description", f"the YouTube description (with its chapters) takes "
                         f"{len(description.encode('utf-8'))} bytes; YouTube keeps at most "
                         f"{YOUTUBE_DESCRIPTION_BYTES}", places.setting("description"), "youtube-metadata"))
    tag_length = sum(len(tag) for tag in settings.tags) + max(0, len(settings.tags) - 1)
    if tag_length > YOUTUBE_TAG_CHARACTERS:
        out.append(_warn("youtube-tags", f"YouTube's tags take at most {YOUTUBE_TAG_CHARACTERS} characters "
                         f"together; these take {tag_length}", places.setting("tags"), "youtube-metadata"))
    return out


def insight_timer_warnings(routine: m.Routine, timeline: Timeline) -> list[Diagnostic]:
    """Insight Timer's guidance: the length of a guided practice, an ending bell, a full description."""
    places = _Places(routine)
    out: list[Diagnostic] = []
    length = timeline.duration
    if not INSIGHT_SHORTEST <= length <= INSIGHT_LONGEST:
        out.append(_warn("insight-timer-length", f"Insight Timer hosts tracks of 45 s to 90 minutes; this "
                         f"routine lasts {clock(length)}", places.setting("title"), "insight-timer"))
    elif not INSIGHT_BEST[0] <= length <= INSIGHT_BEST[1]:
        out.append(_warn("insight-timer-length", f"Insight Timer recommends 10 to 20 minutes for a guided "
                         f"meditation; this routine lasts {clock(length)}", places.setting("title"), "insight-timer"))
    sounding = [e for e in timeline.events if e.kind in _SOUNDING]
    if sounding and sounding[-1].kind != BELL:
        last = sounding[-1]
        out.append(_warn("insight-timer-bell", "Insight Timer recommends an ending bell (it does not add one)",
                         places.line(last.file, last.line), "insight-timer", "end the routine with: bell"))
    description = timeline.settings.description or ""
    if len(description) < INSIGHT_DESCRIPTION_CHARACTERS:
        out.append(_warn("insight-timer-description", f"Insight Timer asks for a description of at least "
                         f"{INSIGHT_DESCRIPTION_CHARACTERS} characters; this one has {len(description)}",
                         places.setting("description"), "insight-timer-checklist"))
    return out


def podcast_warnings(routine: m.Routine, timeline: Timeline) -> list[Diagnostic]:
    """What a podcast episode's tags need: an author and a description."""
    places = _Places(routine)
    settings = timeline.settings
    out = []
    if not settings.author:
        out.append(_warn("podcast-author", "a podcast episode names its author; add an author: line",
                         places.setting("author"), "podcast-metadata", 'for example: author: "Qi Studio"'))
    if not settings.description:
        out.append(_warn("podcast-description", "a podcast episode has a description; add a description: line",
                         places.setting("description"), "podcast-metadata"))
    return out


_CHECKS = {"youtube": youtube_warnings, "insight-timer": insight_timer_warnings, "podcast": podcast_warnings}


def profile_warnings(profile: str | None, routine: m.Routine | None, timeline: Timeline | None) -> list[Diagnostic]:
    """The warnings of ``profile`` (one of :data:`PROFILES`, or None for none) on a routine's timeline."""
    if profile is None or routine is None or timeline is None:
        return []
    return _CHECKS[profile](routine, timeline)


def loudness_warning(profile: str | None, loudness: float) -> str | None:
    """A build option that breaks the profile's audio rules, as one sentence, or None."""
    low, high = PODCAST_LOUDNESS
    if profile == "podcast" and not low <= loudness <= high:
        return (f"Apple Podcasts recommends -16 LUFS, within 1 dB; this build aims at {loudness:g} "
                f"({SOURCES['podcast-audio']})")
    return None


def youtube_description(timeline: Timeline) -> str:
    """A ready YouTube description: the routine's description, its chapters, its tags as hashtags."""
    from .renderers.chapters import chapters, youtube_lines

    settings = timeline.settings
    parts = []
    if settings.description:
        parts.append(settings.description.strip())
    if settings.author:
        parts.append(f"By {settings.author}.")
    chapter_list = chapters(timeline)
    if chapter_list:
        parts.append("Chapters:\n" + youtube_lines(chapter_list))
    # A hashtag is one word: "lower back" becomes #lowerBack; other marks are dropped.
    hashtags = ["#" + "".join(word.capitalize() if i else word for i, word in enumerate(re.findall(r"\w+", tag)))
                for tag in settings.tags]
    hashtags = [tag for tag in hashtags if len(tag) > 1]
    if hashtags:
        parts.append(" ".join(hashtags))
    return "\n\n".join(parts) + "\n"
