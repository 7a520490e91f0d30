"""The speech cache and synthesize_all, with real Piper speech."""

import multiprocessing
import time
from pathlib import Path

import numpy as np
import pytest

from qidsl.engines.base import SpeechClip
from qidsl.engines.cache import SpeechCache, default_cache_dir, speech_key
from qidsl.engines.gtts_engine import GttsEngine
from qidsl.engines.piper_engine import PiperEngine
from qidsl.engines.synthesize import make_engine, synthesize_all
from qidsl.errors import BuildError
from qidsl.lang.settings import Settings
from qidsl.timeline import Sentence

TEXTS = ["Inhale.", "Exhale.", "Rest now. Good."]


@pytest.fixture(scope="module")
def joe():
    return PiperEngine()


def same(a: SpeechClip, b: SpeechClip) -> bool:
    return (a.sample_rate == b.sample_rate and a.sentences == b.sentences
            and np.array_equal(a.samples, b.samples))


def test_a_second_build_synthesises_nothing_and_gets_the_same_audio(tmp_path, joe):
    first = synthesize_all(TEXTS, joe, SpeechCache(tmp_path), progress=False)
    assert (first.synthesised, first.cached) == (3, 0)
    second = synthesize_all(TEXTS, joe, SpeechCache(tmp_path), progress=False)
    assert (second.synthesised, second.cached) == (0, 3)
    assert list(second.clips) == TEXTS
    assert all(same(first.clips[t], second.clips[t]) for t in TEXTS)
    timing = second.timer().timing("Rest now. Good.")
    assert timing.duration == second.clips["Rest now. Good."].duration and len(timing.sentences) == 2


def test_changing_one_text_synthesises_exactly_one(tmp_path, joe):
    synthesize_all(TEXTS, joe, SpeechCache(tmp_path), progress=False)
    changed = synthesize_all(["Inhale.", "Exhale slowly.", "Rest now. Good."], joe, SpeechCache(tmp_path),
                             progress=False)
    assert (changed.synthesised, changed.cached) == (1, 2)


def test_repeated_texts_are_synthesised_once(tmp_path, joe):
    result = synthesize_all(["Inhale.", "Exhale.", "Inhale.", "Exhale."], joe, SpeechCache(tmp_path), progress=False)
    assert (result.synthesised, result.cached) == (2, 0)
    assert list(result.clips) == ["Inhale.", "Exhale."]


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_a_damaged_entry_is_deleted_and_remade(tmp_path, joe, damage):
    cache = SpeechCache(tmp_path)
    synthesize_all(["Inhale."], joe, cache, progress=False)
    path = cache.path(speech_key(joe, "Inhale."))
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        data[-100] ^= 0x40
    else:
        data = b""
    path.write_bytes(bytes(data))
    assert cache.get(joe, "Inhale.") is None
    assert cache.discarded == 1 and not path.exists()
    again = synthesize_all(["Inhale."], joe, cache, progress=False)
    assert again.synthesised == 1
    assert cache.get(joe, "Inhale.") is not None


def test_the_key_covers_everything_that_changes_the_sound(joe):
    keys = {
        speech_key(joe, "Inhale."),
        speech_key(joe, "Inhale!"),
        speech_key(PiperEngine(rate=1.5), "Inhale."),
        speech_key(GttsEngine("en"), "Inhale."),
        speech_key(GttsEngine("en", tld="co.uk"), "Inhale."),
    }
    assert len(keys) == 5
    assert speech_key(PiperEngine("joe"), "Inhale.") == speech_key(joe, "Inhale.")


def test_progress_lines_when_stderr_is_not_a_terminal(tmp_path, joe, capsys):
    cache = SpeechCache(tmp_path)
    synthesize_all(["Inhale."], joe, cache, progress=False)
    synthesize_all(["Inhale.", "Exhale.", "Rest."], joe, cache)
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["speech 1/2 (piper): Exhale.", "speech 2/2 (piper): Rest."]
    synthesize_all(["Hold."], joe, cache, progress=False)
    assert capsys.readouterr().err == ""


def test_default_cache_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("QIDSL_CACHE_DIR", raising=False)
    assert default_cache_dir(tmp_path / "build") == tmp_path / "build" / ".cache"
    monkeypatch.setenv("QIDSL_CACHE_DIR", str(tmp_path / "shared"))
    assert default_cache_dir(tmp_path / "build") == tmp_path / "shared"


def test_an_unwritable_cache_is_one_sentence(tmp_path):
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder should be")
    clip = SpeechClip(np.zeros(10, np.float32), 22050, ())
    with pytest.raises(BuildError, match=r"^could not write the speech cache in .*; set QIDSL_CACHE_DIR to a writable folder\.$"):
        SpeechCache(blocked).store("ab" * 32, clip)


def test_make_engine_follows_the_settings(tmp_path):
    assert make_engine(Settings(), tmp_path).name == "piper"
    gtts = make_engine(Settings(engine="gtts", language="en-GB", rate=1.25), tmp_path, tld="co.uk")
    assert (gtts.name, gtts.lang, gtts.tld, gtts.rate) == ("gtts", "en", "co.uk", 1.25)
    with pytest.raises(BuildError, match="does not exist"):
        make_engine(Settings(voice="voices/none.onnx"), tmp_path)


KEY = "c0ffee" * 10 + "abcd"


def variant(which: int) -> SpeechClip:
    # Two different valid entries for one key, of different lengths, so a mix of both would show.
    length = 40_000 + 7_000 * which
    return SpeechClip(np.full(length, 0.1 * (which + 1), np.float32), 24000,
                      (Sentence(0.0, length / 24000, f"writer {which}"),))


def _writer(directory: str, which: int, rounds: int) -> list[str]:
    signals = Path(directory)
    cache, clip, problems = SpeechCache(signals / "cache"), variant(which), []
    # Start together, so the two processes really do write at the same time.
    (signals / f"ready-{which}").touch()
    deadline = time.monotonic() + 60
    while not (signals / "go").exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    for _ in range(rounds):
        cache.store(KEY, clip)
        seen = cache.load(KEY)
        if seen is None or not any(same(seen, variant(i)) for i in (0, 1)):
            problems.append("a reader saw a missing or mixed entry")
    if cache.discarded:
        problems.append(f"{cache.discarded} damaged entries")
    return problems


def test_two_processes_writing_the_same_entry_never_damage_it(tmp_path):
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        pending = [pool.apply_async(_writer, (str(tmp_path), which, 80)) for which in (0, 1)]
        deadline = time.monotonic() + 60
        while not all((tmp_path / f"ready-{i}").exists() for i in (0, 1)) and time.monotonic() < deadline:
            time.sleep(0.005)
        (tmp_path / "go").touch()
        results = [job.get(timeout=120) for job in pending]
    assert results == [[], []]
    final = SpeechCache(tmp_path / "cache").load(KEY)
    assert final is not None and any(same(final, variant(i)) for i in (0, 1))
    # Only the one entry is left: no temporary files behind.
    assert [p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()] == [f"{KEY}.clip"]
