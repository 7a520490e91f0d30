"""Speech's own timing types: how long a cue takes to say and where its sentences fall.

The engines make these; the timeline reads them.  Pure Python, so the light
commands (``check``, ``plan``) can use them without loading numpy or an engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

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


def spoken_timing(text: str, sentence_seconds: Callable[[str], float]) -> SpokenTiming:
    """The timing of a cue whose sentences last ``sentence_seconds(sentence)`` each, as the engines join them.

    Sentences are :data:`SENTENCE_PAUSE` apart; one that lasts no time (no
    sound in it) is left out, as the engines leave it out of the audio.
    """
    sentences: list[Sentence] = []
    start = 0.0
    for sentence in split_sentences(text):
        length = sentence_seconds(sentence)
        if length <= 0:
            continue
        if sentences:
            start += SENTENCE_PAUSE
        sentences.append(Sentence(round(start, 3), round(start + length, 3), sentence))
        start += length
    return SpokenTiming(round(start, 3), tuple(sentences))
