"""``qidsl build``: a routine in, narration, captions, chapters, timeline and video out.

The build runs the stages in order (front end, speech, exact timeline,
renderers) and stages every output under a temporary name in the output
folder.  Only when all of them are made are they renamed into place, so a
failed or interrupted build leaves the previous outputs whole.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass, replace
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
                   preview=args.preview, strict=args.strict, variant=args.variant, level=args.level)


@dataclass(frozen=True)
class BuildReport:
    """What one build made and where its time went (seconds of wall time)."""

    outputs: tuple[Path, ...]
    routine_seconds: float
    speech_seconds: float
    total_seconds: float
    synthesised: int
    cached: int


class StagedOutputs:
    """Outputs written under temporary names, renamed into place together on :meth:`commit`."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.staged: dict[Path, Path] = {}
        self.scratches: list[Path] = []
        self._remove_leftovers()

    def _remove_leftovers(self) -> None:
        """Delete temporary files of builds that were killed before they could clean up."""
        if not self.folder.is_dir():
            return
        for leftover in [*self.folder.glob(".*.part*"), *self.folder.glob(".*.scratch*")]:
            pid = leftover.name.split(".part")[0].split(".scratch")[0].rsplit(".", 1)[-1]
            if pid.isdigit() and not _alive(int(pid)):
                with contextlib.suppress(OSError):
                    leftover.unlink()

    def path(self, name: str) -> Path:
        """A temporary path for the output ``name`` (keeps its extension for ffmpeg)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        suffix = "".join(Path(name).suffixes[-1:])
        temp = self.folder / f".{name}.{os.getpid()}.part{suffix}"
        self.staged[self.folder / name] = temp
        return temp

    def scratch(self, name: str) -> Path:
        """A temporary path that is never renamed into place (removed by commit or discard)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        temp = self.folder / f".{name}.{os.getpid()}.scratch{''.join(Path(name).suffixes[-1:])}"
        self.scratches.append(temp)
        return temp

    def commit(self) -> list[Path]:
        for final, temp in self.staged.items():
            os.replace(temp, final)
        self._remove(self.scratches)
        return list(self.staged)

    def discard(self) -> None:
        self._remove(list(self.staged.values()) + self.scratches)

    @staticmethod
    def _remove(paths: list[Path]) -> None:
        for temp in paths:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _say(message: str) -> None:
    print(f"qidsl: {message}", file=sys.stderr, flush=True)


def _size(path: Path) -> str:
    size = path.stat().st_size
    if size >= 1e6:
        return f"{size / 1e6:.1f} MB"
    return f"{size / 1e3:.0f} kB" if size >= 1e4 else f"{size:,} bytes"


