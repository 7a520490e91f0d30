"""Offline speech with SVOX Pico, as shipped inside the py-nanotts package (Apache-2.0).

Pico speaks German, English (GB and US), Spanish, French and Italian with
one voice each, at 16 kHz.  It is small and quick (about 60 times faster than
real time here) and sounds clearer than eSpeak NG's formant voices, so it is
the offline choice for those languages (see ``qidsl.lang.speech.AUTOMATIC``).
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import re

import numpy as np

from ..errors import BuildError
from ..lang.speech import ENGINES, PICO_VOICES
from .base import SHAPING_KEY, SpeechClip, assemble, short_text
from .timing import split_sentences

SAMPLE_RATE = 16000  # what py-nanotts gives: 16-bit mono PCM at 16 kHz
# Pico's own level clips about 1 % of the samples of a German sentence;
# at half volume nothing clips, and assemble() levels the result anyway.
VOLUME = 0.5
# Pico reads <...> as its markup (<speed>, <pitch>, ...): a routine's text is never markup.
_MARKUP = re.compile(r"[<>]")


_PICO_MEMORY = 2_500_000  # bytes py-nanotts mallocs for Pico's work area on every call


class _ZeroedWorkArea:
    """Hands Pico a zeroed work area on every call.

    Pico reads part of its 2.5 MB work area before writing it, and
    py-nanotts mallocs that area anew for each call without clearing it, so
    the speech changed with whatever the block held before: the same French
    sentence came out 0.19 s longer once Piper had run in the process.
    Just before each call this mallocs a block of that size, zeroes it and
    frees it; glibc gives the very same block to py-nanotts's malloc that
    follows, so Pico always starts from zeros and says a sentence the same
    way every time.  Where there is no C library to call, nothing is done.
    """

    def __init__(self):
        try:
            libc = ctypes.CDLL(None)
            self.malloc, self.memset, self.free = libc.malloc, libc.memset, libc.free
        except (OSError, AttributeError):
            self.malloc = None  # type: ignore[assignment]  # None: no libc functions; checked before use
            return
        self.malloc.restype, self.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
        self.memset.restype = ctypes.c_void_p
        self.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
        self.free.restype, self.free.argtypes = None, [ctypes.c_void_p]

    def prepare(self) -> None:
        if self.malloc is None:
            return
        block = self.malloc(_PICO_MEMORY)
        if block:
            self.memset(block, 0, _PICO_MEMORY)
            self.free(block)


class PicoEngine:
    """Speech from one of Pico's six voices, one sentence at a time.

    ``rate`` is Pico's speed (2.0 about twice as fast).  The library is
    imported on the first :meth:`synthesize`.
    """

    name = "pico"

    def __init__(self, voice: str | None, rate: float = 1.0):
        if voice not in PICO_VOICES:
            raise BuildError(f"Pico has no voice '{voice}'; it has {', '.join(PICO_VOICES)}.")
        if not 0.2 <= rate <= 5.0:
            raise ValueError(f"rate must be between 0.2 and 5, not {rate}")
        self.voice = voice
        self.rate = float(rate)
        try:
            self.version = importlib.metadata.version("py-nanotts")
        except importlib.metadata.PackageNotFoundError:
            raise BuildError("the Pico voices are missing: install the py-nanotts package "
                             "(pip install py-nanotts).") from None
        # The voices ship inside the package, so its version names them exactly.
        self.voice_id = f"svox-pico:{voice}"
        self.voice_name = voice
        self._tts = None

    def settings_key(self) -> str:
        """Speed, volume, sample rate and the shaping of the audio."""
        return f"rate={self.rate:.6g};volume={VOLUME};sr={SAMPLE_RATE};work=zeroed;{SHAPING_KEY}"

    def _load(self):
        if self._tts is None:
            try:
                from py_nanotts import NanoTTS
            except ImportError as exc:
                raise BuildError(f"the Pico engine could not be loaded ({exc}); reinstall py-nanotts.") from exc
            self._tts = NanoTTS()
            self._work_area = _ZeroedWorkArea()
        return self._tts

    def synthesize(self, text: str) -> SpeechClip:
        """Speak ``text`` with one sentence range per sentence, sentences joined by the usual pause."""
        tts = self._load()
        pieces = []
        try:
            for sentence in split_sentences(text):
                self._work_area.prepare()
                pcm = tts.speak(_MARKUP.sub(" ", sentence), voice=self.voice, speed=self.rate, volume=VOLUME)
                pieces.append((sentence, np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0))
        except Exception as exc:  # the C extension raises ValueError and RuntimeError
            raise BuildError(f"Pico could not speak {short_text(text, 40)!r}: {exc}") from exc
        return assemble(pieces, SAMPLE_RATE)


def create(settings, base_dir=None, tld: str = "com") -> PicoEngine:
    """The Pico engine for a routine's settings (see :func:`qidsl.engines.synthesize.make_engine`)."""
    return PicoEngine(ENGINES["pico"].voice_for(settings.language, settings.voice), rate=settings.rate)
