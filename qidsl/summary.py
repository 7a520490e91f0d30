"""Many builds at once (``qidsl build FOLDER``, several voices): a line as each ends, a table at the end.

Each finished build prints one plain line with the running total
(``[3/8] day-03 (joe): built, 7 made, 3 reused, 4.2 s``), the same on a
terminal and in a log, so a log read later says the same as the screen did.
At the end, :meth:`Summary.table` lists every build: built, reused (nothing
had to be made) or failed with its one-line reason.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass

BUILT, REUSED, FAILED = "built", "reused", "failed"


@dataclass(frozen=True)
class Outcome:
    """How one build of one routine (in one voice) ended."""

    name: str  # the routine, with its voice when several are built: "day-03 (joe)"
    state: str  # BUILT, REUSED or FAILED
    made: int = 0
    reused: int = 0
    seconds: float = 0.0
    reason: str = ""  # why it failed, one line

    def describe(self) -> str:
        if self.state == FAILED:
            return f"failed: {self.reason}"
        return f"{self.state}, {self.made} made, {self.reused} reused, {self.seconds:.1f} s"


class Summary:
    """Collects the outcomes of ``total`` builds, from any thread, and says each as it comes."""

    def __init__(self, total: int, stream=None):
        self.total = total
        self.stream = stream or sys.stderr
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._started = time.monotonic()

    def add(self, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)
            if self.total > 1:  # one build's own lines already say it all
                    print(f"qidsl: [{len(self.outcomes)}/{self.total}] {outcome.name}: {outcome.describe()}",
                      file=self.stream, flush=True)

    def table(self) -> str:
        """Every build, by routine, with the totals on the first line."""
        counts = {state: sum(o.state == state for o in self.outcomes) for state in (BUILT, REUSED, FAILED)}
        elapsed = time.monotonic() - self._started
        head = (f"{len(self.outcomes)} builds in {elapsed:.1f} s: {counts[BUILT]} built, {counts[REUSED]} reused, "
                f"{counts[FAILED]} failed")
        width = max([len("routine"), *(len(o.name) for o in self.outcomes)])
        rows = [f"  {'routine'.ljust(width)}  result", *(
            f"  {o.name.ljust(width)}  {o.describe()}" for o in sorted(self.outcomes, key=lambda o: o.name))]
        return "\n".join([head, *rows])

    def print_table(self) -> None:
        print(f"qidsl: {self.table()}", file=self.stream, flush=True)
