"""The ``qidsl`` command line: check, fmt, plan, build and voices.

Each command imports only what it needs: ``check``, ``fmt`` and ``plan``
never load moviepy, Piper or numpy.
Exit codes: 0 success, 1 problems in a routine (or a failed build), 2 a usage
problem (unknown option, missing file).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from . import __version__
from .lang.speech import ENGINES
from .profiles import PROFILES

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

DESCRIPTION = """\
Compile .qi movement and breathwork routines into narration, captions and video.

commands:
  check PATH...   find mistakes in routines (files, or folders searched for *.qi)
  fmt PATH...     rewrite routines in the one canonical layout
  plan FILE       show the estimated timeline of a routine
  build PATH...   make audio, captions, chapters, timeline, practice page and video in build/NAME/;
                  a folder with a programme.toml also gets index.html and a podcast feed.xml
  watch PATH      rebuild on every save and serve the practice page live on 127.0.0.1
  diff OLD NEW    what changed between two versions of a routine, for review
  import LESSON   a draft routine from a recorded lesson's captions (.srt or .vtt)
  export BUILD    the built timeline for video editors: --otio, --fcpxml, --edl
  cache [prune]   the store's size by product kind, or prune it (--max-size, --older-than)
  voices          list the speech engines and voices available here
  lsp             the language server for editors (over stdio; needs qidsl[lsp])