def build_one(path: Path, compiled, loader: Loader, options: BuildOptions,
              name: str | None = None, *, engine_for=None, cache=None) -> BuildReport | None:
    """Build one compiled routine (one variant of it); None when --strict refused its warnings.

    Outputs are named ``name`` (default: the file's stem) in ``OUT/STEM/``.
    ``engine_for`` (like :func:`make_engine`) and ``cache`` let ``qidsl watch``
    keep its loaded voice and clips between builds.
    """
    from . import timeline as tl
    from .engines.cache import SpeechCache, default_cache_dir
    from .engines.synthesize import make_engine, synthesize_all
    from .renderers import audio, captions, chapters, mp3, page, timeline_json

    name = name or path.stem
    folder = options.out / path.stem
    started = time.monotonic()
    settings = compiled.settings.with_overrides(engine=options.engine, voice=options.voice)
    variant = compiled.variants[0].name if len(compiled.variants) == 1 else None
    engine = (engine_for or make_engine)(settings, base_dir=path.parent, tld=options.tld)
    _say(f"building {path}{f' (variant {variant})' if variant else ''} -> {folder}/ "
         f"(speech: {engine.name}, voice {engine.voice_name})")
    cache = cache or SpeechCache(options.cache_dir or default_cache_dir(options.out))
    expanded = replace(compiled.expanded, settings=settings)
    texts = compiled.estimate.spoken_texts
    speech_started = time.monotonic()
    speech = synthesize_all(texts, engine, cache, progress=options.progress)
    speech_seconds = time.monotonic() - speech_started
    _say(f"speech: {len(texts)} cue{'' if len(texts) == 1 else 's'}, {speech.synthesised} synthesised, "
         f"{speech.cached} from the cache")

    # The timeline lies on the grid of the video that is made (a preview has its own rate).
    frame_rate = PREVIEW_FPS if options.preview else options.fps
    timeline = tl.build_timeline(expanded, speech.timer(), frame_rate=frame_rate)
    # The estimate's timing warnings are replaced by those measured on the real speech.
    warnings = [d for d in compiled.warnings if d.code not in TIMING_WARNINGS + SPEECH_WARNINGS] \
        + list(timeline.warnings)
    print_diagnostics(warnings, loader, "text", sys.stderr)
    if options.strict and warnings:
        _say(f"{path} has warnings and --strict is on; nothing was written")
        return None

    chapter_list = chapters.chapters(timeline)
    for problem in chapters.youtube_warnings(chapter_list):
        _say(f"{path}: warning: {problem}")
    cues = captions.caption_cues(timeline)

    staged = StagedOutputs(folder)
    try:
        timeline_json.write_timeline_json(staged.path(f"{name}.timeline.json"), timeline)
        captions.write_srt(staged.path(f"{name}.srt"), cues)
        captions.write_vtt(staged.path(f"{name}.vtt"), cues)
        chapters.write_chapters_txt(staged.path(f"{name}.chapters.txt"), chapter_list)
        # The practice page (issue #11): plays NAME.mp3 beside it, so it only needs the timeline.
        page.write_page(staged.path(f"{name}.html"), timeline, f"{name}.mp3")
        mixed = audio.normalise(audio.mix(timeline, speech.clips), target_lufs=options.loudness)
        mp3.write_mp3(staged.path(f"{name}.mp3"), mixed, audio.SAMPLE_RATE, settings.title, settings.author,
                      [(c.title, c.start, c.end) for c in chapter_list])
        if options.wav or options.video:
            # Without --wav the WAV is only the video's narration, so it is scratch.
            wav_path = (staged.path if options.wav else staged.scratch)(f"{name}.wav")
            audio.write_wav(wav_path, mixed, audio.SAMPLE_RATE)
        if options.video:
            from .renderers.video import render_video

            # Video segments are cached beside the speech, by what they show, across builds.
            stats = render_video(timeline, cues, wav_path, staged.path(f"{name}.mp4"), width=options.width,
                                 height=options.height, fps=options.fps, preview=options.preview,
                                 progress=options.progress, segment_dir=cache.directory / "video-segments",
                                 jobs=os.cpu_count() or 1)
            _say(f"video: {stats.segments} segments, {stats.made} made, {stats.reused} from the cache; "
                 f"narration: {stats.audio_chunks} chunks, {stats.audio_made} encoded")
        written = staged.commit()
    except BaseException:
        staged.discard()
        raise
    elapsed = time.monotonic() - started
    _say(f"done in {elapsed:.1f}s: a {clock(timeline.duration)} routine")
    for output in written:
        print(f"  {output}  ({_size(output)})")
    return BuildReport(tuple(written), timeline.duration, speech_seconds, elapsed, speech.synthesised,
                       speech.cached)


def variants_to_build(path: Path, compiled, wanted: str | None) -> list[tuple[str | None, str]]:
    """The variants ``--variant`` asks for, each with its outputs' name.

    The default (first declared) variant keeps the plain name ``STEM``, so a
    routine that gains variants keeps its outputs; any other is ``STEM.VARIANT``.
    """
    declared = [v.name for v in compiled.variants]
    chosen = declared if wanted == "all" else [wanted if wanted is not None else declared[0]]
    return [(v, path.stem if v == declared[0] else f"{path.stem}.{v}") for v in chosen]


def run_build(paths: list[str], options: BuildOptions) -> int:
    """``qidsl build``: build every routine named; exit 1 if any failed."""
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
    for path, compiled in zip(files, results):
        if compiled.errors:
            print_diagnostics(list(compiled.diagnostics), loader, "text", sys.stderr)
            _say(f"{path} has errors; nothing was built")
            status = EXIT_PROBLEMS
            continue
        if is_library(compiled.routine):
            _say(f"{path} only holds definitions for other routines to include; nothing to build")
            continue
        try:
            for variant, name in variants_to_build(path, compiled, options.variant):
                if build_one(path, compiled.variant(variant), loader, options, name) is None:
                    status = EXIT_PROBLEMS
        except BuildError as exc:
            _say(str(exc))
            _say(f"{path} was not built; earlier outputs were left as they were")
            status = EXIT_PROBLEMS
        except OSError as exc:
            where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
            _say(f"cannot write{where}: {exc.strerror or exc}")
            _say(f"{path} was not built; earlier outputs were left as they were")
            status = EXIT_PROBLEMS
    return status
