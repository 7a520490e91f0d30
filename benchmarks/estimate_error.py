"""How far ``plan``'s estimate lands from the built length, for every routine we ship or test.

For each routine in routines/ and tests/cases/valid/ this compiles it (the
estimate ``qidsl plan`` prints), speaks its cues with the engine the build
would use (through a speech cache kept in build/.cache-estimate, so a second
run is quick) and lays out the exact timeline, whose duration is the length
of the built MP3 and MP4.  It prints both lengths and the estimate's error;
the target is within 2 %.  A routine whose engine needs the network (gTTS)
is listed but not measured: gTTS is never called from here.

``--fit`` prints, per engine (and Pico voice), the least-squares fit of the
sentence-length model of :class:`qidsl.lang.speech.Pace` on every sentence
of those routines, each synthesised on its own: the numbers in the registry
come from it.

Usage: python benchmarks/estimate_error.py [--fit] [ROUTINE ...]
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qidsl.build import BuildOptions  # noqa: E402
from qidsl.compile import compile_routine  # noqa: E402
from qidsl.engines.cache import SpeechCache  # noqa: E402
from qidsl.engines.espeak_engine import EspeakEngine  # noqa: E402
from qidsl.engines.synthesize import make_engine, synthesize_all  # noqa: E402
from qidsl.engines.timing import split_sentences  # noqa: E402
from qidsl.lang.check import is_library  # noqa: E402
from qidsl.lang.loader import Loader  # noqa: E402
from qidsl.lang.speech import ENGINES  # noqa: E402
from qidsl.timeline import build_timeline, sentence_features  # noqa: E402

CACHE = ROOT / "build" / ".cache-estimate"


def routines(args: list[str]) -> list[Path]:
    if args:
        return [Path(a) for a in args]
    return sorted((ROOT / "routines").glob("*.qi")) + sorted((ROOT / "tests" / "cases" / "valid").glob("*.qi"))


def compiled_routines(paths: list[Path]):
    loader = Loader()
    for path in paths:
        compiled = compile_routine(path, loader)
        if compiled.errors or is_library(compiled.routine):
            continue
        yield path, compiled


def measure(paths: list[Path]) -> int:
    cache = SpeechCache(CACHE)
    worst, started = 0.0, time.monotonic()
    print(f"{'routine':<32} {'engine':<7} {'estimate':>9} {'built':>9} {'error':>7}")
    for path, compiled in compiled_routines(paths):
        settings = compiled.settings
        name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        if settings.engine is None or not ENGINES[settings.engine].offline:
            print(f"{str(name):<32} {str(settings.engine):<7} {compiled.estimate.duration:>8.1f}s "
                  f"{'-':>9} {'online, not measured':>7}")
            continue
        engine = make_engine(settings, base_dir=path.parent)
        speech = synthesize_all(compiled.estimate.spoken_texts, engine, cache, progress=False)
        # As `qidsl build` lays it: on the video's frame grid, at its default frame rate.
        built = build_timeline(compiled.expanded, speech.timer(), frame_rate=BuildOptions().fps).duration
        estimate = compiled.estimate.duration
        error = (estimate - built) / built
        worst = max(worst, abs(error))
        print(f"{str(name):<32} {settings.engine:<7} {estimate:>8.1f}s {built:>8.1f}s {error:>+7.2%}")
    print(f"worst error: {worst:.2%} (target: within 2 %); {time.monotonic() - started:.1f}s")
    return 0 if worst <= 0.02 else 1


def fit(paths: list[Path]) -> None:
    """Least squares of sentence length on the Pace model's features, per engine and voice."""
    import numpy as np

    samples: dict[tuple[str, str], dict[str, float]] = {}
    engines = {}
    for path, compiled in compiled_routines(paths):
        settings = compiled.settings
        if settings.engine is None or not ENGINES[settings.engine].offline:
            continue
        # eSpeak NG is fitted on every routine's language, not only those it is chosen for.
        # Paces are for rate 1; the estimate divides by the routine's rate.
        settings = replace(settings, rate=1.0)
        for engine in (make_engine(settings, base_dir=path.parent),
                       make_engine(replace(settings, engine="espeak"), base_dir=path.parent)):
            # eSpeak NG: one fit per language, and one over all of them for the other languages.
            for key in [(engine.name, engine.voice_name)] + ([("espeak", "all")] if engine.name == "espeak" else []):
                engines.setdefault(key, engine)
                for text in compiled.estimate.spoken_texts:
                    for sentence in split_sentences(text):
                        samples.setdefault(key, {})[(engine.voice_name, sentence)] = 0.0
    for key, sentences in samples.items():
        cache, lengths = SpeechCache(CACHE), []
        for voice, sentence in sentences:
            engine = engines[key] if key[0] != "espeak" else EspeakEngine(voice)
            lengths.append(synthesize_all([sentence], engine, cache, progress=False).clips[sentence].duration)
        rows = np.array([[1.0, *sentence_features(s)] for _, s in sentences])
        lengths = np.array(lengths)
        coef, *_ = np.linalg.lstsq(rows, lengths, rcond=None)
        residual = lengths - rows @ coef
        names = ("base", "per_letter", "per_break", "per_spelled", "per_symbol", "per_digit")
        unseen = [names[i] for i in range(1, len(names)) if not rows[:, i].any()]
        print(f"{key[0]:<7} {key[1]:<18} n={len(lengths):<4} "
              f"Pace({', '.join(f'{c:.4f}' for c in coef)})  rms residual "
              f"{np.sqrt(np.mean(residual ** 2)):.3f}s of mean {lengths.mean():.2f}s"
              + (f"; no data for {', '.join(unseen)}" if unseen else ""))


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--fit"]
    if "--fit" in sys.argv[1:]:
        fit(routines(arguments))
    else:
        sys.exit(measure(routines(arguments)))
