"""A programme: ``qidsl build FOLDER`` with a programme.toml writes an index page and a podcast feed (PSP-1).

Three short routines in two voices (Piper's joe and eSpeak NG) built with
real speech and real ffmpeg, side by side (-j 2); the feed is read back with feedparser and its raw XML, the JSON
chapters are validated against tests/data/json-chapters-1.2.schema.json (the
Podcasting 2.0 format, transcribed from its specification; see its
$comment), and the index page is opened in Chromium, every link followed
to a file.
"""

from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlparse

import feedparser
import jsonschema
import pytest
from PIL import Image

from qidsl.cli import main
from tests.browser import browser  # noqa: F401  (a pytest fixture)

BASE_URL = "https://example.org/qigong/"
VOICES = ("joe", "espeak")
NS = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "podcast": "https://podcastindex.org/namespace/1.0",
      "atom": "http://www.w3.org/2005/Atom"}
SCHEMA = json.loads((Path(__file__).parent / "data" / "json-chapters-1.2.schema.json").read_text(encoding="utf-8"))

ROUTINES = {
    "arriving": 'title: "Arriving"\ndescription: "Settle in and find the breath."\n\nsection "Standing":\n'
                '    say "Stand tall."\n    pause 1s\n\nsection "Breathing":\n    inhale 2s "In."\n    exhale 2s "Out."\n',
    "opening": 'title: "Opening the Joints"\ndescription: "Wrists, elbows and shoulders."\n\nsay "Welcome."\n\n'
               'section "Wrists":\n    say "Circle the wrists."\n    pause 1s\n',
    "closing": 'title: "Closing"\n\nsection "Rest":\n    bell 1s\n    say "Thank you."\n',
}
PROGRAMME = """\
title = "Three Days of Qigong"
author = "Test Studio"
description = "A short programme for the tests."
artwork = "cover.png"
language = "en"
category = "Health & Fitness"
subcategory = "Alternative Health"
owner_email = "studio@example.org"
published = 2026-03-01
episodes = ["arriving", "opening", "closing"]
"""


def _write_folder(folder: Path, programme: str = PROGRAMME) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in ROUTINES.items():
        (folder / f"{name}.qi").write_text(text, encoding="utf-8")
    (folder / "programme.toml").write_text(programme, encoding="utf-8")
    Image.new("RGB", (64, 64), (90, 140, 120)).save(folder / "cover.png")
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("programme")
    folder = _write_folder(work / "three-days")
    out = work / "out"
    code = main(["build", str(folder), "-j", "2", "--preview", "--out", str(out), "--cache-dir", str(work / "cache"),
                 "--base-url", BASE_URL, "--voice", ",".join(VOICES)])
    assert code == 0
    return folder, out


def test_every_output_is_written(built):
    _, out = built
    for name in ROUTINES:
        for voice in VOICES:
            for suffix in (".mp3", ".mp4", ".html", ".vtt", ".timeline.json", ".chapters.json"):
                assert (out / name / voice / f"{name}{suffix}").stat().st_size > 0
        joe, espeak = (json.loads((out / name / v / f"{name}.timeline.json").read_text(encoding="utf-8"))
                       for v in VOICES)
        assert (joe["engine"], espeak["engine"]) == ("piper", "espeak")
        assert (out / name / "joe" / f"{name}.mp3").read_bytes() != (out / name / "espeak" / f"{name}.mp3").read_bytes()
    assert (out / "index.html").is_file() and (out / "feed.xml").is_file() and (out / "cover.png").is_file()


def test_feed_has_every_psp1_tag(built):
    _, out = built
    raw = (out / "feed.xml").read_bytes()
    channel = ET.fromstring(raw).find("channel")
    assert channel is not None
    for tag in ("title", "description", "link", "language", "atom:link", "itunes:image", "itunes:category",
                "itunes:explicit", "itunes:author", "itunes:type", "podcast:guid", "podcast:locked"):
        assert channel.find(tag, NS) is not None, tag
    assert channel.find("atom:link", NS).attrib == {"href": "https://example.org/qigong/feed.xml", "rel": "self",
                                                    "type": "application/rss+xml"}
    assert channel.find("link").text == "https://example.org/qigong/index.html"
    assert channel.find("itunes:type", NS).text == "serial"
    assert channel.find("itunes:explicit", NS).text == "false"  # PSP-1's true/false
    assert channel.find("itunes:image", NS).get("href") == "https://example.org/qigong/cover.png"
    category = channel.find("itunes:category", NS)
    assert category.get("text") == "Health & Fitness"
    assert category.find("itunes:category", NS).get("text") == "Alternative Health"
    # PSP-1: UUIDv5 in its namespace over the feed URL without scheme and trailing slashes.
    expected_guid = uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), "example.org/qigong/feed.xml")
    assert channel.find("podcast:guid", NS).text == str(expected_guid)
    assert channel.find("podcast:locked", NS).text == "no"
    assert channel.find("podcast:locked", NS).get("owner") == "studio@example.org"

    items = channel.findall("item")
    assert [i.find("title").text for i in items] == [f"{title} ({voice})" for title in (
        "Arriving", "Opening the Joints", "Closing") for voice in VOICES]
    for index, item in enumerate(items):
        number, name, voice = index // 2 + 1, list(ROUTINES)[index // 2], VOICES[index % 2]
        for tag in ("enclosure", "guid", "pubDate", "itunes:duration", "itunes:episode", "podcast:chapters",
                    "podcast:transcript"):
            assert item.find(tag, NS) is not None, (name, tag)
        assert item.find("itunes:episode", NS).text == str(number)
        assert item.find("podcast:chapters", NS).attrib == {
            "url": f"https://example.org/qigong/{name}/{voice}/{name}.chapters.json",
            "type": "application/json+chapters"}
        assert item.find("podcast:transcript", NS).attrib == {
            "url": f"https://example.org/qigong/{name}/{voice}/{name}.vtt", "type": "text/vtt", "language": "en"}


