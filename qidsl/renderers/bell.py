"""A struck singing bowl, synthesised: no sound file ships with qidsl.

A bowl's tone is a handful of inharmonic partials (the ratios below are those
measured on real Tibetan bowls, roughly 1 : 2.7 : 5.4 : 8.9).  Each partial is
really two close modes of the slightly irregular bowl, so it is made of a
detuned pair whose slow beating gives the familiar "wah-wah" shimmer.  Higher
partials die away faster than the fundamental, as they do in metal.
"""

from __future__ import annotations

import numpy as np

FUNDAMENTAL_HZ = 293.66  # D4: low enough to sound like a bowl, high enough for laptop speakers
# (frequency ratio, relative amplitude, relative decay rate, beat frequency in Hz)
PARTIALS = (
    (1.00, 1.00, 1.0, 0.9),
    (2.76, 0.55, 1.8, 1.7),
    (5.40, 0.25, 3.0, 2.6),
    (8.93, 0.10, 4.5, 3.3),
)
PEAK = 0.5  # the bowl sits below the voice before the mix is loudness-normalised
ATTACK_SECONDS = 0.004  # a mallet, not a click
# The fundamental falls this many decibels over the bell's length; the tail
# fade then takes it the rest of the way to zero.
DECAY_DB = 50.0
TAIL_FRACTION = 0.15


def bell(seconds: float = 3.0, sample_rate: int = 48000) -> np.ndarray:
    """A singing-bowl strike ``seconds`` long, float32 mono in -1..1.

    It starts with a soft attack, decays exponentially to near silence and
    ends exactly at zero, so it can be placed anywhere in a mix without a
    click.  The result depends only on the arguments.
    """
    n = int(round(seconds * sample_rate))
    if n <= 0:
        return np.zeros(0, dtype=np.float32)
    t = np.arange(n, dtype=np.float64) / sample_rate
    length = n / sample_rate
    # Decay rate (per second) of the fundamental so that it loses DECAY_DB over the length.
    base_rate = DECAY_DB / 20.0 * np.log(10.0) / length
    out = np.zeros(n, dtype=np.float64)
    for ratio, amplitude, decay, beat in PARTIALS:
        freq = FUNDAMENTAL_HZ * ratio
        if freq + beat >= sample_rate / 2:
            continue  # would alias at a low sample rate
        envelope = amplitude * np.exp(-base_rate * decay * t)
        # Two modes half a beat apart; fixed phases keep the result deterministic.
        pair = np.sin(2 * np.pi * (freq - beat / 2) * t) + 0.8 * np.sin(2 * np.pi * (freq + beat / 2) * t + 0.3)
        out += envelope * pair
    attack = min(n, max(1, int(ATTACK_SECONDS * sample_rate)))
    out[:attack] *= 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, attack))
    tail = max(1, int(n * TAIL_FRACTION))
    out[n - tail:] *= 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, tail))
    peak = np.max(np.abs(out))
    if peak > 0:
        out *= PEAK / peak
    out[-1] = 0.0
    return out.astype(np.float32)
