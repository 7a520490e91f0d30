"""`qidsl export`: a built routine's timeline for video editors, read back with OpenTimelineIO.

Real builds (real Piper, real encodes) of a short routine; each export is
read back with OpenTimelineIO's own adapters and its clip times compared
with the timeline JSON the build wrote.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qidsl.cli import main
from tests.probe import probe

otio = pytest.importorskip("opentimelineio")

ROUTINE = '''title: "Short"

section "Arriving":
    bell 2s
    say "Stand tall. Let the knees soften."
    inhale 3s "Breathe in."
    exhale 3s "Breathe out."

section "Closing":
    say "Thank you."
'''
FRAME = 1 / 30


def _build(folder: Path, *options: str) -> Path:
    routine = folder / "short.qi"
    routine.write_text(ROUTINE, encoding="utf-8")
    assert main(["build", "--out", str(folder / "build"), *options, str(routine)]) == 0
    return folder / "build" / "short"


@pytest.fixture(scope="module")
def audio_build(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("export"), "--no-video")


@pytest.fixture(scope="module")
def video_build(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("export-video"), "--preview")


def _timeline(build: Path) -> dict:
    return json.loads((build / "short.timeline.json").read_text(encoding="utf-8"))


def _sentences(build: Path) -> list[tuple[str, float, float]]:
    return [(s["text"], s["start"], s["end"]) for e in _timeline(build)["events"] for s in e["speech"]]


def _read(path: Path):
    return otio.adapters.read_from_file(str(path), **({"rate": 30} if path.suffix == ".edl" else {}))


def _placed(track) -> list[tuple[str, float, float, float]]:
    """(name, start on the timeline, end, start in the media) of each clip of ``track``."""
    out = []
    for clip in track.find_clips():
        where = clip.range_in_parent()
        out.append((clip.name, where.start_time.to_seconds(), where.end_time_exclusive().to_seconds(),
                    clip.source_range.start_time.to_seconds()))
    return out


def _track_of(timeline, media: str):
    """The track whose clips play ``media`` (the FCPXML reader names tracks by lane: -1, -2, ...)."""
    (track,) = [t for t in timeline.tracks
                if any(c.media_reference.target_url.endswith(media) for c in t.find_clips())]
    return track


def _close(placed, expected):
    assert [p[0] for p in placed] == [e[0] for e in expected]
    for (_, start, end, source), (_, want_start, want_end) in zip(placed, expected):
        assert abs(start - want_start) <= FRAME / 2 and abs(end - want_end) <= FRAME / 2
        assert abs(source - want_start) <= FRAME / 2  # cut from the MP3 where it is heard


def test_otio_has_each_sentence_the_bell_and_the_sections(audio_build, capsys):
    assert main(["export", str(audio_build), "--otio"]) == 0
    assert f"wrote {audio_build / 'short.otio'}" in capsys.readouterr().err
    timeline = _read(audio_build / "short.otio")
    tracks = {track.name: track for track in timeline.tracks}
    assert list(tracks) == ["Video", "Narration", "Bell"]
    _close(_placed(tracks["Narration"]), _sentences(audio_build))
    mp3 = (audio_build / "short.mp3").resolve().as_uri()
    assert {clip.media_reference.target_url for clip in tracks["Narration"].find_clips()} == {mp3}
    events = _timeline(audio_build)["events"]
    bell = next(e for e in events if e["kind"] == "bell")
    assert _placed(tracks["Bell"]) == [("Bell", bell["start"], bell["end"], 0.0)]
    sections = [(e["text"], e["start"], e["end"]) for e in events if e["kind"] == "section"]
    markers = [(m.name, m.marked_range.start_time.to_seconds(), m.marked_range.end_time_exclusive().to_seconds())
               for m in timeline.tracks.markers]
    assert [m[0] for m in markers] == ["Arriving", "Closing"] == [s[0] for s in sections]
    for marker, section in zip(markers, sections):
        assert abs(marker[1] - section[1]) <= FRAME / 2 and abs(marker[2] - section[2]) <= FRAME / 2
    wav = probe(audio_build / "short.bell.wav")
    assert abs(float(wav["format"]["duration"]) - (bell["end"] - bell["start"])) < 0.01


def test_fcpxml_reads_back_with_the_same_clip_times(audio_build, capsys):
    assert main(["export", str(audio_build / "short.timeline.json"), "--fcpxml"]) == 0
    text = (audio_build / "short.fcpxml").read_text(encoding="utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>')
    timeline = _read(audio_build / "short.fcpxml")
    _close(_placed(_track_of(timeline, "short.mp3")), _sentences(audio_build))
    bell = next(e for e in _timeline(audio_build)["events"] if e["kind"] == "bell")
    assert _placed(_track_of(timeline, "short.bell.wav")) == [("Bell", bell["start"], bell["end"], 0.0)]


def test_fcpxml_of_a_video_build_hangs_the_sections_on_the_video(video_build):
    assert main(["export", str(video_build), "--fcpxml"]) == 0
    timeline = _read(video_build / "short.fcpxml")
    (clip,) = _track_of(timeline, "short.mp4").find_clips()
    starts = {m.name: m.marked_range.start_time.to_seconds() for m in clip.markers}
    sections = {e["text"]: e["start"] for e in _timeline(video_build)["events"] if e["kind"] == "section"}
    assert starts.keys() == sections.keys()
    assert all(abs(starts[name] - sections[name]) <= FRAME / 2 for name in sections)
    _close(_placed(_track_of(timeline, "short.mp3")), _sentences(video_build))


def test_edl_lists_each_sentence_at_its_source_and_record_time(audio_build, tmp_path, capsys):
    out = tmp_path / "edit"
    assert main(["export", str(audio_build), "--edl", "-o", str(out)]) == 0
    text = (out / "short.edl").read_text(encoding="utf-8")
    assert text.startswith("TITLE: Short\n") and "* FROM CLIP NAME:  Stand tall." in text
    (track,) = _read(out / "short.edl").tracks
    sentences = _sentences(audio_build)
    placed = _placed(track)
    # An EDL's record times start at its first event: compare the spacing, and the source times whole.
    first = placed[0][1] - sentences[0][1]
    _close([(n, s - first, e - first, src) for n, s, e, src in placed], sentences)
    assert (out / "short.srt").read_bytes() == (audio_build / "short.srt").read_bytes()  # captions beside


def test_a_file_that_is_not_a_build_is_one_sentence(tmp_path, capsys):
    stray = tmp_path / "notes.txt"
    stray.write_text("hello", encoding="utf-8")
    assert main(["export", str(stray), "--otio"]) == 2
    assert "is not a NAME.timeline.json" in capsys.readouterr().err
    broken = tmp_path / "x.timeline.json"
    broken.write_text("{", encoding="utf-8")
    assert main(["export", str(broken), "--otio"]) == 1
    err = capsys.readouterr().err
    assert "is not a timeline JSON written by qidsl build" in err and err.count("\n") == 1
    broken.write_text(json.dumps({"schema": "qidsl.timeline/1", "events": [], "duration": 1}), encoding="utf-8")
    assert main(["export", str(broken), "--otio"]) == 1
    assert "x.mp3 is missing" in capsys.readouterr().err