Run 'qidsl COMMAND --help' for a command's options.
"""


def _ranged(kind, low, high):
    """An argparse type that accepts ``kind`` values from ``low`` to ``high``."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, not '{text}'") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, not {text}")
        return value

    return parse


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage problems exit 2 with one line, as argparse does, minus the noise
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"qidsl: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="qidsl", usage="%(prog)s [-h] [--version] COMMAND ...", description=DESCRIPTION,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"qidsl {__version__}")
    # The commands are listed once, in DESCRIPTION; argparse's own list of them is left out.
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser, prog="qidsl",
                                     help=argparse.SUPPRESS)

    check = commands.add_parser("check", help="find mistakes in routines",
                                description="Check routines and report every problem with its line and column. "
                                "Exit 0 when clean, 1 on any error (or any warning with --strict), 2 on a "
                                "usage problem.")
    check.add_argument("paths", nargs="+", metavar="PATH", help=".qi files, or folders searched for *.qi")
    check.add_argument("--format", choices=("text", "json", "github", "sarif"), default="text",
                       help="text (default; coloured on a terminal), json (a list of diagnostics, see "
                       "docs/cli.md), github (workflow annotations) or sarif (SARIF 2.1.0 for code scanning)")
    check.add_argument("--strict", action="store_true", help="treat warnings as errors")
    _level_option(check)
    _profile_option(check)

    fmt = commands.add_parser("fmt", help="rewrite routines in the canonical layout",
                              description="Rewrite routines in the one canonical layout, keeping comments "
                              "and meaning. Files are rewritten atomically.")
    fmt.add_argument("paths", nargs="+", metavar="PATH", help=".qi files, or folders searched for *.qi; - alone "
                     "reads standard input and writes standard output")
    fmt.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file would change")
    fmt.add_argument("--diff", action="store_true", help="change nothing; print what would change")

    plan = commands.add_parser("plan", help="show the estimated timeline",
                               description="Print a table of the estimated timeline with per-section and "
                               "total durations: a Piper voice times its own speech (without making it, about "
                               "15 ms a sentence), other voices at the pace measured for them; scaled by rate.")
    plan.add_argument("path", metavar="FILE", help="a .qi file")
    plan.add_argument("--quick", action="store_true", help="answer at once, at the pace measured for the voice "
                      "(as check does), without loading a Piper voice")
    plan.add_argument("--variant", metavar="NAME", help="the variant whose timeline is shown (default: the "
                      "first declared); every variant's time per section is shown below it")
    _level_option(plan)

    build = commands.add_parser("build", help="make narration, captions, chapters and video",
                                description="Build each routine into OUT/NAME/: NAME.mp4, NAME.mp3, NAME.srt, "
                                "NAME.vtt, NAME.chapters.txt, NAME.timeline.json and NAME.html (the practice "
                                "page). Every file is written "
                                "under a temporary name and renamed into place.")
    build.add_argument("paths", nargs="+", metavar="PATH", help=".qi files, or folders searched for *.qi")
    build.add_argument("--out", default="build", metavar="DIR", help="output folder (default: build)")
    build.add_argument("--no-video", action="store_true", help="make everything but the video")
    build.add_argument("--engine", choices=tuple(ENGINES), help="speech engine (default: the routine's "
                       "engine: setting, else the best offline voice of its language: piper for English, "
                       "pico for German, French, Spanish and Italian, espeak for the rest; see qidsl voices)")
    build.add_argument("--voice", help="Piper voice: joe (bundled, English; it reads another language only "
                       "when named) or a path to a .onnx voice file; means --engine piper unless --engine "
                       "is given. Several, comma-separated (joe,voices/other.onnx,espeak: an engine's name "
                       "means its voice for the routine's language), build each routine once per voice into "
                       "OUT/NAME/VOICE/")
    build.add_argument("--tld", default="com", help="gTTS accent domain, e.g. co.uk, com.au (default: com)")
    build.add_argument("--cache-dir", metavar="DIR", help="the store of speech, sounds and video segments "
                       "(default: $QIDSL_CACHE_DIR, else OUT/.cache)")
    build.add_argument("--cache-max-size", metavar="SIZE", help="prune the store to SIZE after the build, least "
                       "recently used first, e.g. 500M, 2G, or none (default: $QIDSL_CACHE_MAX_SIZE, else 2G)")
    build.add_argument("--loudness", type=_ranged(float, -40, -5), default=-16.0, metavar="LUFS",
                       help="integrated loudness target, -40 to -5 (default: -16)")
    build.add_argument("--wav", action="store_true", help="also write NAME.wav")
    build.add_argument("--resolution", choices=("720p", "1080p"), default="720p", help="video size")
    build.add_argument("--fps", type=_ranged(int, 1, 60), default=30,
                       help="video frame rate, 1 to 60 (default: 30)")
    build.add_argument("--preview", action="store_true", help="a fast low-resolution draft video")
    build.add_argument("--strict", action="store_true", help="treat warnings as errors")
    build.add_argument("-j", "--jobs", type=_ranged(int, 1, 256), default=None, metavar="N",
                       help="work on N things side by side: routines, encodes and video segments "
                       "(default: the number of cores)")
    build.add_argument("--variant", metavar="NAME", help="the variant to build, or 'all' (default: the first "
                       "declared); other variants are written as NAME.VARIANT.*")
    build.add_argument("--cluster", metavar="ADDRESS", help="make the build's products as Dask tasks on a "
                       "running dask.distributed scheduler (tcp://host:8786, tls://host:8786), or local:N for a "
                       "local cluster of N worker processes; the store must be a folder every worker sees at the "
                       "same path. Needs pip install 'qidsl[cluster]' (docs/cluster.md)")
    build.add_argument("--base-url", metavar="URL", help="where a programme (a folder with a programme.toml) "
                       "is published, e.g. https://example.org/qigong; its feed.xml is written only with it")
    _level_option(build)
    _profile_option(build)

    diff = commands.add_parser("diff", help="what changed between two versions of a routine",
                               description="Compare two versions of a routine for review: time per section "
                               "before and after, sections added, removed or moved, cues added, removed or "
                               "reworded, and how many cues a build would synthesise anew. '-' reads one "
                               "version from standard input (git show REV:path | qidsl diff - path).")
    diff.add_argument("old", metavar="OLD", help="the earlier version (a .qi file, or - for standard input)")
    diff.add_argument("new", metavar="NEW", help="the later version (a .qi file, or - for standard input)")
    diff.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")

    lesson = commands.add_parser(
        "import", help="a draft routine from a lesson's captions",
        description="Write a draft .qi routine from the captions of a recorded lesson (SRT or WebVTT): cues "
        "become say, inhale, exhale or hold by their words, silences pause or stay, a passage that comes back "
        "straight after itself repeat N. Read the draft through: it is a start, not a finished routine.")
    lesson.add_argument("path", metavar="LESSON", help="a .srt or .vtt file")
    lesson.add_argument("-o", "--out", metavar="FILE", help="where to write the draft (default: LESSON with "
                        ".qi; - for standard output)")
    lesson.add_argument("--title", help="the routine's title (default: from the file name)")
    lesson.add_argument("--language", help="the lesson's language, a BCP-47 tag such as en or de (default: "
                        "the WebVTT header's Language:, else en); breath cues are recognised in en, de, fr, es, "
                        "it, pt and nl")
    lesson.add_argument("--force", action="store_true", help="replace the draft file if it exists")

    export = commands.add_parser(
        "export", help="the built timeline for video editors",
        description="Write a built routine's timeline for video editors with OpenTimelineIO: a narration "
        "track with each sentence as a clip of NAME.mp3, the bell (NAME.bell.wav, written beside), the video "
        "when built, sections as markers, and NAME.srt beside. Needs pip install 'qidsl[export]'.")
    export.add_argument("path", metavar="BUILD", help="a NAME.timeline.json, or the build folder holding one")
    export.add_argument("--otio", dest="formats", action="append_const", const="otio",
                        help="OpenTimelineIO's own JSON (NAME.otio)")
    export.add_argument("--fcpxml", dest="formats", action="append_const", const="fcpxml",
                        help="Final Cut Pro X XML (NAME.fcpxml; DaVinci Resolve and Premiere import it)")
    export.add_argument("--edl", dest="formats", action="append_const", const="edl",
                        help="a CMX 3600 edit decision list (NAME.edl)")
    export.add_argument("-o", "--out", metavar="DIR", help="folder for the export (default: the build's)")
    export.add_argument("--fps", type=_ranged(int, 1, 60), default=30,
                        help="the frame rate the build's video was made at (default: 30)")

    watch = commands.add_parser(
        "watch", help="rebuild on every save and serve the practice page",
        description="Check and build routines on every save and serve their practice pages on 127.0.0.1; an "
        "open page reloads itself, keeping its place, when a new build is ready, and shows the mistakes of a "
        "routine saved with errors. The preview (OUT/.watch/NAME/) has the page, timeline, captions and a WAV "
        "of the narration; 'qidsl build' makes the loudness-normalised MP3. Ctrl-C stops.")
    watch.add_argument("paths", nargs="+", metavar="PATH", help="a .qi file, or a folder searched for *.qi")
    watch.add_argument("--out", default="build", metavar="DIR", help="output folder (default: build)")
    watch.add_argument("--port", type=_ranged(int, 0, 65535), default=8765,
                       help="port on 127.0.0.1 (default: 8765; 0 picks a free one)")
    watch.add_argument("--video", action="store_true", help="also build the full outputs and video in "
                       "OUT/NAME/ after each save")
    watch.add_argument("--engine", choices=tuple(ENGINES), help="speech engine (default: as for build)")
    watch.add_argument("--voice", help="Piper voice: joe (bundled) or a path to a .onnx voice file; means "
                       "--engine piper unless --engine is given")
    watch.add_argument("--tld", default="com", help="gTTS accent domain (default: com)")
    watch.add_argument("--cache-dir", metavar="DIR", help="the store of speech and products (default: "
                       "$QIDSL_CACHE_DIR, else OUT/.cache)")

    cache = commands.add_parser("cache", help="show or prune the store of speech, sounds and video segments",
                                description="Show the store's size by product kind, or prune it: least "
                                "recently used entries first, never one a running build holds.")
    cache.add_argument("action", nargs="?", choices=("show", "prune"), default="show",
                       help="show (default) or prune")
    cache.add_argument("--out", default="build", metavar="DIR", help="the builds' output folder, whose .cache "
                       "is the store unless $QIDSL_CACHE_DIR or --cache-dir says otherwise (default: build)")
    cache.add_argument("--cache-dir", metavar="DIR", help="the store (default: $QIDSL_CACHE_DIR, else OUT/.cache)")
    cache.add_argument("--max-size", metavar="SIZE", help="prune: remove entries until the store holds at most "
                       "SIZE, e.g. 50M, 2G")
    cache.add_argument("--older-than", metavar="AGE", help="prune: remove entries unused for AGE, e.g. 30d, 12h")

    commands.add_parser("voices", help="list engines and voices", description="List the speech engines and "
                        "voices available on this machine: offline, and online (gTTS), with the languages each speaks.")

    lsp = commands.add_parser("lsp", help="the language server for editors",
                              description="Speak the Language Server Protocol on standard input and output: "
                              "diagnostics as you type, formatting, hover, completion, definitions. Editors "
                              "start it themselves (see docs/editors.md). Needs pip install 'qidsl[lsp]'.")
    lsp.add_argument("--stdio", action="store_true", help="accepted for editors that pass it; stdio is the "
                     "only transport")
    return parser


