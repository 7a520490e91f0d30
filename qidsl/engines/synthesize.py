"""Speak every cue of a routine once, reusing the cache, and show how far it got."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..errors import BuildError
from ..progress import Progress
from .base import MeasuredSpeech, SpeechClip, SpeechEngine, short_text
from .cache import SpeechCache


@dataclass(frozen=True)
class SynthesisResult:
    """Every text's clip, and how many were made now versus taken from the cache."""

    clips: dict[str, SpeechClip]
    synthesised: int
    cached: int

    def timer(self) -> MeasuredSpeech:
        """A :class:`qidsl.timeline.SpeechTimer` with the measured lengths."""
        return MeasuredSpeech(self.clips)


def make_engine(settings, base_dir: Path, tld: str = "com") -> SpeechEngine:
    """The engine a routine's settings ask for (``settings`` is a :class:`qidsl.settings.Settings`).

    Piper takes ``voice`` (relative paths from ``base_dir``, the routine's
    folder) and ``rate``; gTTS takes ``language``, ``tld`` and ``rate``.
    """
    if settings.engine == "piper":
        from .piper_engine import PiperEngine

        return PiperEngine(settings.voice, rate=settings.rate, base_dir=base_dir)
    if settings.engine == "gtts":
        from .gtts_engine import GttsEngine

        return GttsEngine(settings.language, tld=tld, rate=settings.rate)
    raise BuildError(f"unknown speech engine '{settings.engine}'; choose piper or gtts.")


def synthesize_all(texts: Sequence[str], engine: SpeechEngine, cache: SpeechCache | None,
                   progress: bool | None = None) -> SynthesisResult:
    """Clips for every distinct text in ``texts``; only those not in ``cache`` are synthesised.

    ``progress`` None shows a bar when stderr is a terminal and plain
    ``speech 3/41 ...`` lines when it is not; False shows nothing.  Each
    new clip is stored as soon as it is made, so an interrupted build keeps
    what it already paid for.
    """
    clips: dict[str, SpeechClip] = {}
    missing: list[str] = []
    for text in dict.fromkeys(texts):
        clip = cache.get(engine, text) if cache is not None else None
        if clip is None:
            missing.append(text)
        else:
            clips[text] = clip
    cached = len(clips)
    reporter = Progress(len(missing), progress, f"speech ({engine.name})", "cue",
                        lambda done, total, text: f"speech {done}/{total} ({engine.name}): {short_text(text)}")
    try:
        for text in missing:
            clip = engine.synthesize(text)
            if cache is not None:
                cache.put(engine, text, clip)
            clips[text] = clip
            reporter.step(text)
    finally:
        reporter.close()
    ordered = {text: clips[text] for text in dict.fromkeys(texts)}
    return SynthesisResult(ordered, len(missing), cached)
