"""Small hand-built timelines and speech for the renderer tests.

The renderers read only the timeline, so these build one the way the build
does (``build_timeline`` with a speech timer), from steps written by hand and
clips synthesised here (band-limited noise shaped like syllables), without
any speech engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qidsl.lang.model import Span
from qidsl.lang.settings import Settings
from qidsl.lang.steps import ExpandedRoutine, Step
from qidsl.timeline import Sentence, SpokenTiming, Timeline, build_timeline

CLIP_RATE = 22050  # Piper's rate: the mix must resample it


def step(kind: str, text: str | None = None, seconds: float | None = None, section: str | None = None,
         line: int = 1) -> Step:
    return Step(kind, seconds, text, section, None, None, Span("test.qi", line, 1, line, 10))


@dataclass(frozen=True)
class FakeClip:
    """Shaped like ``qidsl.engines.base.SpeechClip``: samples, rate, sentences, duration."""

    samples: np.ndarray
    sample_rate: int
    sentences: tuple[Sentence, ...]

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


def speechlike(seconds: float, sample_rate: int = CLIP_RATE, seed: int = 0) -> np.ndarray:
    """Noise in the voice band, in 4-per-second 'syllables', peak 0.9 as Piper leaves it."""
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(seed)
    n = int(round(seconds * sample_rate))
    noise = sosfilt(butter(4, [200, 3500], btype="band", fs=sample_rate, output="sos"), rng.standard_normal(n))
    t = np.arange(n) / sample_rate
    syllables = np.clip(np.sin(2 * np.pi * 4.0 * t), 0, None) ** 0.7
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)  # no click at the clip's edges
    out = noise * syllables * fade
    return (0.9 * out / np.max(np.abs(out))).astype(np.float32)


def clip(text: str, seconds: float, seed: int = 0, sample_rate: int = CLIP_RATE) -> FakeClip:
    samples = speechlike(seconds, sample_rate, seed)
    return FakeClip(samples, sample_rate, (Sentence(0.0, round(len(samples) / sample_rate, 3), text),))


class ClipTimer:
    """A speech timer reading lengths from clips, as the build's measured timer does."""

    def __init__(self, clips):
        self.clips = clips

    def timing(self, text: str) -> SpokenTiming:
        c = self.clips[text]
        return SpokenTiming(c.duration, c.sentences)


class SentenceTimer:
    """A speech timer from given sentence lengths: ``{text: [(sentence, seconds), ...]}``."""

    def __init__(self, sentences: dict[str, list[tuple[str, float]]]):
        self.sentences = sentences

    def timing(self, text: str) -> SpokenTiming:
        out, t = [], 0.0
        for sentence, seconds in self.sentences[text]:
            out.append(Sentence(round(t, 3), round(t + seconds, 3), sentence))
            t += seconds
        return SpokenTiming(round(t, 3), tuple(out))


def timeline(steps: list[Step], timer, title: str = "Test Routine", gap: float = 0.5) -> Timeline:
    settings = Settings(title=title, author="Qi Studio", gap=gap)
    return build_timeline(ExpandedRoutine(settings, tuple(steps), ()), timer)


def routine_timeline(path, text: str, per_word: float = 0.3, frame_rate: int | None = None):
    """(timeline, clips) of the routine ``text`` written to ``path``, through the real front end, its
    speech synthetic clips of 0.3 s and ``per_word`` a word (laid on ``frame_rate``'s grid, if given)."""
    from qidsl.compile import compile_routine
    from qidsl.lang.loader import Loader

    path.write_text(text, encoding="utf-8")
    compiled = compile_routine(path, Loader())
    assert not compiled.errors, compiled.diagnostics
    texts = compiled.estimate.spoken_texts
    clips = {t: clip(t, 0.3 + per_word * len(t.split()), seed=i) for i, t in enumerate(texts)}
    return build_timeline(compiled.expanded, ClipTimer(clips), frame_rate), clips