def _level_option(command) -> None:
    command.add_argument("--level", choices=("beginner", "intermediate", "advanced"),
                         help="the breath-safety level, instead of the routine's level: setting")


def _profile_option(command) -> None:
    command.add_argument("--profile", choices=PROFILES,
                         help="check against a platform's published rules (docs/profiles.md) and, in build, make "
                         "what it needs: youtube (NAME.youtube.txt, a description with chapters and tags), "
                         "insight-timer (NAME.insight-timer.mp3 at 128 kbit/s), podcast (the MP3's episode tags)")


def _stop_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt so a stopped build cleans up its temporary files."""
    import signal

    def handler(signum, frame):
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (embedded use): leave signals alone
        pass


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    return _run(_parser().parse_args(argv))


# Commands that leave no thread, temporary file or exit handler behind when they return.
_ENDS_AT_ONCE = ("check", "fmt")


def program() -> NoReturn:
    """The ``qidsl`` program (the entry point pyproject.toml installs): :func:`main`, then exit.

    After ``check`` and ``fmt`` the process ends at once (``os._exit``, its
    output flushed first): freeing a large routine's model, steps and
    estimate object by object took about 50 ms after 20,000 lines, longer
    than the whole check of the shipped routine.  The other commands exit as
    usual, running their exit handlers.
    """
    args = _parser().parse_args()
    code = _run(args)
    if args.command in _ENDS_AT_ONCE:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:  # a closed pipe: Python's own exit says so, as before
            sys.exit(code)
        os._exit(code)
    sys.exit(code)


def _run(args: argparse.Namespace) -> int:
    if args.command in ("build", "watch"):
        _stop_on_sigterm()
    if args.command is None:
        _parser().print_help()
        return EXIT_USAGE
    try:
        if args.command == "check":
            from .commands import run_check
            return run_check(args.paths, args.format, args.strict, args.level, args.profile)
        if args.command == "fmt":
            from .commands import run_fmt
            return run_fmt(args.paths, check_only=args.check, diff=args.diff)
        if args.command == "plan":
            from .commands import run_plan
            return run_plan(args.path, args.level, args.variant, quick=args.quick)
        if args.command == "diff":
            from .diff import run_diff
            return run_diff(args.old, args.new, args.format)
        if args.command == "import":
            from .importer import run_import
            return run_import(args.path, args.out, args.title, args.language, args.force)
        if args.command == "export":
            from .export import run_export
            return run_export(args.path, args.formats or ["otio"], args.out, args.fps)
        if args.command == "lsp":
            from .lsp import main as serve_lsp
            return serve_lsp()
        if args.command == "voices":
            from .engines.voices import list_voices
            print("\n".join(list_voices()))
            return EXIT_OK
        if args.command == "cache":
            from .commands import run_cache
            return run_cache(args.action, args.out, args.cache_dir, args.max_size, args.older_than)
        if args.command == "watch":
            from .watch import WatchOptions, run_watch
            return run_watch(args.paths, WatchOptions.from_args(args))
        from .build import BuildOptions, run_build
        try:
            options = BuildOptions.from_args(args)
        except ValueError as exc:
            print(f"qidsl: {exc}", file=sys.stderr)
            return EXIT_USAGE
        return run_build(args.paths, options)
    except KeyboardInterrupt:
        print("qidsl: interrupted; earlier outputs were left as they were", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head`: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a bug of ours: one sentence for the user, the traceback on request
        if os.environ.get("QIDSL_DEBUG"):
            raise
        print(f"qidsl: internal error ({type(exc).__name__}: {exc}); earlier outputs were left as they "
              "were. Run again with QIDSL_DEBUG=1 to see the details, and please report it.", file=sys.stderr)
        return EXIT_PROBLEMS


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
