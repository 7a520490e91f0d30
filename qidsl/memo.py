"""Facts about files, remembered by path, size and modification time: in the process and in the store.

Hashing a 60 MB voice or a backdrop clip, asking ffmpeg what a clip holds,
looking Piper's version up: each is done once per version of the file in a
process, and remembered in the store (``file-hash``) so that the next build,
which mostly finds the same files, does none of it again.  A file is taken
to be unchanged while its path, size and modification time are, as the
nothing-changed check trusts an output.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from pathlib import Path

from .errors import BuildError
from .products import FILE_HASH

_LONGEST = 256  # a remembered fact is a short line of text
_REMEMBERED: dict[tuple[str, str, int, int], str] = {}


def remembered(what: str, path: Path, store, work_out: Callable[[], str]) -> str:
    """``work_out()``, a short printable text about the file ``path`` (``what`` names the fact),
    remembered by the file's path, size and modification time (in ``store`` too, unless it is None)."""
    stat = path.stat()
    key = (what, str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _REMEMBERED:
        return _REMEMBERED[key]
    memo = store.path(FILE_HASH.kind, FILE_HASH.key(*key), FILE_HASH.ext) if store is not None else None
    if memo is not None and store.touch(memo):
        with contextlib.suppress(OSError, UnicodeDecodeError):
            known = memo.read_text(encoding="utf-8")
            if known and len(known) <= _LONGEST and known.isprintable():
                _REMEMBERED[key] = known
                return known
    _REMEMBERED[key] = work_out()
    if memo is not None and len(_REMEMBERED[key]) <= _LONGEST:
        with contextlib.suppress(BuildError, OSError, UnicodeEncodeError), store.put(
                FILE_HASH.kind, FILE_HASH.key(*key), FILE_HASH.ext) as tmp:
            tmp.write_text(_REMEMBERED[key], encoding="utf-8")
    return _REMEMBERED[key]


def file_sha256(path: Path, store=None) -> str:
    """The SHA-256 of the file's bytes (hex), remembered (see :func:`remembered`)."""
    def sha256() -> str:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    return remembered("sha256", Path(path), store, sha256)
