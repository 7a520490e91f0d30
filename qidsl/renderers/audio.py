"""The narration: every cue and bell levelled on its own, then laid on the timeline in blocks.

Levelling is done per sound, not per programme.  :func:`level_speech` brings
one cue's speech (resampled to 48 kHz) to the loudness target (ITU-R BS.1770,
measured by libebur128) under a true-peak ceiling; :func:`level_bell` gives a
bell the same gain the voice gets.  The programme is then a plain sum of
levelled sounds at their places (:func:`pieces`, :func:`write_mix_wav`): an
edit changes only the sounds it touches, so everything else in the mix, and
every encoded stretch of it, stays bit for bit what it was and is reused from
the product store.  A gain computed from the whole programme would change
every sample after any edit.  The programme's integrated loudness is still
measured (in a stream, block by block) whenever the mix is written, and lands
on the target because every sound in it does: gating leaves the silences out.

:func:`mix` and :func:`normalise` also work on a whole buffer, for short
audio and for the tests.
"""

from __future__ import annotations

import math
import os
import wave
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import BuildError
from ..outputs import atomic_path
from ..timeline import BELL, Timeline
from .bell import bell

SAMPLE_RATE = 48000
OVERSAMPLE = 4  # BS.1770 true peak: measure on a 4x oversampled signal
# Margin under the requested ceiling so 16-bit rounding, the limiter's own
# approximations and lossy encoding never push the true peak over it: AAC at
# 128 kbit/s was measured (ffmpeg ebur128) to overshoot by about 0.4 dB, and the
# MP3 (with its make-up for LAME's 0.95, renderers.mp3.LAME_GAIN) by about 0.6 dB.
CEILING_MARGIN_DB = 0.8
LOUDNESS_ROUNDS = 3  # make-up gain rounds after limiting
MAX_STEP_DB = 6.0  # the largest make-up step of one round
LIMITER_HOLD_SECONDS = 0.010  # how long the gain stays down around a peak
LIMITER_RAMP_SECONDS = 0.005  # how smoothly it goes down and comes back
_CHUNK = 1 << 20  # samples processed at a time, so hour-long mixes stay in memory


class Clip(Protocol):
    """Synthesised speech as the engines return it (``qidsl.engines.base.SpeechClip``)."""

    @property
    def samples(self) -> np.ndarray:  # float32 mono, -1..1
        ...

    @property
    def sample_rate(self) -> int:
        ...


