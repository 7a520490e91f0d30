"""gTTS against recorded Google responses replayed at the HTTP layer: no live call."""

import importlib.metadata
import json
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
import requests
import responses

from qidsl.engines.cache import SpeechCache
from qidsl.engines.gtts_engine import GttsEngine, gtts_language
from qidsl.engines.synthesize import synthesize_all
from qidsl.errors import BuildError

RECORDINGS = Path(__file__).parent / "recordings"
URL = "https://translate.google.com/_/TranslateWebserverUi/data/batchexecute"
# The recorded MP3 is 0.2 s of silence, 0.5 s of tone, 0.2 s of silence; trimming keeps the tone.
TONE = (RECORDINGS / "gtts_tone.batchexecute.txt").read_text()
NO_AUDIO = (RECORDINGS / "gtts_no_audio.batchexecute.txt").read_text()
OFFLINE = "build offline with --engine piper."


@pytest.fixture
def google():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def sleeps():
    return []


def engine(sleeps, **options):
    return GttsEngine(sleep=sleeps.append, **options)


def sent(call) -> tuple[str, str]:
    """The text and language a recorded request asked Google to speak."""
    form = urllib.parse.parse_qs(call.request.body)
    rpc = json.loads(form["f.req"][0])
    text, lang, *_ = json.loads(rpc[0][0][1])
    return text, lang


def test_speech_is_decoded_and_trimmed(google, sleeps):
    google.add(responses.POST, URL, body=TONE)
    clip = engine(sleeps).synthesize("Hello there.")
    assert clip.sample_rate == 24000
    assert clip.duration == pytest.approx(0.5, abs=0.07)
    assert float(np.sqrt(np.mean(clip.samples ** 2))) > 0.05
    assert [s.text for s in clip.sentences] == ["Hello there."]
    assert sent(google.calls[0]) == ("Hello there.", "en")
    # gTTS waits forever unless told otherwise.
    assert google.calls[0].request.req_kwargs["timeout"] == 10


def test_each_sentence_is_its_own_request_joined_with_a_pause(google, sleeps):
    google.add(responses.POST, URL, body=TONE)
    google.add(responses.POST, URL, body=TONE)
    clip = engine(sleeps).synthesize("Breathe in. Breathe out.")
    first, second = clip.sentences
    assert [sent(call)[0] for call in google.calls] == ["Breathe in.", "Breathe out."]
    assert (first.text, second.text) == ("Breathe in.", "Breathe out.")
    assert second.start - first.end == pytest.approx(0.3, abs=0.01)
    assert clip.duration == pytest.approx(1.3, abs=0.12)


def test_rate_changes_the_speed(google, sleeps):
    google.add(responses.POST, URL, body=TONE)
    clip = engine(sleeps, rate=2.0).synthesize("Quickly.")
    # Half of the 0.5 s tone, plus the 20 ms margins trimming keeps at each end.
    assert clip.duration == pytest.approx(0.25 + 0.04, abs=0.04)


def test_a_rate_limit_is_retried_after_a_wait(google, sleeps):
    google.add(responses.POST, URL, status=429)
    google.add(responses.POST, URL, body=TONE)
    clip = engine(sleeps).synthesize("Again.")
    assert len(google.calls) == 2
    assert sleeps == [1.0]
    assert clip.duration == pytest.approx(0.5, abs=0.07)


def test_a_persistent_rate_limit_gives_up_after_bounded_retries(google, sleeps):
    for _ in range(4):
        google.add(responses.POST, URL, status=429)
    with pytest.raises(BuildError) as caught:
        engine(sleeps, retries=3, backoff=0.5).synthesize("Again.")
    assert str(caught.value) == ("Google's speech service refused gTTS with too many requests (HTTP 429) "
                                 f"after 3 retries; wait a while or {OFFLINE}")
    assert len(google.calls) == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_a_retry_after_header_is_honoured(google, sleeps):
    google.add(responses.POST, URL, status=429, headers={"Retry-After": "5"})
    google.add(responses.POST, URL, body=TONE)
    engine(sleeps).synthesize("Later.")
    assert sleeps == [5.0]


