"""``qidsl build``: a routine in, narration, captions, chapters, timeline and video out.

A build is a graph of products (:mod:`qidsl.graph`): speech clips (in the
speech cache), every sound levelled on its own, the MP3's encoded runs, the
MP3, the mix as WAV, the video, and the text outputs.  Each is keyed by what
it is made from, and made only when its key is not yet in the product store
(:mod:`qidsl.store`), so an edit costs what it touches.  The finished outputs
are then put into the output folder together (:func:`qidsl.outputs.publish`),
outputs this build does not make are removed, and a failed or interrupted
build leaves the previous outputs whole.  When nothing a build depends on has
changed and the outputs are as the last build left them, it does nothing.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from .lang.check import is_library
from .compile import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, compile_paths, print_diagnostics
from .errors import BuildError
from .lang.loader import Loader
from .lang.speech import is_bundled_voice
from .timefmt import clock

TIMING_WARNINGS = ("cue-overruns-phase", "long-routine")
# Said by check when no offline voice speaks the language; a build that got an engine (--engine gtts) is past it.
SPEECH_WARNINGS = ("no-offline-voice",)
RESOLUTIONS = {"720p": (1280, 720), "1080p": (1920, 1080)}
PREVIEW_FPS = 15  # qidsl.renderers.video.PREVIEW's rate (kept here: check must not import the renderers)
# Every output a build can make, in the order they are listed after a build.
OUTPUT_SUFFIXES = (".timeline.json", ".srt", ".vtt", ".chapters.txt", ".html", ".mp3", ".wav", ".mp4",
                   ".youtube.txt", ".insight-timer.mp3")  # the last two with --profile (qidsl.profile_outputs)
VIDEO_RECIPE = 1  # bump when the video renderer changes what it draws or how it encodes
TEXT_RECIPE = 1


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
    jobs: int = 1  # encoders side by side, routines side by side (-j)
    video_jobs: int | None = None  # the video renderer's share of the cores (None: jobs)
    profile: str | None = None  # a platform whose rules are checked and whose files are made (qidsl.profiles)

    @classmethod
    def from_args(cls, args) -> "BuildOptions":
        width, height = RESOLUTIONS[args.resolution]
        voice = args.voice
        if not is_bundled_voice(voice):
            voice = str(Path(voice).resolve())  # a path typed on the command line is from here, not the routine
        # --voice names a Piper voice, so it means Piper unless an engine is named too.
        engine = args.engine or ("piper" if args.voice is not None else None)
        return cls(out=Path(args.out), video=not args.no_video, engine=engine, voice=voice,
                   tld=args.tld, cache_dir=Path(args.cache_dir) if args.cache_dir else None,
                   loudness=args.loudness, wav=args.wav, width=width, height=height, fps=args.fps,
                   preview=args.preview, strict=args.strict, variant=args.variant, level=args.level,
                   jobs=args.jobs or os.cpu_count() or 1, profile=getattr(args, "profile", None))


@dataclass(frozen=True)
class BuildReport:
    """What one build made and where its time went (seconds of wall time).

    ``made`` and ``reused`` count products by kind (``speech``, ``level``,
    ``mp3-run``, ``mp3``, ``wav``, ``mp4``, ``srt`` ...): made now, or taken
    from the speech cache and the product store.  ``removed`` are outputs of an
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


def _owned(name: str) -> list[str]:
    """Every output a build of routine ``name`` can make."""
    return [f"{name}{suffix}" for suffix in OUTPUT_SUFFIXES]


def _tool_version() -> str:
    """The encoder binary's name (imageio-ffmpeg names it by version): part of every encoded product's key."""
    import imageio_ffmpeg

    return Path(imageio_ffmpeg.get_ffmpeg_exe()).name


