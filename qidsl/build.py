"""``qidsl build``: a routine in, narration, captions, chapters, timeline and video out.

A build is a graph of products (:mod:`qidsl.graph`), each of a family
declared in :mod:`qidsl.products`: speech clips, every sound levelled on its
own, the MP3's encoded runs, the MP3, the mix as WAV, the video (its segments
and narration chunks), and the text outputs.  Each is keyed by what it is made
from and the code that makes it, and made only when its key is not yet in the
store (:mod:`qidsl.store`), so an edit costs what it touches.  How each is
declared: :func:`declare_texts`, :func:`declare_audio`, :func:`declare_video`
(and :func:`declare_quick_wav` for ``qidsl watch``, which asks for fewer
outputs).  The finished outputs
are then put into the output folder together (:func:`qidsl.outputs.publish`),
outputs this build does not make are removed, and a failed or interrupted
build leaves the previous outputs whole.  When nothing a build depends on has
changed and the outputs are as the last build left them, it does nothing.
Afterwards the store is pruned to its cap (:data:`DEFAULT_STORE_CAP`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .lang.check import is_library
from .compile import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, compile_paths, print_diagnostics
from .errors import BuildError
from .lang.loader import Loader
from .lang.speech import is_bundled_voice
from .renderers.ffmpeg_tool import ffmpeg_name  # the encoder's name, by version: in every encoded product's key
from .timefmt import clock

if TYPE_CHECKING:  # the graph imports the store; a build with nothing to do loads neither
    from .graph import Graph
    from .products import Product

TIMING_WARNINGS = ("cue-overruns-phase", "long-routine")
# Said by check when no offline voice speaks the language; a build that got an engine (--engine gtts) is past it.
SPEECH_WARNINGS = ("no-offline-voice",)
RESOLUTIONS = {"720p": (1280, 720), "1080p": (1920, 1080)}
PREVIEW_FPS = 15  # qidsl.renderers.video.PREVIEW's rate (kept here: check must not import the renderers)
# Every output a build can make, in the order they are listed after a build.
OUTPUT_SUFFIXES = (".timeline.json", ".srt", ".vtt", ".chapters.txt", ".html", ".mp3", ".wav", ".mp4",
                   ".youtube.txt", ".insight-timer.mp3")  # the last two with --profile (qidsl.profile_outputs)
# The store is pruned to this after every build (least recently used first).  A full build of the
# shipped 9.4-minute routine at 720p with --wav leaves 108 MiB in the store (measured by
# benchmarks/incremental_build.py: the mix as WAV 52, levelled sounds as float32 21, the MP4 10,
# speech 9, the MP3 and its runs 8, segments 6, AAC chunks 3), and each one-cue edit adds a few MiB.
# 2 GiB keeps about fifteen such routines with their recent edits (a programme of a term's classes),
# while staying small beside any disk that holds their videos; a 3-hour routine (about 2 GiB)
# is then still reused whole by its next build, as the build holds what it used.
DEFAULT_STORE_CAP = "2G"
STORE_CAP_ENV = "QIDSL_CACHE_MAX_SIZE"


def store_cap(text: str | None) -> int | None:
    """The store's cap in bytes from ``--cache-max-size``, else ``$QIDSL_CACHE_MAX_SIZE``, else the default.

    ``none`` (or ``off``) means never prune after a build.  ``ValueError`` on a malformed size.
    """
    from .store import parse_size

    text = text or os.environ.get(STORE_CAP_ENV, "").strip() or DEFAULT_STORE_CAP
    return None if text.lower() in ("none", "off") else parse_size(text)


@dataclass(frozen=True)
class BuildOptions:
    """Everything ``qidsl build`` can be told on the command line."""

    out: Path = Path("build")
    video: bool = True
    engine: str | None = None
    voice: str | None = None
    tld: str = "com"
    cache_dir: Path | None = None
    loudness: float = -16.0
    wav: bool = False
    width: int = 1280
    height: int = 720
    fps: int = 30
    preview: bool = False
    strict: bool = False
    progress: bool | None = None  # None: bars on a terminal, plain lines otherwise
    variant: str | None = None  # a variant's name, "all", or None for the default variant
    level: str | None = None  # the breath-safety level, instead of the routine's
    jobs: int = 1  # the "cores" pool's slots, shared by every routine built (-j)
    # The targets of `qidsl watch`: the page playing a WAV mixed at the voice's own rate, and the text
    # outputs; no MP3, no video, no loudness normalisation (seconds for a long routine).
    quick: bool = False
    store_cap: int | None = None  # bytes the store is pruned to after the build (None: never)
    profile: str | None = None  # a platform whose rules are checked and whose files are made (qidsl.profiles)
    base_url: str | None = None  # where a programme is published: its feed's URLs (qidsl.feed)
    # Several voices: each routine is built once per voice, into OUT/NAME/VOICE/ (voice_folder);
    # voices holds each voice's (folder, engine, voice), () when one voice is built into OUT/NAME/.
    voices: tuple[tuple[str, str | None, str | None], ...] = ()
    voice_folder: str | None = None
    cluster: str | None = None  # a Dask scheduler's address, or local:N (qidsl.cluster)

    @classmethod
    def from_args(cls, args) -> BuildOptions:
        width, height = RESOLUTIONS[args.resolution]
        voices = voice_list(args.engine, args.voice)
        engine, voice = voices[0][1:] if len(voices) == 1 else (None, None)
        return cls(out=Path(args.out), video=not args.no_video, engine=engine, voice=voice,
                   tld=args.tld, cache_dir=Path(args.cache_dir) if args.cache_dir else None,
                   loudness=args.loudness, wav=args.wav, width=width, height=height, fps=args.fps,
                   preview=args.preview, strict=args.strict, variant=args.variant, level=args.level,
                   jobs=args.jobs or os.cpu_count() or 1, store_cap=store_cap(args.cache_max_size),
                   profile=getattr(args, "profile", None), base_url=getattr(args, "base_url", None),
                   voices=tuple(voices) if len(voices) > 1 else (), cluster=getattr(args, "cluster", None))


def voice_list(engine: str | None, voices: str | None) -> list[tuple[str, str | None, str | None]]:
    """The voices of ``--voice A,B,...``: each as (its folder's name, engine, voice).

    An item is a Piper voice (``joe``, or a ``.onnx`` file) or the name of an
    engine (``pico``, ``espeak``, ``gtts``) for that engine's voice of the
    routine's language.  ``ValueError`` names an item named twice.
    """
    from .lang.speech import ENGINES

    if voices is None or "," not in voices:
        return [("", *engine_and_voice(engine, voices))]
    result: list[tuple[str, str | None, str | None]] = []
    for item in (part.strip() for part in voices.split(",")):
        if not item:
            continue
        entry: tuple[str, str | None, str | None]
        if item in ENGINES and not is_bundled_voice(item):
            entry = (item, item, None)
        else:
            entry = (Path(item).stem if item.endswith(".onnx") else item, *engine_and_voice(engine, item))
        if entry[0] in (r[0] for r in result):
            raise ValueError(f"the voice '{entry[0]}' is named twice in --voice")
        result.append(entry)
    return result


def engine_and_voice(engine: str | None, voice: str | None) -> tuple[str | None, str | None]:
    """The engine and voice asked for on a command line (``build`` and ``watch`` alike).

    --voice names a Piper voice, so it means Piper unless an engine is named
    too; a voice file's path typed on the command line is from here, not from
    the routine.
    """
    if voice is not None and not is_bundled_voice(voice):
        voice = str(Path(voice).resolve())
    return engine or ("piper" if voice is not None else None), voice


@dataclass(frozen=True)
class BuildReport:
    """What one build made and where its time went (seconds of wall time).

    ``made`` and ``reused`` count products by kind (``speech``, ``level``,
    ``mp3-run``, ``mp3``, ``wav``, ``video-segment``, ``mp4``, ``srt`` ...):
    made now, or taken from the store.  ``removed`` are outputs of an
    earlier build that this one does not make (an old video after
    ``--no-video``), deleted so the folder is one consistent set.
    ``up_to_date`` is set when nothing had changed and nothing was done.
    """

    outputs: tuple[Path, ...]
    routine_seconds: float
    speech_seconds: float
    total_seconds: float
    synthesised: int
    cached: int
    made: dict[str, int] = field(default_factory=dict)
    reused: dict[str, int] = field(default_factory=dict)
    removed: tuple[Path, ...] = ()
    up_to_date: bool = False

    @property
    def made_count(self) -> int:
        return sum(self.made.values())

    @property
    def reused_count(self) -> int:
        return sum(self.reused.values())


def _say(message: str, stream=None) -> None:
    print(f"qidsl: {message}", file=stream or sys.stderr, flush=True)


def _size(path: Path) -> str:
    size = path.stat().st_size
    if size >= 1e6:
        return f"{size / 1e6:.1f} MB"
    return f"{size / 1e3:.0f} kB" if size >= 1e4 else f"{size:,} bytes"


def _owned(name: str, folder: Path | None = None, record: dict | None = None) -> list[str]:
    """Every output a build of routine ``name`` can make: the fixed ones, and the backdrops' stills
    (``NAME.backdrop-*.jpg``) in ``folder`` or in the last build's ``record``, named by their content."""
    import fnmatch
    import glob

    fixed = [f"{name}{suffix}" for suffix in OUTPUT_SUFFIXES]
    pattern = f"{glob.escape(name)}.backdrop-*.jpg"
    stills = {p.name for p in folder.glob(pattern)} if folder is not None and folder.is_dir() else set()
    outputs = record.get("outputs") if isinstance(record, dict) else None
    if isinstance(outputs, dict):
        stills |= {n for n in outputs if fnmatch.fnmatchcase(n, pattern)}
    return fixed + sorted(stills)


def _code_version() -> str:
    """A hash of qidsl's own source files: any change to the code makes every build look new.

    (Products are keyed by their own family's code, so unrelated code changes
    still reuse them; this is only for the nothing-changed shortcut.)
    """
    import hashlib

    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    # The practice page's own files count as code: the page is made from them.
    for source in sorted([*package.rglob("*.py"), *(package / "renderers").glob("page.*")]):
        digest.update(str(source.relative_to(package)).encode("utf-8"))
        digest.update(source.read_bytes())
    return digest.hexdigest()


def samples_digest(samples) -> str:
    """SHA-256 of a clip's samples as little-endian float32: what a sound made from them is keyed by."""
    import hashlib

    import numpy as np

    return hashlib.sha256(np.ascontiguousarray(samples, "<f4").data).hexdigest()


def _media_digest(path: Path, settings, expanded=None, store=None) -> str | None:
    """The content hash of the routine's ``music:`` file and of its backdrops' files (None without any):
    the routine names them, not holds them.  Each is remembered (:mod:`qidsl.memo`) in ``store``."""
    from .lang.mediafile import media_path
    from .memo import file_sha256
    from .lang.steps import BACKDROP

    sources = []
    source = music_source(path, settings)
    if isinstance(source, Path):
        sources.append(source)
    for step in expanded.steps if expanded is not None else ():
        if step.kind == BACKDROP and step.text is not None:
            sources.append(media_path(step.span.file, step.text))
    digests = []
    for source in dict.fromkeys(sources):
        try:
            digests.append(file_sha256(source, store))
        except OSError:
            digests.append("unreadable")  # the build then says why
    return ",".join(digests) if digests else None


def _fingerprint(compiled, settings, engine, options: BuildOptions, media: str | None = None) -> str:
    """Everything a build's outputs depend on, hashed without making any of them.

    The routine as expanded (every statement, its text and its place in the
    source), its settings, the speech engine and voice, the options that change
    an output, the qidsl version and its code, and the encoder's version.  Equal fingerprints
    mean equal outputs, since every product is a pure function of these.
    """
    from .graph import product_key

    expanded = replace(compiled.expanded, settings=settings)
    return product_key("build", _code_version(), repr(expanded), engine.name, engine.version, engine.voice_id,
                       engine.settings_key(), options.loudness, options.video, options.wav, options.width,
                       options.height, options.fps, options.preview, options.tld, options.quick, ffmpeg_name(),
                       options.profile, media)


class _Manifest:
    """What the last build into a folder made: its fingerprint, outputs (size, time, key) and warnings.

    Kept in the store (kind ``build``), not in the output folder, which holds
    outputs only.  It lets a build with nothing changed see at once that
    every output is still what it made, and do nothing; and a build that
    does not make an output (``--no-video``) keep the one in the folder
    while its key still matches.
    """

    def __init__(self, store, folder: Path, name: str):
        from .graph import text_key
        from .products import BUILD

        self.store = store
        self.path = store.path(BUILD.kind, text_key(f"{folder.resolve()}\n{name}"), BUILD.ext)

    def read(self) -> dict | None:
        self.store.touch(self.path)
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) else None

    def write(self, fingerprint: str, outputs: list[Path], messages: str, keys: dict[str, str]) -> None:
        from .outputs import write_text_atomic

        record = {"fingerprint": fingerprint, "messages": messages,
                  "outputs": {p.name: [p.stat().st_size, p.stat().st_mtime_ns, keys.get(p.name)] for p in outputs}}
        with contextlib.suppress(OSError):  # only a shortcut: losing it costs one full build next time
            write_text_atomic(self.path, json.dumps(record, ensure_ascii=False))

    @staticmethod
    def matches(record: dict | None, fingerprint: str, folder: Path, owned: list[str]) -> bool:
        if not record or record.get("fingerprint") != fingerprint:
            return False
        outputs = record.get("outputs")
        if not isinstance(outputs, dict):
            return False
        for name in owned:
            path = folder / name
            if name in outputs:
                try:
                    stat = path.stat()
                except OSError:
                    return False
                if not _Manifest.same(stat, outputs[name]):
                    return False
            elif path.exists():
                return False
        return True

    @staticmethod
    def same(stat: os.stat_result, recorded) -> bool:
        """Whether a file is as the record of it says (size and modification time)."""
        return isinstance(recorded, list) and [stat.st_size, stat.st_mtime_ns] == recorded[:2]

    @staticmethod
    def kept(record: dict | None, folder: Path, name: str, key: str) -> Path | None:
        """``folder/name`` if the last build made it with product ``key`` and it is still as it left it."""
        outputs = record.get("outputs") if isinstance(record, dict) else None
        recorded = outputs.get(name) if isinstance(outputs, dict) else None
        path = folder / name
        try:
            stat = path.stat()
        except OSError:
            return None
        if isinstance(recorded, list) and _Manifest.same(stat, recorded) and recorded[2:3] == [key]:
            return path
        return None


