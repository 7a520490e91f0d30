"""How fast the narration of the shipped routine builds, cold and warm.

Prints, for ``qidsl build --no-video`` of routines/rolling-the-hands-backwards.qi:
  - the cold build (empty speech cache) as a multiple of real time,
  - the warm build (full speech cache, empty product store) as a multiple of real time,
  - the share of the cold build spent in speech synthesis,
and, as a baseline run in the same process, Piper alone speaking the same
cues (no cache, no mixing, no encoding), with the cold build's ratio to it.

Targets on a 2-core machine: cold >= 8x real time, warm >= 50x.
Usage: python benchmarks/narration_speed.py [ROUTINE]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qidsl.build import BuildOptions, build_one  # noqa: E402
from qidsl.compile import compile_routine  # noqa: E402
from qidsl.engines.synthesize import make_engine  # noqa: E402
from qidsl.lang.loader import Loader  # noqa: E402


def main() -> None:
    routine = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "routines" / "rolling-the-hands-backwards.qi")
    loader = Loader()
    compiled = compile_routine(routine, loader)
    if compiled.errors:
        raise SystemExit(f"{routine} has errors; run qidsl check on it")
    with tempfile.TemporaryDirectory() as work:
        options = BuildOptions(out=Path(work) / "out", video=False, cache_dir=Path(work) / "cache",
                               progress=False)
        cold = build_one(routine, compiled, loader, options)
        # Warm speech, but every other product made again (and no nothing-changed shortcut).
        import shutil

        for made in (Path(work) / "cache").iterdir():
            if made.name != "speech":
                shutil.rmtree(made, ignore_errors=True)
        warm = build_one(routine, compiled, loader, options)

    # Baseline: the engine alone, speaking every cue once, in this process.
    engine = make_engine(compiled.settings, base_dir=routine.parent)
    texts = compiled.estimate.spoken_texts
    engine.synthesize(texts[0])  # load the voice outside the timing, as the build's engine did
    started = time.monotonic()
    for text in texts:
        engine.synthesize(text)
    piper_alone = time.monotonic() - started

    length = cold.routine_seconds
    print(f"routine: {routine.name}, {length / 60:.1f} min, {len(texts)} distinct cues")
    print(f"cold build: {cold.total_seconds:.1f}s = {length / cold.total_seconds:.1f}x real time "
          f"(target >= 8x); synthesis {cold.speech_seconds / cold.total_seconds:.0%} of it")
    print(f"warm build: {warm.total_seconds:.2f}s = {length / warm.total_seconds:.1f}x real time "
          f"(target >= 50x); {warm.synthesised} cues synthesised")
    print(f"baseline, Piper alone on the same cues: {piper_alone:.1f}s; "
          f"cold build / baseline = {cold.total_seconds / piper_alone:.2f}")


if __name__ == "__main__":
    main()
