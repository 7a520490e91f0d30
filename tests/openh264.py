"""A second H.264 decoder for the tests: Cisco's OpenH264, through a small C program against its API.

qidsl writes its own skip slices, and FFmpeg's decoder forgives a lot (a
slice one macroblock short decodes with a warning, even with
``-err_detect explode``), so the joined videos are also decoded by OpenH264
(Debian ``libopenh264-7``, headers in ``libopenh264-dev``; ``.ci/system-deps``
installs both) and compared with FFmpeg's decode frame by frame.

The program (``openh264_decode.c``) is compiled with gcc against the
installed headers rather than called through ctypes: the compiler then lays
out ``SDecodingParam`` and ``SBufferInfo`` and the decoder's function table
from the very header of the installed version, where ctypes would need
them copied by hand and would misread memory, silently, if a field moved.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import IO

import imageio_ffmpeg

SOURCE = Path(__file__).with_name("openh264_decode.c")
HEADER = Path("/usr/include/wels/codec_api.h")


class DecodeError(Exception):
    """OpenH264 reported a state other than dsErrorFree (the message is its own, with the state)."""


@functools.cache
def decoder() -> Path:
    """The compiled decoder, built once per source and kept in the temporary folder."""
    if shutil.which("gcc") is None or not HEADER.is_file():
        raise RuntimeError("the OpenH264 tests need gcc and libopenh264-dev: run .ci/system-deps "
                           "(Debian: apt-get install gcc libopenh264-dev)")
    digest = hashlib.blake2b(SOURCE.read_bytes() + HEADER.read_bytes(), digest_size=8).hexdigest()
    exe = Path(tempfile.gettempdir()) / f"qidsl-openh264-decode-{digest}"
    if not exe.is_file():
        part = exe.with_name(f"{exe.name}.{os.getpid()}.part")  # then renamed: a parallel run never runs half a file
        subprocess.run(["gcc", "-O2", "-Wall", "-Werror", "-o", str(part), str(SOURCE), "-lopenh264"],
                       check=True, capture_output=True)
        part.replace(exe)
    return exe


def annex_b(mp4: Path) -> bytes:
    """The video track of ``mp4`` as an Annex B stream, its bytes copied (no decoding)."""
    return subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(mp4), "-map", "0:v:0",
                           "-c:v", "copy", "-bsf:v", "h264_mp4toannexb", "-f", "h264", "pipe:1"],
                          check=True, capture_output=True).stdout


def _digests(pipe: IO[bytes] | None, frame_bytes: int) -> list[str]:
    assert pipe is not None
    out = []
    while frame := pipe.read(frame_bytes):
        out.append(hashlib.md5(frame).hexdigest())
    return out


def openh264_frames(stream: bytes, width: int, height: int, folder: Path) -> list[str]:
    """The MD5 of every picture OpenH264 decodes from ``stream`` (yuv420p); DecodeError on any error state."""
    source = folder / "openh264-input.h264"
    source.write_bytes(stream)
    with tempfile.TemporaryFile() as errors:  # a file, so a long log never blocks the decoder
        with subprocess.Popen([str(decoder()), str(source), "-"], stdout=subprocess.PIPE,
                              stderr=errors) as process:
            frames = _digests(process.stdout, width * height * 3 // 2)
        errors.seek(0)
        log = errors.read().decode("utf-8", "replace")
    source.unlink()
    if process.returncode != 0 or "[OpenH264]" in log:  # an error state, or a warning on the way
        raise DecodeError(log.strip())
    assert log.strip() == f"{len(frames)} pictures", log
    return frames


def ffmpeg_frames(path: Path, width: int, height: int) -> list[str]:
    """The MD5 of every picture FFmpeg decodes from ``path`` (an MP4 or a raw stream), as yuv420p."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-xerror", "-err_detect", "explode",
               "-i", str(path), "-map", "0:v:0", "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"]
    with tempfile.TemporaryFile() as errors:
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors) as process:
            frames = _digests(process.stdout, width * height * 3 // 2)
        errors.seek(0)
        log = errors.read().decode("utf-8", "replace")
    assert process.returncode == 0 and not log, log
    return frames
