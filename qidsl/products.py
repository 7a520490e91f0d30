"""Every product family a build makes, declared once: its kind, its file suffix and the code that makes it.

A product's key (:func:`qidsl.graph.product_key`) is a hash of its family's
kind, the family's *recipe* and the product's inputs.  The recipe is computed
here from the source of the modules (and the package data files) the family
names: edit the pacer's drawing code and the video segments' recipe changes,
so exactly the segments (and the MP4 joined from them) are made again, while
speech, sounds, the MP3 and the text outputs keep their keys.  No number is
ever bumped by hand.

How a family is made, by name:

- ``speech``: a cue spoken by an engine (:mod:`qidsl.engines.synthesize`,
  kept by :class:`qidsl.engines.cache.SpeechCache`); ``piper-voice``: a Piper
  model patched for word alignments once (:mod:`qidsl.engines.piper_engine`);
- ``level``: one sound levelled on its own, ``wav``: the exact mix, ``loudness``: what it measures,
  ``quick-wav``: ``qidsl watch``'s mix at the voice's own rate,
  ``mp3-run`` and ``mp3``: the MP3 in runs, joined (:func:`qidsl.build.declare_audio`);
- ``music``: a ``music:`` bed's loop levelled once (:mod:`qidsl.renderers.music`); ``mix-loudness``,
  ``mix-limited``, ``mix-gains``, ``mix-piece`` and ``mp3-piece``: the mix with music under the voice, each
  piece's loudness table (and, with a make-up gain, its limited loudness), the gains found from them, each
  piece's samples and its MP3 frames (:mod:`qidsl.renderers.music_mix`, declared by :func:`qidsl.build.declare_audio`);
- ``aac-chunk`` / ``narration`` / ``aac``: the video's narration (chunks, joined; or
  encoded whole), ``video-segment``: a run of
  frames encoded on its own, ``mp4``: the joined video
  (:mod:`qidsl.renderers.video_segments`);
- ``timeline``, ``srt``, ``vtt``, ``chapters``, ``page``: the text outputs
  (:func:`qidsl.build.declare_texts`), ``poster``: a backdrop's still beside the page;
- ``youtube``, ``mp3-insight-timer``, ``mp3-podcast``: what ``build --profile``
  adds (:mod:`qidsl.profile_outputs`);
- ``build``: what the last build into a folder made (the nothing-changed shortcut).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from . import __version__
from .pools import BACKGROUND, CORES

PACKAGE = Path(__file__).resolve().parent


def product_key(kind: str, recipe: str, *parts) -> str:
    """The one key scheme: SHA-256 over the qidsl version, ``kind``, its ``recipe`` digest and ``parts``.

    ``parts`` are JSON-able values: settings, contents and input keys.  The
    recipe is :attr:`Family.recipe`, a digest of the code that makes the product.
    """
    identity = json.dumps([__version__, kind, recipe, *parts], ensure_ascii=False, sort_keys=True,
                          separators=(",", ":"))
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


def text_key(text: str) -> str:
    """SHA-256 of a text, for content that is cheap to compute but worth naming."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.cache
def _file_digest(relative: str) -> bytes:
    return hashlib.sha256((PACKAGE / relative).read_bytes()).digest()


def module_file(module: str) -> str:
    """``qidsl.renderers.pacer`` -> ``renderers/pacer.py`` (a package's ``__init__.py``), found without importing."""
    parts = module.split(".")
    if parts[0] != PACKAGE.name:
        raise ValueError(f"{module} is not part of {PACKAGE.name}")
    relative = "/".join(parts[1:])
    if (PACKAGE / relative / "__init__.py").is_file():
        return f"{relative}/__init__.py".lstrip("/")
    return f"{relative}.py"


