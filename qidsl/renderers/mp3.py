"""The narration as an MP3 with ID3v2.4 title, artist and chapters, encoded in cached runs.

ffmpeg (the binary bundled with imageio-ffmpeg) encodes with LAME; mutagen
then writes the tags.  So that an edit re-encodes only what it changed, the
MP3 is not encoded in one pass: each *run* of sounds (cues and bells closer
together than :data:`RUN_GAP_SAMPLES`) is encoded on its own
(:func:`encode_frames`: constant bit rate, bit reservoir off, so every MPEG
frame decodes on its own), and the file is the runs' frames laid at the MPEG
frame nearest their place, with frames of digital silence between them
(:func:`join_mp3`).  An MPEG frame is 1152 samples (24 ms) and the video's
frames are not a multiple of it, so a run may sound up to half an MPEG frame
(12 ms) early or late against the timeline; never more, since each run is
placed afresh.  The MP4's sound is made from the exact mix, not from this.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
import tempfile
from collections.abc import Iterable

import numpy as np

from ..errors import BuildError
from ..outputs import atomic_path

_CHUNK = 1 << 18  # samples piped to ffmpeg at a time
MP3_SAMPLE_RATE = 48000
# Constant bit rate: every frame has the same size, so frames can be laid side by
# side and players know the length without a Xing table.  96 kbit/s mono is
# transparent for a voice and a bell.
BITRATE = "96k"
FRAME_SAMPLES = 1152  # one MPEG-1 Layer III frame
FRAME_BYTES = 144 * 96000 // MP3_SAMPLE_RATE  # 288: at 48 kHz no frame needs a padding byte
# LAME's encoder delay (576) and the decoder's filter bank (529): where input sample 0
# of an encode comes out when its frames are decoded (measured with ffmpeg).
DECODED_OFFSET = 1105
# Sounds closer than this (0.2 s) are encoded together, so a run's last frames
# (delay and flush, about 3 frames) never reach the next run's place.
RUN_GAP_SAMPLES = 9600
# ffmpeg's LAME gives back 0.95 of what it is given (a 1 kHz sine and speech alike, at
# every bit rate, measured by decoding): 0.45 dB of loudness lost.  The input is raised
# to make up for it, so the MP3 is as loud as the mix; the true-peak margin under the
# ceiling (audio.CEILING_MARGIN_DB) covers the 0.45 dB.
LAME_GAIN = 0.95


def _encode(path: str, samples: np.ndarray, sample_rate: int) -> None:
    import imageio_ffmpeg

    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "f32le", "-ar", str(int(sample_rate)), "-ac", "1", "-i", "pipe:0",
        "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
        "-c:a", "libmp3lame", "-b:a", BITRATE, "-reservoir", "0",
        "-ar", str(MP3_SAMPLE_RATE), "-ac", "1", "-id3v2_version", "0", "-write_xing", "0",
        "-f", "mp3", path,
    ]
    pcm = np.ascontiguousarray(np.clip(samples, -1.0, 1.0) / np.float32(LAME_GAIN), dtype="<f4").reshape(-1)
    # ffmpeg's messages go to a file, not a pipe: a full pipe would stall it
    # while this process is still writing audio into its input.
    with tempfile.TemporaryFile() as log:
        try:
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)
        except OSError as exc:
            raise BuildError(f"could not start ffmpeg to encode the MP3: {exc.strerror or exc}") from exc
        assert process.stdin is not None  # stdin=PIPE
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


def encode_frames(path: str | os.PathLike, samples: np.ndarray, sample_rate: int = MP3_SAMPLE_RATE) -> None:
    """Encode mono ``samples`` to bare MPEG frames at ``path`` (no tags, no Xing frame).

    Input sample 0 is heard :data:`DECODED_OFFSET` samples after the first
    frame starts.  An encoder failure raises :class:`BuildError`.
    """
    try:
        _encode(str(path), np.asarray(samples), sample_rate)
    except OSError as exc:
        raise BuildError(f"could not write {path}: {exc.strerror or exc}") from exc


_SILENCE: list[bytes] = []


def silence_frame() -> bytes:
    """One MPEG frame of digital silence, encoded as :func:`encode_frames` encodes."""
    if not _SILENCE:
        import tempfile as _tempfile

        with _tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "silence.mp3"
            encode_frames(path, np.zeros(4 * FRAME_SAMPLES, np.float32))
            data = path.read_bytes()
        _SILENCE.append(data[2 * FRAME_BYTES: 3 * FRAME_BYTES])  # from the middle: no start-up
    return _SILENCE[0]


def frame_for(start: int) -> int:
    """The MPEG frame at which to lay a run that should be heard from sample ``start``."""
    return max(0, int(round((start - DECODED_OFFSET) / FRAME_SAMPLES)))


def runs(starts_and_ends: list[tuple[int, int]], gap: int = RUN_GAP_SAMPLES) -> list[list[int]]:
    """Indices of sounds (given as (start, end) sample pairs in time order) grouped into runs.

    A sound joins the current run when it starts less than ``gap`` samples
    after the run's last sound ends.
    """
    groups: list[list[int]] = []
    end = None
    for index, (start, stop) in enumerate(starts_and_ends):
        if end is None or start - end >= gap:
            groups.append([index])
            end = stop
        else:
            groups[-1].append(index)
            end = max(end, stop)
    return groups


def join_mp3(path: str | os.PathLike, placed: Iterable[tuple[int, str | os.PathLike]], total_samples: int,
             title: str, artist: str | None, chapters: Iterable[tuple[str, float, float]]) -> None:
    """Write the MP3 at ``path``: each ``(start sample, frames file)`` run at its frame, silence between, tagged.

    The file lasts ``total_samples`` rounded up to whole frames.  Runs are
    given in time order; one that would overlap the one before is laid just
    after it.  Written where asked (the caller makes it atomic).
    """
    from mutagen import MutagenError

    silence = silence_frame()
    chapters = [(title, start, end) for title, start, end in chapters]
    try:
        with open(path, "wb") as out:
            at = 0  # frames written so far
            for start, frames_file in placed:
                frame = max(at, frame_for(start))
                out.write(silence * (frame - at))
                with open(frames_file, "rb") as run:
                    data = run.read()
                out.write(data)
                at = frame + len(data) // FRAME_BYTES
            total = -(-int(total_samples) // FRAME_SAMPLES)
            out.write(silence * max(0, total - at))
        _tag(str(path), title, artist, chapters)
    except OSError as exc:
        raise BuildError(f"could not write {path}: {exc.strerror or exc}") from exc
    except MutagenError as exc:  # mutagen wraps the I/O errors of tagging
        raise BuildError(f"could not write the tags of {path}: {exc}") from exc


def write_mp3(path: str | os.PathLike, samples: np.ndarray, sample_rate: int, title: str,
              artist: str | None, chapters: Iterable[tuple[str, float, float]]) -> None:
    """Encode mono ``samples`` to a tagged MP3 at ``path`` as one run from the start, atomically.

    Tags are ID3v2.4: the title (TIT2), the artist (TPE1) when given, one
    CHAP frame per ``(title, start, end)`` chapter (seconds) and a top-level
    ordered CTOC listing them.  An encoder or file failure raises
    :class:`BuildError`; a previous file at ``path`` is then left untouched.
    The build itself encodes runs and joins them (:func:`join_mp3`).
    """
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    try:
        with atomic_path(path) as tmp:
            frames = Path(str(tmp) + ".frames")
            try:
                encode_frames(frames, samples, sample_rate)
                length = int(round(len(samples) * MP3_SAMPLE_RATE / sample_rate))
                join_mp3(tmp, [(DECODED_OFFSET, frames)], length, title, artist, chapters)
            finally:
                frames.unlink(missing_ok=True)
    except OSError as exc:
        raise BuildError(f"could not write {path}: {exc.strerror or exc}") from exc