def build_one(path: Path, compiled, loader: Loader, options: BuildOptions,
              name: str | None = None, *, engine_for=None, cache=None, pools=None) -> BuildReport | None:
    """Build one compiled routine (one variant of it); None when --strict refused its warnings.

    Outputs are named ``name`` (default: the file's stem) in ``OUT/STEM/``.
    ``engine_for`` (like :func:`make_engine`) and ``cache`` let ``qidsl watch``
    keep its loaded voice and clips between builds; ``pools`` (a
    :class:`qidsl.pools.Pools`) are shared by every routine of one ``qidsl build``.
    """
    store = _store(options)
    with store.lease():  # nothing this build uses is pruned by another process meanwhile
        report = _build_leased(path, compiled, loader, options, name or path.stem, store, engine_for, cache, pools)
        if options.store_cap is not None and report is not None and not report.up_to_date:
            _prune_after(store, options.store_cap)  # (a build that made nothing added nothing to prune)
    return report


def _store(options: BuildOptions):
    """The store a build with ``options`` keeps its products in (``--cache-dir``, or beside ``--out``)."""
    from .engines.cache import default_cache_dir
    from .store import Store

    return Store(options.cache_dir or default_cache_dir(options.out))


def keep_voice_model(engine, store) -> None:
    """Let an engine keep a prepared voice in the store (Piper's model patched for alignments), if it has one."""
    keep = getattr(engine, "keep_model_in", None)
    if keep is not None:
        keep(store)


