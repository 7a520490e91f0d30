"""Platform profiles: `check --profile` and `build --profile` for YouTube, Insight Timer and podcasts.

The warnings of each profile on each routine under tests/cases/profiles/ are
goldens (NAME.PROFILE.out; ``UPDATE_GOLDEN=1`` rewrites them).  Builds are
real (Piper, ffmpeg) and their files probed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from mutagen.id3 import ID3

from qidsl.cli import main
from qidsl.profiles import PROFILES, SOURCES
from tests.probe import probe

CASES = Path(__file__).parent / "cases" / "profiles"
ROUTINES = sorted(CASES.glob("*.qi"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.fixture(autouse=True)
def _no_colour(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("path", ROUTINES, ids=lambda p: p.stem)
def test_profile_warnings_are_as_stored(path, profile, monkeypatch, capsys):
    monkeypatch.chdir(path.parent)
    code = main(["check", "--profile", profile, path.name])
    out, err = capsys.readouterr()
    golden = path.with_name(f"{path.stem}.{profile}.out")
    actual = f"{out}{err}[exit {code}]\n"
    if UPDATE:
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8"), f"output differs from {golden.name}"
    assert code == 0  # warnings only


def test_every_rule_cites_its_source_in_the_docs():
    docs = (Path(__file__).parent.parent / "docs" / "profiles.md").read_text(encoding="utf-8")
    for url in SOURCES.values():
        assert url in docs


def test_strict_fails_on_a_profiles_warnings(capsys):
    assert main(["check", "--strict", str(CASES / "published.qi")]) == 0
    assert main(["check", "--strict", "--profile", "insight-timer", str(CASES / "published.qi")]) == 1
    capsys.readouterr()


def _build(tmp_path: Path, profile: str) -> Path:
    routine = tmp_path / "published.qi"
    shutil.copyfile(CASES / "published.qi", routine)
    assert main(["build", "--no-video", "--profile", profile, "--out", str(tmp_path / "out"), str(routine)]) == 0
    return tmp_path / "out" / "published"


def test_youtube_build_writes_a_ready_description(tmp_path, capsys):
    folder = _build(tmp_path, "youtube")
    text = (folder / "published.youtube.txt").read_text(encoding="utf-8")
    chapters = (folder / "published.chapters.txt").read_text(encoding="utf-8")
    assert text == ("A short practice for the back: arriving, three slow breaths, and a bell to close.\n\n"
                    "By Qi Studio.\n\nChapters:\n" + chapters + "\n#qigong #back #beginner\n")
    assert chapters.startswith("0:00 Arriving\n") and len(chapters.splitlines()) == 3
    assert "warning" not in capsys.readouterr().err


def test_insight_timer_build_encodes_its_audio_spec(tmp_path, capsys):
    folder = _build(tmp_path, "insight-timer")
    info = probe(folder / "published.insight-timer.mp3")
    (stream,) = info["streams"]
    assert stream["codec_name"] == "mp3" and stream["sample_rate"] == "48000"
    assert stream["bit_rate"] == "128000"
    plain = float(probe(folder / "published.mp3")["format"]["duration"])
    assert abs(float(info["format"]["duration"]) - plain) < 0.1
    assert info["format"]["tags"]["title"] == "Three Breaths for the Back"
    err = capsys.readouterr().err
    assert "published.qi:2:8: warning: Insight Timer recommends 10 to 20 minutes" in err


def test_podcast_build_tags_the_episode(tmp_path, capsys):
    folder = _build(tmp_path, "podcast")
    tags = ID3(folder / "published.mp3")
    assert tags["TCON"].text == ["Podcast"]
    assert tags["TIT2"].text == ["Three Breaths for the Back"] and tags["TPE1"].text == ["Qi Studio"]
    description = "A short practice for the back: arriving, three slow breaths, and a bell to close."
    assert tags.getall("COMM")[0].text == [description]
    assert tags.getall("CHAP")  # the chapters every build writes are kept
    assert main(["build", "--no-video", "--profile", "podcast", "--loudness", "-23", "--out",
                 str(tmp_path / "out"), str(tmp_path / "published.qi")]) == 0
    assert "Apple Podcasts recommends -16 LUFS" in capsys.readouterr().err
