"""Which ffmpeg the renderers run, and its name: part of the key of every product ffmpeg makes.

imageio-ffmpeg names its bundled binary by version (``ffmpeg-linux-x86_64-v7.0.2``).
Asking it for the binary (:func:`imageio_ffmpeg.get_ffmpeg_exe`) imports it and
runs ``ffmpeg -version`` once to check the file (about 30 ms); a build with
nothing changed needs only the name, so :func:`ffmpeg_name` reads it from the
package's folder when that is unambiguous and asks imageio-ffmpeg otherwise.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """The ffmpeg binary to run (imageio-ffmpeg's choice: ``IMAGEIO_FFMPEG_EXE``, its own, or the system's)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@functools.lru_cache(maxsize=1)
def ffmpeg_name() -> str:
    """The name of the binary :func:`ffmpeg_exe` gives, found without running it where possible."""
    chosen = os.environ.get("IMAGEIO_FFMPEG_EXE")  # imageio-ffmpeg takes it as it is, unchecked
    if chosen:
        return os.path.basename(chosen)
    spec = importlib.util.find_spec("imageio_ffmpeg")  # finds the package without importing it
    if spec is not None and spec.origin:
        binaries = Path(spec.origin).parent / "binaries"
        bundled = [p for p in binaries.glob("ffmpeg-*") if os.access(p, os.X_OK)] if binaries.is_dir() else []
        if len(bundled) == 1:  # imageio-ffmpeg's own binary, which it takes unless that cannot run at all
            return bundled[0].name
    return os.path.basename(ffmpeg_exe())