@functools.cache
def recipe_of(modules: tuple[str, ...], data: tuple[str, ...] = ()) -> str:
    """A digest of the source of ``modules`` and of the package files matching the globs ``data``."""
    digest = hashlib.sha256()
    files = [module_file(m) for m in modules]
    files += sorted(str(p.relative_to(PACKAGE)) for pattern in data for p in PACKAGE.glob(pattern))
    for relative in files:
        digest.update(relative.encode("utf-8") + b"\0" + _file_digest(relative))
    return digest.hexdigest()


@dataclass(frozen=True)
class Family:
    """One kind of product: ``kind`` names it (and its folder in the store), ``code`` the modules that make it."""

    kind: str
    ext: str
    code: tuple[str, ...]
    data: tuple[str, ...] = ()  # package data files (globs) that change what it is: fonts, page assets

    @property
    def recipe(self) -> str:
        """The digest of this family's code: changes when and only when that code does."""
        return recipe_of(self.code, self.data)

    def key(self, *parts) -> str:
        """The key of one product of this family made from ``parts`` (JSON-able values and input keys)."""
        return product_key(self.kind, self.recipe, *parts)


class Meter(Protocol):
    """Progress over the products a :meth:`Graph.need_all` makes (:class:`qidsl.progress.Progress`-like)."""

    def made(self, product: Product) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, eq=False)
class Product:
    """One product: ``make(out, *input_paths)`` writes it to ``out``; ``ext`` is its file suffix.

    ``inputs`` are products, or plain files used as they are (a narration
    handed to :func:`qidsl.build.render_video`).  ``more``,
    when set, is called with the files of ``inputs`` and returns the
    :class:`Later` inputs, made side by side after them; ``make`` gets the
    files of both.  ``pool`` is the pool a make takes a slot of (None for a
    product whose making only waits on others).
    """

    kind: str
    key: str
    ext: str
    make: Callable[..., None]
    inputs: tuple[Product | Path, ...] = field(default=())
    pool: str | None = CORES
    more: Callable[..., Later] | None = None  # (ninja's "dyndep")

    def __post_init__(self) -> None:
        if any(isinstance(item, Product) and item.pool == BACKGROUND for item in self.inputs):
            # Background work waits until no other make wants a core: one waiting for it never would.
            raise ValueError(f"a {self.kind} product cannot be made from background work")


@dataclass(frozen=True)
class Later:
    """Inputs known once a product's first inputs are made, and how to show progress over those made.

    ``meter`` is called with the products that must be made and returns a
    :class:`Meter` (None: no progress shown).  ``make``, when set, makes the
    product in place of its declared make: what it does depends on the
    inputs found (the narration joins the chunks it was cut into).
    """

    products: tuple[Product, ...]
    meter: Callable[[list[Product]], Meter | None] | None = None
    make: Callable[..., None] | None = None


_R = "qidsl.renderers."
_FONTS = ("qidsl.fonts.textfit", "qidsl.fonts.breaks", "qidsl.fonts._advances")

