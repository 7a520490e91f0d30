"""The MP4's tags and chapters: a real build, read back with ffprobe and by walking the MP4's boxes."""

import struct
import subprocess
import sys

import pytest

from qidsl.renderers.mp4_tags import ffmetadata, mp4_language
from tests.probe import probe

ROUTINE = """title: "Morning = Flow; #1"
author: "Qi Studio"
description: "Strength for the back."
tags: back, kidneys
language: en-GB

section "Arriving":
    say "Welcome."
    pause 1s

section "Breathing":
    inhale 2s "Breathe in."
    exhale 2s "Breathe out."

section "Resting":
    # Longer than 152 s: ffmpeg's own time scale for the chapter track overflowed a chapter this long.
    stay 80s
    stay 80s
"""
CONTAINERS = {b"moov", b"trak", b"udta", b"tref", b"mdia", b"minf", b"stbl"}


def _boxes(data: bytes, start: int = 0, end: int | None = None, path: tuple = ()):
    """Every box of an MP4 as (path of types, payload), walking into the containers named above."""
    end = len(data) if end is None else end
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack(">I4s", data[at: at + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[at + 8: at + 16])[0], 16
        elif size == 0:
            size = end - at
        yield path + (kind,), data[at + header: at + size]
        if kind in CONTAINERS:
            yield from _boxes(data, at + header, at + size, path + (kind,))
        at += size


def _nero_chapters(payload: bytes) -> list[tuple[float, str]]:
    """A ``chpl`` box: version and flags, 4 reserved bytes, a count, then (100 ns start, length, title) each."""
    count = payload[8]
    at, found = 9, []
    for _ in range(count):
        start, length = struct.unpack(">QB", payload[at: at + 9])
        found.append((start / 1e7, payload[at + 9: at + 9 + length].decode("utf-8")))
        at += 9 + length
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mp4tags")
    (folder / "meta.qi").write_text(ROUTINE, encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", "import sys; from qidsl.cli import main; sys.exit(main())",
                           "build", "meta.qi", "--out", "out", "--preview"], cwd=folder, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    out = folder / "out" / "meta"
    return out / "meta.mp4", out / "meta.mp3"


def test_mp4_carries_the_routines_tags_and_language(built):
    mp4, _ = built
    info = probe(mp4)
    tags = info["format"]["tags"]
    assert tags["title"] == "Morning = Flow; #1"
    assert tags["artist"] == "Qi Studio"
    assert tags["description"] == tags["comment"] == "Strength for the back."
    assert tags["keywords"] == "back, kidneys"
    assert {s["tags"]["language"] for s in info["streams"]} == {"eng"}


def test_mp4_chapters_match_the_mp3s_in_ffprobe_and_in_the_nero_box(built):
    mp4, mp3 = built
    expected = [(c["tags"]["title"], round(float(c["start_time"]), 2), round(float(c["end_time"]), 2))
                for c in probe(mp3)["chapters"]]
    assert [t for t, _, _ in expected] == ["Arriving", "Breathing", "Resting"]
    seen = [(c["tags"]["title"], round(float(c["start_time"]), 2), round(float(c["end_time"]), 2))
            for c in probe(mp4)["chapters"]]
    assert seen == expected
    boxes = list(_boxes(mp4.read_bytes()))
    (chpl,) = [payload for path, payload in boxes if path == (b"moov", b"udta", b"chpl")]
    assert [(round(s, 2), t) for s, t in _nero_chapters(chpl)] == [(s, t) for t, s, _ in expected]
    # The QuickTime chapter track: a text track the video (and sound) track point to with tref/chap.
    chap = {struct.unpack(">I", payload[:4])[0] for path, payload in boxes if path[-2:] == (b"tref", b"chap")}
    tracks = {}
    for path, payload in boxes:
        if path == (b"moov", b"trak", b"tkhd"):
            track = struct.unpack(">I", payload[12:16] if payload[0] == 0 else payload[20:24])[0]
        elif path == (b"moov", b"trak", b"mdia", b"hdlr"):
            tracks[track] = payload[8:12]
    assert len(chap) == 1 and tracks[chap.pop()] == b"text"


def test_ffmetadata_escapes_what_would_break_it_and_languages_map_to_iso_639_2():
    text = ffmetadata("A=B;C#D\\E", None, None, (), [("One\nTwo", 0.0, 1.5)])
    assert "title=A\\=B\\;C\\#D\\\\E" in text and "title=One\\\nTwo" in text and "END=1500" in text
    assert "artist" not in text and "keywords" not in text
    assert [mp4_language(t) for t in ("en", "en-GB", "de", "zh-CN", "pt-BR", "qq")] == \
        ["eng", "eng", "deu", "zho", "por", "und"]
