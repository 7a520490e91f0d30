"""Music under the voice: a bed made in code or read from the user's file, levelled once, ducked from the timeline.

The bed is a *cycle* that loops seamlessly: ``music: calm`` is a soft chord
whose every partial and swell repeats exactly every :data:`CALM_CYCLE_SECONDS`
(:func:`calm_cycle`, pure arithmetic, so the same bytes on every build); a
user's file is decoded by ffmpeg (:func:`decode`) and its end crossfaded into
its start (:func:`loop_ready`).  The cycle is levelled once to the voice's
loudness (:func:`level_cycle`, a product of the build's store), so an edit of
the routine never levels it again.

The music's gain over the programme is computed from the timeline, not by a
compressor listening to the voice (:func:`gains`): every stretch where a cue
is spoken or a bell rings is known to the sample, so the music is already
down before the first syllable, stays down through pauses shorter than
:data:`HOLD_SECONDS`, and comes back up smoothly after speech and bells; it
fades in at the start and out at the end.  Under the voice it sits
``music-level`` LU below it; in a long pause it rises, as far as brings the
programme to its loudness target (at most to the voice's loudness, :data:`PAUSE_DB`).
"""

from __future__ import annotations

import functools
import math
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from ..errors import BuildError

SAMPLE_RATE = 48000
CALM_CYCLE_SECONDS = 32  # every partial of the calm bed is a whole number of cycles in this
# In a long pause the music rises, at most to the voice's own loudness: how far is found when the
# programme is mixed (qidsl.renderers.music_mix.master), as far as brings the programme to the
# loudness target with the voice exactly as levelled, so the margin under the voice is never eaten by
# a make-up gain and the limiter.  In a routine of long holds the music alone is most of the programme,
# so it has to come up to about the voice's loudness there for the whole to be at the target (a bed
# between spoken passages sits at dialogue level in broadcasting too); it never goes above it.
PAUSE_DB = 0.0
HOLD_SECONDS = 1.0  # pauses shorter than this keep the music down (it would pump otherwise)
LEAD_SECONDS = 0.4  # the music is fully down this long before a sound starts
DOWN_SECONDS = 0.3  # ... going down over this long before that
RELEASE_DELAY_SECONDS = 0.3  # after a sound ends the music waits this long ...
UP_SECONDS = 1.5  # ... then comes back up over this long
FADE_IN_SECONDS = 3.0
FADE_OUT_SECONDS = 5.0
CROSSFADE_SECONDS = 2.0  # a user's file loops with its end crossfaded into its start
MIN_SECONDS = 1.0  # shorter music cannot be looped without a stutter
_BLOCK = 1 << 20


