"""A content-addressed store of synthesised speech, shared by builds and routines.

An entry's key is the SHA-256 of everything that changes the sound: engine
name, voice, engine version, engine settings and the text.  Each entry is one
file written under a temporary name and renamed into place, so two builds
writing the same entry at once each leave a whole file, and a reader never
sees half of one.  Every entry carries a checksum; a damaged one (a full
disk, a killed process, a crash before the data reached the disk) is
detected on reading, deleted and simply made again.

It is the ``speech`` folder of the one store (:class:`qidsl.store.Store`):
``<dir>/speech/<first two hex digits>/<key>.clip``, laid out as::

    MAGIC | sha256 of the rest (32 bytes) | header length (4 bytes, LE) | header JSON | float32 LE samples
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
from pathlib import Path

from ..errors import BuildError
from ..outputs import atomic_path
from ..products import SPEECH
from ..store import Store
from .timing import Sentence, Word, estimate_words
from .base import SpeechClip, SpeechEngine

MAGIC = b"QIDSL-SPEECH\x01\n"
CACHE_ENV = "QIDSL_CACHE_DIR"


def default_cache_dir(out_dir: Path) -> Path:
    """Where the store lives: ``$QIDSL_CACHE_DIR`` if set, else ``out_dir/.cache``."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    return Path(configured).expanduser() if configured else Path(out_dir) / ".cache"


def speech_key(engine: SpeechEngine, text: str) -> str:
    """The cache key of ``text`` spoken by ``engine`` as it is set up now (and as its code speaks)."""
    from ..products import recipe_of

    engine_code = recipe_of((type(engine).__module__,)) if type(engine).__module__.startswith("qidsl.") else ""
    return SPEECH.key(engine.name, engine.voice_id, engine.version, engine.settings_key(), engine_code, text)


def encode_clip(key: str, clip: SpeechClip) -> bytes:
    """One cache entry's bytes."""
    header = json.dumps({
        "key": key,
        "sample_rate": clip.sample_rate,
        "samples": len(clip.samples),
        "sentences": [[s.start, s.end, s.text, [[w.start, w.end, w.text] for w in s.words]]
                      for s in clip.sentences],
    }, ensure_ascii=False).encode("utf-8")
    body = struct.pack("<I", len(header)) + header + clip.samples.astype("<f4").tobytes()
    return MAGIC + hashlib.sha256(body).digest() + body


def decode_clip(key: str, data: bytes) -> SpeechClip:
    """The clip in an entry's bytes; ``ValueError`` if they are damaged or belong to another key."""
    import numpy as np  # here, not at the top: a build with nothing to do never loads it
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 36:
        raise ValueError("not a speech cache entry")
    digest, body = data[len(MAGIC):len(MAGIC) + 32], data[len(MAGIC) + 32:]
    if hashlib.sha256(body).digest() != digest:
        raise ValueError("checksum mismatch")
    (length,) = struct.unpack_from("<I", body)
    header = json.loads(body[4:4 + length].decode("utf-8"))
    payload = body[4 + length:]
    if header["key"] != key or len(payload) != 4 * header["samples"]:
        raise ValueError("entry does not match its key")
    samples = np.frombuffer(payload, dtype="<f4").astype(np.float32)
    # An entry written before words were timed gets them estimated.
    sentences = tuple(Sentence(float(s), float(e), t, tuple(Word(float(a), float(b), w) for a, b, w in rest[0])
                               if rest else estimate_words(t, float(s), float(e)))
                      for s, e, t, *rest in header["sentences"])
    return SpeechClip(samples, int(header["sample_rate"]), sentences)


class SpeechCache:
    """Synthesised clips on disk under ``directory``, keyed by :func:`speech_key`.

    ``discarded`` counts damaged entries found (and deleted) by this instance.
    """

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.discarded = 0
        self._store = Store(self.directory)

    def path(self, key: str) -> Path:
        """The entry file for ``key`` in the store."""
        return self._store.path(SPEECH.kind, key, SPEECH.ext)

    def load(self, key: str) -> SpeechClip | None:
        """The clip stored under ``key``, or None when missing or damaged (a damaged entry is deleted)."""
        path = self._store.get(SPEECH.kind, key, SPEECH.ext)
        if path is None:
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            return decode_clip(key, data)
        except (ValueError, KeyError, TypeError, struct.error, UnicodeDecodeError):
            self.discarded += 1
            # Another build may have replaced it with a good entry meanwhile; losing that costs one synthesis.
            with contextlib.suppress(OSError):
                path.unlink()
            return None

    def store(self, key: str, clip: SpeechClip) -> None:
        """Save ``clip`` under ``key``, atomically."""
        path = self.path(key)
        try:
            with atomic_path(path) as tmp:
                tmp.write_bytes(encode_clip(key, clip))
        except OSError as exc:
            raise BuildError(f"could not write the speech cache in {self.directory}: {exc.strerror or exc}; "
                             f"set {CACHE_ENV} to a writable folder.") from exc

    def get(self, engine: SpeechEngine, text: str) -> SpeechClip | None:
        """The cached clip of ``text`` spoken by ``engine``, if any."""
        return self.load(speech_key(engine, text))

    def put(self, engine: SpeechEngine, text: str, clip: SpeechClip) -> None:
        """Remember ``clip`` as ``text`` spoken by ``engine``."""
        self.store(speech_key(engine, text), clip)


class MemoryCache(SpeechCache):
    """The speech cache on disk, with every clip read or made kept in memory too (``qidsl watch``'s)."""

    def __init__(self, directory: Path):
        super().__init__(directory)
        self._clips: dict[str, SpeechClip] = {}

    def get(self, engine: SpeechEngine, text: str) -> SpeechClip | None:
        key = speech_key(engine, text)
        if key not in self._clips:
            clip = self.load(key)
            if clip is None:
                return None
            self._clips[key] = clip
        return self._clips[key]

    def put(self, engine: SpeechEngine, text: str, clip: SpeechClip) -> None:
        key = speech_key(engine, text)
        self.store(key, clip)
        self._clips[key] = clip
