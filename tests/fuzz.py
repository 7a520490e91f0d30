"""The long fuzz run (`make fuzz`): many generated, mutated and random routines through the front end.

Prints how many inputs it tried, how many checked clean (and so went through
the fmt round trip), every kind of failure with its shortest input, the
inputs that took more than 0.1 s, and the slowest input with its time.
Failing inputs are saved under build/fuzz-failures/ to become golden cases.
Exit 1 if anything failed.

Usage: python tests/fuzz.py [INPUTS]   (default 100,000; a few minutes on 2 cores)
"""

from __future__ import annotations

import gc
import random
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fuzzing import ANY_INPUT, examine, mutate, pathological  # noqa: E402

MUTANTS = 9
SLOW = 0.1  # CPU seconds of this process: no input may take longer (issue 19); CPU time, as the machine is shared
OUT = Path(__file__).resolve().parent.parent / "build" / "fuzz-failures"


class Tally:
    def __init__(self) -> None:
        self.tried = 0
        self.clean = 0
        self.failures: dict[str, list] = {}
        self.slow: list[tuple[float, int, str | bytes]] = []
        self.slowest: tuple[float, int, str | bytes] = (0.0, 0, "")
        self.bytes_seen = 0

    def add(self, data: str | bytes) -> None:
        outcome = examine(data)
        seconds = outcome.seconds
        if seconds > SLOW:  # the machine is shared: time it again before calling it slow
            gc.collect()
            seconds = min(seconds, examine(data).seconds)
        self.tried += 1
        self.clean += outcome.clean
        self.bytes_seen += len(data)
        for kind, detail in outcome.failures:
            self.failures.setdefault(kind, []).append((len(data), data, detail))
        if seconds > SLOW:
            self.slow.append((seconds, len(data), data))
        if seconds > self.slowest[0]:
            self.slowest = (seconds, len(data), data)
        if self.tried % 10_000 == 0:
            print(f"  {self.tried:,} inputs, {sum(map(len, self.failures.values()))} failures, "
                  f"slowest {self.slowest[0]:.3f} s", flush=True)


def _show(data: str | bytes, width: int = 100) -> str:
    text = repr(data)
    return text if len(text) <= width else text[:width] + f"… ({len(data):,} {'bytes' if isinstance(data, bytes) else 'characters'})"


def main() -> int:
    wanted = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    tally = Tally()
    started = time.perf_counter()
    for _name, text in pathological().items():
        tally.add(text)

    # Hypothesis draws each input; nine cheap mutants of it (the same mutations,
    # driven by a plain Random) come with it, so a long run tries ten times as
    # many inputs for the same time spent generating.
    @settings(max_examples=max(1, wanted // (1 + MUTANTS)), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(ANY_INPUT, st.integers(0, 2 ** 32))
    def run(data, seed):
        tally.add(data)
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        rnd = random.Random(seed)
        for _ in range(MUTANTS):
            tally.add(mutate(text, rnd, grow_one_in=50))

    run()
    elapsed = time.perf_counter() - started
    print(f"inputs tried: {tally.tried:,} ({tally.bytes_seen / 1e6:.1f} MB) in {elapsed:.0f} s; "
          f"{tally.clean:,} checked clean and went through the fmt round trip")
    failed = sum(map(len, tally.failures.values()))
    print(f"failures: {failed}")
    OUT.mkdir(parents=True, exist_ok=True)
    for kind, found in sorted(tally.failures.items()):
        size, data, detail = min(found, key=lambda item: item[0])
        print(f"  {kind}: {len(found)} inputs; shortest ({size:,}): {_show(data)}\n      {detail[:200]}")
        path = OUT / f"{kind}.qi"
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    print(f"inputs over {SLOW} s: {len(tally.slow)}")
    for seconds, size, data in sorted(tally.slow, reverse=True)[:5]:
        print(f"  {seconds:.3f} s, {size:,}: {_show(data)}")
    seconds, size, data = tally.slowest
    print(f"slowest input: {seconds:.3f} s for {size:,} characters: {_show(data)}")
    return 1 if failed or tally.slow else 0


if __name__ == "__main__":
    sys.exit(main())