def _prune_after(store, cap: int) -> None:
    """Prune the store to ``cap`` bytes after a build (the entries this build used are held)."""
    pruned = store.prune(max_size=cap)
    if pruned.removed:
        _say(f"store: removed {pruned.removed} least recently used entries ({pruned.removed_bytes / 1e6:.1f} MB) "
             f"to stay under {cap / 2 ** 20:.0f} MiB (--cache-max-size, ${STORE_CAP_ENV})")


def _build_leased(path: Path, compiled, loader: Loader, options: BuildOptions, name: str, store, engine_for,
                  cache, pools) -> BuildReport | None:
    import io

    from .engines.synthesize import make_engine
    from .outputs import publish

    folder = options.out / path.stem / options.voice_folder if options.voice_folder else options.out / path.stem
    started = time.monotonic()
    settings = compiled.settings.with_overrides(engine=options.engine, voice=options.voice)
    variant = compiled.variants[0].name if len(compiled.variants) == 1 else None
    if variant:  # what each variant publishes says which it is (page, tags, title card, timeline)
        settings = replace(settings, title=f"{settings.title} ({variant})")
    engine = (engine_for or make_engine)(settings, base_dir=path.parent, tld=options.tld)
    keep_voice_model(engine, store)
    _say(f"building {path}{f' (variant {variant})' if variant else ''} -> {folder}/ "
         f"(speech: {engine.name}, voice {engine.voice_name})")
    fingerprint = _fingerprint(compiled, settings, engine, options,
                               _media_digest(path, settings, compiled.expanded, store))
    manifest = _Manifest(store, folder, name)
    record = manifest.read()
    owned = _owned(name, folder, record)
    if record is not None and _Manifest.matches(record, fingerprint, folder, owned):
        return _up_to_date(path, folder, owned, record, options, started)

    messages = io.StringIO()  # warnings, kept so that a build with nothing changed says them again
    made = _make(path, name, compiled, loader, options, settings, engine, store, messages, cache, pools)
    if made is None:
        return None
    # An output this build does not make, but that the last one made from the same inputs, stays.
    kept = {out_name: old for out_name, key in made.unmade.items()
            if (old := _Manifest.kept(record, folder, out_name, key)) is not None}
    written, removed = publish(folder, {**made.files, **kept}, owned)
    manifest.write(fingerprint, written, messages.getvalue(), made.keys)
    for old in removed:
        _say(f"removed {old}: this build does not make it, and an older one would not match the rest")
    for old in kept.values():
        _say(f"kept {old}: this build does not make it, and it still matches the rest")
    elapsed = time.monotonic() - started
    graph, timeline, speech = made.graph, made.timeline, made.speech
    _say(f"products: {graph.summary()}")
    _say(f"done in {elapsed:.1f}s: a {clock(timeline.duration)} routine")
    for output in written:
        print(f"  {output}  ({_size(output)})")
    return BuildReport(tuple(written), timeline.duration, made.speech_seconds, elapsed, speech.synthesised,
                       speech.cached, dict(graph.made), dict(graph.reused), tuple(removed))


def _up_to_date(path: Path, folder: Path, owned: list[str], record: dict, options: BuildOptions,
                started: float) -> BuildReport | None:
    """Nothing this build depends on has changed, and every output is as the last build left it."""
    said = str(record.get("messages", ""))
    sys.stderr.write(said)
    if options.strict and said:
        _say(f"{path} has warnings and --strict is on; nothing was written")
        return None
    written = [folder / n for n in owned if n in record["outputs"]]
    elapsed = time.monotonic() - started
    _say(f"up to date: nothing changed since the last build; {len(written)} outputs kept")
    for output in written:
        print(f"  {output}  ({_size(output)})")
    return BuildReport(tuple(written), 0.0, 0.0, elapsed, 0, 0, {}, {"output": len(written)}, up_to_date=True)


