"""Speech's own timing types: how long a cue takes to say and where its sentences fall.

The engines make these; the timeline reads them.  Pure Python, so the light
commands (``check``, ``plan``) can use them without loading numpy or an engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Callable

SENTENCE_PAUSE = 0.3  # seconds of silence every engine puts between two sentences of one cue


@dataclass(frozen=True)
class Word:
    """One spoken word (a whitespace-separated piece of its sentence's text) and when it is heard."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Sentence:
    """A stretch of speech; times in seconds, relative to the cue or absolute in an Event.

    ``words`` are its words in order, timed on the same clock (empty where
    nothing timed them: an estimate before any speech is made).
    """

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()

    def shifted(self, offset: float) -> Sentence:
        """The sentence ``offset`` seconds later, to the millisecond, its words with it."""
        return Sentence(round(offset + self.start, 3), round(offset + self.end, 3), self.text,
                        tuple([Word(round(offset + w.start, 3), round(offset + w.end, 3), w.text)
                               for w in self.words]))


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


# How an estimate shares a sentence's time between its words: each word's letters, plus a
# share for the gap before the next word, plus a pause after punctuation (benchmarks/word_timing.py
# measures how close it lands).
WORD_GAP_LETTERS = 1.0
PAUSE_LETTERS = {",": 4.0, ";": 5.0, ":": 5.0, "—": 5.0, "–": 5.0}


def estimate_words(text: str, start: float, end: float) -> tuple[Word, ...]:
    """The words of a sentence said from ``start`` to ``end``, timed by their letters.

    For engines that do not say where each word falls (SVOX Pico, gTTS;
    and a cached clip made before words were timed): a word lasts in proportion to its letters; a comma or a
    colon after it adds a pause (the engines pause there).  On the shipped
    routine spoken by joe, about 57 % of word starts land within 0.1 s of
    where pocketsphinx hears them, against about 95 % for Piper's own
    alignment (benchmarks/word_timing.py).
    """
    pieces = text.split()
    if not pieces:
        return ()
    weights, pauses = [], []
    for piece in pieces:
        letters = sum(ch.isalnum() for ch in piece) or 1
        weights.append(float(letters))
        pauses.append(PAUSE_LETTERS.get(piece[-1], 0.0) + WORD_GAP_LETTERS)
    pauses[-1] = 0.0
    total = sum(weights) + sum(pauses)
    scale = (end - start) / total if total else 0.0
    words, at = [], start
    for piece, weight, pause in zip(pieces, weights, pauses):
        words.append(Word(round(at, 3), round(at + weight * scale, 3), piece))
        at += (weight + pause) * scale
    return tuple(words)
