"""The build graph: products declared with their inputs, made only when their key is new.

A :class:`Product` is one file a build needs: its kind (for the report), its
key, the products it is made from, and the function that makes it.  The key
is a hash of the kind, its recipe version, the qidsl version, the settings
that change it and the keys of its inputs, so it is known before anything is
made.  :meth:`Graph.need` returns a product's file from the
:class:`~qidsl.store.ProductStore` when its key is there, and otherwise makes
its inputs (the same way) and then the product: a build does the work its
changes call for and no more.  Every make is counted, so a build can say what
it made and what it reused.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from . import __version__
from .store import ProductStore


def product_key(kind: str, recipe: int, *parts) -> str:
    """The key of a product: SHA-256 over the qidsl version, ``kind``, its ``recipe`` version and ``parts``.

    ``parts`` are JSON-able values: settings, contents and input keys.  Bump a
    product's recipe version whenever the code that makes it changes what it makes.
    """
    identity = json.dumps([__version__, kind, recipe, *parts], ensure_ascii=False, sort_keys=True,
                          separators=(",", ":"))
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


def text_key(text: str) -> str:
    """SHA-256 of a text, for content that is cheap to compute but worth naming."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, eq=False)
class Product:
    """One product: ``make(out, *input_paths)`` writes it to ``out``; ``ext`` is its file suffix."""

    kind: str
    key: str
    ext: str
    make: Callable[..., None]
    inputs: tuple["Product", ...] = field(default=())


class Graph:
    """Makes products on demand over a store; counts what was made and what was reused (by kind)."""

    def __init__(self, store: ProductStore, jobs: int = 1):
        self.store = store
        self.jobs = max(1, jobs)
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
            path = self.store.get(product.key, product.ext)
            if path is None:
                inputs = [self.need(item) for item in product.inputs]
                with self.store.put(product.key, product.ext) as tmp:
                    product.make(tmp, *inputs)
                path = self.store.path(product.key, product.ext)
                counter = self.made
            else:
                counter = self.reused
            with self._lock:
                counter[product.kind] += 1
                self._known[product.key] = path
            return path

    def need_all(self, products: Sequence[Product]) -> list[Path]:
        """Files of several independent products, made side by side on ``jobs`` threads.

        Meant for products whose making waits on a child process (an encoder),
        so threads run them in parallel.  Duplicate keys are made once.
        """
        unique = list({p.key: p for p in products}.values())
        missing = [p for p in unique if p.key not in self._known and self.store.get(p.key, p.ext) is None]
        if self.jobs > 1 and len(missing) > 1:
            with ThreadPoolExecutor(self.jobs) as pool:
                list(pool.map(self.need, missing))
        return [self.need(p) for p in products]

    def count(self, kind: str, made: int, reused: int) -> None:
        """Count products kept elsewhere (speech clips live in the speech cache)."""
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