def _resampled_length(n: int, from_rate: int, to_rate: int) -> int:
    """How many samples ``n`` samples at ``from_rate`` become at ``to_rate`` (as the mix's resampling makes them)."""
    if from_rate == to_rate:
        return n
    g = math.gcd(int(from_rate), int(to_rate))
    up, down = to_rate // g, from_rate // g
    return -(-n * up // down)


@dataclass(frozen=True)
class _Made:
    """What :func:`_make` made: output name -> file in the store, and the product key of every output."""

    files: dict[str, Path]
    keys: dict[str, str]
    unmade: dict[str, str]  # outputs declared but not asked for (the video with --no-video): name -> key
    graph: Graph
    timeline: Any
    speech_seconds: float
    speech: Any


def report_warnings(path: Path, compiled, timeline, loader: Loader, out, options: BuildOptions) -> list:
    """Write the routine's warnings as measured on the real speech to ``out``; returns them.

    The estimate's timing warnings are replaced by those measured on the real
    speech, and "no offline voice" is past once an engine was found.  Then
    the chapters' YouTube warnings (at their lines with ``--profile youtube``)
    and those of a platform profile.  ``qidsl build`` and ``qidsl watch``
    both say exactly this.
    """
    from .profiles import loudness_warning, profile_warnings
    from .renderers import chapters

    warnings = [d for d in compiled.warnings if d.code not in TIMING_WARNINGS + SPEECH_WARNINGS] \
        + list(timeline.warnings) + profile_warnings(options.profile, compiled.routine, timeline)
    print_diagnostics(warnings, loader, "text", out)
    for problem in chapters.youtube_warnings(chapters.chapters(timeline)) if options.profile != "youtube" else ():
        _say(f"{path}: warning: {problem}", out)
    loudness = loudness_warning(options.profile, options.loudness)
    if loudness:
        _say(f"{path}: warning: {loudness}", out)
    return warnings


def _make(path: Path, name: str, compiled, loader: Loader, options: BuildOptions, settings, engine,
          store, messages, cache=None, pools=None) -> _Made | None:
    """Speak the cues, lay out the timeline, declare every product and make the outputs asked for."""
    from . import timeline as tl
    from .engines.cache import SpeechCache
    from .engines.synthesize import synthesize_all
    from .graph import Graph, Product
    from .pools import Pools
    from .profile_outputs import profile_products
    from .renderers import captions

    cache = cache or SpeechCache(store.directory)
    graph = Graph(store, pools or Pools(options.jobs))
    texts = compiled.estimate.spoken_texts
    speech_started = time.monotonic()
    spoken_remotely = 0
    if graph.pools.remote is not None and Path(cache.directory) == store.directory:
        spoken_remotely = _speak_on_cluster(texts, engine, cache, graph, settings, path.parent, options.tld)
    speech = synthesize_all(texts, engine, cache, progress=options.progress)
    speech_seconds = time.monotonic() - speech_started
    graph.count("speech", speech.synthesised, speech.cached - spoken_remotely)
    _say(f"speech: {len(texts)} cue{'' if len(texts) == 1 else 's'}, {speech.synthesised} synthesised, "
         f"{speech.cached} from the cache")

    # The timeline lies on the grid of the video that is made (a preview has its own rate).
    timeline = tl.build_timeline(replace(compiled.expanded, settings=settings), speech.timer(),
                                 frame_rate=PREVIEW_FPS if options.preview else options.fps)
    warnings = report_warnings(path, compiled, timeline, loader, messages, options)
    sys.stderr.write(messages.getvalue())
    sys.stderr.flush()
    if options.strict and warnings:
        _say(f"{path} has warnings and --strict is on; nothing was written")
        return None
    cues = captions.caption_cues(timeline)
    if options.quick:
        outputs = declare_texts(name, timeline, cues, f"{name}.wav")
        outputs[f"{name}.wav"] = declare_quick_wav(timeline, speech.clips, outputs[f"{name}.timeline.json"].key,
                                                   music_source(path, settings), settings.music_level,
                                                   options.loudness)
        files = {out_name: graph.need(product) for out_name, product in outputs.items()}
        return _Made(files, {n: p.key for n, p in outputs.items()}, {}, graph, timeline, speech_seconds, speech)
    outputs = declare_texts(name, timeline, cues, f"{name}.mp3")
    audio_products = declare_audio(timeline, speech.clips, settings, options.loudness, music_source(path, settings))
    outputs[f"{name}.mp3"] = audio_products.mp3
    if options.wav:
        outputs[f"{name}.wav"] = audio_products.wav
    outputs.update(profile_products(options.profile, name, settings, timeline, outputs, audio_products.wav,
                                    lambda family, parts, make, inputs: Product(
                                        family.kind, family.key(*parts, ffmpeg_name()), family.ext, make,
                                        inputs)))
    video, narration = declare_video(timeline, cues, audio_products.wav, options,
                                     outputs[f"{name}.timeline.json"].key, graph)
    unmade = {}
    if options.video:
        outputs[f"{name}.mp4"] = video
    else:
        unmade[f"{name}.mp4"] = video.key

    # Everything side by side, the video first (the longest chain: its segments are encoded while the
    # MP3's runs and the mix are made), then the mix (the narration's encode waits for it), then the rest.
    # The video's narration too when the video is made: cut and encoded as soon as the mix is made, while
    # the video's segments are still being planned.
    wanted = sorted(outputs.values(), key=lambda product: product is not video)
    mix: list[Any] = [audio_products.wav] if options.video or options.wav else []
    if options.video and not graph.store.path(video.kind, video.key, video.ext).is_file():
        mix.append(narration)
    # The loudness last, in the background (measured once no other make wants a core: beside the MP4's join),
    # when what it reads is made anyway: the plain mix's is measured from its WAV, the music's comes with its gains.
    meter = audio_products.meter
    measure = [meter] if mix or not any(item is audio_products.wav for item in meter.inputs) else []
    graph.need_all([*wanted[:1], *mix, *audio_products.runs, *wanted[1:], *measure])
    files = {out_name: graph.need(product) for out_name, product in outputs.items()}
    measured = [float(graph.need(m).read_text(encoding="utf-8")) for m in measure]
    if measured and math.isfinite(measured[0]):
        _say(f"narration: {measured[0]:.1f} LUFS integrated (target {options.loudness:g})")
    return _Made(files, {n: p.key for n, p in outputs.items()}, unmade, graph, timeline, speech_seconds, speech)


def _speak_on_cluster(texts, engine, cache, graph, settings, base_dir: Path, tld: str) -> int:
    """With ``--cluster``: the clips the store lacks, spoken as Dask tasks (the graph counts them); how many."""
    from .engines.cache import speech_key
    from .graph import Product
    from .products import SPEECH

    keys = {text: speech_key(engine, text) for text in dict.fromkeys(texts)}
    missing = [Product(SPEECH.kind, key, SPEECH.ext,
                       SpeechMake(settings, str(base_dir), tld, text, key, str(graph.store.directory.resolve())))
               for text, key in keys.items() if not cache.path(key).is_file()]
    graph.need_all(missing)
    return len(missing)


_ENGINES: dict[str, tuple[Any, threading.Lock]] = {}  # a cluster worker's engines, loaded once per process
_engines_lock = threading.Lock()


@dataclass(frozen=True)
class SpeechMake:
    """The make of one speech clip on a cluster's worker: the engine the settings name speaks ``text``.

    The worker loads the engine once (a voice file named by a path must be
    at the same path there, as the store is).
    """

    settings: Any
    base_dir: str
    tld: str
    text: str
    key: str
    store: str  # the shared store, where a Piper voice's patched model is kept

    def __call__(self, out: Path) -> None:
        from .engines.cache import encode_clip
        from .engines.synthesize import make_engine
        from .store import Store

        which = repr((self.settings, self.base_dir, self.tld))
        with _engines_lock:
            loaded = _ENGINES.get(which)
            if loaded is None:
                engine = make_engine(self.settings, base_dir=Path(self.base_dir), tld=self.tld)
                keep_voice_model(engine, Store(Path(self.store)))
                loaded = _ENGINES[which] = (engine, threading.Lock())
        engine, speaking = loaded
        with speaking:  # one voice speaks one text at a time (a worker may run several threads)
            clip = engine.synthesize(self.text)
        out.write_bytes(encode_clip(self.key, clip))


def music_source(path: Path, settings) -> str | Path | None:
    """What plays under the voice: ``"calm"``, the ``music:`` file (beside the routine ``path``), or None."""
    if settings.music in (None, "calm"):
        return settings.music
    from .lang.mediafile import media_path

    return media_path(str(path), settings.music)


def declare_texts(name: str, timeline, cues, audio_name: str) -> dict:
    """The text outputs: timeline JSON, SRT, VTT, chapters and the practice page playing ``audio_name``."""
    from .graph import Product, text_key
    from .products import CHAPTERS, PAGE, POSTER, SRT, TIMELINE, VTT
    from .renderers import captions, chapters, page, timeline_json

    def text_product(family, text: str) -> Product:
        def make(out: Path) -> None:
            out.write_text(text, encoding="utf-8", newline="\n")
        return Product(family.kind, family.key(text_key(text)), family.ext, make)

    timeline_data = timeline_json.timeline_dict(timeline, cues)
    timeline_text = json.dumps(timeline_data, ensure_ascii=False, indent=2) + "\n"
    chapter_list = chapters.chapters(timeline)
    chapters_text = chapters.youtube_lines(chapter_list) + "\n" if chapter_list else ""

    # Each backdrop's still, beside the page (made once per file and in-point, kept in the store).
    posters: dict[str, str] = {}
    stills: dict[str, Product] = {}
    for window in timeline_data["scene"]["backdrop"]:
        key = page.poster_key(window)
        if key in posters:
            continue
        posters[key] = page.poster_name(name, window)
        source = next(b.path for b in timeline.backdrops if b.file == window["file"] and b.path)

        def make_poster(out: Path, source=source, kind=window["kind"], offset=window["from"]) -> None:
            page.write_poster(out, source, kind, offset)
        stills[posters[key]] = Product(POSTER.kind, POSTER.key(key, window["kind"], ffmpeg_name()), POSTER.ext,
                                       make_poster)

    def make_page(out: Path) -> None:
        page.write_page(out, timeline, audio_name, cues, posters)
    return {
        f"{name}.timeline.json": text_product(TIMELINE, timeline_text),
        f"{name}.srt": text_product(SRT, captions.srt_text(cues)),
        f"{name}.vtt": text_product(VTT, captions.vtt_text(cues)),
        f"{name}.chapters.txt": text_product(CHAPTERS, chapters_text),
        # The practice page (issue #11) plays the audio beside it, so it only needs the timeline.
        f"{name}.html": Product(PAGE.kind, PAGE.key(text_key(timeline_text), audio_name, posters), PAGE.ext,
                                make_page),
        **stills,
    }


@dataclass(frozen=True)
class AudioProducts:
    """The sound of a build: the MP3's runs, the MP3, the exact mix as WAV, and ``meter``, a product
    holding the programme's integrated loudness (LUFS, as text)."""

    runs: list[Product]
    mp3: Product
    wav: Product
    meter: Product


def declare_audio(timeline, clips: dict, settings, target: float, music: str | Path | None = None) -> AudioProducts:
    """Every sound levelled on its own, the MP3 in runs of nearby sounds, the MP3 and the exact mix.

    ``music`` (``"calm"`` or a sound file's path) puts a music bed under the voice
    (:func:`_declare_music`).
    """
    from . import timeline as tl
    from .graph import Product
    from .products import LEVEL
    from .renderers import audio

    levelled: dict[str, Product] = {}
    lengths: dict[str, int] = {}

    def speech_sound(text: str) -> str:
        clip = clips[text]
        # Keyed by the clip's samples, not by its text: speech made again after the store was pruned
        # may differ (Piper's speech varies a little between syntheses), and must never meet a sound
        # levelled from the old clip.
        key = LEVEL.key("speech", samples_digest(clip.samples), clip.sample_rate, target)
        if key not in levelled:
            def make(out: Path) -> None:
                audio.level_speech(clip.samples, clip.sample_rate, target).astype("<f4").tofile(out)
            levelled[key] = Product(LEVEL.kind, key, LEVEL.ext, make)
            lengths[key] = _resampled_length(len(clip.samples), clip.sample_rate, audio.SAMPLE_RATE)
        return key

    def bell_sound(seconds: float) -> str:
        key = LEVEL.key("bell", round(seconds, 6), target)
        if key not in levelled:
            def make(out: Path) -> None:
                audio.level_bell(seconds, target).astype("<f4").tofile(out)
            levelled[key] = Product(LEVEL.kind, key, LEVEL.ext, make)
            lengths[key] = int(round(seconds * audio.SAMPLE_RATE))
        return key

    def sound_of(event):
        if event.spoken:
            key = speech_sound(event.spoken)
        elif event.kind == tl.BELL and event.duration > 0:
            key = bell_sound(event.duration)
        else:
            return None
        return key, lengths[key]

    placed = audio.pieces(timeline, sound_of)
    total = int(round(timeline.duration * audio.SAMPLE_RATE))
    if music is not None:
        return _declare_music(timeline, placed, total, levelled, settings, target, music)
    runs, mp3_product = _declare_mp3(timeline, placed, total, levelled, settings)
    wav = _declare_wav(placed, total, levelled)
    return AudioProducts(runs, mp3_product, wav, _declare_loudness(wav))


def _music_cycle(music: str | Path, target: float):
    """The music's loop levelled to ``target``, once: keyed by the file's content, or by the code of ``calm``."""
    from .graph import Product
    from .memo import file_sha256
    from .products import MUSIC
    from .renderers import music as bed

    if music == "calm":
        source = "calm"
    else:
        try:
            source = file_sha256(Path(music))  # hashed for the build's fingerprint already
        except OSError as exc:
            raise BuildError(f"cannot read the music {music}: {exc.strerror or exc}") from exc

    def make_cycle(out: Path) -> None:
        cycle = bed.calm_cycle() if music == "calm" else bed.loop_ready(bed.decode(music))
        bed.level_cycle(cycle, target).astype("<f4").tofile(out)
    return Product(MUSIC.kind, MUSIC.key(source, target), MUSIC.ext, make_cycle)


def _declare_music(timeline, placed, total: int, levelled: dict, settings, target: float,
                   music: str | Path) -> AudioProducts:
    """The mix with music under the voice, mastered and encoded in pieces (:mod:`qidsl.renderers.music_mix`).

    The music's loop is levelled once (``music``, keyed by the file's content
    or by the code that makes ``calm``).  Each piece's loudness table is made
    first (the ``runs`` the build makes side by side); from them the gains are
    found (``mix-gains``: the music's lift in the pauses, and a make-up gain
    corrected for the limiter when one is needed), then the MP3 and the WAV make
    the pieces' samples and MP3 frames at them.  A piece an edit does not reach
    keeps every key, so a one-cue edit remakes the pieces of its section from
    the edit on, and the heads and tails of the sections it moves.
    """
    from collections.abc import Callable
    from dataclasses import asdict

    import numpy as np

    from .graph import Later, Product
    from .products import LOUDNESS, MIX_GAINS, MIX_LIMITED, MIX_LOUDNESS, MIX_PIECE, MP3, MP3_PIECE, WAV, Family
    from .renderers import audio, chapters, mp3, music_mix
    from .renderers import music as bed

    cycle = _music_cycle(music, target)
    lay = music_mix.layout([timeline.at_sample(e.start, audio.SAMPLE_RATE) for e in timeline.sections], placed,
                           total)
    level, tools = settings.music_level, ffmpeg_name()

    def from_window(family: Family, key: str, win: music_mix.Window, write: Callable[..., None]) -> Product:
        """A product made from a window's sounds and the loop: ``write(out, win, cycle, load)``."""
        keys = list(dict.fromkeys(sound for _, _, sound in win.sounds))

        def make(out: Path, cycle_path: Path, *paths) -> None:
            files = dict(zip(keys, paths, strict=True))
            write(out, win, music_mix.read_cycle(str(cycle_path)), lambda sound: np.fromfile(files[sound], "<f4"))
        return Product(family.kind, key, family.ext, make, (cycle, *(levelled[k] for k in keys)))

    tables = []
    for first, end in lay.pieces:
        win = music_mix.window(lay, first - music_mix.LOUDNESS_PRE, end)
        tables.append(from_window(MIX_LOUDNESS, MIX_LOUDNESS.key(win.identity(), cycle.key, level), win,
                                  lambda out, win, cycle, load: music_mix.loudness_of(
                                      win, cycle, load, 10 ** (-level / 20)).tofile(out)))
    windows = [music_mix.piece_window(lay, first, end) for first, end in lay.pieces]
    base = [MIX_PIECE.key(win.identity(), cycle.key) for win in windows]

    def more_gains(*table_paths) -> Later:
        """The lift and make-up gain the tables give, then (with a make-up gain) what the limiter takes at it."""
        gains = music_mix.master([np.fromfile(p, dtype="<f8").reshape(len(music_mix.PROBES), -1)
                                  for p in table_paths], level, bed.PAUSE_DB, target)
        limited = []
        # Only a make-up gain pushes the voice into the limiter; without one, what it takes is a hair.
        for first, end in lay.pieces if gains.gain_db > 0 else ():
            win = music_mix.window(lay, first - music_mix.LOUDNESS_PRE - music_mix.LIMIT_PAD,
                                   end + music_mix.LIMIT_PAD)
            key = MIX_LIMITED.key(win.identity(), cycle.key, gains.level_db, gains.lift_db, gains.gain_db)
            limited.append(from_window(MIX_LIMITED, key, win, lambda out, win, cycle, load: music_mix.limited_loudness(
                win, cycle, load, gains).tofile(out)))

        def make(out: Path, *paths) -> None:
            found = music_mix.correct(gains, [np.fromfile(p, dtype="<f8").reshape(2, -1)
                                              for p in paths[len(tables):]], target) if limited else gains
            out.write_text(json.dumps(asdict(found)), encoding="utf-8")
        return Later(tuple(limited), make=make)
    gains_product = Product(MIX_GAINS.kind, MIX_GAINS.key([t.key for t in tables], level, bed.PAUSE_DB, target),
                            MIX_GAINS.ext, lambda out, *_: None, tuple(tables), more=more_gains)

    def read_gains(gains_path: Path) -> music_mix.Gains:
        return music_mix.Gains(**json.loads(gains_path.read_text(encoding="utf-8")))

    def mastered(gains_path: Path) -> list[Product]:
        """The pieces' samples at the gains found."""
        gains = read_gains(gains_path)
        return [from_window(MIX_PIECE, MIX_PIECE.key(key, gains.level_db, gains.lift_db, gains.gain_db), win,
                            lambda out, win, cycle, load: music_mix.write_piece(out, win, cycle, load, gains))
                for win, key in zip(windows, base)]

    def more_wav(gains_path: Path) -> Later:
        pieces = mastered(gains_path)
        return Later(tuple(pieces), make=lambda out, *paths: audio.write_pcm_wav(
            out, paths[1:], total, music_mix.PRE_ROLL, music_mix.POST_ROLL))
    wav = Product(WAV.kind, WAV.key("music", gains_product.key, base, total), WAV.ext, lambda out, *_: None,
                  (gains_product,), more=more_wav)
    marks = [(c.title, c.start, c.end) for c in chapters.chapters(timeline)]

    def more_mp3(gains_path: Path) -> Later:
        pieces = mastered(gains_path)
        frames = [Product(MP3_PIECE.kind, MP3_PIECE.key(piece.key, tools), MP3_PIECE.ext, music_mix.write_mp3_piece,
                          (piece,)) for piece in pieces]

        def make(out: Path, *paths) -> None:
            starts = [first + mp3.DECODED_OFFSET for first, _ in lay.pieces]
            mp3.join_mp3(out, list(zip(starts, paths[-len(frames):])), total, settings.title, settings.author,
                         marks)
        return Later((*pieces, *frames), make=make)
    mp3_key = MP3.key("mastered", gains_product.key, base, total, settings.title, settings.author, marks, tools)
    meter = Product(LOUDNESS.kind, LOUDNESS.key(gains_product.key), LOUDNESS.ext,
                    lambda out, gains_path: out.write_text(repr(read_gains(gains_path).loudness), encoding="utf-8"),
                    (gains_product,))
    return AudioProducts(tables, Product(MP3.kind, mp3_key, MP3.ext, lambda out, *_: None, (gains_product,),
                                         more=more_mp3), wav, meter)


def _declare_mp3(timeline, placed, total: int, levelled: dict, settings):
    """The MP3: runs of nearby sounds, each encoded on its own, then laid in place with silence between."""
    import numpy as np

    from .graph import Product
    from .products import MP3, MP3_RUN
    from .renderers import chapters, mp3

    tools = ffmpeg_name()
    run_products: list[tuple[int, Product]] = []
    for group in mp3.runs([(p.start, p.start + p.length) for p in placed]):
        members = [placed[i] for i in group]
        first = members[0].start
        length = max(p.start + p.length for p in members) - first
        keys = list(dict.fromkeys(p.sound for p in members))
        layout = [(p.start - first, p.length, p.sound) for p in members]

        def make_run(out: Path, *paths, layout=layout, keys=keys, length=length) -> None:
            files = dict(zip(keys, paths))
            samples = np.zeros(length, np.float32)
            for offset, size, sound in layout:
                data = np.fromfile(files[sound], dtype="<f4")[:size]
                samples[offset: offset + len(data)] += data
            mp3.encode_frames(out, samples)
        key = MP3_RUN.key(layout, length, tools)
        run_products.append((first, Product(MP3_RUN.kind, key, MP3_RUN.ext, make_run,
                                            tuple(levelled[k] for k in keys))))
    marks = [(c.title, c.start, c.end) for c in chapters.chapters(timeline)]

    def make_mp3(out: Path, *paths) -> None:
        mp3.join_mp3(out, [(start, p) for (start, _), p in zip(run_products, paths)], total, settings.title,
                     settings.author, marks)
    mp3_key = MP3.key([(start, run.key) for start, run in run_products], total, settings.title, settings.author,
                      marks)
    runs = [run for _, run in run_products]
    return runs, Product(MP3.kind, mp3_key, MP3.ext, make_mp3, tuple(runs))


def _declare_wav(placed, total: int, levelled: dict):
    """The exact mix as WAV: the video's sound, and NAME.wav with --wav.  Made only when one of them is."""
    import numpy as np

    from .graph import Product
    from .products import WAV
    from .renderers import audio

    sound_keys = list(levelled)

    def make_wav(out: Path, *paths) -> None:
        files = dict(zip(sound_keys, paths))
        audio.write_mix_wav(out, placed, total, lambda key: np.fromfile(files[key], dtype="<f4"))
    key = WAV.key([(p.start, p.length, p.sound) for p in placed], total)
    return Product(WAV.kind, key, WAV.ext, make_wav, tuple(levelled[k] for k in sound_keys))


def _declare_loudness(wav):
    """The integrated loudness of the mix ``wav``: a product of its own, so measuring it (libebur128, which
    holds the GIL) never delays the narration's encode, which needs the WAV alone."""
    from .graph import Product
    from .pools import BACKGROUND
    from .products import LOUDNESS
    from .renderers import audio

    def make(out: Path, wav_path: Path) -> None:
        out.write_text(repr(audio.wav_loudness(wav_path)), encoding="utf-8")
    return Product(LOUDNESS.kind, LOUDNESS.key(wav.key), LOUDNESS.ext, make, (wav,), pool=BACKGROUND)


def declare_quick_wav(timeline, clips: dict, timeline_key: str, music: str | Path | None = None,
                      level: float = 0.0, target: float = -16.0):
    """The narration mixed at the voice's own rate and scaled once to a safe peak: ``qidsl watch``'s sound.

    ``music`` (``"calm"`` or a sound file's path) goes under it, ducked from
    the timeline ``level`` dB below the voice (:func:`qidsl.renderers.music_mix.quick_bed`),
    from the same levelled loop as the build's (made once, kept in the store).
    """
    import numpy as np

    from .graph import Product
    from .products import QUICK_WAV
    from .renderers import audio
    from .renderers import music_mix

    spoken = sorted({e.spoken for e in timeline.events if e.spoken})
    digests = [samples_digest(clips[t].samples) for t in spoken]
    cycle = _music_cycle(music, target) if music is not None else None

    def make(out: Path, *cycle_path: Path) -> None:
        mixed, rate = audio.quick_mix(timeline, clips)
        if cycle_path:
            mixed = music_mix.quick_bed(mixed, rate, timeline, np.fromfile(cycle_path[0], dtype="<f4"), level,
                                         target)
        audio.write_wav(out, mixed, rate)
    key = QUICK_WAV.key(timeline_key, digests, cycle.key if cycle else None, level)
    return Product(QUICK_WAV.kind, key, QUICK_WAV.ext, make, (cycle,) if cycle else ())


def declare_video(timeline, cues, wav, options: BuildOptions, timeline_key: str, graph):
    """The joined MP4 (:func:`qidsl.renderers.video_segments.declare_mp4`) and its narration: its segments
    and narration chunks are products of the graph, planned when the MP4 must be made (the chunks once the
    mix is).

    Its key is known without planning the segments: the code that draws and
    encodes them, what the timeline and the captions say, the mix, the size.
    """
    from .products import MP4, NARRATION, VIDEO_SEGMENT
    from .renderers.video_segments import declare_mp4, mp4_narration

    key = MP4.key(VIDEO_SEGMENT.recipe, NARRATION.recipe, timeline_key,
                  [(c.start, c.end, list(c.lines)) for c in cues], wav.key, options.width, options.height,
                  options.fps, options.preview, ffmpeg_name())
    return (declare_mp4(timeline, cues, wav, wav.key, key, width=options.width, height=options.height,
                        fps=options.fps, preview=options.preview, progress=options.progress, pools=graph.pools),
            mp4_narration(timeline, wav, wav.key, fps=options.fps, preview=options.preview))


@dataclass(frozen=True)
class VideoStats:
    """What one :func:`render_video` made and reused."""

    frames: int
    segments: int
    made: int  # segments encoded by this render
    reused: int  # segments taken from the store
    audio_made: int  # narration chunks encoded by this render
    audio_chunks: int  # narration chunks in all
    seconds: float  # wall time of the whole render


def render_video(timeline, cues, audio_path, out_path, *, width: int = 1280, height: int = 720, fps: int = 30,
                 preview: bool = False, progress: bool | None = None, store=None, pools=None) -> VideoStats:
    """Render ``timeline`` as an MP4 at ``out_path`` over the narration WAV ``audio_path``, outside a build.

    ``cues`` are the caption cues (objects with ``start``, ``end`` and
    ``lines``) so the picture shows exactly what the SRT says.  H.264 High
    profile, yuv420p, AAC 48 kHz, moov atom first (``+faststart``).  With
    ``preview`` a quick low-resolution draft is made instead (640x360 at 15
    frames/s, x264 ultrafast, so Constrained Baseline rather than High).
    ``progress`` shows a bar over the frames on a terminal and ten plain lines
    otherwise (None: automatic, False: nothing).

    The MP4 is the build's own product (:func:`qidsl.renderers.video_segments.declare_mp4`),
    made by a :class:`~qidsl.graph.Graph` over ``store`` (a :class:`qidsl.store.Store`;
    a temporary one when None) and ``pools`` (one core when None): a segment
    or chunk already in the store is never made again.  Returns what was
    made and reused (:class:`VideoStats`).  The file is written under a
    temporary name and renamed, so a failure leaves any previous
    ``out_path`` untouched; failures raise :class:`~qidsl.errors.BuildError`
    with one sentence.
    """
    import hashlib
    import shutil
    import tempfile

    from .graph import Graph
    from .outputs import atomic_path
    from .pools import Pools
    from .products import AAC, AAC_CHUNK, MP4, NARRATION, VIDEO_SEGMENT, text_key
    from .renderers.video_segments import JoinMake, check_narration, declare_mp4
    from .store import Store

    started = time.monotonic()
    audio = Path(audio_path)
    check_narration(audio, timeline)
    pools = pools or Pools()
    with open(audio, "rb") as wav:
        content = hashlib.file_digest(wav, "sha256").hexdigest()
    key = MP4.key(VIDEO_SEGMENT.recipe, NARRATION.recipe, text_key(repr((timeline, list(cues)))), content, width,
                  height, fps, preview, ffmpeg_name())
    mp4 = declare_mp4(timeline, cues, audio, content, key, width=width, height=height, fps=fps, preview=preview,
                      progress=progress, pools=pools)
    assert mp4.more is not None  # the MP4's segments and narration come later
    with contextlib.ExitStack() as stack:
        if store is None:
            store = Store(Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="qidsl-segments-"))))
        graph = Graph(store, pools)
        # Planned here too (and handed to the graph as planned), so what is reused is counted even when
        # the MP4 itself is found in the store.
        later = mp4.more()
        narration = later.products[-1]
        chunks = narration.more(audio) if narration.more is not None else None
        graph.need_all([*later.products[:-1], *(chunks.products if chunks else ())], later.meter)
        if chunks is not None:
            narration = replace(narration, more=lambda _: chunks)
        made = graph.need(replace(mp4, more=lambda: replace(later, products=(*later.products[:-1], narration),
                                                            meter=None)))
        try:
            with atomic_path(out_path) as tmp:
                shutil.copyfile(made, tmp)
        except OSError as exc:
            raise BuildError(f"could not write the video {out_path}: {exc.strerror or exc}") from exc
    assert isinstance(later.make, JoinMake)
    segments = later.make.segments
    made_segments = graph.made[VIDEO_SEGMENT.kind]
    return VideoStats(later.make.count, segments, made_segments, segments - made_segments,
                      graph.made[AAC_CHUNK.kind] + graph.made[AAC.kind], len(chunks.products) if chunks else 1,
                      time.monotonic() - started)