def _resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """``samples`` at ``to_rate``: ``ceil(n * to_rate / from_rate)`` samples (libsoxr, high quality).

    libsoxr (python-soxr) rather than scipy.signal: the same quality, and it
    loads in milliseconds where scipy.signal takes most of a second, which
    would be most of a rebuild after a one-cue edit.
    """
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    if from_rate == to_rate:
        return samples
    import soxr

    g = math.gcd(int(from_rate), int(to_rate))
    length = -(-len(samples) * (to_rate // g) // (from_rate // g))
    out = np.asarray(soxr.resample(samples, from_rate, to_rate, quality="HQ"), dtype=np.float32)
    if len(out) < length:  # libsoxr rounds the length to nearest; keep the documented one
        out = np.concatenate([out, np.zeros(length - len(out), np.float32)])
    return out[:length]


def _running_min(values: np.ndarray, width: int) -> np.ndarray:
    """The minimum over a centred window of odd ``width``, edges extended (as scipy's mode="nearest").

    van Herk / Gil-Werman: minima running forward and backward inside blocks
    of ``width``; each window spans at most two blocks.  O(n), numpy only.
    """
    half = width // 2
    padded = np.concatenate([np.full(half, values[0]), values, np.full(half, values[-1])]).astype(np.float32)
    n = len(padded)
    blocks = -(-n // width)
    full = np.concatenate([padded, np.full(blocks * width - n, np.float32(np.inf))]).reshape(blocks, width)
    forward = np.minimum.accumulate(full, axis=1).reshape(-1)
    backward = np.minimum.accumulate(full[:, ::-1], axis=1)[:, ::-1].reshape(-1)
    starts = np.arange(len(values))
    return np.minimum(backward[starts], forward[starts + width - 1])


def _running_mean(values: np.ndarray, width: int) -> np.ndarray:
    """The mean over a centred window of odd ``width``, edges extended (as scipy's mode="nearest")."""
    half = width // 2
    padded = np.concatenate([np.full(half, values[0]), values, np.full(half, values[-1])]).astype(np.float64)
    sums = np.concatenate([[0.0], np.cumsum(padded)])
    return ((sums[width:] - sums[:-width]) / width).astype(np.float32)


def _place(buffer: np.ndarray, sound: np.ndarray, at: int) -> None:
    if at >= len(buffer) or len(sound) == 0:
        return
    end = min(len(buffer), at + len(sound))
    # Added, not copied, so a bell still ringing under the next cue is heard.
    buffer[at:end] += sound[: end - at]


def mix(timeline: Timeline, clips: Mapping[str, Clip], sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The narration: float32 mono, exactly ``round(timeline.duration * sample_rate)`` samples.

    Each event with spoken text gets ``clips[event.spoken]`` from its start;
    each bell event gets a synthesised bell lasting the event; everything else
    is silence.  A spoken text without a clip raises :class:`BuildError`.
    """
    buffer = np.zeros(int(round(timeline.duration * sample_rate)), dtype=np.float32)
    resampled: dict[str, np.ndarray] = {}  # a cue repeated nine times is resampled once
    bells: dict[float, np.ndarray] = {}
    for event in timeline.events:
        if event.spoken:
            if event.spoken not in resampled:
                clip = clips.get(event.spoken)
                if clip is None:
                    raise BuildError(f"no synthesised speech for the cue {event.spoken!r}")
                resampled[event.spoken] = _resample(clip.samples, clip.sample_rate, sample_rate)
            _place(buffer, resampled[event.spoken], timeline.at_sample(event.start, sample_rate))
        if event.kind == BELL and event.duration > 0:
            if event.duration not in bells:
                bells[event.duration] = bell(event.duration, sample_rate)
            _place(buffer, bells[event.duration], timeline.at_sample(event.start, sample_rate))
    return buffer


def oversampled_peaks(samples: np.ndarray) -> np.ndarray:
    """For each sample, the largest magnitude of the 4x oversampled signal around it.

    Worked through in chunks with an overlap wide enough for the resampling
    filter, so the result is the same as for the whole signal at once.
    """
    import soxr

    n = len(samples)
    peaks = np.empty(n, dtype=np.float32)
    pad = 2048  # longer than half of libsoxr's high-quality filter
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        a, b = max(0, lo - pad), min(n, hi + pad)
        up = np.abs(np.asarray(soxr.resample(samples[a:b].astype(np.float32), 1, OVERSAMPLE, quality="HQ"),
                               dtype=np.float32))
        # Oversampled points 4i-2 .. 4i+1 belong to sample i: the two halves of its
        # neighbouring intervals, so every inter-sample peak is counted somewhere.
        up = np.concatenate([np.zeros(2, np.float32), up, np.zeros(2, np.float32)])
        m = b - a
        group = np.maximum(np.maximum(up[0:4 * m:4], up[1:4 * m:4]), np.maximum(up[2:4 * m:4], up[3:4 * m:4]))
        group = np.maximum(group, np.abs(samples[a:b]))
        peaks[lo:hi] = group[lo - a: hi - a]
    return peaks


def true_peak(samples: np.ndarray) -> float:
    """The true peak of ``samples`` as a linear magnitude (BS.1770 style, 4x oversampled)."""
    if len(samples) == 0:
        return 0.0
    return float(np.max(oversampled_peaks(samples)))


def amplified_and_limited(samples: np.ndarray, peaks: np.ndarray, gain: float, ceiling: float,
                           sample_rate: int) -> np.ndarray:
    """``samples * gain`` through a look-ahead peak limiter with the given ceiling.

    ``peaks`` are the true peaks of ``samples`` per sample (a constant gain
    scales them, so they are measured once).  The gain each sample needs is
    spread by a running minimum (the hold) and smoothed by a running mean
    narrower than the hold, so the smoothed gain is never above what any peak
    inside the window needs: it starts falling before the peak arrives
    (look-ahead), never overshoots, and comes back without a click.
    """
    out = samples * np.float32(gain)
    limit = np.float32(ceiling / gain)
    over = np.flatnonzero(peaks > limit)
    if not len(over):
        return out
    hold = 2 * int(LIMITER_HOLD_SECONDS * sample_rate) + 1
    ramp = 2 * int(LIMITER_RAMP_SECONDS * sample_rate) + 1
    # The gain moves only within reach of a sample over the ceiling, so the
    # filters run on those stretches alone (everywhere else the gain is 1):
    # the same result as filtering the whole mix, in a fraction of the time.
    reach = hold // 2 + ramp // 2 + 1
    breaks = np.flatnonzero(np.diff(over) > 2 * reach)
    for first, last in zip(np.concatenate(([0], breaks + 1)), np.concatenate((breaks, [len(over) - 1]))):
        lo, hi = max(0, over[first] - 2 * reach), min(len(samples), over[last] + 2 * reach + 1)
        needed = np.minimum(np.float32(1.0), limit / np.maximum(peaks[lo:hi], np.float32(1e-12)))
        smooth = _running_mean(_running_min(needed, hold), ramp)
        out[lo:hi] *= smooth
    return out


class LoudnessMeter:
    """BS.1770 integrated loudness of mono audio fed in blocks (libebur128 through pyebur128).

    Memory does not grow with the length of what is fed: libebur128 keeps a
    histogram of block loudnesses, not the blocks.
    """

    def __init__(self, sample_rate: int):
        import pyebur128

        self._state = pyebur128.R128State(1, int(sample_rate), pyebur128.MeasurementMode.MODE_I)
        self._global = pyebur128.get_loudness_global

    def add(self, samples: np.ndarray) -> None:
        samples = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
        if len(samples):
            self._state.add_frames(samples, len(samples))

    def integrated(self) -> float:
        """LUFS; ``-inf`` for silence."""
        return float(self._global(self._state))


def _loudness(samples: np.ndarray, sample_rate: int) -> float:
    meter = LoudnessMeter(sample_rate)
    for lo in range(0, len(samples), _CHUNK):
        meter.add(samples[lo: lo + _CHUNK])
    return meter.integrated()


def normalise(samples: np.ndarray, sample_rate: int = SAMPLE_RATE, target_lufs: float = -16.0,
              true_peak_dbtp: float = -1.0) -> np.ndarray:
    """``samples`` brought to ``target_lufs`` integrated loudness, true peak at most ``true_peak_dbtp``.

    The gain is set from the BS.1770 integrated loudness (libebur128); peaks
    that would then exceed the ceiling are pulled down by a look-ahead limiter
    rather than turning the whole mix down, so the loudness stays on target.
    Silence, or audio shorter than one 0.4 s measuring block, is returned as
    it is: it has no loudness to correct.
    """
    samples = np.asarray(samples, dtype=np.float32)
    if len(samples) < int(0.4 * sample_rate) + 1:
        return samples.copy()
    loudness = _loudness(samples, sample_rate)
    if not math.isfinite(loudness):
        return samples.copy()
    ceiling = 10 ** ((true_peak_dbtp - CEILING_MARGIN_DB) / 20)
    peaks = oversampled_peaks(samples)
    gain = 10 ** ((target_lufs - loudness) / 20)
    out = amplified_and_limited(samples, peaks, gain, ceiling, sample_rate)
    if float(peaks.max()) * gain > ceiling:  # the limiter worked: check its result
        # Limiting takes a little loudness away; make it up and limit again.  The
        # second make-up step is a secant step, since the loss grows with the
        # gain: on peaky speech it lands within 0.1 LU in two rounds.
        gain_db = 20 * math.log10(gain)
        tried: list[tuple[float, float]] = []
        for _ in range(LOUDNESS_ROUNDS):
            measured = _loudness(out, sample_rate)
            if not math.isfinite(measured) or abs(target_lufs - measured) <= 0.1:
                break
            tried.append((gain_db, measured))
            step = target_lufs - measured
            if len(tried) >= 2 and tried[-1][1] != tried[-2][1]:
                (g0, l0), (g1, l1) = tried[-2], tried[-1]
                step = (target_lufs - l1) * (g1 - g0) / (l1 - l0)
            # A short, peaky sound (a counted "6") can flatten the secant: never step
            # further than the loudness is off, and never backwards.
            if not math.isfinite(step) or step * (target_lufs - measured) < 0:
                step = target_lufs - measured
            gain_db += max(-MAX_STEP_DB, min(MAX_STEP_DB, step))
            out = amplified_and_limited(samples, peaks, 10 ** (gain_db / 20), ceiling, sample_rate)
        # The limiter's gain is smooth, so any overshoot left is a hair; remove it outright.
        peak = true_peak(out)
        if peak > ceiling:
            out = out * np.float32(ceiling / peak)
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    """Float -1..1 to 16-bit integers, rounded, clipped rather than wrapped."""
    return np.round(np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")


QUICK_PEAK = 0.89  # about -1 dBFS: qidsl watch's quick mix is never clipped


def quick_mix(timeline: Timeline, clips: Mapping[str, Clip]) -> tuple[np.ndarray, int]:
    """The narration at the clips' own sample rate, scaled once so its peak is :data:`QUICK_PEAK`.

    ``qidsl watch``'s sound: no resampling and no loudness normalisation, so a
    page reloads within a second of a save.
    """
    rates = {clip.sample_rate for clip in clips.values()}
    rate = rates.pop() if len(rates) == 1 else SAMPLE_RATE
    mixed = mix(timeline, clips, sample_rate=rate)
    peak = float(np.max(np.abs(mixed))) if len(mixed) else 0.0
    if peak > 0:
        mixed *= np.float32(QUICK_PEAK / peak)
    return mixed, rate


def write_wav(path: str | os.PathLike, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Write mono ``samples`` (float -1..1) to ``path`` as 16-bit PCM WAV, atomically."""
    samples = np.asarray(samples).reshape(-1)
    try:
        with atomic_path(path) as tmp:
            with wave.open(str(tmp), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(int(sample_rate))
                for lo in range(0, len(samples), _CHUNK):
                    out.writeframes(to_pcm16(samples[lo: lo + _CHUNK]).tobytes())
    except OSError as exc:
        raise BuildError(f"could not write {path}: {exc.strerror or exc}") from exc


# --- levelled sounds, laid out in blocks ------------------------------------------------------

# Loudness of speech that assemble() has levelled (engines.base.TARGET_RMS), measured on the
# shipped routine's cues with libebur128: the bell gets the gain that brings this to the target,
# so it sits under the voice as it did when one gain was set for the whole programme.
SPEECH_REFERENCE_LUFS = -19.0
_PAD_SECONDS = 0.4  # silence measured around a sound: one BS.1770 block, so short cues ("2") have a loudness


def level_speech(samples: np.ndarray, sample_rate: int, target_lufs: float = -16.0,
                 true_peak_dbtp: float = -1.0) -> np.ndarray:
    """One cue's speech at 48 kHz, at ``target_lufs`` with its true peak under the ceiling.

    Measured with a little silence on both sides, as it is heard in the
    programme, so that gating treats it as it will treat the whole.
    """
    resampled = _resample(samples, sample_rate, SAMPLE_RATE)
    pad = np.zeros(int(_PAD_SECONDS * SAMPLE_RATE), np.float32)
    levelled = normalise(np.concatenate([pad, resampled, pad]), SAMPLE_RATE, target_lufs, true_peak_dbtp)
    return np.ascontiguousarray(levelled[len(pad): len(pad) + len(resampled)], dtype=np.float32)


def level_bell(seconds: float, target_lufs: float = -16.0, true_peak_dbtp: float = -1.0) -> np.ndarray:
    """A bell of ``seconds`` with the voice's gain (see :data:`SPEECH_REFERENCE_LUFS`), peaks limited."""
    sound = bell(seconds, SAMPLE_RATE)
    if not len(sound):
        return sound
    gain = 10 ** ((target_lufs - SPEECH_REFERENCE_LUFS) / 20)
    ceiling = 10 ** ((true_peak_dbtp - CEILING_MARGIN_DB) / 20)
    peaks = oversampled_peaks(sound)
    out = amplified_and_limited(sound, peaks, gain, ceiling, SAMPLE_RATE)
    peak = true_peak(out)
    if peak > ceiling:
        out = out * np.float32(ceiling / peak)
    return np.clip(out, -1.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class Piece:
    """One levelled sound placed in the programme: its first sample and its length in samples.

    ``sound`` names it (a product key); the same cue said nine times is nine
    pieces with one sound.
    """

    start: int
    length: int
    sound: str


def pieces(timeline: Timeline, sound_of: Callable[[object], tuple[str, int] | None],
           sample_rate: int = SAMPLE_RATE) -> list[Piece]:
    """Every sound of ``timeline`` as a :class:`Piece`, in time order.

    ``sound_of(event)`` gives the event's sound and its length in samples,
    or None for a silent event.
    """
    found = []
    for event in timeline.events:
        sound = sound_of(event)
        if sound is not None and sound[1] > 0:
            found.append(Piece(timeline.at_sample(event.start, sample_rate), sound[1], sound[0]))
    return sorted(found, key=lambda p: p.start)


def mix_blocks(placed: Sequence[Piece], total: int, load: Callable[[str], np.ndarray],
               block: int = _CHUNK) -> Iterator[np.ndarray]:
    """The programme, ``total`` samples, as consecutive float32 blocks of at most ``block`` samples.

    Only the sounds that reach into a block are loaded (``load(sound)``), and
    only those of the last few blocks stay in memory.
    """
    placed = sorted(placed, key=lambda p: p.start)
    first = 0  # the earliest piece that may still reach into the block
    loaded: dict[str, np.ndarray] = {}
    for lo in range(0, total, block):
        hi = min(total, lo + block)
        out = np.zeros(hi - lo, np.float32)
        while first < len(placed) and placed[first].start + placed[first].length <= lo:
            first += 1
        wanted = set()
        for piece in placed[first:]:
            if piece.start >= hi:
                break
            if piece.start + piece.length <= lo:
                continue
            wanted.add(piece.sound)
            if piece.sound not in loaded:
                loaded[piece.sound] = load(piece.sound)
            sound = loaded[piece.sound]
            a, b = max(lo, piece.start), min(hi, piece.start + min(piece.length, len(sound)))
            if b > a:
                # Added, not copied, so a bell still ringing under the next cue is heard.
                out[a - lo: b - lo] += sound[a - piece.start: b - piece.start]
        loaded = {k: v for k, v in loaded.items() if k in wanted}
        yield out


def write_mix_wav(path: str | os.PathLike, placed: Sequence[Piece], total: int,
                  load: Callable[[str], np.ndarray], sample_rate: int = SAMPLE_RATE) -> None:
    """Write the programme to ``path`` as 16-bit PCM WAV, block by block (its loudness: :func:`wav_loudness`).

    The file is written where it is asked (the caller makes it atomic).
    Memory stays flat in the programme's length.  Samples are clipped to
    -1..1 (levelled sounds never reach it unless they overlap).
    """
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(int(sample_rate))
        for block in mix_blocks(placed, total, load):
            out.writeframes(to_pcm16(block).tobytes())


def write_pcm_wav(path: str | os.PathLike, pieces: Sequence[str | os.PathLike], total: int, lead: int = 0,
                  tail: int = 0, sample_rate: int = SAMPLE_RATE) -> None:
    """Write the first ``total`` samples of 16-bit PCM files laid end to end, each without its first ``lead``
    and last ``tail`` samples, as one mono WAV at ``path`` (the caller makes it atomic): the mix with
    music, from its pieces (:mod:`qidsl.renderers.music_mix`)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(int(sample_rate))
        for piece in pieces:
            data = np.fromfile(piece, dtype="<i2")
            data = data[lead: len(data) - tail][:max(0, total)]
            out.writeframes(data.tobytes())
            total -= len(data)


def wav_loudness(path: str | os.PathLike) -> float:
    """The integrated loudness (LUFS) of a 16-bit mono WAV (as :func:`write_mix_wav` writes), read in blocks.

    libebur128 holds the GIL while it measures (a third of a second for ten
    minutes), so the blocks are short: the build's other threads (drawing the
    video, feeding its encoders) never wait long for their turn.
    """
    with wave.open(str(path), "rb") as wav:
        meter = LoudnessMeter(wav.getframerate())
        while True:
            data = np.frombuffer(wav.readframes(_SHORT_BLOCK), dtype="<i2")
            if not len(data):
                return meter.integrated()
            meter.add(data / np.float32(32767.0))


_SHORT_BLOCK = 1 << 16  # samples measured at a time (under a millisecond of libebur128)
