"""The narration as an MP3 with ID3v2.4 title, artist and chapters.

ffmpeg (the binary bundled with imageio-ffmpeg) encodes with LAME; mutagen
then writes the tags.  Both happen on the temporary file, so the MP3 that
appears under its real name is already complete, chapters and all.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterable

import numpy as np

from ..errors import BuildError
from ..outputs import atomic_path

_CHUNK = 1 << 18  # samples piped to ffmpeg at a time
MP3_SAMPLE_RATE = 48000
VBR_QUALITY = "2"  # LAME -V2: about 170-210 kbit/s for music, far less for a lone voice


def _encode(path: str, samples: np.ndarray, sample_rate: int) -> None:
    import imageio_ffmpeg

    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "f32le", "-ar", str(int(sample_rate)), "-ac", "1", "-i", "pipe:0",
        "-map_metadata", "-1", "-c:a", "libmp3lame", "-q:a", VBR_QUALITY,
        "-ar", str(MP3_SAMPLE_RATE), "-ac", "1", "-id3v2_version", "0", "-write_xing", "1",
        "-f", "mp3", path,
    ]
    pcm = np.ascontiguousarray(np.clip(samples, -1.0, 1.0), dtype="<f4").reshape(-1)
    # ffmpeg's messages go to a file, not a pipe: a full pipe would stall it
    # while this process is still writing audio into its input.
    with tempfile.TemporaryFile() as log:
        try:
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)
        except OSError as exc:
            raise BuildError(f"could not start ffmpeg to encode the MP3: {exc.strerror or exc}") from exc
        try:
            for lo in range(0, len(pcm), _CHUNK):
                process.stdin.write(pcm[lo: lo + _CHUNK].tobytes())
            process.stdin.close()
        except BrokenPipeError:
            pass  # ffmpeg stopped early; its exit code and message say why
        finally:
            code = process.wait()
        if code != 0:
            log.seek(0)
            raise BuildError(_failure(log.read().decode("utf-8", "replace"), code))


def _failure(log: str, code: int) -> str:
    """ffmpeg's last words as one sentence: a full disk said plainly, its internals ([out#0/mp3 @ 0x…]) left out."""
    if "No space left on device" in log or "Disk quota exceeded" in log:
        return "could not write the MP3: the disk is full. Free some space and build again."
    lines = [re.sub(r"^(\[[^\]]*\]\s*)+", "", ln.strip()) for ln in log.splitlines() if ln.strip()]
    lines = [ln for ln in lines if ln]
    reason = lines[-1].rstrip(".") if lines else f"exit code {code}"
    return f"ffmpeg could not encode the MP3 ({reason})."


def _element_ids(titles: list[str]) -> list[str]:
    """CHAP element ids that make mutagen write the chapters in time order.

    mutagen orders frames by their size, then by key (quodlibet/mutagen#506),
    and ffmpeg lists chapters in the order the frames appear.  Padding each id
    so that id and title together have the same length gives every CHAP
    frame the same size, so the zero-padded index decides the order.  The
    CTOC frame states the order anyway; this is for readers that ignore it.
    """
    digits = max(3, len(str(len(titles) - 1)))
    sizes = [len(t.encode("utf-8")) for t in titles]
    longest = max(sizes, default=0)
    return [f"chp{i:0{digits}d}" + "_" * (longest - size) for i, size in enumerate(sizes)]


def _tag(path: str, title: str, artist: str | None, chapters: list[tuple[str, float, float]]) -> None:
    from mutagen.id3 import CHAP, CTOC, ID3, TIT2, TPE1, CTOCFlags, ID3NoHeaderError

    try:
        tags = ID3(path)
    except ID3NoHeaderError:
        tags = ID3()
    tags.add(TIT2(encoding=3, text=[title]))
    if artist:
        tags.add(TPE1(encoding=3, text=[artist]))
    ids = _element_ids([name for name, _, _ in chapters])
    for element, (name, start, end) in zip(ids, chapters):
        tags.add(CHAP(element_id=element, start_time=int(round(start * 1000)), end_time=int(round(end * 1000)),
                      sub_frames=[TIT2(encoding=3, text=[name])]))
    if ids:
        tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                      child_element_ids=ids, sub_frames=[TIT2(encoding=3, text=["Chapters"])]))
    tags.save(path, v2_version=4)


def write_mp3(path: str | os.PathLike, samples: np.ndarray, sample_rate: int, title: str,
              artist: str | None, chapters: Iterable[tuple[str, float, float]]) -> None:
    """Encode mono ``samples`` to an MP3 at ``path`` (48 kHz, LAME VBR), tagged, atomically.

    Tags are ID3v2.4: the title (TIT2), the artist (TPE1) when given, one
    CHAP frame per ``(title, start, end)`` chapter (seconds) and a top-level
    ordered CTOC listing them.  An encoder or file failure raises
    :class:`BuildError`; a previous file at ``path`` is then left untouched.
    """
    from mutagen import MutagenError

    chapters = [tuple(c) for c in chapters]
    try:
        with atomic_path(path) as tmp:
            _encode(str(tmp), np.asarray(samples), sample_rate)
            _tag(str(tmp), title, artist, chapters)
    except OSError as exc:
        raise BuildError(f"could not write {path}: {exc.strerror or exc}") from exc
    except MutagenError as exc:  # mutagen wraps the I/O errors of tagging
        raise BuildError(f"could not write the tags of {path}: {exc}") from exc
