"""Progress on long work: a tqdm bar on a terminal, plain lines otherwise, or nothing."""

from __future__ import annotations

import sys
from collections.abc import Callable


class Progress:
    """Counts ``total`` steps of work.

    ``enabled`` None means automatic: a bar when stderr is a terminal, plain
    lines when it is not (logs, CI).  ``lines`` caps how many plain lines are
    printed (None: one per step), so a 20,000-frame video prints ten lines,
    not twenty thousand.
    """

    def __init__(self, total: int, enabled: bool | None, desc: str, unit: str,
                 plain_line: Callable[[int, int, str | None], str], lines: int | None = None):
        stream = sys.stderr
        show = enabled is None or enabled
        bar = show and stream.isatty()
        self.total, self.done = total, 0
        self.plain_line = plain_line
        self.plain = show and not bar
        self.every = max(1, total // lines) if lines else 1
        self.bar = None
        if bar and total:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit=unit, file=stream, leave=False, mininterval=0.5)

    def step(self, detail: str | None = None, count: int = 1) -> None:
        before = self.done
        self.done += count
        if self.bar is not None:
            if detail:
                self.bar.set_postfix_str(detail[:30], refresh=False)
            self.bar.update(count)
        elif self.plain and (self.done // self.every > before // self.every or self.done == self.total):
            print(self.plain_line(self.done, self.total, detail), file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
