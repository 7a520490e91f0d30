"""The narration mix: cues and bells where the timeline puts them, at the loudness asked for."""

import wave

import numpy as np
import pyloudnorm
import pytest
from scipy.signal import resample

from qidsl.errors import BuildError
from qidsl.renderers.audio import mix, normalise, write_wav
from tests.renderer_fixtures import CLIP_RATE, ClipTimer, FakeClip, clip, step, timeline

RATE = 48000


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def window(samples: np.ndarray, start: float, end: float, inset: float = 0.02) -> np.ndarray:
    """The samples between two times, a little inside them (resampling filters ring for a few ms)."""
    return samples[int(round((start + inset) * RATE)): int(round((end - inset) * RATE))]


def true_peak_dbtp(samples: np.ndarray) -> float:
    # Measured independently of the code under test: FFT 4x oversampling.
    up = resample(samples.astype(np.float64), 4 * len(samples))
    return 20 * np.log10(max(np.max(np.abs(up)), 1e-12))


@pytest.fixture(scope="module")
def routine():
    clips = {
        "Stand with your feet apart.": clip("Stand with your feet apart.", 1.6, seed=1),
        "Breathe in.": clip("Breathe in.", 0.9, seed=2),
        "Let go.": clip("Let go.", 0.8, seed=3),
    }
    steps = [
        step("section", "Arriving"),
        step("bell", seconds=2.5, section="Arriving"),
        step("say", "Stand with your feet apart.", section="Arriving"),
        step("pause", seconds=1.5, section="Arriving"),
        step("inhale", "Breathe in.", seconds=3.0, section="Arriving"),
        step("exhale", "Let go.", seconds=3.0, section="Arriving"),
        step("inhale", "Breathe in.", seconds=3.0, section="Arriving"),
    ]
    line = timeline(steps, ClipTimer(clips))
    return line, clips, mix(line, clips)


def test_mix_is_exactly_as_long_as_the_timeline(routine):
    line, _, samples = routine
    assert len(samples) == round(line.duration * RATE)


def test_speech_is_heard_where_the_timeline_places_it(routine):
    line, clips, samples = routine
    spoken = [e for e in line.events if e.spoken]
    assert len(spoken) == 4
    for event in spoken:
        speaking = window(samples, event.start, event.start + clips[event.spoken].duration)
        assert rms(speaking) > 0.1, event
        # It starts at the event's sample, not before (allowing 2 ms of filter ringing).
        onset = np.flatnonzero(np.abs(samples[int((event.start - 0.05) * RATE):]) > 1e-3)[0]
        assert abs(onset / RATE - 0.05) < 0.002, event


def test_silence_between_cues_and_around_the_routine(routine):
    line, clips, samples = routine
    quiet = []
    for event in line.events:
        if event.kind in ("intro", "outro", "pause"):
            quiet.append((event.start, event.end))
        elif event.spoken:  # after the cue has been said, the rest of the phase (or the gap) is silent
            quiet.append((event.start + clips[event.spoken].duration, event.end))
    assert len(quiet) >= 7
    for start, end in quiet:
        assert rms(window(samples, start, end)) < 1e-4, (start, end)


def test_a_bell_rings_and_fades_within_its_event(routine):
    line, _, samples = routine
    (event,) = line.of_kind("bell")
    ring = samples[int(event.start * RATE): int(event.end * RATE)]
    assert rms(ring[: RATE // 2]) > 0.02
    assert rms(ring[: RATE // 2]) > 30 * rms(ring[-RATE // 2:])


def test_speech_keeps_its_pitch_when_resampled():
    # A 22050 Hz clip placed in the 48 kHz mix must sound at the same pitch and length.
    t = np.arange(int(1.0 * CLIP_RATE)) / CLIP_RATE
    tone = FakeClip((0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), CLIP_RATE, ())
    line = timeline([step("say", "Hum.")], ClipTimer({"Hum.": tone}))
    samples = mix(line, {"Hum.": tone})
    (event,) = line.of_kind("say")
    heard = window(samples, event.start, event.start + 1.0)
    spectrum = np.abs(np.fft.rfft(heard * np.hanning(len(heard))))
    assert np.fft.rfftfreq(len(heard), 1 / RATE)[np.argmax(spectrum)] == pytest.approx(440, abs=2)
    assert rms(window(samples, event.start + 1.0, event.end)) < 1e-4


def test_a_cue_without_speech_is_a_build_error(routine):
    line, clips, _ = routine
    partial = {k: v for k, v in clips.items() if k != "Let go."}
    with pytest.raises(BuildError, match="Let go"):
        mix(line, partial)


@pytest.mark.parametrize("target", [-16.0, -23.0])
def test_normalised_to_the_loudness_target_under_the_true_peak_ceiling(routine, target):
    _, _, samples = routine
    out = normalise(samples, RATE, target_lufs=target)
    assert len(out) == len(samples)
    loudness = pyloudnorm.Meter(RATE).integrated_loudness(out.astype(np.float64))
    assert loudness == pytest.approx(target, abs=1.0)
    assert true_peak_dbtp(out) <= -1.0
    assert np.max(np.abs(out)) <= 1.0


def test_loud_peaks_are_limited_without_losing_loudness():
    # Quiet speech with a few sharp clicks: turning it up to -16 LUFS would put
    # the clicks far over the ceiling; the limiter must tame them, not turn all down.
    samples = np.concatenate([clip("x", 4.0, seed=5).samples * 0.05, np.zeros(CLIP_RATE, np.float32)])
    for at in (0.5, 1.7, 3.1):
        samples[int(at * CLIP_RATE)] = 0.9
    out = normalise(samples, CLIP_RATE, target_lufs=-16.0)
    loudness = pyloudnorm.Meter(CLIP_RATE).integrated_loudness(out.astype(np.float64))
    assert loudness == pytest.approx(-16.0, abs=1.0)
    assert true_peak_dbtp(out) <= -1.0
    assert np.max(np.abs(out)) <= 1.0


def test_silence_stays_silence():
    out = normalise(np.zeros(RATE * 2, np.float32), RATE)
    assert np.all(out == 0.0)


def test_wav_is_16_bit_pcm_of_the_samples(tmp_path, routine):
    _, _, samples = routine
    out = normalise(samples, RATE)
    path = tmp_path / "out" / "narration.wav"
    write_wav(path, out, RATE)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
        assert w.getnframes() == len(out)
        back = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2") / 32767.0
    assert np.max(np.abs(back - out)) <= 1.0 / 32767
    assert not [p for p in path.parent.iterdir() if p.name != path.name]  # no temporary left behind


def test_wav_that_cannot_be_written_is_one_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(BuildError, match="could not write"):
        write_wav(blocker / "narration.wav", np.zeros(100, np.float32), RATE)
