"""Offline speech with eSpeak NG, from the library and data the espeakng-loader package ships.

eSpeak NG speaks about a hundred languages with small formant voices: clear
and quick (about 200 times faster than real time here) but plainly
synthetic.  It is the offline voice for every language that neither Piper's
bundled voice nor Pico speaks (see ``qidsl.lang.speech.AUTOMATIC``).  The
library is driven through ctypes in its synchronous mode: each call to
``espeak_Synth`` hands the samples to a callback before it returns.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import threading

import numpy as np

from ..errors import BuildError
from ..lang.speech import ENGINES
from .base import SHAPING_KEY, SpeechClip, assemble, short_text
from .timing import split_sentences

DEFAULT_WPM = 175  # eSpeak NG's own speaking rate, words per minute
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_RATE = 1  # espeakRATE in espeak_PARAMETER
_EVENT_END_OF_LIST, _EVENT_WORD = 0, 1  # espeak_EVENT_TYPE


class _Event(ctypes.Structure):
    """espeak_EVENT (speak_lib.h): what the library says about the samples it hands over."""

    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_void_p)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


class _Library:
    """The one eSpeak NG of this process: the library keeps its voice and output in globals."""

    def __init__(self):
        try:
            import espeakng_loader

            self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data = espeakng_loader.get_data_path()
        except (ImportError, OSError, RuntimeError) as exc:
            raise BuildError(f"eSpeak NG could not be loaded ({exc}); reinstall espeakng-loader.") from exc
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                          ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        self.sample_rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data.encode(), 0)
        if self.sample_rate <= 0:
            raise BuildError(f"eSpeak NG could not start with its data in {data}.")
        self.chunks: list[np.ndarray] = []
        self.words: list[tuple[int, int]] = []  # (character position from 1, milliseconds) of each word event
        self._callback = _CALLBACK(self._receive)  # kept here: the library holds only a raw pointer
        self.lib.espeak_SetSynthCallback(self._callback)
        self.lock = threading.Lock()

    def _receive(self, wav, count, events) -> int:
        if count > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, (count,)).copy())
        k = 0
        while events and events[k].type != _EVENT_END_OF_LIST:
            if events[k].type == _EVENT_WORD:  # a word starts: where in the text, and when (ms)
                self.words.append((events[k].text_position, events[k].audio_position))
            k += 1
        return 0  # go on

    def speak(self, text: str, voice: str, wpm: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """``text`` spoken by ``voice`` at ``wpm``, as float32 samples, and each of its words' samples.

        The words are ``text`` split at spaces; each runs from eSpeak's word
        event for it to the next word's (a word it says nothing of, a dash,
        takes no time where the next one starts).
        """
        with self.lock:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise BuildError(f"eSpeak NG has no voice '{voice}'.")
            self.lib.espeak_SetParameter(_RATE, wpm, 0)
            self.chunks, self.words = [], []
            data = text.encode("utf-8") + b"\0"
            status = self.lib.espeak_Synth(data, len(data), 0, 0, 0, _CHARS_UTF8, None, None)
            if status != 0:
                raise RuntimeError(f"espeak_Synth returned error {status}")
            chunks, events, self.chunks, self.words = self.chunks, self.words, [], []
        if not chunks:
            return np.zeros(0, dtype=np.float32), []
        samples = np.concatenate(chunks).astype(np.float32) / 32768.0
        return samples, _word_spans(text, events, self.sample_rate, len(samples))


def _word_spans(text: str, events: list[tuple[int, int]], sample_rate: int, length: int) -> list[tuple[int, int]]:
    """(first sample, one past the last) of each word of ``text`` from eSpeak's (character, ms) word events."""
    import re

    places = [m.start() + 1 for m in re.finditer(r"\S+", text)]  # eSpeak counts characters from 1
    ends = [m.end() for m in re.finditer(r"\S+", text)]
    starts: list[int | None] = [None] * len(places)
    for position, ms in events:
        for k, (first, last) in enumerate(zip(places, ends)):
            if first <= position <= last and starts[k] is None:
                starts[k] = min(length, ms * sample_rate // 1000)
                break
    following = length
    for k in range(len(starts) - 1, -1, -1):  # a word without an event starts where the next one does
        value = starts[k]
        following = value if value is not None else following
        starts[k] = following
    timed = [int(start or 0) for start in starts]
    return [(start, max(start, end)) for start, end in zip(timed, timed[1:] + [length])]


_LIBRARY: _Library | None = None


def _library() -> _Library:
    global _LIBRARY
    if _LIBRARY is None:
        _LIBRARY = _Library()
    return _LIBRARY


class EspeakEngine:
    """Speech from an eSpeak NG voice (``voice`` is its name, e.g. ``de``, ``cmn``, ``pt-BR``).

    ``rate`` scales eSpeak NG's 175 words a minute (within its 80 to 450).
    """

    name = "espeak"

    def __init__(self, voice: str | None, rate: float = 1.0):
        if voice is None:  # the registry found no eSpeak NG voice for the language (as Pico says)
            raise BuildError("eSpeak NG has no voice for this language.")
        if not rate > 0:
            raise ValueError(f"rate must be positive, not {rate}")
        self.voice = voice
        self.rate = float(rate)
        self.wpm = max(80, min(450, round(DEFAULT_WPM * self.rate)))
        try:
            self.version = importlib.metadata.version("espeakng-loader")
        except importlib.metadata.PackageNotFoundError:
            raise BuildError("eSpeak NG is missing: install the espeakng-loader package "
                             "(pip install espeakng-loader).") from None
        # The voices ship inside the package, so its version names them exactly.
        self.voice_id = f"espeak-ng:{voice}"
        self.voice_name = voice

    def settings_key(self) -> str:
        """Words a minute and the shaping of the audio."""
        return f"wpm={self.wpm};{SHAPING_KEY};words=1"

    def synthesize(self, text: str) -> SpeechClip:
        """Speak ``text`` with one sentence range per sentence, sentences joined by the usual pause."""
        library = _library()
        try:
            pieces = [(sentence, *library.speak(sentence, self.voice, self.wpm)) for sentence in split_sentences(text)]
        except BuildError:
            raise
        except Exception as exc:
            raise BuildError(f"eSpeak NG could not speak {short_text(text, 40)!r}: {exc}") from exc
        return assemble(pieces, library.sample_rate)


def create(settings, base_dir=None, tld: str = "com") -> EspeakEngine:
    """The eSpeak NG engine for a routine's settings (see :func:`qidsl.engines.synthesize.make_engine`)."""
    return EspeakEngine(ENGINES["espeak"].voice_for(settings.language, settings.voice), rate=settings.rate)
