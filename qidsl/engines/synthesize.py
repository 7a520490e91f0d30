"""Speak every cue of a routine once, reusing the cache, and show how far it got."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Sequence

from ..errors import BuildError
from ..lang.speech import AUTOMATIC, ENGINES, is_bundled_voice, no_voice_advice, not_spoken
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
    """The engine a routine's settings ask for (``settings`` is a :class:`qidsl.lang.settings.Settings`).

    The engine comes from the one registry, :data:`qidsl.lang.speech.ENGINES`;
    its module's ``create(settings, base_dir, tld)`` makes it.  Piper takes
    ``voice`` (relative paths from ``base_dir``, the routine's folder) and
    ``rate``; Pico and eSpeak NG take ``language`` and ``rate``; gTTS takes
    ``language``, ``tld`` and ``rate``.  A language the engine cannot speak is
    a :class:`BuildError` that says what to do.
    """
    if settings.engine is None:
        raise BuildError(f"no offline voice speaks '{settings.language}'; {no_voice_advice(settings.language)}.")
    info = ENGINES.get(settings.engine)
    if info is None:
        raise BuildError(f"unknown speech engine '{settings.engine}'; choose one of: {', '.join(ENGINES)}.")
    reason = not_spoken(settings.engine, settings.language, settings.voice)
    if reason is not None:
        others = [name for name in AUTOMATIC if name != info.name
                  and not_spoken(name, settings.language, None) is None]
        if info.name == "piper" and is_bundled_voice(settings.voice):
            advice = "add --voice joe to have joe read it anyway" + (
                f", or use --engine {others[0]}" if others else "")
        else:
            advice = f"use --engine {others[0]}" if others else no_voice_advice(settings.language)
        raise BuildError(f"{reason}; {advice}.")
    module = importlib.import_module(f"{__package__}.{info.module}")
    return module.create(settings, base_dir=base_dir, tld=tld)


def make_timer(settings, base_dir: Path):
    """A :class:`qidsl.timeline.SpeechTimer` that asks the routine's own voice how long each cue lasts.

    None when the engine has no such timer (see :attr:`qidsl.lang.speech.EngineInfo.timer`) or
    does not speak the routine's language; a voice that cannot be found is a :class:`BuildError`.
    """
    info = ENGINES.get(settings.engine) if settings.engine else None
    if info is None or info.timer is None or not_spoken(info.name, settings.language, settings.voice) is not None:
        return None
    return importlib.import_module(f"{__package__}.{info.timer}").create_timer(settings, base_dir=base_dir)


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
                        lambda done, total, text: f"speech {done}/{total} ({engine.name}): {short_text(text or '')}")
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
