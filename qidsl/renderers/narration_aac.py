"""The narration as AAC in chunks cut in silence, each encoded once and cached, joined packet by packet.

A whole-file AAC encode of a 10-minute narration takes 5-8 s on the 2-core
machine, longer than the whole one-cue rebuild may take.  So the narration
is cut into chunks, each chunk encoded on its own and kept under a key (a
hash of its samples and the encoder settings), and the chunks' AAC packets
are laid end to end in one ADTS stream that the final mux copies.

Two things make that join clean:

- **Priming.** ffmpeg's AAC encoder delays its output by 1024 samples (one
  packet of priming).  Each chunk is encoded from one packet before its
  start (``PRE_ROLL`` samples of the real narration) to two packets after
  its end; the priming packet and the pre-roll packet are dropped, so
  packet ``k`` that is kept decodes to the chunk's samples ``1024k ..
  1024k+1023``.  The packet before the join (from the previous chunk) was
  encoded from the same samples, so the decoder's overlap-add across the
  join has what it expects.
- **Placement.** AAC packets sit on a grid of 1024 samples; a chunk's start
  generally does not.  Chunks are cut inside pauses (``CUT_SILENCE``
  samples with no sample louder than ``SILENT``), 64 ms into the pause,
  so a chunk placed up to half a packet (512 samples, 10.7 ms, a third
  of a video frame) early or late moves only silence: audio and video stay
  within one frame of each other, and nothing audible is doubled or lost.
  Cuts are placed relative to the pause itself, not to the routine's start
  or the last cut, so after an edit that moves later events by whole frames
  the later chunks hold the same samples and keep their keys.

Where the narration has no silence for ``MAX_SECONDS`` (music under the
voice), a cut is forced on the absolute packet grid, so it is placed
exactly; such chunks are reused only while nothing before them moves.

Memory stays flat: the WAV is scanned and encoded chunk by chunk.
"""

from __future__ import annotations

import hashlib
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BuildError

RATE = 48000
PACKET = 1024  # samples per AAC-LC packet
PRE_ROLL = PACKET
POST_ROLL = 2 * PACKET
SILENT = 4  # 16-bit sample values this small count as silence (about -78 dBFS)
SILENCE_RUN = 6 * PACKET  # silence shorter than this (128 ms) is not silence (speech crosses zero)
# A chunk ends in every pause at least this long (64 ms into it).  Whether a pause is a cut depends on
# that pause alone, never on where the last cut fell, so after an edit every later cut falls at the
# same place in the same sound and the later chunks keep their keys.  (A rule "at least 5 s since the
# last cut" moved every cut after an edit until a long pause: a one-cue edit of the shipped routine
# re-encoded 117 s of narration; now it re-encodes the chunks that hold the edit.)
CUT_SILENCE = RATE // 2
MAX_SECONDS = 30.0  # without silence, a cut is forced on the packet grid this often
_BLOCK = 1 << 20
# ffmpeg's AAC encoder: the "fast" coder encodes 117 s of narration in 0.95 s where the default
# "twoloop" takes 2.0 s (the 2-core build machine); at 160 kb/s for one voice the two sound alike,
# and a one-cue edit of the shipped routine re-encodes about two minutes of it.
AAC_OPTIONS = ("-c:a", "aac", "-aac_coder", "fast")


@dataclass(frozen=True)
class Chunk:
    """Samples ``start`` .. ``end`` of the narration; ``packet`` is where its AAC packets go."""

    start: int
    end: int
    packet: int
    key: str = ""


