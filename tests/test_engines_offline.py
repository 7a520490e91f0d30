"""Voices for every language, offline: the engine registry, Pico and eSpeak NG, real synthesis.

A German and a French routine build with no network at all, each spoken by
a voice of its own language; a language no offline voice speaks is not built.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest

from qidsl.cli import _parser, main
from qidsl.engines.cache import speech_key
from qidsl.engines.espeak_engine import EspeakEngine, _library
from qidsl.engines.pico_engine import PicoEngine
from qidsl.engines.synthesize import make_engine
from qidsl.engines.voices import list_voices
from qidsl.errors import BuildError
from qidsl.lang.settings import Settings
from qidsl.lang.speech import ENGINES, PICO_VOICES, espeak_languages
from tests.probe import loudness, probe

GERMAN = """\
title: "Atempause"
language: de

section "Ankommen":
    say "Willkommen. Stell dich bequem hin."
    inhale 3s "Atme ein."
    exhale 3s "Atme aus."
"""

FRENCH = """\
title: "Pause respiration"
language: fr

section "Accueil":
    say "Bienvenue. Tenez-vous debout, les genoux souples."
    inhale 3s "Inspirez."
    exhale 3s "Expirez."
"""


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("the build tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def voiced_rms(samples: np.ndarray, rate: int) -> float:
    frame = rate // 100
    frames = samples[: len(samples) // frame * frame].reshape(-1, frame).astype(np.float64)
    levels = np.sqrt(np.mean(frames ** 2, axis=1))
    return float(np.sqrt(np.mean(levels[levels > levels.max() * 0.1] ** 2)))


def build(tmp_path: Path, name: str, text: str, capsys, *extra: str) -> tuple[int, Path, str]:
    routine = tmp_path / f"{name}.qi"
    routine.write_text(text, encoding="utf-8")
    code = main(["build", str(routine), "--no-video", "--out", str(tmp_path / "out"),
                 "--cache-dir", str(tmp_path / "cache"), *extra])
    return code, tmp_path / "out" / name, capsys.readouterr().err


@pytest.mark.parametrize("name, text, voice", [("atem", GERMAN, "svox-pico:de-DE"),
                                               ("souffle", FRENCH, "svox-pico:fr-FR")])
def test_a_routine_builds_offline_with_a_voice_of_its_own_language(tmp_path, capsys, no_network, name, text, voice):
    code, folder, err = build(tmp_path, name, text, capsys)
    assert code == 0, err
    assert f"(speech: pico, voice {voice.split(':')[1]})" in err
    timeline = json.loads((folder / f"{name}.timeline.json").read_text(encoding="utf-8"))
    assert timeline["engine"] == "pico"
    spoken = [e for e in timeline["events"] if e.get("speech")]
    assert len(spoken) == 3 and all(s["end"] > s["start"] for e in spoken for s in e["speech"])
    # The cache holds the clips under the Pico voice of that language.
    engine = make_engine(Settings(engine="pico", language=text.split("language: ")[1][:2]), tmp_path)
    assert engine.voice_id == voice
    # Real speech, not silence: the MP3 is normalised to -16 LUFS and lasts as the timeline says.
    integrated, peak = loudness(folder / f"{name}.mp3")
    assert integrated == pytest.approx(-16, abs=1.0) and peak < -0.5
    assert float(probe(folder / f"{name}.mp3")["format"]["duration"]) == pytest.approx(timeline["duration"], abs=0.1)


def test_chinese_is_spoken_in_mandarin_by_espeak(tmp_path, capsys, no_network):
    code, folder, err = build(tmp_path, "zhan", '''title: "站桩"\nlanguage: zh-CN\n\nsay "双脚与肩同宽。"\n''', capsys)
    assert code == 0, err
    assert "(speech: espeak, voice cmn)" in err
    assert make_engine(Settings(engine="espeak", language="zh-CN"), tmp_path).voice_id == "espeak-ng:cmn"
    assert loudness(folder / "zhan.mp3")[0] == pytest.approx(-16, abs=1.0)


def test_a_language_no_offline_voice_speaks_is_not_built(tmp_path, capsys, no_network):
    code, folder, err = build(tmp_path, "kokyu", '''title: "呼吸"\nlanguage: ja\n\nsay "息を吸って。"\n''', capsys)
    assert code == 1
    assert ("qidsl: no offline voice speaks 'ja'; use `engine: gtts` (online; or `qidsl build --engine gtts`), "
            "or a Piper voice file for 'ja' (`voice: voices/NAME.onnx`).") in err
    assert not folder.exists()


def test_joe_reads_another_language_only_when_asked_for_by_name(tmp_path, capsys):
    code, _, err = build(tmp_path, "atem", GERMAN, capsys, "--engine", "piper")
    assert code == 1
    assert ("qidsl: the bundled Piper voice 'joe' speaks English, not 'de'; add --voice joe to have joe read "
            "it anyway, or use --engine pico.") in err
    assert make_engine(Settings(engine="piper", language="de", voice="joe"), tmp_path).name == "piper"
    # --voice names a Piper voice, so it means Piper: joe asked for by name reads German.
    code, folder, err = build(tmp_path, "atem", GERMAN, capsys, "--voice", "joe")
    assert code == 0, err
    assert "(speech: piper, voice en_US-joe-medium)" in err
    assert json.loads((folder / "atem.timeline.json").read_text(encoding="utf-8"))["engine"] == "piper"
    with pytest.raises(BuildError, match=r"^pico has no voice for 'sv'; use --engine espeak\.$"):
        make_engine(Settings(engine="pico", language="sv"), tmp_path)


def test_the_registry_is_the_one_list_of_engines():
    build_parser = _parser()._subparsers._group_actions[0].choices["build"]
    engine_option = next(a for a in build_parser._actions if a.dest == "engine")
    assert tuple(engine_option.choices) == tuple(ENGINES) == ("piper", "pico", "espeak", "gtts")
    listing = "\n".join(list_voices())
    for name, info in ENGINES.items():
        assert f"{name}  ({'offline' if info.offline else 'online'};" in listing
    assert " ".join(PICO_VOICES) in listing
    assert " cmn " in listing and " de " in listing and " ja " not in listing.split("gtts  (")[0]
    assert len(espeak_languages()) >= 100


def test_every_espeak_language_has_a_voice_that_loads():
    library = _library()
    voices = {voice for voice, _ in espeak_languages().values()}
    assert {voice for voice in voices if library.lib.espeak_SetVoiceByName(voice.encode()) != 0} == set()


def test_the_cache_key_holds_the_engine_voice_and_version(monkeypatch):
    german, french = PicoEngine("de-DE"), PicoEngine("fr-FR")
    espeak = EspeakEngine("de")
    keys = {speech_key(engine, "Atme ein.") for engine in (german, french, espeak, PicoEngine("de-DE", rate=1.5),
                                                             EspeakEngine("de", rate=1.5))}
    assert len(keys) == 5
    assert speech_key(PicoEngine("de-DE"), "Atme ein.") == speech_key(german, "Atme ein.")
    monkeypatch.setattr(german, "version", "0.0.0")
    monkeypatch.setattr(espeak, "version", "0.0.0")
    assert speech_key(german, "Atme ein.") not in keys and speech_key(espeak, "Atme ein.") not in keys


SENTENCES = "Atme ruhig durch die Nase ein. Lass den Atem langsam ausströmen."


@pytest.mark.parametrize("engine", [PicoEngine("de-DE"), EspeakEngine("de")], ids=["pico", "espeak"])
def test_speech_is_sentences_with_a_pause_levelled_and_faster_at_a_higher_rate(engine):
    clip = engine.synthesize(SENTENCES)
    first, second = clip.sentences
    assert second.start - first.end == pytest.approx(0.3, abs=0.01)
    assert voiced_rms(clip.samples, clip.sample_rate) == pytest.approx(0.1, rel=0.25)
    assert np.max(np.abs(clip.samples)) <= 0.95 + 1e-6
    faster = type(engine)(engine.voice, rate=2.0).synthesize(SENTENCES)
    speech = clip.duration - 0.3
    assert (faster.duration - 0.3) == pytest.approx(speech / 2, rel=0.2)


def test_pico_never_reads_a_routines_text_as_its_markup():
    pico = PicoEngine("en-US")
    plain = pico.synthesize("Breathe out slowly.").duration
    # As markup this would be said three times faster; as text the tag's words are read too.
    tagged = pico.synthesize('Breathe <speed level="300">out slowly</speed>.').duration
    assert tagged > plain


@pytest.mark.parametrize("name", ["atempause-de", "respiration-fr"])
def test_plans_estimate_lands_within_2_percent_of_the_built_length(name, tmp_path):
    # Pico is deterministic, so its built length is too (Piper's varies a little from one
    # synthesis to the next); benchmarks/estimate_error.py measures every routine.
    from qidsl.compile import compile_routine
    from qidsl.engines.cache import SpeechCache
    from qidsl.engines.synthesize import synthesize_all
    from qidsl.lang.loader import Loader
    from qidsl.timeline import build_timeline

    path = Path(__file__).parent / "cases" / "valid" / f"{name}.qi"
    compiled = compile_routine(path, Loader())
    engine = make_engine(compiled.settings, path.parent)
    assert engine.name == "pico"
    speech = synthesize_all(compiled.estimate.spoken_texts, engine, SpeechCache(tmp_path), progress=False)
    built = build_timeline(compiled.expanded, speech.timer(), frame_rate=30).duration  # as a build lays it
    error = (compiled.estimate.duration - built) / built
    print(f"{name}: estimate {compiled.estimate.duration:.1f}s, built {built:.1f}s, error {error:+.2%}")
    assert abs(error) <= 0.02


def test_pico_says_a_sentence_the_same_way_every_time():
    french, german = PicoEngine("fr-FR"), PicoEngine("de-DE")
    text = "Bienvenue. Asseyez-vous confortablement, le dos droit, les épaules relâchées."
    first = french.synthesize(text)
    for _ in range(3):  # other speech and big allocations in between, as in a build
        german.synthesize("Atme ruhig ein.")
        np.ones(3_000_000).sum()
        again = french.synthesize(text)
        assert np.array_equal(again.samples, first.samples) and again.sentences == first.sentences
