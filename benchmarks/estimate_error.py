"""How far ``plan``'s estimate lands from the built length, for every routine we ship or test.

For each routine in routines/ and tests/cases/valid/ this makes the estimate
``qidsl plan`` prints (for Piper, timed by the voice's own duration predictor,
:mod:`qidsl.engines.piper_timing`; for the other engines, at their pace of
letters, which ``check``, ``diff`` and the editor's hover use for every
engine: its error is printed beside), speaks its cues with the engine the build
would use (through a speech cache kept in build/.cache-estimate, so a second
run is quick) and lays out the exact timeline, whose duration is the length
of the built MP3 and MP4.  It prints both lengths and the estimate's error;
the target is within 2 %.  A routine whose engine needs the network (gTTS)
is listed but not measured: gTTS is never called from here.

Piper is not deterministic: its duration predictor draws noise (the voice's
``noise_w``), so the same sentence lasts a little longer or shorter on each
synthesis (about 0.03 s, 2.5 %, standard deviation for joe), and a clean
build of a short routine can come out 0.1 s longer or shorter than the last
one.  A single cached synthesis would make the figure one draw of that noise,
so every cue is synthesised ``--draws`` times (3 unless told; each draw is
cached apart) and the table shows the mean built length, the spread between
draws and the error against the mean; "worst draw" is the error against the
draw farthest from the estimate.

``--fit`` prints, per engine (and Pico voice), the least-squares fit of the
sentence-length model of :class:`qidsl.lang.speech.Pace` on every sentence
of those routines, each synthesised on its own (its length the mean of the
draws): the numbers in the registry come from it.  For Piper it also prints
how the voice-timed lengths fare at several rates (and the constants of
:mod:`qidsl.engines.piper_timing` that fit them best), and how far a fit on
the voice's phonemes in place of letters gets:
about 0.05 s a sentence for the voice's timing, 0.13 s for its phonemes and
0.15 s for letters, the rest being the voice's own way with each sentence.

Usage: python benchmarks/estimate_error.py [--fit] [--draws N] [ROUTINE ...]
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qidsl.build import BuildOptions  # noqa: E402
from qidsl.commands import timed_by_voice  # noqa: E402
from qidsl.compile import compile_routine  # noqa: E402
from qidsl.engines.cache import SpeechCache  # noqa: E402
from qidsl.engines.espeak_engine import EspeakEngine  # noqa: E402
from qidsl.engines.piper_engine import PiperEngine  # noqa: E402
from qidsl.engines.piper_timing import EDGE_SECONDS, FRAME_SCALE, ID_FRAMES, PiperTiming  # noqa: E402
from qidsl.engines.synthesize import make_engine, synthesize_all  # noqa: E402
from qidsl.engines.timing import split_sentences  # noqa: E402
from qidsl.lang.check import is_library  # noqa: E402
from qidsl.lang.loader import Loader  # noqa: E402
from qidsl.lang.speech import ENGINES, symbol_names_for  # noqa: E402
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


class Draw:
    """``engine``'s ``number``-th synthesis of each text, cached apart from the others (draw 0 is the usual one)."""

    def __init__(self, engine, number: int):
        self.engine, self.number = engine, number
        self.name, self.voice_id, self.version = engine.name, engine.voice_id, engine.version

    def settings_key(self) -> str:
        key = self.engine.settings_key()
        return key if self.number == 0 else f"{key};draw={self.number}"

    def synthesize(self, text: str):
        return self.engine.synthesize(text)


def measure(paths: list[Path], draws: int) -> int:
    cache = SpeechCache(CACHE)
    worst, worst_draw, started = 0.0, 0.0, time.monotonic()
    print(f"{'routine':<40} {'engine':<7} {'estimate':>9} {'built':>9} {'spread':>7} {'error':>7} {'worst draw':>10}"
          f"  {'letters':>8}")
    for path, compiled in compiled_routines(paths):
        settings = compiled.settings
        name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        if settings.engine is None or not ENGINES[settings.engine].offline:
            print(f"{str(name):<40} {str(settings.engine):<7} {compiled.estimate.duration:>8.1f}s "
                  f"{'-':>9} {'':>7} {'online, not measured'}")
            continue
        engine = make_engine(settings, base_dir=path.parent)
        letters = compiled.estimate.duration
        estimate, lengths = timed_by_voice(compiled, path.parent)[0].estimate.duration, []
        for number in range(draws):
            speech = synthesize_all(compiled.estimate.spoken_texts, Draw(engine, number), cache, progress=False)
            # As `qidsl build` lays it: on the video's frame grid, at its default frame rate.
            lengths.append(build_timeline(compiled.expanded, speech.timer(), frame_rate=BuildOptions().fps).duration)
        built = sum(lengths) / len(lengths)
        error = (estimate - built) / built
        far = max(((estimate - length) / length for length in lengths), key=abs)
        worst, worst_draw = max(worst, abs(error)), max(worst_draw, abs(far))
        print(f"{str(name):<40} {settings.engine:<7} {estimate:>8.1f}s {built:>8.1f}s "
              f"{max(lengths) - min(lengths):>6.2f}s {error:>+7.2%} {far:>+10.2%}  {(letters - built) / built:>+8.2%}")
    print(f"worst error: {worst:.2%} against the mean of {draws} draws, {worst_draw:.2%} against a single draw "
          f"(target: within 2 %); {time.monotonic() - started:.1f}s")
    return 0 if worst <= 0.02 else 1


