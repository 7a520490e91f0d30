"""The store: every product of every build, one plain file per key, shared across builds and routines.

Speech clips, levelled sounds, MP3 runs, AAC chunks, video segments, outputs
and the record of the last build into a folder all live here, one folder per
product kind: ``<dir>/<kind>/<first two hex digits>/<key><ext>``.  Entries are
plain files, so ffmpeg reads them and outputs are copied straight out.

- **Writing** goes through :func:`qidsl.outputs.atomic_path`: a killed writer
  leaves only a temporary file (swept by the next writer), never a half
  entry; two processes making one entry both write whole files.
- **Use** is recorded in the entry itself: every lookup that finds an entry
  sets its modification time to now (disks mounted ``noatime`` never update
  access times), so the oldest modification time is the least recently used.
- **Leases**: a running build holds one (``<dir>/leases/<pid>.<n>.lease``,
  holding the time it started).  Every entry that build has used or made
  since then has a newer time, so :meth:`Store.prune` keeps every entry
  used after the oldest live lease began.  A lease of a dead process is ignored.
- **Pruning** deletes whole entries one by one, least recently used first;
  killed at any moment it leaves a store of whole entries, and whatever is
  missing is made again by the next build.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import BuildError
from .outputs import PART, atomic_path, pid_alive, remove_leftovers, write_text_atomic

LEASES = "leases"
# A lease starts this much before its build, so file systems with coarse times never date an entry the
# build used before the lease.
LEASE_SLACK = 2.0
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)
_lease_numbers = itertools.count()


def parse_size(text: str) -> int:
    """``500M``, ``2G``, ``1.5GB``, ``800k`` or plain bytes -> bytes (powers of 1024); ``ValueError`` if not one."""
    found = _SIZE.match(text)
    if not found:
        raise ValueError(f"not a size: {text!r} (examples: 500M, 2G)")
    return int(float(found.group(1)) * 1024 ** " kmgt".index(found.group(2).lower() or " "))


def parse_age(text: str) -> float:
    """``30d``, ``12h``, ``90m``, ``2w`` or plain seconds -> seconds; ``ValueError`` if not one."""
    found = _AGE.match(text)
    if not found:
        raise ValueError(f"not an age: {text!r} (examples: 30d, 12h)")
    unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[found.group(2).lower()]
    return float(found.group(1)) * unit


@dataclass(frozen=True)
class Entry:
    """One file of the store."""

    path: Path
    kind: str
    size: int
    used: float  # when it was last made or used (seconds since the epoch)


@dataclass(frozen=True)
class Pruned:
    """What a prune removed and what it left."""

    removed: int
    removed_bytes: int
    kept: int
    kept_bytes: int
    held: int  # entries it would have removed but a running build holds


class Store:
    """Content-addressed files under ``directory``, one folder per product kind."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def path(self, kind: str, key: str, ext: str) -> Path:
        """Where the entry for ``key`` lives (whether or not it exists yet)."""
        return self.directory / kind / key[:2] / f"{key}{ext}"

    def get(self, kind: str, key: str, ext: str) -> Path | None:
        """The entry's path if it has been made (its use is recorded), else None."""
        path = self.path(kind, key, ext)
        return path if self.touch(path) else None

    @staticmethod
    def touch(path: Path) -> bool:
        """Record that ``path`` is used now; False if it does not exist."""
        try:
            os.utime(path)
        except FileNotFoundError:
            return False
        except OSError:  # a read-only store is still readable
            return path.is_file()
        return True

    @contextlib.contextmanager
    def put(self, kind: str, key: str, ext: str):
        """Yield a temporary path to write the entry to; it becomes the entry when the block ends well."""
        path = self.path(kind, key, ext)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            remove_leftovers(path.parent)
            with atomic_path(path) as tmp:
                yield tmp
        except OSError as exc:
            if exc.filename is not None and not str(exc.filename).startswith(str(self.directory)):
                raise
            raise BuildError(f"could not write the store in {self.directory}: {exc.strerror or exc}; "
                             "set QIDSL_CACHE_DIR to a writable folder.") from exc

    def sweep(self, kind: str) -> None:
        """Remove the temporary files that killed writers left among ``kind``'s entries."""
        folder = self.directory / kind
        if folder.is_dir():
            for sub in folder.iterdir():
                remove_leftovers(sub)

    # Leases ---------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def lease(self):
        """Hold every entry used from now until the block ends against :meth:`prune` (other processes' too)."""
        folder = self.directory / LEASES
        lease = folder / f"{os.getpid()}.{next(_lease_numbers)}.lease"
        path: Path | None = lease
        try:
            write_text_atomic(lease, f"{time.time() - LEASE_SLACK:.3f}\n")
        except OSError:
            path = None  # a store that cannot be written is not pruned by this build either
        try:
            yield
        finally:
            if path is not None:
                with contextlib.suppress(OSError):
                    path.unlink()

    def held_since(self) -> float | None:
        """When the oldest lease of a running build began (None: no build runs); dead builds' leases go."""
        oldest = None
        for lease in (self.directory / LEASES).glob("*.lease"):
            pid = lease.name.split(".")[0]
            try:
                if pid.isdigit() and not pid_alive(int(pid)):
                    lease.unlink()
                    continue
                began = float(lease.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # being written or removed right now
            oldest = began if oldest is None else min(oldest, began)
        return oldest

    # Sizes and pruning ----------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """Every entry of the store (temporary files and leases excluded)."""
        found: list[Entry] = []
        if not self.directory.is_dir():
            return found
        for kind_dir in sorted(p for p in self.directory.iterdir() if p.is_dir() and p.name != LEASES):
            for root, _, files in os.walk(kind_dir):
                for name in files:
                    if PART in name and name.startswith("."):
                        continue
                    path = Path(root) / name
                    try:
                        stat = path.stat()
                    except OSError:
                        continue
                    found.append(Entry(path, kind_dir.name, stat.st_size, stat.st_mtime))
        return found

    def sizes(self) -> dict[str, tuple[int, int]]:
        """Entries and bytes by product kind."""
        sizes: dict[str, tuple[int, int]] = {}
        for entry in self.entries():
            count, size = sizes.get(entry.kind, (0, 0))
            sizes[entry.kind] = (count + 1, size + entry.size)
        return sizes

    def prune(self, max_size: int | None = None, older_than: float | None = None) -> Pruned:
        """Remove entries, least recently used first, until the store holds at most ``max_size`` bytes,
        and every entry unused for ``older_than`` seconds; never one a running build holds."""
        for folder in {e.path.parent for e in self.entries()}:
            remove_leftovers(folder)
        entries = sorted(self.entries(), key=lambda e: e.used)
        held_since = self.held_since()
        total = sum(e.size for e in entries)
        now = time.time()
        removed = removed_bytes = held = 0
        for entry in entries:
            too_old = older_than is not None and entry.used < now - older_than
            too_big = max_size is not None and total > max_size
            if not (too_old or too_big):
                continue
            try:
                used = entry.path.stat().st_mtime  # a build may have used it since the listing
            except FileNotFoundError:
                used = None
            if used is not None and (used != entry.used or (held_since is not None and used >= held_since)):
                held += 1
                continue
            with contextlib.suppress(FileNotFoundError):
                entry.path.unlink()
            removed += 1
            removed_bytes += entry.size
            total -= entry.size
        return Pruned(removed, removed_bytes, len(entries) - removed, total, held)