def test_feed_read_back_by_feedparser(built):
    _, out = built
    parsed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == "Three Days of Qigong"
    assert parsed.feed.language == "en"
    assert parsed.feed.author == "Test Studio"
    assert parsed.feed.image.href == "https://example.org/qigong/cover.png"
    assert [e.itunes_episode for e in parsed.entries] == ["1", "1", "2", "2", "3", "3"]
    assert len({e.id for e in parsed.entries}) == 6
    dates = [e.published_parsed[:3] for e in parsed.entries]
    assert dates == [(2026, 3, 1)] * 2 + [(2026, 3, 2)] * 2 + [(2026, 3, 3)] * 2
    for index, entry in enumerate(parsed.entries):
        name, voice = list(ROUTINES)[index // 2], VOICES[index % 2]
        mp3 = out / name / voice / f"{name}.mp3"
        (enclosure,) = entry.enclosures
        assert enclosure.href == f"https://example.org/qigong/{name}/{voice}/{name}.mp3"
        assert enclosure.type == "audio/mpeg"
        assert int(enclosure.length) == mp3.stat().st_size
        timeline = json.loads((out / name / voice / f"{name}.timeline.json").read_text(encoding="utf-8"))
        assert int(entry.itunes_duration) == round(timeline["duration"])
        assert entry.summary == (timeline["description"] or f"{timeline['title']} ({voice})")


def test_json_chapters_are_valid_and_match_the_sections(built):
    _, out = built
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    expected = {"arriving": ["Standing", "Breathing"], "opening": ["Opening the Joints", "Wrists"],
                "closing": ["Rest"]}
    for name, voice in ((name, voice) for name in expected for voice in VOICES):
        titles = expected[name]
        chapters = json.loads((out / name / voice / f"{name}.chapters.json").read_text(encoding="utf-8"))
        jsonschema.validate(chapters, SCHEMA, cls=jsonschema.Draft202012Validator)
        assert chapters["version"] == "1.2.0"
        assert [c["title"] for c in chapters["chapters"]] == titles
        assert chapters["chapters"][0]["startTime"] == 0
        timeline = json.loads((out / name / voice / f"{name}.timeline.json").read_text(encoding="utf-8"))
        assert chapters["chapters"][-1]["endTime"] == round(timeline["duration"], 3)


def test_index_page_links_resolve_in_chromium(built, browser):  # noqa: F811
    _, out = built
    page = browser.new_page()
    try:
        page.goto((out / "index.html").as_uri())
        assert page.title() == "Three Days of Qigong"
        links = page.evaluate("Array.from(document.querySelectorAll('a[href]'), a => [a.textContent, a.href])")
        image_width = page.evaluate("document.querySelector('header img').naturalWidth")
        text = page.evaluate("document.body.innerText")
    finally:
        page.close()
    assert image_width == 64  # the artwork, copied beside the page, loaded
    assert [label for label, _ in links] == ["practice page", "MP3", "MP4"] * 6 + ["Podcast feed"]
    assert [Path(unquote(urlparse(href).path)).parent.name for _, href in links[:-1:3]] == list(VOICES) * 3
    for _, href in links:
        target = Path(unquote(urlparse(href).path))
        assert target.is_file(), href
        assert out in target.parents
    assert text.count("joe:") == 3 and text.count("espeak:") == 3
    assert "Settle in and find the breath." in text and "Wrists, elbows and shoulders." in text
    assert text.index("Arriving") < text.index("Opening the Joints") < text.index("Closing")


def test_check_reports_programme_mistakes_with_a_caret(tmp_path, capsys):
    folder = _write_folder(tmp_path / "p", PROGRAMME.replace('"closing"]', '"closng"]').replace(
        'language = "en"', 'langauge = "en"'))
    assert main(["check", str(folder)]) == 1
    out = capsys.readouterr().out
    toml = folder / "programme.toml"
    assert f"{toml}:5:1: error: unknown key 'langauge' in programme.toml\n" \
           "    langauge = \"en\"\n    ^~~~~~~~\n    hint: did you mean 'language'?" in out


def test_check_reports_an_unknown_episode_and_a_toml_syntax_error(tmp_path, capsys):
    folder = _write_folder(tmp_path / "p", PROGRAMME.replace('"closing"]', '"closng"]'))
    assert main(["check", str(folder)]) == 1
    out = capsys.readouterr().out
    toml = folder / "programme.toml"
    assert f"{toml}:10:36: error: no routine 'closng.qi' in {folder}\n" in out
    assert '    episodes = ["arriving", "opening", "closng"]\n' \
           "    " + " " * 35 + "^~~~~~~~" in out

    (folder / "programme.toml").write_text(PROGRAMME.replace('author = "Test Studio"', "author = Test Studio"),
                                           encoding="utf-8")
    assert main(["check", str(folder)]) == 1
    out = capsys.readouterr().out
    assert f"{toml}:2:10: error: invalid value (TOML)\n    author = Test Studio\n             ^" in out
    assert main(["build", str(folder), "--out", str(tmp_path / "out")]) == 1
    assert not (tmp_path / "out").exists()


def test_a_voice_named_twice_is_a_usage_error(tmp_path, capsys):
    folder = _write_folder(tmp_path / "p")
    assert main(["build", str(folder), "--voice", "joe,espeak,joe", "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == "qidsl: the voice 'joe' is named twice in --voice\n"


def test_voices_share_what_does_not_depend_on_the_voice(tmp_path, capsys):
    """Two voices, one bell: the bell is levelled once, each voice's speech on its own."""
    (tmp_path / "closing.qi").write_text(ROUTINES["closing"], encoding="utf-8")
    cache = tmp_path / "cache"
    assert main(["build", str(tmp_path / "closing.qi"), "--no-video", "--voice", "joe,espeak", "-j", "1",
                 "--out", str(tmp_path / "out"), "--cache-dir", str(cache)]) == 0
    err = capsys.readouterr().err
    assert "-> " + str(tmp_path / "out" / "closing" / "espeak") + "/ (speech: espeak" in err
    assert len(list((cache / "level").rglob("*.f32"))) == 3  # joe's words, espeak's words, the bell once


def test_many_builds_end_with_a_table_and_a_failure_leaves_the_others_built(tmp_path, capsys):
    for name, text in (("a", 'title: "A"\n\nsay "Hello."\n'), ("b", 'title: "B"\nlanguage: "tlh"\n\nsay "Qapla."\n'),
                       ("c", 'title: "C"\n\nsay "Goodbye."\n')):
        (tmp_path / f"{name}.qi").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    args = ["build", str(tmp_path), "--no-video", "-j", "2", "--out", str(out), "--cache-dir", str(tmp_path / "c")]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert (out / "a" / "a.mp3").is_file() and (out / "c" / "c.mp3").is_file() and not (out / "b").exists()
    lines = [line for line in err.splitlines() if line.startswith("qidsl: [")]
    assert sorted(line[:13] for line in lines) == ["qidsl: [1/3] ", "qidsl: [2/3] ", "qidsl: [3/3] "]
    reason = "no offline voice speaks 'tlh'; use `engine: gtts` (online; or `qidsl build --engine gtts`), " \
             "or a Piper voice file for 'tlh' (`voice: voices/NAME.onnx`)."
    table = err[err.index("qidsl: 3 builds in "):].splitlines()
    assert re.fullmatch(r"qidsl: 3 builds in [\d.]+ s: 2 built, 0 reused, 1 failed", table[0])
    assert table[1] == f"  {'routine'.ljust(len(str(tmp_path / 'a.qi')))}  result"
    assert re.fullmatch(rf"  {re.escape(str(tmp_path / 'a.qi'))}  built, \d+ made, 0 reused, [\d.]+ s", table[2])
    assert table[3] == f"  {tmp_path / 'b.qi'}  failed: {reason}"

    assert main(args) == 1  # again: nothing to make, the failure still said
    table = capsys.readouterr().err.split("qidsl: 3 builds in ")[1].splitlines()
    assert table[0].endswith(" s: 0 built, 2 reused, 1 failed")
    assert re.fullmatch(rf"  {re.escape(str(tmp_path / 'c.qi'))}  reused, 0 made, \d+ reused, [\d.]+ s", table[4])
