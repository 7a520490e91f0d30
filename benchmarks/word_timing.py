"""How close each spoken word's start lands to where a recogniser hears it, on the shipped routine.

Every distinct sentence of routines/rolling-the-hands-backwards.qi is spoken
by the build's voice (Piper, joe), which times each word from its own
alignment (:mod:`qidsl.engines.piper_engine`).  pocketsphinx (CMU Sphinx,
from PyPI, its bundled US English model) is then forced to align the
sentence's words with the same audio, and each word's start from the voice
is compared with the recogniser's.  The figure is the share of word starts
within 0.1 s of it (target: at least 90 %); beside it, the same share for
the estimate the other engines get (words timed by their letters inside the
sentence, :func:`qidsl.engines.timing.estimate_words`), run on the same
sentences in the same process as the baseline.

A sentence with a word the recogniser's dictionary lacks ("Tian", "qi") is
left out and counted; numbers are spelled out for the recogniser only.

Usage: python benchmarks/word_timing.py [-v] [ROUTINE]   (-v: the mean and median difference too)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOLERANCE = 0.1  # seconds
RECOGNISER_RATE = 16000
FRAME = 0.01  # pocketsphinx's frames are 10 ms
NUMBERS = {"1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six", "7": "seven",
           "8": "eight", "9": "nine", "10": "ten"}


def _recogniser_word(text: str) -> str:
    word = re.sub(r"[^\w'-]", "", text.lower()).strip("'-")
    return NUMBERS.get(word, word)


def _aligned(decoder, samples, sample_rate: int, words: list[str]) -> list[float] | None:
    """The start (seconds) of each of ``words`` as pocketsphinx aligns them, or None if it cannot."""
    import numpy as np
    import soxr

    audio = soxr.resample(samples.astype(np.float32), sample_rate, RECOGNISER_RATE)
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    try:
        decoder.set_align_text(" ".join(words))
    except (RuntimeError, KeyError, ValueError):
        return None
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    found = [(seg.word, seg.start_frame * FRAME) for seg in decoder.seg() if seg.word not in ("<s>", "</s>", "<sil>")]
    names = [re.sub(r"\(\d+\)$", "", word) for word, _ in found]
    if names != words:
        return None
    return [start for _, start in found]


def main(argv: list[str]) -> int:
    from pocketsphinx import Decoder

    from qidsl.compile import compile_routine
    from qidsl.engines.piper_engine import PiperEngine
    from qidsl.engines.timing import estimate_words
    from qidsl.lang.loader import Loader

    verbose = "-v" in argv
    argv = [a for a in argv if a != "-v"]
    routine = Path(argv[0]) if argv else ROOT / "routines" / "rolling-the-hands-backwards.qi"
    compiled = compile_routine(routine, Loader())
    engine = PiperEngine(compiled.settings.voice, rate=compiled.settings.rate, base_dir=routine.parent)
    decoder = Decoder(samprate=RECOGNISER_RATE, bestpath=False, loglevel="FATAL")
    voice_hits = estimate_hits = total = 0
    skipped: list[str] = []
    differences: list[float] = []
    for text in compiled.estimate.spoken_texts:
        clip = engine.synthesize(text)
        for sentence in clip.sentences:
            margin = 0.15  # a little of the silence around it, as the recogniser expects
            begin = max(0.0, sentence.start - margin)
            piece = clip.samples[int(begin * clip.sample_rate):int((sentence.end + margin) * clip.sample_rate)]
            words = [_recogniser_word(w.text) for w in sentence.words]
            heard = _aligned(decoder, piece, clip.sample_rate, words) if sentence.words else None
            if heard is None:
                skipped.append(sentence.text)
                continue
            estimated = estimate_words(sentence.text, sentence.start, sentence.end)
            for word, guess, start in zip(sentence.words, estimated, heard):
                at = begin + start
                total += 1
                voice_hits += abs(word.start - at) <= TOLERANCE
                differences.append(word.start - at)
                estimate_hits += abs(guess.start - at) <= TOLERANCE
    if not total:
        print("no sentence could be aligned")
        return 1
    voice, estimate = voice_hits / total, estimate_hits / total
    if verbose:
        import statistics

        print(f"voice minus recogniser: mean {statistics.mean(differences):+.3f} s, "
              f"median {statistics.median(differences):+.3f} s")
    print(f"{routine.name}: {total} words in {len(compiled.estimate.spoken_texts)} cues "
          f"({len(skipped)} sentences left out: a word the recogniser does not know)")
    print(f"word starts within {TOLERANCE:g} s of pocketsphinx's forced alignment:")
    print(f"  Piper's own alignment (builds with piper): {voice:6.1%}   target >= 90 %")
    print(f"  estimate by letters (pico, espeak, gtts):  {estimate:6.1%}   baseline")
    print(f"  ratio: {voice / estimate if estimate else float('inf'):.2f}x the baseline's share")
    return 0 if voice >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
