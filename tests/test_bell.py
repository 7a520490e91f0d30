"""The synthesised singing bowl: audible, bowl-like, dying away to silence."""

import numpy as np
import pytest

from qidsl.renderers.bell import bell


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


@pytest.mark.parametrize("seconds, rate", [(3.0, 48000), (1.5, 48000), (6.0, 22050)])
def test_bell_is_as_long_as_asked_and_stays_in_range(seconds, rate):
    sound = bell(seconds, rate)
    assert len(sound) == round(seconds * rate)
    assert sound.dtype == np.float32
    assert np.all(np.isfinite(sound))
    assert np.max(np.abs(sound)) <= 1.0


def test_bell_is_audible_then_decays_to_silence():
    sound = bell(3.0, 48000)
    first, last = sound[:24000], sound[-24000:]
    assert rms(first) > 0.05
    assert rms(first) > 100 * rms(last)  # more than 40 dB quieter by the end
    assert sound[-1] == 0.0  # placed anywhere, it ends without a click


def test_bell_strike_is_soft_but_quick():
    sound = bell(3.0, 48000)
    assert abs(sound[0]) < 1e-3  # no click at the strike
    peak_at = int(np.argmax(np.abs(sound)))
    assert peak_at < int(0.05 * 48000)  # reaches full strength within 50 ms


def test_bell_rings_like_a_bowl_not_a_beep():
    sound = bell(3.0, 48000).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(sound * np.hanning(len(sound))))
    freqs = np.fft.rfftfreq(len(sound), 1 / 48000)
    strongest = freqs[np.argmax(spectrum)]
    assert 200 <= strongest <= 450
    # Inharmonic overtones: clear energy between the 2nd and 3rd harmonic
    # (a bowl's second mode is near 2.7 times the fundamental), none of it a whole multiple.
    overtone = (freqs > 2.3 * strongest) & (freqs < 2.95 * strongest)
    assert spectrum[overtone].max() > 0.1 * spectrum.max()
    assert freqs[overtone][np.argmax(spectrum[overtone])] / strongest == pytest.approx(2.76, abs=0.05)


def test_bell_is_the_same_every_time():
    assert np.array_equal(bell(2.0, 48000), bell(2.0, 48000))


def test_no_time_means_no_bell():
    assert len(bell(0.0)) == 0