def test_server_errors_are_retried_then_reported(google, sleeps):
    google.add(responses.POST, URL, status=503)
    google.add(responses.POST, URL, status=502)
    with pytest.raises(BuildError) as caught:
        engine(sleeps, retries=1).synthesize("Hello.")
    assert str(caught.value) == f"Google's speech service failed with HTTP 502 after 1 retry; try again later or {OFFLINE}"
    assert sleeps == [1.0]


def test_no_network(google, sleeps):
    google.add(responses.POST, URL, body=requests.ConnectionError("Failed to resolve 'translate.google.com'"))
    with pytest.raises(BuildError) as caught:
        engine(sleeps).synthesize("Hello.")
    assert str(caught.value) == f"gTTS could not reach Google's speech service (no network); {OFFLINE}"
    assert sleeps == []


def test_a_timeout(google, sleeps):
    google.add(responses.POST, URL, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(BuildError) as caught:
        engine(sleeps, timeout=4).synthesize("Hello.")
    assert str(caught.value) == ("gTTS got no answer from Google's speech service within 4 s; "
                                 f"check the network or {OFFLINE}")


def test_a_refused_request(google, sleeps):
    google.add(responses.POST, URL, status=403)
    with pytest.raises(BuildError) as caught:
        engine(sleeps).synthesize("Hello.")
    assert str(caught.value) == f"Google's speech service refused the request with HTTP 403 (Forbidden); {OFFLINE}"


def test_an_answer_without_audio(google, sleeps):
    google.add(responses.POST, URL, body=NO_AUDIO)
    with pytest.raises(BuildError) as caught:
        engine(sleeps, language="la").synthesize("Salve.")
    # Latin has an offline voice of its own: eSpeak NG's.
    assert str(caught.value) == ("Google's speech service answered without audio for language 'la'; "
                                 "build offline with --engine espeak.")


def test_a_failure_midway_leaves_nothing_in_the_cache(google, sleeps, tmp_path):
    google.add(responses.POST, URL, body=TONE)
    google.add(responses.POST, URL, body=requests.ConnectionError("network is unreachable"))
    cache = SpeechCache(tmp_path)
    gtts = engine(sleeps)
    with pytest.raises(BuildError):
        synthesize_all(["First sentence. Second sentence."], gtts, cache, progress=False)
    assert cache.get(gtts, "First sentence. Second sentence.") is None
    assert not list(tmp_path.rglob("*.clip"))


def test_the_language_and_host_are_sent(google, sleeps):
    google.add(responses.POST, "https://translate.google.co.uk/_/TranslateWebserverUi/data/batchexecute", body=TONE)
    engine(sleeps, language="zh-CN", tld="co.uk").synthesize("你好")
    assert sent(google.calls[0]) == ("你好", "zh-CN")


@pytest.mark.parametrize("tag, lang", [("en", "en"), ("en-GB", "en"), ("EN-us", "en"), ("zh-CN", "zh-CN"),
                                       ("zh-Hans-CN", "zh-CN"), ("zh-TW", "zh-TW"), ("pt-BR", "pt"),
                                       ("fr-CA", "fr-CA"), ("he", "iw"), ("de-AT", "de")])
def test_language_tags_map_to_gtts_languages(tag, lang):
    assert gtts_language(tag) == lang


def test_an_unsupported_language():
    with pytest.raises(BuildError) as caught:
        GttsEngine("xx")
    assert str(caught.value) == ("gTTS does not speak 'xx'; choose a language from `qidsl voices` "
                                 "or use --engine piper with a voice file for it.")


def test_engine_identity():
    gtts = GttsEngine("en-GB", tld="co.uk")
    assert gtts.name == "gtts"
    assert gtts.version == importlib.metadata.version("gTTS")
    assert gtts.settings_key() != GttsEngine("en-GB").settings_key()  # the host changes the accent