def fit(paths: list[Path], draws: int) -> None:
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
                        samples.setdefault(key, {})[(engine.voice_name, sentence)] = settings.language
    for key, sentences in samples.items():
        cache, lengths = SpeechCache(CACHE), []
        for voice, sentence in sentences:
            engine = engines[key] if key[0] != "espeak" else EspeakEngine(voice)
            # The mean of the draws: Piper's lengths vary from one synthesis to the next.
            lengths.append(sum(synthesize_all([sentence], Draw(engine, number), cache, progress=False)
                               .clips[sentence].duration for number in range(draws)) / draws)
        rows = np.array([[1.0, *sentence_features(s, symbol_names=symbol_names_for(language))]
                         for (_, s), language in sentences.items()])
        lengths = np.array(lengths)
        coef, *_ = np.linalg.lstsq(rows, lengths, rcond=None)
        residual = lengths - rows @ coef
        names = ("base", "per_letter", "per_break", "per_spelled", "per_symbol", "per_digit")
        unseen = [names[i] for i in range(1, len(names)) if not rows[:, i].any()]
        print(f"{key[0]:<7} {key[1]:<18} n={len(lengths):<4} "
              f"Pace({', '.join(f'{c:.4f}' for c in coef)})  rms residual "
              f"{np.sqrt(np.mean(residual ** 2)):.3f}s of mean {lengths.mean():.2f}s"
              + (f"; no data for {', '.join(unseen)}" if unseen else ""))
        if key[0] == "piper":
            voice_timing(engines[key], [s for _, s in sentences], lengths)
            phoneme_bound(engines[key], [s for _, s in sentences], lengths)


FIT_RATES = (0.75, 1.0, 1.5, 2.0)


def voice_timing(engine, sentences: list[str], lengths) -> None:
    """How far the voice's own timing (what ``plan`` uses for Piper) is from the measured lengths, and its fit.

    The constants of :mod:`qidsl.engines.piper_timing` are fitted at several rates: at rate 1 on the
    mean of the draws, at the others on one synthesis each (cached).
    """
    import numpy as np

    cache, rows, measured, rates = SpeechCache(CACHE), [], [], []
    for rate in FIT_RATES:
        timer = PiperTiming(str(engine.model_path), rate=rate)
        timer.prepare(sentences, progress=False)
        spoken = PiperEngine(str(engine.model_path), rate=rate)
        config = timer._load().config
        frame_seconds = config.hop_length / config.sample_rate
        for sentence, length in zip(sentences, lengths):
            parts = timer.predicted_frames(sentence)
            if len(parts) != 1:
                continue  # said in two parts with a pause between: not a plain sample
            if rate != 1.0:
                length = synthesize_all([sentence], spoken, cache, progress=False).clips[sentence].duration
            frames, ids = parts[0]
            rows.append([frames * frame_seconds, ids * frame_seconds, 1.0])
            measured.append(length)
            rates.append(rate)
    rows, measured, rates = np.array(rows), np.array(measured), np.array(rates)
    now = measured - rows @ np.array([FRAME_SCALE, ID_FRAMES, EDGE_SECONDS])
    coef, *_ = np.linalg.lstsq(rows, measured, rcond=None)
    fitted = measured - rows @ coef
    bias = ", ".join(f"{rate:g}: {now[rates == rate].mean():+.3f}s" for rate in FIT_RATES)
    print(f"{'':<7} {'(voice timing)':<18} n={len(measured):<4} rms residual {np.sqrt(np.mean(now ** 2)):.3f}s "
          f"(mean by rate {bias}); fit FRAME_SCALE={coef[0]:.3f} ID_FRAMES={coef[1]:.2f} "
          f"EDGE_SECONDS={coef[2]:.3f} leaves {np.sqrt(np.mean(fitted ** 2)):.3f}s")


def phoneme_bound(engine, sentences: list[str], lengths) -> None:
    """How well the voice's own phonemes (what Piper really speaks) would do in place of letters.

    The sounds (eSpeak NG's phonemes, as Piper reads them) and the pauses at
    punctuation, fitted the same way: about what a better spelling model
    could reach at best.
    """
    import numpy as np

    voice = engine._load()
    rows = []
    for sentence in sentences:
        phonemes = "".join("".join(part) for part in voice.phonemize(sentence))
        rows.append([1.0, sum(1 for c in phonemes if c.isalpha()), sum(1 for c in phonemes if c in ",:;")])
    rows = np.array(rows)
    coef, *_ = np.linalg.lstsq(rows, lengths, rcond=None)
    residual = lengths - rows @ coef
    print(f"{'':<7} {'(phonemes)':<18} n={len(lengths):<4} rms residual {np.sqrt(np.mean(residual ** 2)):.3f}s "
          f"with the voice's own phonemes and pauses instead of letters")


if __name__ == "__main__":
    arguments, draws = sys.argv[1:], 3
    if "--draws" in arguments:
        at = arguments.index("--draws")
        draws = max(1, int(arguments[at + 1]))
        del arguments[at:at + 2]
    if "--fit" in arguments:
        fit(routines([a for a in arguments if a != "--fit"]), draws)
    else:
        sys.exit(measure(routines(arguments), draws))
