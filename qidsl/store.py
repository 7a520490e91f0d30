"""The product store: every product of every build, one file per key, shared across builds and routines.

It lives beside the speech cache (``<cache dir>/products``).  An entry is a
plain file named by its key (``<dir>/<first two hex digits>/<key><ext>``),
so outputs are copied straight out of it and MP3 pieces joined straight from
it.  Entries are written through :func:`qidsl.outputs.atomic_path`: two
processes making the same entry each write their own temporary file and the
last rename wins, and as every product is a pure function of its key, both
files are the same.  A killed writer leaves only a temporary file, never a
half entry under a key's name; the store may be deleted at any time.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from .errors import BuildError
from .outputs import atomic_path, remove_leftovers


class ProductStore:
    """Content-addressed files under ``directory``."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def path(self, key: str, ext: str) -> Path:
        """Where the entry for ``key`` lives (whether or not it exists yet)."""
        return self.directory / key[:2] / f"{key}{ext}"

    def get(self, key: str, ext: str) -> Path | None:
        """The entry's path if it has been made, else None."""
        path = self.path(key, ext)
        return path if path.is_file() else None

    @contextlib.contextmanager
    def put(self, key: str, ext: str):
        """Yield a temporary path to write the entry to; it becomes the entry when the block ends well."""
        path = self.path(key, ext)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            remove_leftovers(path.parent)
            with atomic_path(path) as tmp:
                yield tmp
        except OSError as exc:
            if exc.filename is not None and not str(exc.filename).startswith(str(self.directory)):
                raise
            raise BuildError(f"could not write the product store in {self.directory}: {exc.strerror or exc}; "
                             "set QIDSL_CACHE_DIR to a writable folder.") from exc