def variants_to_build(path: Path, compiled, wanted: str | None) -> list[tuple[str | None, str]]:
    """The variants ``--variant`` asks for, each with its outputs' name.

    The default (first declared) variant keeps the plain name ``STEM``, so a
    routine that gains variants keeps its outputs; any other is ``STEM.VARIANT``.
    """
    declared = [v.name for v in compiled.variants]
    chosen = declared if wanted == "all" else [wanted if wanted is not None else declared[0]]
    return [(v, path.stem if v == declared[0] else f"{path.stem}.{v}") for v in chosen]


def _build_checked(path: Path, compiled, loader: Loader, options: BuildOptions, pools=None):
    """Build the variants asked for of one routine that compiled without errors; its :class:`Outcome`."""
    from .summary import BUILT, FAILED, REUSED, Outcome

    name = f"{path.stem} ({options.voice_folder})" if options.voice_folder else str(path)
    started = time.monotonic()
    made = reused = 0
    fresh = False
    try:
        for variant, stem in variants_to_build(path, compiled, options.variant):
            report = build_one(path, compiled.variant(variant), loader, options, stem, pools=pools)
            if report is None:
                return Outcome(name, FAILED, reason="it has warnings and --strict is on")
            made, reused = made + report.made_count, reused + report.reused_count
            fresh = fresh or (not report.up_to_date and report.made_count > 0)
    except BuildError as exc:
        _say(str(exc))
        _say(f"{path} was not built; earlier outputs were left as they were")
        return Outcome(name, FAILED, reason=str(exc).splitlines()[0])
    except OSError as exc:
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        reason = f"cannot write{where}: {exc.strerror or exc}"
        _say(reason)
        _say(f"{path} was not built; earlier outputs were left as they were")
        return Outcome(name, FAILED, reason=reason)
    return Outcome(name, BUILT if fresh else REUSED, made, reused, time.monotonic() - started)