def _code_version() -> str:
    """A hash of qidsl's own source files: any change to the code makes every build look new.

    (Products keep their explicit recipe versions, so unrelated code changes
    still reuse them; this is only for the nothing-changed shortcut.)
    """
    import hashlib

    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for source in sorted(package.rglob("*.py")):
        digest.update(str(source.relative_to(package)).encode("utf-8"))
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _fingerprint(compiled, settings, engine, options: BuildOptions) -> str:
    """Everything a build's outputs depend on, hashed without making any of them.

    The routine as expanded (every statement, its text and its place in the
    source), its settings, the speech engine and voice, the options that change
    an output, the qidsl version and its code, and the encoder's version.  Equal fingerprints
    mean equal outputs, since every product is a pure function of these.
    """
    from .graph import product_key

    expanded = replace(compiled.expanded, settings=settings)
    return product_key("build", 1, repr(expanded), engine.name, engine.version, engine.voice_id,
                       engine.settings_key(), options.loudness, options.video, options.wav, options.width,
                       options.height, options.fps, options.preview, options.tld, _tool_version(),
                       _code_version(), options.profile)


class _Manifest:
    """What the last build into a folder made: its fingerprint, outputs (size and time) and warnings.

    Kept in the cache directory (``builds/``), not in the output folder, which
    holds outputs only.  It lets a build with nothing changed see at once that
    every output is still what it made, and do nothing.
    """

    def __init__(self, cache_dir: Path, folder: Path, name: str):
        import hashlib

        digest = hashlib.sha256(f"{folder.resolve()}\n{name}".encode("utf-8")).hexdigest()[:32]
        self.path = Path(cache_dir) / "builds" / f"{digest}.json"

    def read(self) -> dict | None:
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) else None

    def write(self, fingerprint: str, outputs: list[Path], messages: str) -> None:
        from .outputs import write_text_atomic

        record = {"fingerprint": fingerprint, "messages": messages,
                  "outputs": {p.name: [p.stat().st_size, p.stat().st_mtime_ns] for p in outputs}}
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
                if [stat.st_size, stat.st_mtime_ns] != outputs[name]:
                    return False
            elif path.exists():
                return False
        return True


def _render_video(timeline, cues, audio: Path, out: Path, options: BuildOptions, segment_dir: Path,
                  jobs: int) -> tuple[int, int]:
    """The one call into the video renderer; returns (segments made, segments reused)."""
    from .renderers.video_segments import render_video

    stats = render_video(timeline, cues, audio, out, width=options.width, height=options.height, fps=options.fps,
                         preview=options.preview, progress=options.progress, segment_dir=segment_dir, jobs=jobs)
    return stats.made, stats.reused


def build_one(path: Path, compiled, loader: Loader, options: BuildOptions,
              name: str | None = None, *, engine_for=None, cache=None) -> BuildReport | None:
    """Build one compiled routine (one variant of it); None when --strict refused its warnings.

    Outputs are named ``name`` (default: the file's stem) in ``OUT/STEM/``.
    ``engine_for`` (like :func:`make_engine`) and ``cache`` let ``qidsl watch``
    keep its loaded voice and clips between builds.
    """
    import io

    from .engines.cache import default_cache_dir
    from .engines.synthesize import make_engine
    from .outputs import publish

    name = name or path.stem
    folder = options.out / path.stem
    started = time.monotonic()
    settings = compiled.settings.with_overrides(engine=options.engine, voice=options.voice)
    variant = compiled.variants[0].name if len(compiled.variants) == 1 else None
    if variant:  # what each variant publishes says which it is (page, tags, title card, timeline)
        settings = replace(settings, title=f"{settings.title} ({variant})")
    engine = (engine_for or make_engine)(settings, base_dir=path.parent, tld=options.tld)
    _say(f"building {path}{f' (variant {variant})' if variant else ''} -> {folder}/ "
         f"(speech: {engine.name}, voice {engine.voice_name})")
    cache_dir = options.cache_dir or default_cache_dir(options.out)
    owned = _owned(name)

    fingerprint = _fingerprint(compiled, settings, engine, options)
    manifest = _Manifest(cache_dir, folder, name)
    record = manifest.read()
    if _Manifest.matches(record, fingerprint, folder, owned):
        # Nothing this build depends on has changed, and every output is as the last build left it.
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
        return BuildReport(tuple(written), 0.0, 0.0, elapsed, 0, 0, {}, {"output": len(written)},
                           up_to_date=True)

    messages = io.StringIO()  # warnings, kept so that a build with nothing changed says them again
    made = _make(path, name, compiled, loader, options, settings, engine, cache_dir, messages, cache)
    if made is None:
        return None
    files, graph, timeline, speech_seconds, speech = made
    written, removed = publish(folder, files, owned)
    manifest.write(fingerprint, written, messages.getvalue())
    for old in removed:
        _say(f"removed {old}: this build does not make it, and an older one would not match the rest")
    elapsed = time.monotonic() - started
    _say(f"products: {graph.summary()}")
    _say(f"done in {elapsed:.1f}s: a {clock(timeline.duration)} routine")
    for output in written:
        print(f"  {output}  ({_size(output)})")
    return BuildReport(tuple(written), timeline.duration, speech_seconds, elapsed, speech.synthesised,
                       speech.cached, dict(graph.made), dict(graph.reused), tuple(removed))


