"""The quick build behind ``qidsl watch``: what the practice page needs, within a second of a save.

:func:`build_preview` is the one function the watch loop calls to build.  It
makes the timeline, captions, chapters and the page, and the narration as a
WAV mixed at the voice's own sample rate (no resampling) with one gain that
keeps its peaks under full scale: loudness normalisation and MP3 encoding take
seconds for a ten-minute routine, so they are left to ``qidsl build``.  The
speech engine and every clip it made stay in memory between calls (the
:class:`WarmSpeech`), so a changed cue is the only one synthesised and the
voice is loaded once.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from .compile import print_diagnostics
from .engines.cache import SpeechCache, default_cache_dir, speech_key
from .engines.synthesize import make_engine, synthesize_all
from .timeline import build_timeline
from .renderers import audio, captions, chapters, page, timeline_json

PREVIEW_PEAK = 0.89  # about -1 dBFS: the preview is never clipped
TIMING_WARNINGS = ("cue-overruns-phase", "long-routine")  # replaced by those measured on real speech


class MemoryCache(SpeechCache):
    """The speech cache on disk, with every clip read or made kept in memory too."""

    def __init__(self, directory: Path):
        super().__init__(directory)
        self._clips: dict[str, object] = {}

    def get(self, engine, text):
        key = speech_key(engine, text)
        if key not in self._clips:
            clip = self.load(key)
            if clip is None:
                return None
            self._clips[key] = clip
        return self._clips[key]

    def put(self, engine, text, clip) -> None:
        key = speech_key(engine, text)
        self.store(key, clip)
        self._clips[key] = clip


class WarmSpeech:
    """Speech engines (voices loaded) and clips kept between builds of one ``qidsl watch``."""

    def __init__(self, cache_dir: Path, tld: str = "com"):
        self.cache = MemoryCache(cache_dir)
        self.tld = tld
        self._engines: dict[tuple, object] = {}

    def engine(self, settings, base_dir: Path, tld: str | None = None):
        """The engine for ``settings``, made once (same signature as :func:`make_engine`)."""
        key = (settings.engine, settings.voice, settings.rate, settings.language, str(Path(base_dir).resolve()),
               tld or self.tld)
        if key not in self._engines:
            self._engines[key] = make_engine(settings, base_dir=base_dir, tld=tld or self.tld)
        return self._engines[key]

    def warm_up(self) -> None:
        """Load every engine's voice now, so the first edit does not wait for it."""
        for engine in self._engines.values():
            warm = getattr(engine, "warm", None)
            if warm is not None:
                warm()


@dataclass(frozen=True)
class Preview:
    """What one preview build wrote, and what it cost."""

    outputs: tuple[Path, ...]
    duration: float
    synthesised: int
    seconds: float  # from the call to the page written
    speech_seconds: float  # of which speaking the changed cues


def preview_names(name: str) -> tuple[str, ...]:
    """The files a preview of routine ``name`` writes (all the watch server may serve)."""
    return (f"{name}.html", f"{name}.wav", f"{name}.srt", f"{name}.vtt", f"{name}.chapters.txt",
            f"{name}.timeline.json")


def preview_mix(timeline, clips) -> tuple[np.ndarray, int]:
    """The narration at the clips' own sample rate, scaled once so its peak is :data:`PREVIEW_PEAK`."""
    rates = {clip.sample_rate for clip in clips.values()}
    rate = rates.pop() if len(rates) == 1 else audio.SAMPLE_RATE
    mixed = audio.mix(timeline, clips, sample_rate=rate)
    peak = float(np.max(np.abs(mixed))) if len(mixed) else 0.0
    if peak > 0:
        mixed *= np.float32(PREVIEW_PEAK / peak)
    return mixed, rate


def build_preview(path: Path, compiled, loader, folder: Path, speech: WarmSpeech, *, engine: str | None = None,
                  voice: str | None = None, frame_rate: int | None = None,
                  ready: Callable[[Preview], None] | None = None) -> Preview:
    """Build the preview of one compiled, error-free routine into ``folder``.

    ``frame_rate`` lays the timeline on the video's frame grid, as ``qidsl
    build`` does, so the page shows the times the built video will have.
    The narration and the page are written first and ``ready`` is called with
    them, so an open page can reload while the captions, chapters and timeline
    files follow.  Engine failures raise :class:`qidsl.errors.BuildError`; I/O
    failures ``OSError``.
    """
    started = time.monotonic()
    name = path.stem
    settings = compiled.settings.with_overrides(engine=engine, voice=voice)
    speaker = speech.engine(settings, base_dir=path.parent)
    result = synthesize_all(compiled.estimate.spoken_texts, speaker, speech.cache, progress=False)
    speech_seconds = time.monotonic() - started
    timeline = build_timeline(replace(compiled.expanded, settings=settings), result.timer(), frame_rate=frame_rate)
    folder.mkdir(parents=True, exist_ok=True)
    mixed, rate = preview_mix(timeline, result.clips)
    audio.write_wav(folder / f"{name}.wav", mixed, rate)
    page.write_page(folder / f"{name}.html", timeline, f"{name}.wav")
    outputs = tuple(folder / n for n in preview_names(name))
    preview = Preview(outputs, timeline.duration, result.synthesised, time.monotonic() - started,
                      speech_seconds)
    if ready is not None:
        ready(preview)
    warnings = [d for d in compiled.warnings if d.code not in TIMING_WARNINGS] + list(timeline.warnings)
    print_diagnostics(warnings, loader, "text", sys.stderr)
    cues = captions.caption_cues(timeline)
    captions.write_srt(folder / f"{name}.srt", cues)
    captions.write_vtt(folder / f"{name}.vtt", cues)
    chapters.write_chapters_txt(folder / f"{name}.chapters.txt", chapters.chapters(timeline))
    timeline_json.write_timeline_json(folder / f"{name}.timeline.json", timeline)
    return preview


def default_preview_cache(out: Path, cache_dir: Path | None) -> Path:
    """The speech cache a watch shares with ``qidsl build`` (same folder rules)."""
    return cache_dir or default_cache_dir(out)
