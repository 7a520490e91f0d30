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

The scheduler is :class:`qidsl.pools.Pools`, as ninja's pools: named counts
of slots (``cores``, ``encoders``).  Every make holds a slot of its product's
pool while it runs; :meth:`Graph.need_all` starts every product asked for at
once and the pools decide how many run.  One :class:`Pools` serves every
routine of a ``qidsl build -j N``.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .pools import CORES, Pools
from .products import product_key, text_key
from .store import Store

__all__ = ["Graph", "Pools", "Product", "product_key", "text_key"]


@dataclass(frozen=True, eq=False)
class Product:
    """One product: ``make(out, *input_paths)`` writes it to ``out``; ``ext`` is its file suffix.

    ``pool`` is the pool a make takes a slot of (None for a product whose
    making only coordinates others, such as the joined video).
    """

    kind: str
    key: str
    ext: str
    make: Callable[..., None]
    inputs: tuple[Product, ...] = field(default=())
    pool: str | None = CORES


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
                # Inputs one after the other in this thread: need_all already runs products side by side,
                # and threads started inside threads only multiply malloc arenas (memory), not speed.
                inputs = [self.need(item) for item in product.inputs]
                if self.pools.remote is not None and product.pool is not None:  # --cluster: a Dask task
                    self.pools.remote.make(self.store, product, inputs)
                else:
                    with self.pools.slot(product.pool), self.store.put(product.kind, product.key,
                                                                      product.ext) as tmp:
                        product.make(tmp, *inputs)
                path = self.store.path(product.kind, product.key, product.ext)
                counter = self.made
            else:
                counter = self.reused
            with self._lock:
                counter[product.kind] += 1
                self._known[product.key] = path
            return path

    def need_all(self, products: Sequence[Product]) -> list[Path]:
        """Files of several products, every missing one started at once; the pools say how many run.

        Duplicate keys are made once.
        """
        unique = list({p.key: p for p in products}.values())
        missing = [p for p in unique if p.key not in self._known
                   and not self.store.path(p.kind, p.key, p.ext).is_file()]
        if len(missing) > 1:
            with ThreadPoolExecutor(min(len(missing), self.pools.threads)) as pool:
                list(pool.map(self.need, missing))
        return [self.need(p) for p in products]

    def count(self, kind: str, made: int, reused: int) -> None:
        """Count products made or reused inside another product's making (speech clips, video segments)."""
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
