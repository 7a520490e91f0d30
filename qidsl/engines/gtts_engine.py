"""Online speech with gTTS (Google Translate's text-to-speech).

gTTS sends each ~100-character chunk of text as its own HTTP request and, left
alone, waits forever for an answer; this engine always passes a timeout,
retries rate limits and server errors a bounded number of times with
exponential backoff, and turns every failure into one sentence that names the
cause and the offline alternative.
"""

from __future__ import annotations

import importlib.metadata
import io
import subprocess
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import BuildError
from ..lang.speech import automatic_engine
from .timing import split_sentences
from .base import SHAPING_KEY, SpeechClip, assemble

if TYPE_CHECKING:  # numpy is imported where it is used: a build with nothing to do never loads it
    import numpy as np

SAMPLE_RATE = 24000  # what Google's MP3s carry; decoding keeps it
MAX_RETRY_AFTER = 30.0  # seconds; a longer Retry-After is not worth waiting for in a build
# BCP-47 primary subtags Google still knows under their old or other names.
_ALIASES = {"he": "iw", "jv": "jw", "nb": "no", "fil": "tl", "in": "id"}


def gtts_languages() -> dict[str, str]:
    """gTTS's languages, code to English name (no network needed)."""
    from gtts.lang import tts_langs

    return tts_langs()


def gtts_language(tag: str) -> str:
    """The gTTS language for a BCP-47 ``tag``: an exact match, else language-region, else the language.

    ``en-GB`` gives ``en`` (pick the accent with ``tld``), ``zh-CN`` gives
    ``zh-CN``, ``pt-BR`` gives ``pt``.
    """
    known = {code.lower(): code for code in gtts_languages()}
    parts = tag.strip().replace("_", "-").split("-")
    primary = _ALIASES.get(parts[0].lower(), parts[0].lower())
    region = next((p for p in parts[1:] if len(p) == 2 or (len(p) == 3 and p.isdigit())), None)
    candidates = [tag.strip().lower(), f"{primary}-{region}".lower() if region else None, primary]
    for candidate in candidates:
        if candidate and candidate in known:
            return known[candidate]
    raise BuildError(f"gTTS does not speak '{tag}'; choose a language from `qidsl voices` "
                     f"or use --engine piper with a voice file for it.")