def calm_cycle(sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """One cycle of ``music: calm``: a soft open chord (D major, with a fifth below) swelling slowly.

    Every frequency is a whole number of cycles per :data:`CALM_CYCLE_SECONDS`,
    so the cycle tiles without a seam.  Computed in float64 from the sample
    index, then rounded to float32: the same bytes on every build.
    """
    n = CALM_CYCLE_SECONDS * sample_rate
    t = np.arange(n, dtype=np.float64) / sample_rate
    period = float(CALM_CYCLE_SECONDS)
    out = np.zeros(n, dtype=np.float64)
    # (frequency Hz, amplitude, swell cycles per period, swell phase): D2 A2 D3 F#3 A3 E4, soft and low.
    partials = ((73.42, 0.30, 1, 0.0), (110.0, 0.22, 2, 1.3), (146.83, 0.20, 1, 2.1),
                (185.0, 0.12, 3, 0.7), (220.0, 0.10, 2, 3.9), (329.63, 0.05, 4, 5.0))
    for hz, amplitude, swells, phase in partials:
        f = round(hz * period) / period  # a whole number of cycles per period
        swell = 0.6 + 0.4 * np.sin(2 * np.pi * swells * t / period + phase)
        # A second partial a hair sharp gives the slow beating of a pad (still periodic).
        g = f + 1.0 / period
        out += amplitude * swell * (np.sin(2 * np.pi * f * t) + 0.5 * np.sin(2 * np.pi * g * t + phase))
    out /= np.max(np.abs(out))
    return (0.5 * out).astype(np.float32)


def decode(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A sound file as float32 mono at ``sample_rate``, decoded by ffmpeg (imageio-ffmpeg's binary).

    A file ffmpeg cannot decode, or one shorter than :data:`MIN_SECONDS`,
    raises :class:`BuildError` naming it.
    """
    import imageio_ffmpeg

    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path), "-vn", "-ac", "1",
               "-ar", str(sample_rate), "-f", "f32le", "-"]
    try:
        done = subprocess.run(command, capture_output=True, check=False)
    except OSError as exc:
        raise BuildError(f"could not run ffmpeg to read the music {path}: {exc.strerror or exc}") from exc
    samples = np.frombuffer(done.stdout, dtype="<f4").copy()
    if done.returncode != 0 or not len(samples):
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise BuildError(f"could not decode the music {path}" + (f": {said[-1]}" if said else ""))
    if len(samples) < MIN_SECONDS * sample_rate:
        raise BuildError(f"the music {path} lasts {len(samples) / sample_rate:.2f} s; "
                         f"it must last at least {MIN_SECONDS:g} s to be looped")
    return samples


def loop_ready(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """``samples`` as a cycle that tiles seamlessly: its last stretch crossfaded (equal power) into its start."""
    fade = min(int(CROSSFADE_SECONDS * sample_rate), len(samples) // 4)
    if fade <= 0:
        return np.asarray(samples, np.float32)
    angle = np.linspace(0.0, np.pi / 2, fade, dtype=np.float64)
    cycle = np.array(samples[: len(samples) - fade], dtype=np.float32)
    tail = samples[len(samples) - fade:]
    cycle[:fade] = (cycle[:fade] * np.sin(angle) + tail * np.cos(angle)).astype(np.float32)
    return cycle


def level_cycle(cycle: np.ndarray, target_lufs: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The cycle at ``target_lufs`` integrated loudness (BS.1770, measured over two turns of the loop)."""
    from .audio import LoudnessMeter

    meter = LoudnessMeter(sample_rate)
    meter.add(np.concatenate([cycle, cycle]))
    loudness = meter.integrated()
    if not math.isfinite(loudness):
        raise BuildError("the music is silent")
    return (cycle * np.float32(10 ** ((target_lufs - loudness) / 20))).astype(np.float32)


def ducked_spans(sounds: Sequence[tuple[int, int]], sample_rate: int = SAMPLE_RATE) -> list[tuple[int, int]]:
    """The stretches (first, last sample) when the music is down: sounds joined across short pauses."""
    hold = int(HOLD_SECONDS * sample_rate)
    spans: list[list[int]] = []
    for start, end in sorted(sounds):
        if spans and start - spans[-1][1] < hold:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    return [(a, b) for a, b in spans]


def ramps(spans: Sequence[tuple[int, int]], sample_rate: int = SAMPLE_RATE) -> list[tuple[int, int]]:
    """Where each ducked span's ramps begin and end: down before its first sample, up after its last."""
    lead, fall = int(LEAD_SECONDS * sample_rate), int(DOWN_SECONDS * sample_rate)
    delay, rise = int(RELEASE_DELAY_SECONDS * sample_rate), int(UP_SECONDS * sample_rate)
    return [(first - lead - fall, end + delay + rise) for first, end in spans]


def depth(ramped: Sequence[tuple[int, int]], lo: int, hi: int, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """How far the music is ducked (1) or not (0) at samples ``lo`` .. ``hi``, given the spans' :func:`ramps`."""
    fall, rise = int(DOWN_SECONDS * sample_rate), int(UP_SECONDS * sample_rate)
    out = np.zeros(hi - lo, np.float64)
    down_ramp, up_ramp = _ramp(fall)[:fall], _ramp(rise)[rise:0:-1]
    for a, b in ramped:
        if b <= lo or a >= hi:
            continue
        s, e = max(a, lo), min(b, hi)
        if b - a < fall + rise:  # a short span: its ramps meet
            index = np.arange(s, e, dtype=np.float64)
            shape = np.minimum(np.minimum(1.0, (index - a) / fall), np.minimum(1.0, (b - index) / rise))
            shape = 0.5 - 0.5 * np.cos(np.pi * np.clip(shape, 0.0, 1.0))  # raised cosine: no click
            out[s - lo: e - lo] = np.maximum(out[s - lo: e - lo], shape)
            continue
        # Down over fall samples, flat, up over rise samples: the ramps are the same arrays every time.
        for first, last, shape, at in ((s, min(e, a + fall), down_ramp, a), (max(s, b - rise), e, up_ramp, b - rise)):
            if last > first:
                part = out[first - lo: last - lo]
                np.maximum(part, shape[first - at: last - at], out=part)
        if min(e, b - rise) > max(s, a + fall):
            out[max(s, a + fall) - lo: min(e, b - rise) - lo] = 1.0
    return out


@functools.cache
def _ramp(length: int) -> np.ndarray:
    """A raised-cosine ramp from 0 up to 1 over ``length`` samples, both ends included (read only: shared)."""
    shape = 0.5 - 0.5 * np.cos(np.pi * np.clip(np.arange(length + 1, dtype=np.float64) / length, 0.0, 1.0))
    shape.setflags(write=False)
    return shape


def fade(lo: int, hi: int, start: int | None, end: int | None, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The fade-in after ``start`` and the fade-out before ``end`` (either None: out of reach) at ``lo`` .. ``hi``."""
    fade_in, fade_out = int(FADE_IN_SECONDS * sample_rate), int(FADE_OUT_SECONDS * sample_rate)
    index = np.arange(lo, hi, dtype=np.float64)
    out = np.ones(hi - lo, np.float64)
    if start is not None and lo < start + fade_in:
        out *= 0.5 - 0.5 * np.cos(np.pi * np.clip((index - start) / fade_in, 0.0, 1.0))
    if end is not None and hi > end - fade_out:
        out *= 0.5 - 0.5 * np.cos(np.pi * np.clip((end - index) / fade_out, 0.0, 1.0))
    return out


def parts(sounds: Sequence[tuple[int, int]], total: int, sample_rate: int = SAMPLE_RATE) -> Iterator[np.ndarray]:
    """How much of the music is ducked (depth 1) or lifted (0) over ``total`` samples, in blocks of (n, 2).

    Column 0 is the fade-in/out times the depth, column 1 the fade times one
    minus it, so the music's gain is ``down * [0] + up * [1]`` for any gains
    ``down`` (under the voice) and ``up`` (in a long pause).  ``sounds`` are
    the (first, end) samples of every cue and bell.
    """
    ramped = ramps(ducked_spans(sounds, sample_rate), sample_rate)
    for lo in range(0, total, _BLOCK):
        hi = min(total, lo + _BLOCK)
        ducked, faded = depth(ramped, lo, hi, sample_rate), fade(lo, hi, 0, total, sample_rate)
        yield np.stack([faded * ducked, faded * (1.0 - ducked)], axis=1).astype(np.float32)


def gains(sounds: Sequence[tuple[int, int]], total: int, level_db: float, pause_db: float = PAUSE_DB,
          sample_rate: int = SAMPLE_RATE) -> Iterator[np.ndarray]:
    """The music's gain over ``total`` samples, in blocks: ``level_db`` below the voice under ``sounds``.

    The gain is a factor on the cycle levelled to the voice's loudness:
    ``-level_db`` dB under a sound, ``-pause_db`` in a long pause.
    """
    down, up = 10 ** (-level_db / 20), 10 ** (-min(pause_db, level_db) / 20)
    for block in parts(sounds, total, sample_rate):
        yield (down * block[:, 0] + up * block[:, 1]).astype(np.float32)
