"""The scheduler's resource pools, as ninja's pools: named counts of slots that every make takes one of.

``cores``: CPU work (levelling, MP3 and AAC encodes); ``encoders``: x264
encoders, sized from the memory budget and the resolution
(:func:`qidsl.renderers.video_segments.encoders_at_once`); ``background``:
work nothing else waits for (the mix's loudness), which takes a slot of
``cores`` only when no other make is waiting for one or coming.  One
:class:`Pools` serves every routine of a ``qidsl build -j N``, so they share
the machine rather than each assuming it has all of it.  A leaf service: the
build graph and the video renderer both take slots of the same pools.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

CORES = "cores"
ENCODERS = "encoders"
# Work nothing else waits for (the mix's loudness): it takes a slot of ``cores`` only when no other make
# is waiting for one or coming, so it never holds a core that an encode of the narration (the one-cue
# rebuild's critical path) wants, nor the interpreter's lock (libebur128 holds it while it measures) that
# the planning of the chunks wants.  Nothing may need a background product (it would wait for itself).
BACKGROUND = "background"


class Pools:
    """Named pools of slots shared by everything one ``qidsl`` process builds.

    ``sizes`` maps a pool's name to its slots; a pool not named has one slot
    per core of ``cores``.
    """

    def __init__(self, cores: int = 1, **sizes: int):
        # With --cluster, a qidsl.cluster.Cluster: the products that take a pool's slot are made there.
        self.remote: Any = None
        self.sizes = {CORES: max(1, int(cores)), **{k: max(1, int(v)) for k, v in sizes.items()}}
        self._free = dict(self.sizes)  # slots not held, by pool
        self._waiting: Counter[str] = Counter()  # makes waiting for a slot or coming, by pool (not background ones)
        self._changed = threading.Condition()

    def size(self, pool: str) -> int:
        """How many slots ``pool`` has."""
        return self.sizes.get(self.share(pool), self.sizes[CORES])

    @staticmethod
    def share(pool: str) -> str:
        """The pool whose slots ``pool``'s makes take (``background``'s are slots of ``cores``)."""
        return CORES if pool == BACKGROUND else pool

    def ensure(self, pool: str, size: int) -> None:
        """Give ``pool`` ``size`` slots unless it has been sized already (the first sizing wins)."""
        with self._changed:
            if pool not in self._free:
                self.sizes[pool] = self._free[pool] = max(1, int(size))

    @contextlib.contextmanager
    def coming(self, pool: str | None) -> Iterator[None]:
        """A make of ``pool`` is coming: its later inputs are being worked out and made (no slot is held).

        Background makes wait meanwhile: the makes it brings want slots as soon
        as they are planned, and the make itself one after them.
        """
        name = pool and self.share(pool)
        if name is None or pool == BACKGROUND:
            yield
            return
        with self._changed:
            self._waiting[name] += 1
        try:
            yield
        finally:
            with self._changed:
                self._waiting[name] -= 1
                self._changed.notify_all()

    @contextlib.contextmanager
    def slot(self, pool: str | None) -> Iterator[None]:
        """Hold one slot of ``pool`` (None: no pool, for work that only waits on others).

        A ``background`` make waits until a slot of ``cores`` is free and no
        other make is waiting for one or :meth:`coming`.
        """
        if pool is None:
            yield
            return
        name, last = self.share(pool), pool == BACKGROUND
        with self._changed:
            if name not in self._free:
                self.sizes[name] = self._free[name] = self.sizes[CORES]
            if not last:
                self._waiting[name] += 1
            try:
                self._changed.wait_for(lambda: self._free[name] > 0 and not (last and self._waiting[name]))
            finally:
                if not last:
                    self._waiting[name] -= 1
                    self._changed.notify_all()  # a background make may go now that nothing else waits
            self._free[name] -= 1
        try:
            yield
        finally:
            with self._changed:
                self._free[name] += 1
                self._changed.notify_all()
