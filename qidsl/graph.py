"""The build graph: products declared with their inputs, made only when their key is new, limited by pools.

A :class:`Product` is one file a build needs: its kind (a family of
:mod:`qidsl.products`, which is also its folder in the store), its key, the
products it is made from, the function that makes it, and the resource pool
its making takes a slot of.  The key is a hash of the kind, the family's
recipe (a digest of the code that makes it), the qidsl version and the
product's inputs, so it is known before anything is made.

:meth:`Graph.need` returns a product's file from the :class:`~qidsl.store.Store`
when its key is there, and otherwise makes its inputs (the same way) and
then the product: a build does the work its changes call for and no more.
Every make and every reuse is counted by kind.

Some inputs are known only once others are made (ninja's "dyndep"): the
narration's AAC chunks are cut where the mixed WAV is silent, so the
narration declares them in :attr:`Product.more`, called with the WAV's
file; the joined video plans its segments in its own, so a build that finds
the video in the store never works out a frame.

The scheduler is :class:`qidsl.pools.Pools`, as ninja's pools: named counts
of slots (``cores``, ``encoders``).  Every make holds a slot of its product's
pool while it runs.  A ``background`` make (work nothing waits for) takes a
slot of ``cores`` only when no other make is waiting for one or coming (its
later inputs being planned or made): it never delays the narration's chunks.
:meth:`Graph.need_all` is the one place work is started side by side: for
each pool it runs as many threads as the pool has slots, each taking the
next product of that pool in the order given (background products in the
queue of the pool they share), so a product waits in its queue, not in a
thread (with ``--cluster``, as many as the cluster takes at once, each
waiting on its Dask task).  One :class:`Pools` serves every routine of a
``qidsl build -j N``.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter, deque
from collections.abc import Callable, Sequence
from pathlib import Path

from .pools import CORES, Pools
from .products import Later, Meter, Product, product_key, text_key
from .store import Store

__all__ = ["Graph", "Later", "Meter", "Pools", "Product", "product_key", "text_key"]

# With --cluster, how many products one need_all keeps submitted at once (Dask queues them on its workers).
REMOTE_AT_ONCE = 64


class Graph:
    """Makes products on demand over a store; counts what was made and what was reused (by kind)."""

    def __init__(self, store: Store, pools: Pools | None = None):
        self.store = store
        self.pools = pools or Pools()
        self.made: Counter[str] = Counter()
        self.reused: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._known: dict[str, Path] = {}
        self._making: dict[str, threading.Lock] = {}

    def need(self, product: Product) -> Path:
        """The file of ``product``, made (with whatever of its inputs is missing) only if its key is new."""
        with self._lock:
            known = self._known.get(product.key)
            if known is not None:
                return known
            key_lock = self._making.setdefault(product.key, threading.Lock())
        with key_lock:  # two threads needing one product: one makes it, the other waits and reuses it
            with self._lock:
                known = self._known.get(product.key)
            if known is not None:
                return known
            path = self.store.get(product.kind, product.key, product.ext)
            if path is None:
                self._make(product)
                path = self.store.path(product.kind, product.key, product.ext)
                counter = self.made
            else:
                counter = self.reused
            with self._lock:
                counter[product.kind] += 1
                self._known[product.key] = path
            return path

    def _make(self, product: Product) -> None:
        """Make ``product``'s inputs (those missing), then the product in a slot of its pool."""
        # Inputs one after the other in this thread: need_all already runs products side by side,
        # and threads started inside threads only multiply malloc arenas (memory), not speed.
        inputs = [item if isinstance(item, Path) else self.need(item) for item in product.inputs]
        make = product.make
        remote = self.pools.remote is not None and product.pool is not None  # --cluster: a Dask task
        with contextlib.ExitStack() as slot:
            # From planning its later inputs until it holds its slot, the make is coming: background work waits.
            with self.pools.coming(product.pool if product.more is not None else None):
                if product.more is not None:
                    later = product.more(*inputs)
                    inputs += self.need_all(later.products, later.meter)
                    make = later.make or make
                if not remote:
                    slot.enter_context(self.pools.slot(product.pool))
            if remote:
                self.pools.remote.make(self.store, product, make, inputs)
            else:
                with self.store.put(product.kind, product.key, product.ext) as tmp:
                    make(tmp, *inputs)

    def need_all(self, products: Sequence[Product],
                 meter: Callable[[list[Product]], Meter | None] | None = None) -> list[Path]:
        """Files of several products (in their order), the missing ones made side by side as the pools allow.

        Duplicate keys are made once.  Each pool's products are taken in the
        order given by as many threads as the pool has slots; the first
        failure stops new makes (those running finish) and is raised.
        ``meter`` (see :class:`Later`) is told of every product made.
        """
        unique = list({p.key: p for p in products}.values())
        missing = [p for p in unique if p.key not in self._known
                   and not self.store.path(p.kind, p.key, p.ext).is_file()]
        shown = meter(missing) if meter is not None and missing else None
        try:
            if len(missing) > 1 or shown is not None:
                self._run(missing, shown)
            return [self.need(p) for p in products]
        finally:
            if shown is not None:
                shown.close()

    def _run(self, missing: list[Product], shown: Meter | None) -> None:
        queues: dict[str | None, deque[Product]] = {}
        for product in missing:  # (background products in the queue of the pool whose slots they take)
            queues.setdefault(product.pool and self.pools.share(product.pool), deque()).append(product)
        failures: list[BaseException] = []
        stop = threading.Event()

        def work(queue: deque[Product]) -> None:
            while not stop.is_set():
                try:
                    product = queue.popleft()
                except IndexError:
                    return
                try:
                    self.need(product)
                except BaseException as exc:  # handed to the caller below
                    failures.append(exc)
                    stop.set()
                    return
                if shown is not None:
                    shown.made(product)

        threads = []
        for pool, queue in queues.items():
            at_once = REMOTE_AT_ONCE if self.pools.remote is not None and pool is not None else \
                self.pools.size(pool or CORES)
            for _ in range(min(len(queue), at_once)):
                threads.append(threading.Thread(target=work, args=(queue,), name=f"qidsl-{pool or 'graph'}"))
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            stop.set()  # (an interrupt: the threads finish the make they are in and start no other)
        if failures:
            raise failures[0]

    def count(self, kind: str, made: int, reused: int) -> None:
        """Count products made or reused outside the graph's own makes (speech clips, synthesised first)."""
        with self._lock:
            if made:
                self.made[kind] += made
            if reused:
                self.reused[kind] += reused

    def summary(self) -> str:
        """``12 made, 130 reused (made: 1 speech, 1 level, ...)``."""
        made, reused = sum(self.made.values()), sum(self.reused.values())
        detail = ", ".join(f"{n} {kind}" for kind, n in sorted(self.made.items()) if n)
        return f"{made} made, {reused} reused" + (f" (made: {detail})" if detail else "")