def readable(path: Path) -> bool:
    """Whether ``path`` is a WAV this encoder reads directly: 16-bit mono at 48 kHz."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnchannels() == 1 and wav.getsampwidth() == 2 and wav.getframerate() == RATE
    except (OSError, wave.Error, EOFError):
        return False


def _silent_runs(path: Path, total: int):
    """Yield (start, end) of every run of silence in the first ``total`` samples (zeros after the file's end)."""
    pending = None  # start of a run still open at the end of the last block
    at = 0
    with wave.open(str(path), "rb") as wav:
        while at < total:
            samples = np.frombuffer(wav.readframes(min(_BLOCK, total - at)), dtype="<i2")
            if samples.size == 0:
                break
            # |x| <= SILENT in one pass: shifted into unsigned range, small values stay small.
            quiet = ((samples.view(np.uint16) + np.uint16(SILENT)) <= np.uint16(2 * SILENT)).view(np.int8)
            edge = np.zeros(1, np.int8)
            edges = np.diff(np.concatenate((edge, quiet, edge)))  # int8: +1 where a run starts, -1 after it
            starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
            # Speech crosses zero all the time: keep only long runs and those touching the block's edges.
            keep = (ends - starts >= SILENCE_RUN) | (starts == 0) | (ends == samples.size)
            starts, ends = (starts[keep] + at).tolist(), (ends[keep] + at).tolist()
            if pending is not None:
                if starts and starts[0] == at:
                    starts[0] = pending  # the run goes on from the last block
                else:
                    yield pending, at
            pending = None
            if ends and ends[-1] == at + samples.size:
                pending = starts.pop()
                ends.pop()
            for lo, hi in zip(starts, ends):
                if hi - lo >= SILENCE_RUN:
                    yield lo, hi
            at += samples.size
    yield (pending if pending is not None else at), total  # past the file's end is silence


def cuts(path: Path, total: int) -> list[int]:
    """Where chunks start (the first at 0), for a narration of ``total`` samples."""
    longest = round(MAX_SECONDS * RATE)
    starts = [0]
    for lo, hi in _silent_runs(path, total):
        if hi - lo < CUT_SILENCE:
            continue
        cut = lo + SILENCE_RUN // 2
        while cut - starts[-1] > longest:  # no pause for a long while: cut on the grid
            starts.append((starts[-1] + longest) // PACKET * PACKET)
        if cut - starts[-1] >= SILENCE_RUN and total - cut >= SILENCE_RUN:  # no chunk of nothing
            starts.append(cut)
    while total - starts[-1] > longest:
        starts.append((starts[-1] + longest) // PACKET * PACKET)
    return starts


def _read(wav: wave.Wave_read, frames: int, lo: int, hi: int) -> bytes:
    """Samples ``lo`` .. ``hi`` as 16-bit bytes, silence outside the file (and past ``total``)."""
    before = max(0, -lo)
    start, stop = max(0, lo), min(hi, frames)
    data = b""
    if stop > start:
        wav.setpos(start)
        data = wav.readframes(stop - start)
    after = (hi - lo) - before - len(data) // 2
    return b"\0\0" * before + data + b"\0\0" * after


def plan(path: Path, total: int, settings: bytes) -> list[Chunk]:
    """The chunks of the narration with their keys (samples are not kept: memory stays flat)."""
    starts = cuts(path, total)
    chunks = []
    with wave.open(str(path), "rb") as wav:
        frames = min(wav.getnframes(), total)
        for i, start in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else total
            pcm = _read(wav, frames, start - PRE_ROLL, end + POST_ROLL)
            key = hashlib.sha256(settings + pcm).hexdigest()
            chunks.append(Chunk(start, end, round(start / PACKET), key))
    return chunks


def encode_chunk(ffmpeg: str, path: Path, chunk: Chunk, total: int, bitrate: str, out: Path) -> None:
    """Encode ``chunk`` (with its pre- and post-roll) to ADTS AAC at ``out``."""
    with wave.open(str(path), "rb") as wav:
        pcm = _read(wav, min(wav.getnframes(), total), chunk.start - PRE_ROLL, chunk.end + POST_ROLL)
    command = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "s16le", "-ar", str(RATE), "-ac", "1",
               "-i", "pipe:0", *AAC_OPTIONS, "-b:a", bitrate, "-fflags", "+bitexact", "-flags:a", "+bitexact",
               "-f", "adts", str(out)]
    done = subprocess.run(command, input=pcm, capture_output=True)
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise BuildError(f"ffmpeg could not encode the narration: {lines[-1] if lines else done.returncode}")


def adts_packets(data: bytes) -> list[bytes]:
    """The frames of an ADTS stream, header included."""
    packets, at = [], 0
    while at + 7 <= len(data):
        if data[at] != 0xFF or data[at + 1] & 0xF0 != 0xF0:
            raise BuildError("a cached narration chunk is damaged (no ADTS sync word)")
        length = ((data[at + 3] & 0x03) << 11) | (data[at + 4] << 3) | (data[at + 5] >> 5)
        if length < 7:
            raise BuildError("a cached narration chunk is damaged (bad ADTS frame length)")
        packets.append(data[at:at + length])
        at += length
    return packets


def join(chunks: list[Chunk], files: list[Path], total: int, out: Path) -> None:
    """Lay each chunk's packets at its place in one ADTS stream of ``ceil(total / 1024)`` packets."""
    count = -(-total // PACKET)
    with open(out, "wb") as stream:
        for i, (chunk, file) in enumerate(zip(chunks, files)):
            until = chunks[i + 1].packet if i + 1 < len(chunks) else count
            # Drop the priming packet and the pre-roll packet: what is left starts at the chunk's start.
            packets = adts_packets(file.read_bytes())[2:]
            need = until - chunk.packet
            if len(packets) < need:
                raise BuildError(f"a cached narration chunk {file.name} is too short; delete it and build again")
            stream.write(b"".join(packets[:need]))
