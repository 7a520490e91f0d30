"""What every speech engine gives back, and the shared shaping of its audio.

A :class:`SpeechClip` is one cue's speech: mono float32 samples and where
each sentence falls in it.  Engines build clips with :func:`assemble`, which
trims each sentence tight, evens out its loudness and puts a natural pause
between sentences, so that both engines sound and time alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from collections.abc import Mapping, Sequence

from .timing import (SENTENCE_PAUSE, Sentence, SpokenTiming, Word,  # noqa: F401 (SENTENCE_PAUSE is shaping's too)
                     estimate_words)

if TYPE_CHECKING:  # numpy is imported where it is used: a build with nothing to do never loads it
    import numpy as np
TARGET_RMS = 0.1  # about -20 dBFS for the voiced part of each sentence
PEAK_LIMIT = 0.95  # no sentence is raised past this peak, so leveling never clips
SILENCE_FRAME = 0.01  # seconds per frame when looking for silence
EDGE_MARGIN = 0.02  # seconds kept before the first and after the last sound
# Part of every engine's settings key: change it whenever the shaping below
# changes the sound, so cached clips made the old way are not reused.
SHAPING_KEY = f"shape=1;pause={SENTENCE_PAUSE};rms={TARGET_RMS};peak={PEAK_LIMIT}"


@dataclass(frozen=True, eq=False)
class SpeechClip:
    """One cue's speech: mono samples in -1..1 and its sentences.

    ``sentences`` hold start and end in seconds relative to the clip start.
    The samples are made read-only, so a clip shared between the cache and
    the timeline cannot be changed behind anyone's back.
    """

    samples: np.ndarray
    sample_rate: int
    sentences: tuple[Sentence, ...]

    def __post_init__(self) -> None:
        import numpy as np  # here, not at the top: a build with nothing to do never loads it
        samples = np.ascontiguousarray(self.samples, dtype=np.float32).reshape(-1)
        samples.setflags(write=False)
        object.__setattr__(self, "samples", samples)
        object.__setattr__(self, "sentences", tuple(self.sentences))

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate

    def timing(self) -> SpokenTiming:
        """This clip as the timeline sees it."""
        return SpokenTiming(self.duration, self.sentences)


class MeasuredSpeech:
    """A :class:`qidsl.timeline.SpeechTimer` that reads lengths from synthesised clips."""

    def __init__(self, clips: Mapping[str, SpeechClip]):
        self.clips = clips

    def timing(self, text: str) -> SpokenTiming:
        """The measured duration and sentences of ``text``, which must have been synthesised."""
        try:
            return self.clips[text].timing()
        except KeyError:
            raise KeyError(f"no speech was synthesised for {text!r}") from None


@runtime_checkable
class SpeechEngine(Protocol):
    """Text in, speech out.

    ``name``, ``version``, ``voice_id`` and ``settings_key()`` together say
    everything that changes the sound; the speech cache keys on them.
    Failures raise :class:`qidsl.errors.BuildError` with one sentence.
    """

    name: str
    version: str  # version of the engine library, from importlib.metadata
    voice_id: str  # stable identifier of the voice (content hash, not a path)
    voice_name: str  # the voice as a person names it: en_US-joe-medium, de-DE, cmn

    def settings_key(self) -> str:
        """Every setting that changes the sound (rate, language, ...) as one string."""
        ...

    def synthesize(self, text: str) -> SpeechClip:
        """Speak ``text``; sentence times are relative to the clip start."""
        ...


def _frame_rms(samples: np.ndarray, frame: int) -> np.ndarray:
    """RMS of each ``frame``-sample frame (the last one padded with silence)."""
    import numpy as np  # here, not at the top: a build with nothing to do never loads it
    if len(samples) == 0:
        return np.zeros(0)
    padded = np.zeros(-(-len(samples) // frame) * frame)
    padded[: len(samples)] = samples
    return np.sqrt(np.mean(np.square(padded.reshape(-1, frame)), axis=1))


def trim_bounds(samples: np.ndarray, sample_rate: int) -> tuple[int, int]:
    """Where :func:`trim_silence` cuts ``samples``: (first kept sample, one past the last); (0, 0) if silent."""
    import numpy as np  # here, not at the top: a build with nothing to do never loads it
    frame = max(1, int(sample_rate * SILENCE_FRAME))
    rms = _frame_rms(samples, frame)
    if len(rms) == 0 or rms.max() < 1e-5:
        return 0, 0
    loud = np.flatnonzero(rms > max(rms.max() * 0.01, 1e-5))
    margin = int(sample_rate * EDGE_MARGIN)
    return max(0, int(loud[0]) * frame - margin), min(len(samples), (int(loud[-1]) + 1) * frame + margin)


def trim_silence(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """``samples`` without the near-silence before the first and after the last sound.

    "Near-silence" is 40 dB below the loudest 10 ms frame, so soft onsets
    such as an "h" are kept; a short margin keeps the edges from clicking.
    """
    start, end = trim_bounds(samples, sample_rate)
    return samples[start:end]


def level(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """``samples`` scaled so their voiced part sits at :data:`TARGET_RMS`, peaks kept under :data:`PEAK_LIMIT`.

    The RMS is measured over frames within 20 dB of the loudest one, so the
    pauses inside a sentence do not make it look quiet and get it boosted.
    """
    import numpy as np  # here, not at the top: a build with nothing to do never loads it
    if len(samples) == 0:
        return samples.astype(np.float32)
    frame = max(1, int(sample_rate * SILENCE_FRAME))
    rms = _frame_rms(samples, frame)
    voiced = rms[rms > rms.max() * 0.1]
    loudness = float(np.sqrt(np.mean(voiced * voiced))) if len(voiced) else 0.0
    peak = float(np.max(np.abs(samples)))
    if loudness < 1e-6 or peak < 1e-6:
        return np.zeros_like(samples, dtype=np.float32)
    gain = min(TARGET_RMS / loudness, PEAK_LIMIT / peak)
    return (samples * gain).astype(np.float32)


def assemble(pieces: Sequence[tuple[str, np.ndarray] | tuple[str, np.ndarray, Sequence[tuple[int, int]]]],
             sample_rate: int, pause: float = SENTENCE_PAUSE) -> SpeechClip:
    """One clip from ``(sentence text, samples)`` pieces, or ``(text, samples, word spans)``.

    Each piece is trimmed and levelled; pieces with no sound are dropped;
    ``pause`` seconds of silence go between the rest, and each sentence's
    start and end are recorded, with its words: where the engine said them
    (word spans: (first sample, one past the last) of each of the text's
    words in the piece's samples), else estimated (:func:`estimate_words`).
    """
    import numpy as np  # here, not at the top: a build with nothing to do never loads it
    gap = np.zeros(int(round(pause * sample_rate)), dtype=np.float32)
    parts: list[np.ndarray] = []
    sentences: list[Sentence] = []
    position = 0
    for text, samples, *spans in pieces:
        raw = np.asarray(samples, dtype=np.float32).reshape(-1)
        first, last = trim_bounds(raw, sample_rate)
        shaped = level(raw[first:last], sample_rate)
        if len(shaped) == 0:
            continue
        if parts:
            parts.append(gap)
            position += len(gap)
        start, end = position / sample_rate, (position + len(shaped)) / sample_rate
        words = text.split()
        if spans and len(spans[0]) == len(words):
            # Sample places in the piece, moved to the clip (past the trimmed start, within the sound).
            places = [(position + min(max(a - first, 0), len(shaped)), position + min(max(b - first, 0), len(shaped)))
                      for a, b in spans[0]]
            timed = tuple(Word(round(a / sample_rate, 3), round(b / sample_rate, 3), word)
                          for (a, b), word in zip(places, words))
        else:
            timed = estimate_words(text, start, end)
        sentences.append(Sentence(start, end, text, timed))
        parts.append(shaped)
        position += len(shaped)
    samples = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
    return SpeechClip(samples, sample_rate, tuple(sentences))


def short_text(text: str, limit: int = 48) -> str:
    """A cue for a message: whitespace collapsed, cut to ``limit`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
