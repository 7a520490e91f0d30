"""The memory of a process and of every process it started, read from /proc (Linux), for the benchmarks.

A figure covers the whole command as a user runs it: Python and every ffmpeg,
x264 or other child at once.  :class:`PeakMemory` samples the tree every 20 ms
while the command runs and keeps the highest sums.
"""

from __future__ import annotations

import os
import threading
import time


def descendants(pid: int) -> list[int]:
    """``pid`` and every process descended from it."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            parents.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, []))
    return tree


def memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of ``pid`` in bytes (0, 0 once it has gone).

    RSS counts every page a process can touch, so pages two processes share
    (the two x264 encoders' copy of the ffmpeg binary, a child forked from the
    build before it execs) are counted once per process.  PSS divides each
    shared page between the processes that share it: summed over the tree it
    is the memory the command really holds, every process counted once.
    """
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, pss


def shares_parent_memory(pid: int) -> bool:
    """Whether ``pid`` is a child between vfork and exec (how ``subprocess`` starts ffmpeg).

    Such a child runs in its parent's very address space, so its smaps show
    the parent's pages again: counting it would count the parent twice.  It
    has its parent's executable and exactly its parent's memory map sizes.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            parent = int(handle.read().rsplit(b")", 1)[1].split()[1])
        with open(f"/proc/{pid}/statm") as mine, open(f"/proc/{parent}/statm") as theirs:
            same_map = mine.read() == theirs.read()
        return same_map and os.readlink(f"/proc/{pid}/exe") == os.readlink(f"/proc/{parent}/exe")
    except (OSError, IndexError, ValueError):
        return False


class PeakMemory:
    """The highest memory of the tree under ``pid`` while the ``with`` block runs: PSS and RSS, summed."""

    def __init__(self, pid: int):
        self.pid, self.pss, self.rss = pid, 0, 0
        self._done = threading.Event()
        self._watcher = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._done.is_set():
            sizes = [memory(p) for p in descendants(self.pid) if p == self.pid or not shares_parent_memory(p)]
            self.rss = max(self.rss, sum(r for r, _ in sizes))
            self.pss = max(self.pss, sum(p for _, p in sizes))
            time.sleep(0.02)

    def __enter__(self) -> PeakMemory:
        self._watcher.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._watcher.join()

    def __str__(self) -> str:
        return f"{self.pss / 1e6:.0f} MB (PSS summed; RSS summed would say {self.rss / 1e6:.0f} MB)"
