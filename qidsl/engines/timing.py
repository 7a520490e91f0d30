"""Speech's own timing types: how long a cue takes to say and where its sentences fall.

The engines make these; the timeline reads them.  Pure Python, so the light
commands (``check``, ``plan``) can use them without loading numpy or an engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SENTENCE_PAUSE = 0.3  # seconds of silence every engine puts between two sentences of one cue


@dataclass(frozen=True)
class Sentence:
    """A stretch of speech; times in seconds, relative to the cue or absolute in an Event."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class SpokenTiming:
    """How long a cue takes to say, and where its sentences fall inside it."""

    duration: float
    sentences: tuple[Sentence, ...]


_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")


def split_sentences(text: str) -> list[str]:
    """Sentences of a cue, as a reader would split them."""
    parts = [p.strip() for p in _SENTENCE_END.split(text)]
    return [p for p in parts if p] or [text.strip() or text]
