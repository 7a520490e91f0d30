"""The voice with music under it, mastered and encoded in pieces that an edit leaves alone.

A one-cue edit moves every later event, and a music bed playing on one clock
from the programme's start would then sound differently under every later
word: the whole mix, and the whole MP3, would be made again.  So the mix is
laid out per *section* (:func:`layout`):

- each section starts at an *anchor*, the MPEG frame (1152 samples) nearest
  its place on the timeline, and its sounds are laid from there, so a section
  moved by an edit holds the same samples from its anchor on (a sound is at
  most half a frame, 12 ms, early or late: the MP3 of a routine without music
  places its runs the same way);
- the music starts its loop again :data:`CROSSFADE_SAMPLES` before each
  section's anchor, crossfading (equal power) from the loop that was playing,
  so what plays under a section depends on that section alone;
- each section is cut into *pieces* (:func:`_cuts`): a short head, pieces of
  :data:`PIECE_SAMPLES` (a whole number of MPEG frames and of loudness hops)
  from its anchor, and a short tail; what the sections either side bring
  reaches only into the head and the tail.

Everything a piece sounds like is written in its :class:`Window` (its sounds,
the music's loop phase and crossfades, the ducking ramps and the fades, all
relative to the window), and a piece's products are keyed by that window: a
piece no edit reaches keeps its keys.  The products:

- each piece's loudness table (:func:`loudness_of`): for three lifts of the
  music in the pauses, the mean square energy of every 400 ms block (BS.1770's
  gating blocks, 100 ms apart, libebur128's momentary loudness).  The energy
  is a quadratic in the lift, so :func:`master` finds the lift that brings
  the whole programme to its target from these tables alone, with no pass
  over the audio;
- when the lift cannot reach it (a routine of long holds), a make-up gain, and
  what the limiter then takes away: each piece's energies limited at that
  gain and a little more (:func:`limited_loudness`), from which
  :func:`correct` steps the gain to the target;
- each piece's samples (:func:`write_piece`): voice plus music at the gains
  found, any true peak over the ceiling limited with the samples around it,
  with the encoder's pre-roll and post-roll either side;
- each piece's MP3 frames (:func:`write_mp3_piece`), encoded from those
  samples, so the frames either side of a join were encoded from the same
  sound and the join is clean.  The MP3 lays them end to end; the WAV (the
  video's sound) is the pieces' samples end to end.

The lift and the make-up gain are kept on a grid of :data:`STEP_DB`: an edit
that moves the programme's loudness by a few hundredths of a LU leaves them, and so
every piece it does not touch, as they were (an edit that tips one over a step
of the grid remakes every piece, once).  A clean build of a routine and a
rebuild after an edit make the same pieces at the same gains: the same
samples.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BuildError
from . import audio, mp3, music

RATE = audio.SAMPLE_RATE
FRAME = mp3.FRAME_SAMPLES  # 1152: an MPEG frame
HOP = RATE // 10  # 4800: BS.1770's gating blocks (400 ms) start every 100 ms
UNIT = 28800  # 0.6 s: the least whole number of both MPEG frames and loudness hops
PIECE_SAMPLES = 34 * UNIT  # 20.4 s
CROSSFADE_SAMPLES = int(2.0 * RATE)  # a section's music crossfades in from the loop before it over this long
# A section's head: longer than the last ramp of the section before reaches (music.RELEASE_DELAY_SECONDS
# + music.UP_SECONDS, 1.8 s) and the next piece's loudness pre-roll.  Its tail: longer than the next
# section's loop fades in before it (CROSSFADE_SAMPLES) and this piece's post-roll and limiter pad; the
# programme's last tail longer than the fade-out (music.FADE_OUT_SECONDS).
HEAD = 4 * UNIT
TAIL = 4 * UNIT
END_TAIL = 10 * UNIT
LIMIT_PAD = 4096  # samples either side of a piece that its limiter sees (more than the limiter's and soxr's reach)
LOUDNESS_PRE = 5 * HOP  # fed to the meter before a piece's first block ends: that block's 400 ms, the filter settled
PROBES = (0.0, 1.0, 2.0)  # lifts (linear) a piece's loudness is measured at: three points fix a quadratic
# The grid of the lift and of the make-up gain: the programme lands within about half a step (0.125 LU) of
# its target, well inside EBU R128's 0.5 LU; a finer grid is tipped over a step by more edits (with 0.1 dB,
# one of four runs of benchmarks/music_mix.py had its one-cue edit remake every piece).
STEP_DB = 0.25
# The encoder's pre-roll: 47 + 2 frames of the sound before a piece, so that with LAME's delay (mp3.DECODED_OFFSET,
# 1105) the piece's first sample falls at the start of the fourth frame; the first three are dropped.
PRE_ROLL = 3 * FRAME - mp3.DECODED_OFFSET
POST_ROLL = 4 * FRAME
CEILING = 10 ** ((-1.0 - audio.CEILING_MARGIN_DB) / 20)  # the true-peak ceiling, with the encoders' margin
LIMIT_PROBE_DB = 0.5  # the second gain the limiter's loss is measured at (a secant step from the first)
MAX_STEP_DB = 6.0
_ABSOLUTE_GATE = 10 ** ((-70.0 + 0.691) / 10)  # BS.1770: blocks under -70 LUFS are left out ...
_RELATIVE_GATE = 0.1  # ... then those 10 LU under the mean of the rest


@dataclass(frozen=True)
class Layout:
    """Where everything sounds in the mastered programme (output samples).

    ``sounds`` are (first sample, length, sound key); ``ramps`` the ducking
    ramps (:func:`qidsl.renderers.music.ramps`); ``loops`` where the music
    starts its loop again; ``pieces`` the (first, end) samples of each piece.
    """

    total: int
    sounds: tuple[tuple[int, int, str], ...]
    ramps: tuple[tuple[int, int], ...]
    loops: tuple[int, ...]
    pieces: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Window:
    """All a stretch of ``length`` samples of the programme sounds like, relative to its first sample.

    ``sounds``: (first, length, key); ``ramps``: the ducking ramps reaching
    into it; ``loops``: (where the loop starts, whether it crossfades in,
    where the next loop starts or None); ``start`` / ``end``: the programme's
    start and end when their fades reach into it.  Two stretches with equal
    windows are the same samples.
    """

    length: int
    sounds: tuple[tuple[int, int, str], ...]
    ramps: tuple[tuple[int, int], ...]
    loops: tuple[tuple[int, bool, int | None], ...]
    start: int | None
    end: int | None

    def identity(self) -> list:
        """The window as JSON-able values, for a product key."""
        return [self.length, self.sounds, self.ramps, self.loops, self.start, self.end]


def loop_starts(anchors: Sequence[int]) -> tuple[int, ...]:
    """Where the music starts its loop again, for sections starting at ``anchors`` (the first is 0):
    :data:`CROSSFADE_SAMPLES` before each, unless the section before is too short to hold a crossfade."""
    loops = [0]
    for anchor in anchors[1:]:
        if anchor - CROSSFADE_SAMPLES - loops[-1] >= CROSSFADE_SAMPLES:  # a section too short keeps the loop on
            loops.append(anchor - CROSSFADE_SAMPLES)
    return tuple(loops)


def looped_at(cycle: np.ndarray, loops: Sequence[int], where: np.ndarray) -> np.ndarray:
    """The music at the (fractional) programme samples ``where``: ``cycle`` started again at each of ``loops``
    with the crossfades :func:`render` makes, read between samples by linear interpolation (``qidsl watch``'s
    quick mix, which plays at the voice's own rate)."""
    out = np.zeros(len(where), np.float32)
    index = np.arange(len(cycle))
    for j, loop in enumerate(loops):
        following = loops[j + 1] if j + 1 < len(loops) else None
        inside = where >= loop
        if following is not None:
            inside &= where < following + CROSSFADE_SAMPLES
        if not inside.any():
            continue
        at = where[inside]
        sound = np.interp((at - loop) % len(cycle), index, cycle)
        if j > 0:
            sound *= np.sin(0.5 * np.pi * np.clip((at - loop) / CROSSFADE_SAMPLES, 0.0, 1.0))
        if following is not None:
            sound *= np.cos(0.5 * np.pi * np.clip((at - following) / CROSSFADE_SAMPLES, 0.0, 1.0))
        out[inside] += sound.astype(np.float32)
    return out


def layout(section_starts: Sequence[int], placed: Sequence[audio.Piece], total: int) -> Layout:
    """The programme of ``total`` samples laid out from its sections (their first samples on the timeline)."""
    anchors, starts = [0], [0]
    for start in sorted(section_starts):
        anchor = FRAME * round(start / FRAME)
        if anchors[-1] < anchor < total:
            anchors.append(anchor)
            starts.append(start)
    sounds = []
    for piece in placed:
        k = bisect.bisect_right(starts, piece.start) - 1
        sounds.append((max(0, piece.start + anchors[k] - starts[k]), piece.length, piece.sound))
    sounds.sort()
    spans = music.ducked_spans([(first, first + length) for first, length, _ in sounds])
    loops = loop_starts(anchors)
    ends = [*anchors[1:], -(-total // FRAME) * FRAME]
    pieces = []
    for k, (first, end) in enumerate(zip(anchors, ends)):
        pieces += _cuts(first, end, END_TAIL if k == len(anchors) - 1 else TAIL)
    return Layout(total, tuple(sounds), tuple(music.ramps(spans)), loops, tuple(pieces))


def _cuts(first: int, end: int, tail: int) -> list[tuple[int, int]]:
    """A section's pieces: a short head, pieces of :data:`PIECE_SAMPLES`, a short tail on the :data:`UNIT` grid.

    What the section before it leaves (its last sounds' ramps, its loop fading
    out) reaches only into the head, and what the next section brings (its loop
    fading in) only into the tail; the section's length, which moves by a
    frame as the frame nearest its anchor does, changes only the tail.  So a
    section no edit reaches, moved by an edit before it, remakes its head and
    its tail and keeps the pieces between.
    """
    if end - first < HEAD + UNIT + tail:
        return [(first, end)]
    last = first + UNIT * ((end - first - tail) // UNIT)
    cuts = [first, *range(first + HEAD, last, PIECE_SAMPLES)]
    if last - cuts[-1] < PIECE_SAMPLES // 2 and len(cuts) > 2:
        cuts.pop()  # a short remainder joins the piece before it
    return list(zip(cuts, [*cuts[1:], last])) + [(last, end)]


def window(lay: Layout, first: int, end: int) -> Window:
    """The :class:`Window` of samples ``first`` .. ``end`` of the programme."""
    n = end - first
    fall, rise = int(music.DOWN_SECONDS * RATE), int(music.UP_SECONDS * RATE)
    sounds = tuple((s - first, length, key) for s, length, key in lay.sounds if s < end and s + length > first)
    # A ramp's far end only matters within a ramp's length of the window: clamped, equal shapes compare equal.
    ramps = tuple((max(a - first, -fall), min(b - first, n + rise)) for a, b in lay.ramps if b > first and a < end)
    loops = []
    for j, loop in enumerate(lay.loops):
        following = lay.loops[j + 1] if j + 1 < len(lay.loops) else None
        if loop >= end or (following is not None and following + CROSSFADE_SAMPLES <= first):
            continue
        loops.append((loop - first, j > 0 and loop + CROSSFADE_SAMPLES > first,
                      None if following is None or following >= end else following - first))
    reach_in, reach_out = int(music.FADE_IN_SECONDS * RATE), int(music.FADE_OUT_SECONDS * RATE)
    return Window(n, sounds, ramps, tuple(loops), -first if first < reach_in else None,
                  lay.total - first if end > lay.total - reach_out else None)


def render(win: Window, cycle: np.ndarray,
           load: Callable[[str], np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The window's voice, its music where ducked, and its music where lifted: three float32 arrays.

    The programme there is ``voice + down * ducked + up * lifted`` for the
    music's gains under the voice (``down``) and in the pauses (``up``).
    """
    n = win.length
    voice = np.zeros(n, np.float32)
    for first, length, key in win.sounds:
        sound = load(key)[:length]
        a, b = max(0, first), min(n, first + len(sound))
        if b > a:
            voice[a:b] += sound[a - first: b - first]  # added: a bell still ringing under the next cue is heard
    bed = np.zeros(n, np.float32)
    for loop, crossfades_in, following in win.loops:
        a, b = max(0, loop), n if following is None else min(n, following + CROSSFADE_SAMPLES)
        if b <= a:
            continue
        looped = _looped(cycle, (a - loop) % len(cycle), b - a)
        # The crossfades (equal power), computed where they are: elsewhere the loop plays as it is.
        if crossfades_in and a < loop + CROSSFADE_SAMPLES:
            c = min(b, loop + CROSSFADE_SAMPLES)
            index = np.arange(a, c, dtype=np.float64)
            looped[: c - a] *= np.sin(0.5 * np.pi * (index - loop) / CROSSFADE_SAMPLES).astype(np.float32)
        if following is not None and b > following:
            c = max(a, following)
            index = np.arange(c, b, dtype=np.float64)
            looped[c - a:] *= np.cos(0.5 * np.pi * np.clip((index - following) / CROSSFADE_SAMPLES, 0.0, 1.0)
                                     ).astype(np.float32)
        bed[a:b] += looped
    if win.start is not None or win.end is not None:
        bed *= music.fade(0, n, win.start, win.end).astype(np.float32)
    if win.end is not None and win.end < n:  # nothing sounds after the programme's end
        voice[max(0, win.end):] = 0.0
        bed[max(0, win.end):] = 0.0
    ducked = bed * music.depth(win.ramps, 0, n).astype(np.float32)
    return voice, ducked, bed - ducked


@functools.lru_cache(maxsize=2)
def read_cycle(path: str) -> np.ndarray:
    """The levelled loop stored at ``path`` (float32), read once for all the pieces a build makes (read only)."""
    cycle = np.fromfile(path, dtype="<f4")
    cycle.setflags(write=False)
    return cycle


def _looped(cycle: np.ndarray, phase: int, n: int) -> np.ndarray:
    """``n`` samples of ``cycle`` played round and round from ``phase`` (float32, a fresh array)."""
    out = np.empty(n, np.float32)
    at = 0
    while at < n:
        take = min(n - at, len(cycle) - phase)
        out[at: at + take] = cycle[phase: phase + take]
        at, phase = at + take, 0
    return out


def loudness_of(win: Window, cycle: np.ndarray, load: Callable[[str], np.ndarray], down: float) -> np.ndarray:
    """Energies (3, hops) of the 400 ms blocks ending every 100 ms after the window's first :data:`LOUDNESS_PRE`
    samples, with the music lifted by each of :data:`PROBES`: BS.1770's K-weighted mean square (libebur128)."""
    voice, ducked, lifted = render(win, cycle, load)
    return np.stack([_energies(voice + np.float32(down) * ducked + np.float32(up) * lifted) for up in PROBES]
                    ).astype("<f8")


def limited_loudness(win: Window, cycle: np.ndarray, load: Callable[[str], np.ndarray], gains: Gains) -> np.ndarray:
    """Energies (2, hops) of the same blocks as :func:`loudness_of` (``win`` has :data:`LIMIT_PAD` more on
    either side), mixed at ``gains`` and at :data:`LIMIT_PROBE_DB` more gain, true peaks limited as
    :func:`write_piece` limits them: what the limiter takes away, for :func:`correct`."""
    samples = _mixed(win, cycle, load, gains)
    peaks = audio.oversampled_peaks(samples)
    rows = []
    for gain_db in (gains.gain_db, gains.gain_db + LIMIT_PROBE_DB):
        limited = audio.amplified_and_limited(samples, peaks, 10 ** (gain_db / 20), CEILING, RATE)
        rows.append(_energies(np.clip(limited[LIMIT_PAD: win.length - LIMIT_PAD], -1.0, 1.0)))
    return np.stack(rows).astype("<f8")


def _mixed(win: Window, cycle: np.ndarray, load: Callable[[str], np.ndarray], gains: Gains) -> np.ndarray:
    """The window's voice with the music ``gains.level_db`` under it and lifted in the pauses (no make-up gain)."""
    voice, ducked, lifted = render(win, cycle, load)
    return voice + np.float32(gains.down) * ducked + np.float32(gains.up) * lifted


def _energies(samples: np.ndarray) -> np.ndarray:
    """The mean square energies of the 400 ms blocks of ``samples`` ending every :data:`HOP` after its first
    :data:`LOUDNESS_PRE` (libebur128's momentary loudness, K-weighted)."""
    import pyebur128

    samples = np.ascontiguousarray(samples, np.float32)
    hops = (len(samples) - LOUDNESS_PRE) // HOP
    out = np.zeros(hops, np.float64)
    meter = pyebur128.R128State(1, RATE, pyebur128.MeasurementMode.MODE_M)
    meter.add_frames(samples[:LOUDNESS_PRE], LOUDNESS_PRE)
    for hop in range(hops):
        at = LOUDNESS_PRE + hop * HOP
        meter.add_frames(samples[at: at + HOP], HOP)
        loudness = pyebur128.get_loudness_momentary(meter)
        out[hop] = 10 ** ((loudness + 0.691) / 10) if math.isfinite(loudness) else 0.0
    return out


def integrated(energies: np.ndarray) -> float:
    """BS.1770 integrated loudness (LUFS) of blocks' mean square energies: gated at -70 LUFS, then -10 LU."""
    kept = energies[energies > _ABSOLUTE_GATE]
    if not len(kept):
        return -math.inf
    kept = kept[kept > _RELATIVE_GATE * kept.mean()]
    return -0.691 + 10 * math.log10(float(kept.mean()))


@dataclass(frozen=True)
class Gains:
    """How the programme is mastered: the music ``level_db`` under the voice, ``lift_db`` under it in the
    pauses, everything times ``gain_db``; ``loudness`` is what the tables say that comes to."""

    level_db: float
    lift_db: float
    gain_db: float
    loudness: float

    @property
    def down(self) -> float:
        return 10 ** (-self.level_db / 20)

    @property
    def up(self) -> float:
        return 10 ** (-self.lift_db / 20)

    @property
    def gain(self) -> float:
        return 10 ** (self.gain_db / 20)


def master(tables: Sequence[np.ndarray], level_db: float, pause_db: float, target: float) -> Gains:
    """The lift of the music in the pauses (on the :data:`STEP_DB` grid, at most ``pause_db`` and at least
    ``level_db`` below the voice) that brings the programme nearest ``target``, from the pieces' loudness
    tables; when no lift reaches it (a routine of long holds), the nearest and one make-up gain for the rest.

    The voice stays as it was levelled whenever a lift reaches the target, so no make-up gain pushes it
    into the limiter and eats the margin under it.
    """
    energies = np.concatenate(tables, axis=1) if tables else np.zeros((len(PROBES), 0))
    e0, e1, e2 = energies
    curve = (e2 - 2 * e1 + e0) / 2  # energy = e0 + slope * up + curve * up**2, exactly (K-weighting is linear)
    slope = e1 - e0 - curve
    low, high = min(pause_db, level_db), level_db
    grid = [STEP_DB * k for k in range(math.ceil(low / STEP_DB - 1e-9), math.floor(high / STEP_DB + 1e-9) + 1)]
    grid = sorted({round(low, 6), *(round(g, 6) for g in grid), round(high, 6)})
    found = [(lift, integrated(e0 + slope * up + curve * up * up))
             for lift in grid for up in [10 ** (-lift / 20)]]
    if not any(math.isfinite(loudness) for _, loudness in found):
        return Gains(level_db, high, 0.0, -math.inf)
    lift, loudness = min(found, key=lambda f: abs(f[1] - target))
    gain_db = 0.0
    if abs(loudness - target) > STEP_DB / 2:  # no lift reaches the target: one gain makes up the rest
        gain_db = STEP_DB * round((target - loudness) / STEP_DB)
    return Gains(level_db, lift, round(gain_db, 6), loudness + gain_db)


def correct(gains: Gains, limited: Sequence[np.ndarray], target: float) -> Gains:
    """``gains`` with the make-up gain corrected for what the limiter takes away, from the pieces'
    :func:`limited_loudness` tables: a secant step through the two gains they were measured at, on the
    :data:`STEP_DB` grid.  The lift stays as :func:`master` found it."""
    energies = np.concatenate(limited, axis=1) if limited else np.zeros((2, 0))
    first, second = integrated(energies[0]), integrated(energies[1])
    if not math.isfinite(first) or abs(first - target) <= STEP_DB / 2:
        return Gains(gains.level_db, gains.lift_db, gains.gain_db, first)
    slope = (second - first) / LIMIT_PROBE_DB if math.isfinite(second) and second > first else 1.0
    step = max(-MAX_STEP_DB, min(MAX_STEP_DB, (target - first) / slope))
    gain_db = round(STEP_DB * round((gains.gain_db + step) / STEP_DB), 6)
    return Gains(gains.level_db, gains.lift_db, gain_db, first + (gain_db - gains.gain_db) * slope)


def piece_window(lay: Layout, first: int, end: int) -> Window:
    """The window :func:`write_piece` mixes for the piece ``first`` .. ``end``."""
    return window(lay, first - PRE_ROLL - LIMIT_PAD, end + POST_ROLL + LIMIT_PAD)


def write_piece(out: Path, win: Window, cycle: np.ndarray, load: Callable[[str], np.ndarray], gains: Gains) -> None:
    """A piece's samples as 16-bit PCM, with the encoder's pre-roll and post-roll either side: its
    :func:`piece_window` mixed at ``gains``, true peaks over the ceiling limited, the limiter's pad cut off.

    The pre-roll and post-roll are the same samples the pieces either side hold (each is limited with
    :data:`LIMIT_PAD` around it), so its MP3 frames join theirs cleanly."""
    samples = np.float32(gains.gain) * _mixed(win, cycle, load, gains)
    peaks = audio.oversampled_peaks(samples)
    if float(peaks.max(initial=0.0)) > CEILING:
        samples = audio.amplified_and_limited(samples, peaks, 1.0, CEILING, RATE)
    audio.to_pcm16(samples[LIMIT_PAD: win.length - LIMIT_PAD]).tofile(out)


def write_mp3_piece(out: Path, piece: Path) -> None:
    """A piece's MPEG frames, encoded from its samples (:func:`write_piece`), the pre-roll's frames dropped."""
    samples = np.fromfile(piece, dtype="<i2").astype(np.float32) / np.float32(32767.0)
    frames = Path(f"{out}.all")
    try:
        mp3.encode_frames(frames, samples)
        data = frames.read_bytes()
    finally:
        frames.unlink(missing_ok=True)
    skip, keep = (PRE_ROLL + mp3.DECODED_OFFSET) // FRAME, (len(samples) - PRE_ROLL - POST_ROLL) // FRAME
    if len(data) < (skip + keep) * mp3.FRAME_BYTES:
        raise BuildError(f"the MP3 encoder gave {len(data) // mp3.FRAME_BYTES} frames for a piece of "
                         f"{skip + keep}")
    out.write_bytes(data[skip * mp3.FRAME_BYTES: (skip + keep) * mp3.FRAME_BYTES])


def quick_bed(voice: np.ndarray, rate: int, timeline, cycle: np.ndarray, level_db: float,
              cycle_lufs: float) -> np.ndarray:
    """``qidsl watch``'s quick mix with the music under it: ``voice`` (mono, at ``rate``) plus the
    levelled ``cycle`` (at :data:`RATE`, ``cycle_lufs`` loud) looped and started again at each
    section as the build's mix starts it (:func:`layout`), resampled to ``rate``
    and ducked from ``timeline`` as the build ducks it: ``level_db`` below the voice's measured
    loudness under every cue and bell, at most up to it in long pauses.  Scaled down if need be
    to keep the quick mix's peak."""
    meter = audio.LoudnessMeter(rate)
    meter.add(voice)
    loudness = meter.integrated()
    if not math.isfinite(loudness) or not len(cycle):
        return voice
    sounds = []
    for event in timeline.events:
        if event.spoken and event.speech:
            sounds.append((round(event.speech[0].start * rate), round(event.speech[-1].end * rate)))
        elif event.kind == "bell" and event.end > event.start:
            sounds.append((round(event.start * rate), round(event.end * rate)))
    # The loop starts again at each section, as in the build's mix (layout).
    anchors = [0]
    for section in timeline.sections:
        start = round(section.start * RATE)
        if anchors[-1] < start < len(voice) * RATE / rate:
            anchors.append(start)
    loops = loop_starts(anchors)
    scale = np.float32(10 ** ((loudness - cycle_lufs) / 20))
    mixed = voice.astype(np.float32, copy=True)
    at, step = 0, RATE / rate
    for block in music.gains(sounds, len(voice), level_db, music.PAUSE_DB, rate):
        where = np.arange(at, at + len(block)) * step
        mixed[at: at + len(block)] += scale * block * looped_at(cycle, loops, where)
        at += len(block)
    peak = float(np.max(np.abs(mixed))) if len(mixed) else 0.0
    if peak > audio.QUICK_PEAK:
        mixed *= np.float32(audio.QUICK_PEAK / peak)
    return mixed