SPEECH = Family("speech", ".clip", ("qidsl.engines.base", "qidsl.engines.cache", "qidsl.engines.timing"))
# A Piper voice's model with its alignment output exposed (what Piper otherwise patches in memory each load).
PIPER_VOICE = Family("piper-voice", ".onnx", ("qidsl.engines.piper_engine",))
# Facts about files remembered by a file's path, size and modification time (qidsl.memo): a voice's or a
# backdrop's SHA-256, Piper's version, what ffmpeg says of a backdrop.
FILE_HASH = Family("file-hash", ".txt", ("qidsl.memo", "qidsl.lang.mediafile"))
LEVEL = Family("level", ".f32", (_R + "audio", _R + "bell"))
WAV = Family("wav", ".wav", (_R + "audio",))
LOUDNESS = Family("loudness", ".txt", (_R + "audio",))  # the mix's integrated loudness, measured beside its encodes
QUICK_WAV = Family("quick-wav", ".wav", (_R + "audio", _R + "music"))  # qidsl watch's: at the voice's own rate
MUSIC = Family("music", ".f32", (_R + "music", _R + "audio"))  # the loop, levelled to the voice's loudness
# A piece of the mix with music (qidsl.renderers.music_mix): its loudness table, its samples, its MP3 frames.
MIX_LOUDNESS = Family("mix-loudness", ".f64", (_R + "music_mix", _R + "music", _R + "audio"))
MIX_LIMITED = Family("mix-limited", ".f64", (_R + "music_mix", _R + "music", _R + "audio"))  # with a make-up
MIX_GAINS = Family("mix-gains", ".json", (_R + "music_mix", _R + "music", _R + "audio"))  # the lift and make-up
MIX_PIECE = Family("mix-piece", ".pcm", (_R + "music_mix", _R + "music", _R + "audio"))
MP3_PIECE = Family("mp3-piece", ".mp3", (_R + "music_mix", _R + "mp3"))
MP3_RUN = Family("mp3-run", ".mp3", (_R + "mp3",))
MP3 = Family("mp3", ".mp3", (_R + "mp3",))
AAC_CHUNK = Family("aac-chunk", ".aac", (_R + "narration_aac",))
AAC = Family("aac", ".m4a", (_R + "video_segments",))  # a whole narration that is not 16-bit mono 48 kHz
NARRATION = Family("narration", ".aac", (_R + "narration_aac", _R + "video_segments"))  # the chunks joined
# What a segment looks like and how it is encoded: the painter, its layers, the pacer, the themes,
# the text fitting and the fonts, the segment encoder and the skip frames.
VIDEO_SEGMENT = Family("video-segment", ".h264",
                       (_R + "video", _R + "video_layers", _R + "pacer", _R + "themes", _R + "video_segments",
                        _R + "h264", _R + "scene", _R + "encoder", _R + "backdrop", "qidsl.lang.mediafile",
                        _R + "figure", "qidsl.lang.poses", "qidsl.words", *_FONTS),
                       data=("fonts/*.ttf", "fonts/*.otf"))
MP4 = Family("mp4", ".mp4", (_R + "video_segments", _R + "h264", _R + "encoder", _R + "mp4_tags", _R + "chapters"))
TIMELINE = Family("timeline", ".json", (_R + "timeline_json",))
SRT = Family("srt", ".srt", (_R + "captions",))
VTT = Family("vtt", ".vtt", (_R + "captions",))
CHAPTERS = Family("chapters", ".txt", (_R + "chapters",))
PAGE = Family("page", ".html", (_R + "page", _R + "timeline_json", _R + "scene", _R + "chapters"),
              data=("renderers/page.*",))
POSTER = Family("poster", ".jpg", (_R + "page",))  # a backdrop's photo, or its clip's first frame, beside the page
# What `build --profile` adds for a platform (qidsl.profile_outputs).
YOUTUBE_DESCRIPTION = Family("youtube", ".txt", ("qidsl.profiles", "qidsl.profile_outputs", _R + "chapters"))
INSIGHT_TIMER_MP3 = Family("mp3-insight-timer", ".mp3", ("qidsl.profile_outputs",))
PODCAST_MP3 = Family("mp3-podcast", ".mp3", ("qidsl.profile_outputs",))
BUILD = Family("build", ".json", ())  # not made from inputs: the record of the last build into a folder

FAMILIES = (SPEECH, PIPER_VOICE, FILE_HASH, LEVEL, MUSIC, MIX_LOUDNESS, MIX_LIMITED, MIX_GAINS, MIX_PIECE,
            MP3_PIECE, WAV, QUICK_WAV, MP3_RUN, MP3, AAC_CHUNK, AAC,
            NARRATION, VIDEO_SEGMENT, MP4,
            TIMELINE, SRT, VTT, CHAPTERS, PAGE, POSTER, YOUTUBE_DESCRIPTION, INSIGHT_TIMER_MP3, PODCAST_MP3, BUILD)
