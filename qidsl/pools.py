"""The scheduler's resource pools, as ninja's pools: named counts of slots that every make takes one of.

``cores``: CPU work (levelling, MP3 and AAC encodes); ``encoders``: x264
encoders, sized from the memory budget and the resolution
(:func:`qidsl.renderers.video_segments.encoders_at_once`); ``background``:
work nothing else waits for (the mix's loudness).  One
:class:`Pools` serves every routine of a ``qidsl build -j N``, so they share
the machine rather than each assuming it has all of it.  A leaf service: the
build graph and the video renderer both take slots of the same pools.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

CORES = "cores"
ENCODERS = "encoders"
# Work nothing else waits for (the mix's loudness, measured while the video is made): a pool of its
# own, so it never holds a slot of ``cores`` that an encode of the narration is waiting for.
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
        self._slots = {name: threading.BoundedSemaphore(n) for name, n in self.sizes.items()}
        self._lock = threading.Lock()

    def size(self, pool: str) -> int:
        """How many slots ``pool`` has."""
        return self.sizes.get(pool, self.sizes[CORES])

    def ensure(self, pool: str, size: int) -> None:
        """Give ``pool`` ``size`` slots unless it has been sized already (the first sizing wins)."""
        with self._lock:
            if pool not in self._slots:
                self.sizes[pool] = max(1, int(size))
                self._slots[pool] = threading.BoundedSemaphore(self.sizes[pool])

    @contextlib.contextmanager
    def slot(self, pool: str | None) -> Iterator[None]:
        """Hold one slot of ``pool`` (None: no pool, for work that only waits on others)."""
        if pool is None:
            yield
            return
        with self._lock:
            if pool not in self._slots:
                self.sizes[pool] = self.sizes[CORES]
                self._slots[pool] = threading.BoundedSemaphore(self.sizes[pool])
            semaphore = self._slots[pool]
        with semaphore:
            yield