def run_build(paths: list[str], options: BuildOptions) -> int:
    """``qidsl build``: build every routine named; exit 1 if any failed.

    With ``options.jobs`` above 1 and several routines, they are built side
    by side (at most ``jobs`` at once) over the one store, and every make of
    every routine takes its slot of the same pools (:class:`qidsl.pools.Pools`):
    ``-j N`` means N cores' worth of work in all, not N per routine.
    """
    from .lang import mediafile

    _remember_probes(options)
    try:
        return _run_build(paths, options)
    finally:
        mediafile.remember_probes(None)


def _run_build(paths: list[str], options: BuildOptions) -> int:
    compiled_paths = compile_paths(paths, options.level)
    if isinstance(compiled_paths, int):
        return compiled_paths
    files, loader, results = compiled_paths
    status = EXIT_OK
    for path, compiled in zip(files, results):
        if compiled.errors or options.variant in (None, "all"):
            continue
        assert compiled.settings is not None  # a routine without errors has its settings
        if options.variant not in compiled.settings.variants:
            declared = compiled.settings.variants
            _say(f"{path} has no variant '{options.variant}'" +
                 (f"; its variants are: {', '.join(declared)}" if declared else "; it declares none"))
            return EXIT_USAGE
    from .summary import FAILED, Outcome

    todo, refused = [], []
    for path, compiled in zip(files, results):
        if compiled.errors:
            print_diagnostics(list(compiled.diagnostics), loader, "text", sys.stderr)
            _say(f"{path} has errors; nothing was built")
            errors = sum(d.is_error for d in compiled.diagnostics)
            refused.append(Outcome(str(path), FAILED, reason=f"{errors} error{'' if errors == 1 else 's'} in "
                                   "the routine (above)"))
            status = EXIT_PROBLEMS
            continue
        assert compiled.routine is not None  # a routine without errors was parsed
        if is_library(compiled.routine):
            _say(f"{path} only holds definitions for other routines to include; nothing to build")
            continue
        todo.append((path, compiled))
    from .programme import programme_file

    programme = None
    toml = programme_file(paths)
    if toml is not None:  # a programme: its mistakes stop the build before anything is made
        from .programme import read_programme

        programme, problems, source = read_programme(toml, [path for path, _ in todo])
        if programme is None:
            loader.sources[str(toml)] = source
            print_diagnostics(problems, loader, "text", sys.stderr)
            _say(f"{toml} has errors; nothing was built")
            return EXIT_PROBLEMS
    from .pools import Pools

    # Each routine once per voice (OUT/NAME/VOICE/); products that do not depend on the voice are
    # shared through the store, keyed by what they are made from.
    builds = [(path, compiled, replace(options, engine=engine, voice=voice, voice_folder=folder))
              for path, compiled in todo for folder, engine, voice in options.voices] if options.voices else \
        [(path, compiled, options) for path, compiled in todo]
    from .summary import Summary

    summary = Summary(len(builds) + len(refused))
    for outcome in refused:
        summary.add(outcome)

    def build(item) -> None:
        summary.add(_build_checked(item[0], item[1], loader, item[2], pools))

    pools = Pools(options.jobs)
    if options.cluster:
        from .cluster import Cluster

        try:
            pools.remote = Cluster(options.cluster)
        except BuildError as exc:
            _say(str(exc))
            return EXIT_PROBLEMS
    try:
        workers = min(options.jobs, len(builds))
        if workers <= 1:
            for item in builds:
                build(item)
        else:
            from concurrent.futures import ThreadPoolExecutor

            # Routines side by side in threads: their encoders are child processes and their makes hold the
            # shared pools' slots, so the pools, not the number of routines, decide how much runs at once.
            with ThreadPoolExecutor(workers, thread_name_prefix="qidsl-routine") as pool:
                list(pool.map(build, builds))
    finally:
        if pools.remote is not None:
            pools.remote.close()
    if any(o.state == FAILED for o in summary.outcomes):
        status = EXIT_PROBLEMS
    if summary.total > 1:  # one routine's own lines already say it all
        summary.print_table()
    if programme is not None:
        status = max(status, _publish_programme(programme, options))
    return status


def _remember_probes(options: BuildOptions) -> None:
    """What ffmpeg says of each backdrop (asked when the routine is checked) is remembered in the store,
    as the files' hashes are: five clips cost a third of a second to probe at every build."""
    from .lang import mediafile
    from .memo import remembered

    store = _store(options)
    mediafile.remember_probes(lambda path, work_out: remembered("ffmpeg probe", path, store, work_out))


def _publish_programme(programme, options: BuildOptions) -> int:
    """Write a programme's index page, feed and chapters beside its routines' outputs; the exit status."""
    from .studio import write_programme

    try:
        written = write_programme(programme, options.out, options.base_url, [v[0] for v in options.voices])
    except OSError as exc:
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        _say(f"cannot write{where}: {exc.strerror or exc}; the programme's index and feed were not written")
        return EXIT_PROBLEMS
    names = ", ".join(p.name for p in written if p.parent == options.out)
    _say(f"programme '{programme.title}': {names} in {options.out}/" +
         ("" if options.base_url else " (no feed.xml: give --base-url, where the programme is published)"))
    return EXIT_OK