def _resampled_length(n: int, from_rate: int, to_rate: int) -> int:
    """How many samples ``n`` samples at ``from_rate`` become at ``to_rate`` (as the mix's resampling makes them)."""
    if from_rate == to_rate:
        return n
    g = math.gcd(int(from_rate), int(to_rate))
    up, down = to_rate // g, from_rate // g
    return -(-n * up // down)


def _make(path: Path, name: str, compiled, loader: Loader, options: BuildOptions, settings, engine,
          cache_dir: Path, messages, cache=None):
    """Declare every product of the build and make the outputs (whatever is in the store is reused)."""
    import numpy as np

    from . import timeline as tl
    from .engines.cache import SpeechCache, speech_key
    from .engines.synthesize import synthesize_all
    from .graph import Graph, Product, product_key, text_key
    from .profile_outputs import profile_products
    from .profiles import loudness_warning, profile_warnings
    from .renderers import audio, captions, chapters, mp3, page, timeline_json
    from .store import ProductStore

    cache = cache or SpeechCache(cache_dir)
    store = ProductStore(Path(cache_dir) / "products")
    graph = Graph(store, jobs=options.jobs)
    expanded = replace(compiled.expanded, settings=settings)
    texts = compiled.estimate.spoken_texts
    speech_started = time.monotonic()
    speech = synthesize_all(texts, engine, cache, progress=options.progress)
    speech_seconds = time.monotonic() - speech_started
    graph.count("speech", speech.synthesised, speech.cached)
    _say(f"speech: {len(texts)} cue{'' if len(texts) == 1 else 's'}, {speech.synthesised} synthesised, "
         f"{speech.cached} from the cache")

    # The timeline lies on the grid of the video that is made (a preview has its own rate).
    timeline = tl.build_timeline(expanded, speech.timer(), frame_rate=PREVIEW_FPS if options.preview else options.fps)
    # The estimate's timing warnings are replaced by those measured on the real speech.
    warnings = [d for d in compiled.warnings if d.code not in TIMING_WARNINGS + SPEECH_WARNINGS] \
        + list(timeline.warnings) + profile_warnings(options.profile, compiled.routine, timeline)
    print_diagnostics(warnings, loader, "text", messages)
    chapter_list = chapters.chapters(timeline)
    for problem in chapters.youtube_warnings(chapter_list) if options.profile != "youtube" else ():
        _say(f"{path}: warning: {problem}", messages)
    if loudness_warning(options.profile, options.loudness):
        _say(f"{path}: warning: {loudness_warning(options.profile, options.loudness)}", messages)
    sys.stderr.write(messages.getvalue())
    sys.stderr.flush()
    if options.strict and warnings:
        _say(f"{path} has warnings and --strict is on; nothing was written")
        return None
    cues = captions.caption_cues(timeline)
    tools = _tool_version()

    def text_product(kind: str, ext: str, text: str) -> Product:
        def make(out: Path) -> None:
            out.write_text(text, encoding="utf-8", newline="\n")
        return Product(kind, product_key(kind, TEXT_RECIPE, text_key(text)), ext, make)

    timeline_text = json.dumps(timeline_json.timeline_dict(timeline, cues), ensure_ascii=False, indent=2) + "\n"
    chapters_text = chapters.youtube_lines(chapter_list) + "\n" if chapter_list else ""
    outputs: dict[str, Product] = {
        f"{name}.timeline.json": text_product("timeline", ".json", timeline_text),
        f"{name}.srt": text_product("srt", ".srt", captions.srt_text(cues)),
        f"{name}.vtt": text_product("vtt", ".vtt", captions.vtt_text(cues)),
        f"{name}.chapters.txt": text_product("chapters", ".txt", chapters_text),
    }
    # The practice page (issue #11): plays NAME.mp3 beside it, so it only needs the timeline.

    def make_page(out: Path) -> None:
        page.write_page(out, timeline, f"{name}.mp3", cues)
    outputs[f"{name}.html"] = Product("page", product_key("page", TEXT_RECIPE, text_key(timeline_text),
                                                          f"{name}.mp3", _code_version()), ".html", make_page)

    # Every sound levelled on its own: a cue's speech, or a bell of a given length.
    target = options.loudness
    levelled: dict[str, Product] = {}
    lengths: dict[str, int] = {}

    def speech_sound(text: str) -> str:
        clip = speech.clips[text]
        key = product_key("level", audio.LEVEL_RECIPE, speech_key(engine, text), target)
        if key not in levelled:
            def make(out: Path) -> None:
                audio.level_speech(clip.samples, clip.sample_rate, target).astype("<f4").tofile(out)
            levelled[key] = Product("level", key, ".f32", make)
            lengths[key] = _resampled_length(len(clip.samples), clip.sample_rate, audio.SAMPLE_RATE)
        return key

    def bell_sound(seconds: float) -> str:
        key = product_key("level-bell", audio.LEVEL_RECIPE, round(seconds, 6), target)
        if key not in levelled:
            def make(out: Path) -> None:
                audio.level_bell(seconds, target).astype("<f4").tofile(out)
            levelled[key] = Product("level", key, ".f32", make)
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

    # The MP3: runs of nearby sounds, each encoded on its own, then laid in place with silence between.
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
        key = product_key("mp3-run", mp3.MP3_RECIPE, layout, length, tools)
        run_products.append((first, Product("mp3-run", key, ".mp3", make_run, tuple(levelled[k] for k in keys))))
    marks = [(c.title, c.start, c.end) for c in chapter_list]

    def make_mp3(out: Path, *paths) -> None:
        mp3.join_mp3(out, [(start, p) for (start, _), p in zip(run_products, paths)], total, settings.title,
                     settings.author, marks)
    mp3_key = product_key("mp3", mp3.MP3_RECIPE, [(start, run.key) for start, run in run_products], total,
                          settings.title, settings.author, marks)
    outputs[f"{name}.mp3"] = Product("mp3", mp3_key, ".mp3", make_mp3, tuple(run for _, run in run_products))

    # The exact mix as WAV: the video's sound, and NAME.wav with --wav.  Made only when one of them is.
    sound_keys = list(levelled)
    measured: list[float] = []

    def make_wav(out: Path, *paths) -> None:
        files = dict(zip(sound_keys, paths))
        measured.append(audio.write_mix_wav(out, placed, total, lambda key: np.fromfile(files[key], dtype="<f4")))
    wav_key = product_key("wav", audio.LEVEL_RECIPE, [(p.start, p.length, p.sound) for p in placed], total)
    wav = Product("wav", wav_key, ".wav", make_wav, tuple(levelled[k] for k in sound_keys))
    if options.wav:
        outputs[f"{name}.wav"] = wav
    outputs.update(profile_products(options.profile, name, settings, timeline, outputs, wav,
                                    lambda kind, parts, ext, make, inputs: Product(
                                        kind, product_key(kind, *parts, tools), ext, make, inputs)))
    if options.video:
        segment_dir = store.directory / "segments"
        jobs = options.video_jobs or options.jobs

        def make_mp4(out: Path, audio_path: Path) -> None:
            made, reused = _render_video(timeline, cues, audio_path, out, options, segment_dir, jobs)
            graph.count("video-segment", made, reused)
        from .renderers.video_segments import code_version as video_code

        # Keyed by the drawing and encoding code itself, so a new qidsl never reuses an old video.
        video_key = product_key("mp4", VIDEO_RECIPE, video_code(), text_key(timeline_text),
                                [(c.start, c.end, list(c.lines)) for c in cues], wav.key, options.width,
                                options.height, options.fps, options.preview, tools)
        outputs[f"{name}.mp4"] = Product("mp4", video_key, ".mp4", make_mp4, (wav,))

    graph.need_all([run for _, run in run_products])  # the encodes an edit calls for, side by side
    files = {out_name: graph.need(product) for out_name, product in outputs.items()}
    if measured and math.isfinite(measured[0]):
        _say(f"narration: {measured[0]:.1f} LUFS integrated (target {target:g})")
    return files, graph, timeline, speech_seconds, speech


def variants_to_build(path: Path, compiled, wanted: str | None) -> list[tuple[str | None, str]]:
    """The variants ``--variant`` asks for, each with its outputs' name.

    The default (first declared) variant keeps the plain name ``STEM``, so a
    routine that gains variants keeps its outputs; any other is ``STEM.VARIANT``.
    """
    declared = [v.name for v in compiled.variants]
    chosen = declared if wanted == "all" else [wanted if wanted is not None else declared[0]]
    return [(v, path.stem if v == declared[0] else f"{path.stem}.{v}") for v in chosen]


def _build_checked(path: Path, compiled, loader: Loader, options: BuildOptions) -> int:
    """Build the variants asked for of one routine that compiled without errors; the exit status."""
    status = EXIT_OK
    try:
        for variant, name in variants_to_build(path, compiled, options.variant):
            if build_one(path, compiled.variant(variant), loader, options, name) is None:
                status = EXIT_PROBLEMS
    except BuildError as exc:
        _say(str(exc))
        _say(f"{path} was not built; earlier outputs were left as they were")
        return EXIT_PROBLEMS
    except OSError as exc:
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        _say(f"cannot write{where}: {exc.strerror or exc}")
        _say(f"{path} was not built; earlier outputs were left as they were")
        return EXIT_PROBLEMS
    return status


def _build_in_worker(path: str, options: BuildOptions) -> int:
    """One routine built in a worker process of ``-j``: compiled again there (it is quick), then built."""
    compiled_paths = compile_paths([path], options.level)
    if isinstance(compiled_paths, int):
        return compiled_paths
    files, loader, (compiled,) = compiled_paths
    try:
        return _build_checked(files[0], compiled, loader, options)
    except KeyboardInterrupt:
        return 130


def run_build(paths: list[str], options: BuildOptions) -> int:
    """``qidsl build``: build every routine named; exit 1 if any failed.

    With ``options.jobs`` above 1 and several routines, they are built side
    by side in that many worker processes over the one shared speech cache
    and product store; the cores are shared out between their videos.
    """
    compiled_paths = compile_paths(paths, options.level)
    if isinstance(compiled_paths, int):
        return compiled_paths
    files, loader, results = compiled_paths
    status = EXIT_OK
    for path, compiled in zip(files, results):
        if not compiled.errors and options.variant not in (None, "all") and \
                options.variant not in compiled.settings.variants:
            declared = compiled.settings.variants
            _say(f"{path} has no variant '{options.variant}'" +
                 (f"; its variants are: {', '.join(declared)}" if declared else "; it declares none"))
            return EXIT_USAGE
    todo = []
    for path, compiled in zip(files, results):
        if compiled.errors:
            print_diagnostics(list(compiled.diagnostics), loader, "text", sys.stderr)
            _say(f"{path} has errors; nothing was built")
            status = EXIT_PROBLEMS
            continue
        if is_library(compiled.routine):
            _say(f"{path} only holds definitions for other routines to include; nothing to build")
            continue
        todo.append((path, compiled))
    workers = min(options.jobs, len(todo))
    if workers <= 1:
        for path, compiled in todo:
            status = max(status, _build_checked(path, compiled, loader, options))
        return status
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    shared = replace(options, video_jobs=max(1, options.jobs // workers))
    # spawn, not fork: a fresh interpreter per worker, nothing inherited half-initialised.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for code in pool.map(_build_in_worker, [str(p) for p, _ in todo], [shared] * len(todo)):
            status = max(status, code)
    return status