class GttsEngine:
    """Speech from Google Translate through gTTS, one request per sentence (or ~100-character chunk).

    ``tld`` picks the Google host and with it the accent (``co.uk``,
    ``com.au``, ...).  ``rate`` changes the speaking speed with ffmpeg's
    ``atempo`` since Google offers only normal and slow.  ``sleep`` is the
    function used to wait between retries, so tests need not wait.
    """

    name = "gtts"

    def __init__(self, language: str = "en", tld: str = "com", timeout: float = 10, retries: int = 3,
                 backoff: float = 1.0, rate: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep):
        if not 0.5 <= rate <= 2.0:
            raise ValueError(f"rate must be between 0.5 and 2, not {rate}")
        self.language = language
        self.lang = gtts_language(language)
        self.tld = tld
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.rate = float(rate)
        self.sleep = sleep
        self.version = importlib.metadata.version("gTTS")
        self.voice_id = f"google-translate:{self.lang}@translate.google.{tld}"
        self.voice_name = f"{self.lang}@translate.google.{tld}"
        offline = automatic_engine(language, None)
        # What to do instead, in every failure message: the offline voice of this language, if any.
        self.offline = (f"build offline with --engine {offline}" if offline
                        else f"use a Piper voice file for '{language}' to build offline")

    def settings_key(self) -> str:
        """Language, host (accent), rate and the shaping of the audio."""
        return f"lang={self.lang};tld={self.tld};rate={self.rate:.6g};sr={SAMPLE_RATE};{SHAPING_KEY}"

    def synthesize(self, text: str) -> SpeechClip:
        """Speak ``text`` one sentence at a time, joined with a short pause.

        Either every sentence is spoken or a :class:`BuildError` is raised:
        a clip is never made from part of the text.
        """
        pieces = []
        for sentence in split_sentences(text):
            mp3 = self._fetch(sentence)
            if mp3:
                pieces.append((sentence, self._decode(mp3)))
        return assemble(pieces, SAMPLE_RATE)

    def _fetch(self, sentence: str) -> bytes:
        """The MP3 for one sentence, retrying rate limits and server errors."""
        import requests
        from gtts import gTTS, gTTSError

        for attempt in range(self.retries + 1):
            buffer = io.BytesIO()
            try:
                # lang_check=False: the language was checked once, in __init__.
                gTTS(sentence, tld=self.tld, lang=self.lang, lang_check=False,
                     timeout=self.timeout).write_to_fp(buffer)
                return buffer.getvalue()
            except AssertionError:
                return b""  # nothing speakable left after gTTS's cleaning, e.g. only punctuation
            except gTTSError as exc:
                response = exc.rsp
                if response is None:  # the request itself failed; requests' error is the context
                    raise BuildError(self._unreachable(exc.__context__)) from exc
                status = response.status_code
                if status == 429 or status >= 500:
                    if attempt < self.retries:
                        self.sleep(self._delay(attempt, response))
                        continue
                    raise BuildError(self._gave_up(status)) from exc
                if status == 200:
                    raise BuildError(f"Google's speech service answered without audio for language "
                                     f"'{self.lang}'; {self.offline}.") from exc
                raise BuildError(f"Google's speech service refused the request with HTTP {status} "
                                 f"({response.reason}); {self.offline}.") from exc
            except requests.RequestException as exc:  # e.g. a body cut off while streaming
                raise BuildError(self._unreachable(exc)) from exc
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _delay(self, attempt: int, response) -> float:
        delay = self.backoff * 2 ** attempt
        retry_after = response.headers.get("Retry-After", "")
        if retry_after.strip().isdigit():
            delay = max(delay, min(float(retry_after), MAX_RETRY_AFTER))
        return delay

    def _gave_up(self, status: int) -> str:
        tries = f"after {self.retries} {'retry' if self.retries == 1 else 'retries'}"
        if status == 429:
            return (f"Google's speech service refused gTTS with too many requests (HTTP 429) {tries}; "
                    f"wait a while or {self.offline}.")
        return f"Google's speech service failed with HTTP {status} {tries}; try again later or {self.offline}."

    def _unreachable(self, cause: BaseException | None) -> str:
        import requests

        if isinstance(cause, requests.Timeout):
            return (f"gTTS got no answer from Google's speech service within {self.timeout:g} s; "
                    f"check the network or {self.offline}.")
        if self.tld != "com":
            return (f"gTTS could not reach Google's speech service at translate.google.{self.tld} "
                    f"(no network, or no such host); {self.offline}.")
        return f"gTTS could not reach Google's speech service (no network); {self.offline}."

    def _decode(self, mp3: bytes) -> np.ndarray:
        """MP3 bytes to mono float32 samples at :data:`SAMPLE_RATE`, speed changed by ``rate``."""
        import numpy as np  # here, not at the top: a build with nothing to do never loads it
        try:
            import imageio_ffmpeg

            ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
        except Exception as exc:
            raise BuildError(f"no ffmpeg was found to decode gTTS's speech: {exc}") from exc
        command = [ffmpeg, "-nostdin", "-v", "error", "-f", "mp3", "-i", "pipe:0"]
        if self.rate != 1.0:
            command += ["-af", f"atempo={self.rate:.6g}"]
        command += ["-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", "pipe:1"]
        try:
            result = subprocess.run(command, input=mp3, capture_output=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BuildError(f"ffmpeg could not run to decode gTTS's speech: {exc}") from exc
        if result.returncode != 0 or not result.stdout:
            detail = result.stderr.decode(errors="replace").strip().splitlines()
            reason = detail[-1] if detail else "no audio came out"
            raise BuildError(f"ffmpeg could not decode the speech from Google: {reason}.")
        return np.frombuffer(result.stdout, dtype="<f4").astype(np.float32)


def create(settings, base_dir=None, tld: str = "com") -> GttsEngine:
    """The gTTS engine for a routine's settings (see :func:`qidsl.engines.synthesize.make_engine`)."""
    return GttsEngine(settings.language, tld=tld, rate=settings.rate)
