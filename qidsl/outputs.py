"""Writing files safely, the one place that does it: a temporary name beside the target, renamed into place.

A failed or interrupted build therefore never leaves a half-written file
where a good one used to be.  Everything that writes a file qidsl keeps
(outputs, the speech cache, the product store, ``fmt``) goes through
:func:`atomic_path`; :func:`publish` puts a build's set of outputs into its
folder together.  Temporary names carry the writer's process id
(``.NAME.<pid>.<random>.part.EXT``), so leftovers of a killed process are
recognised and removed by the next writer (:func:`remove_leftovers`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

PART = ".part"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temp_beside(target: Path) -> Path:
    """A new empty file beside ``target`` with a temporary name that carries this process's id."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.{os.getpid()}.", suffix=f"{PART}{target.suffix}",
                               dir=target.parent)
    os.close(fd)
    # mkstemp makes the file private (0600); outputs are for publishing, so give
    # them the permissions any new file would get.
    os.chmod(tmp, 0o666 & ~_umask())
    return Path(tmp)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike):
    """Yield a temporary path next to ``target``; rename it over ``target`` on success.

    The temporary file keeps the target's suffix (``.part.mp4``) so tools that
    look at the extension, such as ffmpeg, still work.  On any exception the
    temporary file is removed and ``target`` is left as it was.  Two processes
    writing the same target each write their own temporary file; the last
    rename wins and a reader only ever sees a whole file.
    """
    target = Path(target)
    tmp = temp_beside(target)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(target: str | os.PathLike, text: str) -> None:
    """Write ``text`` as UTF-8 to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` still runs (its temporary files are then not leftovers)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(folder: Path) -> None:
    """Delete temporary files in ``folder`` left by writers that were killed before they could clean up."""
    if not Path(folder).is_dir():
        return
    for leftover in Path(folder).glob(f".*{PART}*"):
        pid = next((part for part in leftover.name.split(".") if part.isdigit()), None)
        if pid is not None and int(pid) != os.getpid() and not pid_alive(int(pid)):
            with contextlib.suppress(OSError):
                leftover.unlink()


def publish(folder: Path, files: dict[str, Path], owned: list[str]) -> tuple[list[Path], list[Path]]:
    """Put ``files`` (output name -> finished file elsewhere) into ``folder`` as one set.

    Each is first copied under a temporary name in ``folder``; only when all
    are there are they renamed into place, one right after the other.  Then
    every name in ``owned`` (the outputs a build of this routine can make)
    that this set does not include is removed, so an older video is never
    left beside newer captions.  A file already in place with the same bytes
    is left untouched.  Returns (the set's paths, the paths removed).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    remove_leftovers(folder)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, source in files.items():
            final = folder / name
            if not _same_file(final, Path(source)):
                tmp = temp_beside(final)
                staged.append((tmp, final))
                shutil.copyfile(source, tmp)
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        raise
    for tmp, final in staged:
        os.replace(tmp, final)
    removed = []
    for name in owned:
        if name not in files and (folder / name).exists():
            (folder / name).unlink()
            removed.append(folder / name)
    return [folder / name for name in files], removed


def _same_file(final: Path, source: Path) -> bool:
    try:
        a, b = final.stat(), source.stat()
    except OSError:
        return False
    if a.st_size != b.st_size:
        return False
    with open(final, "rb") as x, open(source, "rb") as y:
        while True:
            left, right = x.read(1 << 20), y.read(1 << 20)
            if left != right:
                return False
            if not left:
                return True
