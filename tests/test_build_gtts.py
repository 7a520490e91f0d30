"""`qidsl build --engine gtts` end to end, against recorded Google responses (no live call)."""

from __future__ import annotations

import json
from pathlib import Path

import requests
import responses

from qidsl.cli import main
from tests.probe import probe

RECORDINGS = Path(__file__).parent / "recordings"
URL = "https://translate.google.com/_/TranslateWebserverUi/data/batchexecute"
TONE = (RECORDINGS / "gtts_tone.batchexecute.txt").read_text()

ROUTINE = """\
title: "Online Voice"
language: en

section "Only":
    say "Hello there."
    inhale 3s "Breathe in."
"""


def _routine(tmp_path: Path) -> Path:
    path = tmp_path / "online.qi"
    path.write_text(ROUTINE, encoding="utf-8")
    return path


def test_gtts_build_makes_the_narration(tmp_path, capsys):
    routine = _routine(tmp_path)
    with responses.RequestsMock() as google:
        google.add_callback(responses.POST, URL, callback=lambda request: (200, {}, TONE))
        code = main(["build", str(routine), "--engine", "gtts", "--no-video", "--out", str(tmp_path / "out"),
                     "--cache-dir", str(tmp_path / "cache")])
        assert len(google.calls) == 2  # one request per sentence
    assert code == 0, capsys.readouterr().err
    folder = tmp_path / "out" / "online"
    timeline = json.loads((folder / "online.timeline.json").read_text(encoding="utf-8"))
    assert timeline["engine"] == "gtts"
    assert probe(folder / "online.mp3")["streams"][0]["codec_name"] == "mp3"


def test_no_network_is_one_sentence_and_touches_no_output(tmp_path, capsys):
    routine = _routine(tmp_path)
    folder = tmp_path / "out" / "online"
    folder.mkdir(parents=True)
    earlier = folder / "online.mp3"
    earlier.write_bytes(b"last week's episode")
    with responses.RequestsMock() as google:
        google.add(responses.POST, URL, body=requests.ConnectionError("Failed to resolve 'translate.google.com'"))
        code = main(["build", str(routine), "--engine", "gtts", "--no-video", "--out", str(tmp_path / "out"),
                     "--cache-dir", str(tmp_path / "cache")])
    err = capsys.readouterr().err
    assert code == 1
    assert ("qidsl: gTTS could not reach Google's speech service (no network); "
            "build offline with --engine piper.\n") in err
    assert "Traceback" not in err
    assert earlier.read_bytes() == b"last week's episode"
    assert sorted(p.name for p in folder.iterdir()) == ["online.mp3"]


def test_a_language_with_no_offline_voice_builds_online_when_asked(tmp_path, capsys):
    routine = tmp_path / "kokyu.qi"
    routine.write_text('title: "呼吸"\nlanguage: ja\n\nsay "息を吸って。"\n', encoding="utf-8")
    with responses.RequestsMock() as google:
        google.add_callback(responses.POST, URL, callback=lambda request: (200, {}, TONE))
        code = main(["build", str(routine), "--engine", "gtts", "--no-video", "--out", str(tmp_path / "out"),
                     "--cache-dir", str(tmp_path / "cache")])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "(speech: gtts, voice ja@translate.google.com)" in err
    assert "no-offline-voice" not in err and "no offline voice" not in err  # check's warning is answered
    with responses.RequestsMock() as google:
        google.add(responses.POST, URL, body=requests.ConnectionError("Failed to resolve 'translate.google.com'"))
        code = main(["build", str(routine), "--engine", "gtts", "--no-video", "--out", str(tmp_path / "out"),
                     "--cache-dir", str(tmp_path / "empty")])
    assert code == 1
    assert ("qidsl: gTTS could not reach Google's speech service (no network); use a Piper voice file for 'ja' "
            "to build offline.\n") in capsys.readouterr().err
