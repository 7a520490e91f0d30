"""The offline voices side by side: how fast they speak and how they sound, measured without ears.

For each voice it speaks a few sentences of a routine in the voice's
language and prints:
  - synthesis speed as a multiple of real time, and its ratio to Piper's
    joe on English (the baseline, run in the same process);
  - the pace: letters per second of speech, pauses left out;
  - pitch: median F0 in Hz and its spread in semitones (a flat voice has
    little spread; a natural one moves two to four semitones);
  - brightness: the frequency under which 95 % of the energy lies (Pico works
    at 16 kHz, so nothing passes 8 kHz);
  - quiet frames inside sentences (pauses at commas, stops);
  - clipped samples in the engine's own output before levelling.

Figures are noisy on a shared machine.  Usage: python benchmarks/voices.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qidsl.engines.espeak_engine import EspeakEngine  # noqa: E402
from qidsl.engines.pico_engine import PicoEngine  # noqa: E402
from qidsl.engines.piper_engine import PiperEngine  # noqa: E402
from qidsl.engines.timing import split_sentences  # noqa: E402

TEXTS = {
    "en": "Stand with your feet shoulder-width apart, knees soft. Breathe in through the nose. "
          "Let the breath go, all the way down.",
    "de": "Stell dich hin, die Füße schulterbreit auseinander, die Knie weich. Atme durch die Nase ein. "
          "Lass den Atem ganz nach unten ausströmen.",
    "fr": "Tenez-vous debout, les pieds écartés de la largeur des épaules, les genoux souples. "
          "Inspirez par le nez. Laissez le souffle descendre jusqu'en bas.",
    "es": "Ponte de pie, con los pies separados al ancho de los hombros y las rodillas sueltas. "
          "Inspira por la nariz. Deja salir el aire hasta abajo.",
    "it": "Stai in piedi, con i piedi alla larghezza delle spalle e le ginocchia morbide. "
          "Inspira dal naso. Lascia andare il respiro fino in fondo.",
    "sv": "Stå med fötterna axelbrett isär och mjuka knän. Andas in genom näsan. Låt andetaget gå hela vägen ner.",
    "zh": "双脚与肩同宽，膝盖微屈。用鼻子吸气。慢慢地把气呼出去。",
}


def f0_track(samples: np.ndarray, rate: int) -> np.ndarray:
    """F0 of each voiced 40 ms frame by autocorrelation (60 to 400 Hz)."""
    frame, hop = int(0.04 * rate), int(0.01 * rate)
    lo, hi = int(rate / 400), int(rate / 60)
    loudest = np.max(np.abs(samples)) or 1.0
    found = []
    for start in range(0, len(samples) - frame, hop):
        x = samples[start:start + frame].astype(np.float64)
        if np.sqrt(np.mean(x * x)) < 0.1 * loudest * 0.3:
            continue
        x = x - x.mean()
        corr = np.correlate(x, x, "full")[frame - 1:]
        if corr[0] <= 0:
            continue
        lag = lo + int(np.argmax(corr[lo:hi]))
        if corr[lag] / corr[0] > 0.5:  # clearly periodic: voiced
            found.append(rate / lag)
    return np.array(found)


def rolloff(samples: np.ndarray, rate: int, share: float = 0.95) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64))) ** 2
    cumulative = np.cumsum(spectrum)
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.searchsorted(cumulative, share * cumulative[-1])])


def quiet_share(clip) -> float:
    """Share of 10 ms frames inside the sentences that are 30 dB under the loudest."""
    frame = clip.sample_rate // 100
    quiet = total = 0
    for sentence in clip.sentences:
        part = clip.samples[int(sentence.start * clip.sample_rate):int(sentence.end * clip.sample_rate)]
        levels = np.sqrt(np.mean(part[: len(part) // frame * frame].reshape(-1, frame) ** 2, axis=1))
        quiet += int(np.sum(levels < levels.max() * 0.03))
        total += len(levels)
    return quiet / max(total, 1)


def raw_clipping(engine, text: str) -> int:
    """Samples at full scale in the engine's own output, before assemble() levels it."""
    if isinstance(engine, PicoEngine):
        from qidsl.engines import pico_engine

        tts = engine._load()
        pcm = tts.speak(text, voice=engine.voice, speed=engine.rate, volume=pico_engine.VOLUME)
        return int(np.sum(np.abs(np.frombuffer(pcm, "<i2").astype(np.int32)) >= 32767))
    if isinstance(engine, EspeakEngine):
        from qidsl.engines.espeak_engine import _library

        return int(np.sum(np.abs(_library().speak(text, engine.voice, engine.wpm)[0]) >= 0.9999))
    return 0  # Piper's output is float and not normalised (normalize_audio=False)


def measure(label: str, engine, language: str) -> dict:
    text = TEXTS[language]
    engine.synthesize("Ready.")  # load the voice outside the timing
    started = time.perf_counter()
    clip = engine.synthesize(text)
    seconds = time.perf_counter() - started
    letters = sum(1 for c in text if c.isalpha())
    spoken = sum(s.end - s.start for s in clip.sentences)
    f0 = f0_track(clip.samples, clip.sample_rate)
    spread = float(np.std(12 * np.log2(f0 / np.median(f0)))) if len(f0) else float("nan")
    return dict(label=label, speed=clip.duration / seconds, pace=letters / spoken,
                f0=float(np.median(f0)) if len(f0) else float("nan"), spread=spread,
                rolloff=rolloff(clip.samples, clip.sample_rate), quiet=quiet_share(clip),
                clipped=sum(raw_clipping(engine, s) for s in split_sentences(text)), rate=clip.sample_rate)


def main() -> None:
    rows = [measure("piper joe (en)", PiperEngine(), "en")]
    for voice in ("en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "it-IT"):
        rows.append(measure(f"pico {voice}", PicoEngine(voice), voice[:2]))
    for voice, language in (("en", "en"), ("de", "de"), ("fr", "fr"), ("sv", "sv"), ("cmn", "zh")):
        rows.append(measure(f"espeak {voice}", EspeakEngine(voice), language))
    baseline = rows[0]["speed"]
    print(f"{'voice':<16} {'x real time':>11} {'vs joe':>7} {'letters/s':>9} {'F0 Hz':>6} {'F0 spread':>9} "
          f"{'95% under':>9} {'quiet':>6} {'clipped':>7} {'Hz':>6}")
    for r in rows:
        print(f"{r['label']:<16} {r['speed']:>10.0f}x {r['speed'] / baseline:>6.1f}x {r['pace']:>9.1f} "
              f"{r['f0']:>6.0f} {r['spread']:>7.1f}st {r['rolloff']:>7.0f}Hz {r['quiet']:>6.0%} {r['clipped']:>7} "
              f"{r['rate']:>6}")


if __name__ == "__main__":
    main()
