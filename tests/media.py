"""Media for the backdrop tests, benchmarks and the docs' picture, made with ffmpeg's test sources.

No media file is committed: each is generated where it is needed, the same
bytes on every run (ffmpeg's sources are deterministic, the encoder has
``+bitexact``, the broken clip's noise is seeded).
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import imageio_ffmpeg


def _ffmpeg(*args: str) -> None:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-nostdin", *args], check=True)


def clip(path: Path, width: int = 320, height: int = 180, seconds: float = 4.0, fps: int = 30,
         source: str = "testsrc2") -> Path:
    """A moving test picture (a clock, bars and a sweeping band) as an H.264 MP4."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _ffmpeg("-f", "lavfi", "-i", f"{source}=size={width}x{height}:rate={fps}", "-t", f"{seconds}",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-fflags", "+bitexact",
            "-flags:v", "+bitexact", str(path))
    return path


def coded_clip(path: Path, codes: tuple[int, int, int], tags: tuple[str, ...] = (), width: int = 64,
               height: int = 36, frames: int = 3) -> Path:
    """A clip of one flat colour given as its Y'CbCr codes, stored losslessly with the colour ``tags``
    (ffmpeg options such as ``-colorspace bt709`` or ``-color_range pc``; none: an untagged clip)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    y, cb, cr = codes
    picture = bytes([y]) * (width * height) + bytes([cb]) * (width * height // 4) + bytes([cr]) * (width * height // 4)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p",
                    "-s", f"{width}x{height}", "-r", "30", *tags, "-i", "pipe:0", "-c:v", "libx264", "-qp", "0",
                    "-preset", "ultrafast", *tags, "-fflags", "+bitexact", "-flags:v", "+bitexact", str(path)],
                   input=picture * frames, check=True)
    return path


def photo(path: Path, width: int = 400, height: int = 300) -> Path:
    """A still test picture (colour bars over a gradient) as JPEG or PNG, by ``path``'s suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _ffmpeg("-f", "lavfi", "-i", f"testsrc=size={width}x{height}:rate=1", "-frames:v", "1", str(path))
    return path


def broken_clip(path: Path) -> Path:
    """A file that starts like an MP4 and holds nothing ffmpeg can decode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    noise = random.Random(20).randbytes(4000)
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + noise)
    return path


def mistakes(folder: Path) -> Path:
    """Every media file the check cases under tests/cases/media/ name, in ``folder``/media."""
    media = folder / "media"
    clip(media / "rolling.mp4", seconds=3.0)
    clip(media / "standing-tall.mp4", 180, 320, seconds=2.0)
    clip(media / "blink.mp4", seconds=0.5)
    photo(media / "horse-stance.jpg")
    photo(media / "tall-tree.jpg", 300, 400)
    broken_clip(media / "broken.mp4")
    (media / "notes.mp4").write_text("Not a clip: notes for the class.\n", encoding="utf-8")
    # A folder where a file should be: it cannot be read, whoever runs the tests (root too).
    (media / "folder.mp4").mkdir(exist_ok=True)
    (media / "forest.ogg").mkdir(exist_ok=True)
    return media
