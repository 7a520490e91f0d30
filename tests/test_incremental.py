"""Incremental builds: what a build makes again after an edit, and what survives a kill.

Real Piper, real ffmpeg, real files.  The build's own report (BuildReport)
says what it made and what it reused; outputs are compared byte for byte.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qidsl.build import BuildOptions, build_one
from qidsl.cli import main
from qidsl.compile import compile_paths
from qidsl.store import Store
from tests.test_build import ROUTINE  # the same short routine the build tests use

EDITED = ROUTINE.replace("Stand tall.", "Stand tall and let the shoulders drop.")
VIDEO = os.environ.get("QIDSL_SKIP_VIDEO") != "1"


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _build(routine: Path, out: Path, cache: Path, **options):
    compiled = compile_paths([str(routine)])
    files, loader, (result,) = compiled
    return build_one(files[0], result, loader,
                     BuildOptions(out=out, cache_dir=cache, progress=False, **options))


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """A store holding the speech of every cue of ROUTINE and EDITED (the products are made by each test)."""
    work = tmp_path_factory.mktemp("speech")
    for name, text in (("a", ROUTINE), ("b", EDITED)):
        routine = work / f"{name}.qi"
        routine.write_text(text, encoding="utf-8")
        assert _build(routine, work / "out", work / "cache", video=False) is not None
    for kind in (work / "cache").iterdir():
        if kind.name != "speech":
            shutil.rmtree(kind)
    return work / "cache"


def _fresh_cache(speech: Path, where: Path) -> Path:
    """A copy of the store with the warm speech and no other product."""
    shutil.copytree(speech, where)
    return where


def test_a_one_cue_edit_makes_only_what_depends_on_that_cue(speech, tmp_path):
    cache = _fresh_cache(speech, tmp_path / "cache")
    routine = tmp_path / "short.qi"
    routine.write_text(ROUTINE, encoding="utf-8")
    first = _build(routine, tmp_path / "out", cache, video=False, wav=True)
    assert first.made["level"] == 5 and first.made["mp3-run"] == 4 and first.reused["speech"] == 4

    routine.write_text(EDITED, encoding="utf-8")
    second = _build(routine, tmp_path / "out", cache, video=False, wav=True)
    # One new cue: its speech (from the speech cache here), its levelled sound, the one MP3 run
    # that holds it, and what is made from the whole (MP3, WAV and its loudness, timeline, captions).
    assert second.made.get("level") == 1
    assert second.made.get("mp3-run") == 1
    assert second.made.get("mp3") == 1 and second.made.get("wav") == 1
    assert second.made.get("timeline") == 1 and second.made.get("srt") == 1 and second.made.get("vtt") == 1
    assert second.reused["level"] == 4  # the other cues and the bell, moved in time, are reused as they were
    assert second.reused["mp3-run"] == 3
    assert set(second.made) <= {"level", "mp3-run", "mp3", "wav", "loudness", "timeline", "srt", "vtt", "chapters",
                                "page"}

    # Undoing the edit makes nothing but the whole-programme products' lookups: all are in the store.
    routine.write_text(ROUTINE, encoding="utf-8")
    third = _build(routine, tmp_path / "out", cache, video=False, wav=True)
    assert third.made_count == 0 and not third.up_to_date


@pytest.mark.skipif(not VIDEO, reason="video tests switched off")
def test_video_segments_and_narration_chunks_are_graph_products_reused_one_by_one(speech, tmp_path):
    cache = _fresh_cache(speech, tmp_path / "cache")
    routine = tmp_path / "short.qi"
    routine.write_text(ROUTINE, encoding="utf-8")
    first = _build(routine, tmp_path / "out", cache, preview=True)
    segments, chunks = first.made["video-segment"], first.made["aac-chunk"]
    assert segments >= 3 and chunks >= 2 and first.made["mp4"] == 1
    assert not first.reused.get("video-segment") and not first.reused.get("aac-chunk")
    # Each one is a file of its family in the store, as any product.
    assert Store(cache).sizes()["video-segment"][0] == segments

    routine.write_text(EDITED, encoding="utf-8")
    second = _build(routine, tmp_path / "out", cache, preview=True)
    # The edited cue's segments and chunks are made again; the graph reuses every other one by its key.
    assert 1 <= second.made["video-segment"] < segments and second.reused["video-segment"] >= 1
    assert second.made["video-segment"] + second.reused["video-segment"] >= segments - 1
    assert 1 <= second.made["aac-chunk"] < chunks + 1 and second.reused["aac-chunk"] >= 1
    assert second.made["mp4"] == 1


def test_a_build_with_nothing_changed_does_nothing(speech, tmp_path, capsys):
    cache = _fresh_cache(speech, tmp_path / "cache")
    routine = tmp_path / "short.qi"
    routine.write_text(ROUTINE, encoding="utf-8")
    _build(routine, tmp_path / "out", cache, video=False)
    folder = tmp_path / "out" / "short"
    times = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    capsys.readouterr()
    again = _build(routine, tmp_path / "out", cache, video=False)
    assert again.up_to_date and again.made_count == 0
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == times
    err = capsys.readouterr().err
    assert "up to date" in err and "YouTube needs at least 3 chapters" in err  # warnings are said again
    # A changed output is noticed: the build is done again and puts it right.
    (folder / "short.srt").write_text("tampered", encoding="utf-8")
    mended = _build(routine, tmp_path / "out", cache, video=False)
    assert not mended.up_to_date and mended.made_count == 0
    assert (folder / "short.srt").read_text(encoding="utf-8").startswith("1\n")


@pytest.mark.skipif(not VIDEO, reason="video tests switched off")
def test_outputs_are_byte_identical_across_builds_and_folders(speech, tmp_path):
    routine = tmp_path / "short.qi"
    routine.write_text(ROUTINE, encoding="utf-8")
    _build(routine, tmp_path / "one", _fresh_cache(speech, tmp_path / "c1"), preview=True)
    _build(routine, tmp_path / "two", _fresh_cache(speech, tmp_path / "c2"), preview=True)
    one, two = _digests(tmp_path / "one" / "short"), _digests(tmp_path / "two" / "short")
    assert set(one) == {"short.mp3", "short.mp4", "short.srt", "short.vtt", "short.timeline.json",
                        "short.chapters.txt", "short.html"}
    assert one == two


@pytest.mark.skipif(not VIDEO, reason="video tests switched off")
def test_a_build_without_video_keeps_the_video_that_still_matches_and_removes_a_stale_one(speech, tmp_path,
                                                                                          capsys):
    cache = _fresh_cache(speech, tmp_path / "cache")
    routine = tmp_path / "short.qi"
    routine.write_text(ROUTINE, encoding="utf-8")
    _build(routine, tmp_path / "out", cache, preview=True)
    folder = tmp_path / "out" / "short"
    video = (folder / "short.mp4").read_bytes()
    capsys.readouterr()
    # Nothing changed but --no-video: the video still matches the rest, so it stays.
    report = _build(routine, tmp_path / "out", cache, video=False, preview=True)
    assert report.removed == () and report.made_count == 0
    assert (folder / "short.mp4").read_bytes() == video
    assert f"kept {folder / 'short.mp4'}" in capsys.readouterr().err
    again = _build(routine, tmp_path / "out", cache, video=False, preview=True)
    assert again.up_to_date and (folder / "short.mp4").exists()
    # An edit makes it stale: then it goes, and the build says so.
    routine.write_text(EDITED, encoding="utf-8")
    capsys.readouterr()
    edited = _build(routine, tmp_path / "out", cache, video=False, preview=True)
    assert edited.removed == (folder / "short.mp4",) and not (folder / "short.mp4").exists()
    assert f"removed {folder / 'short.mp4'}" in capsys.readouterr().err


def _put_same_entry(directory: str, rounds: int) -> None:
    store = Store(Path(directory))
    payload = hashlib.sha256(b"x").digest() * 32768  # 1 MiB: long enough for writes to overlap
    for _ in range(rounds):
        with store.put("test", "ab" * 32, ".bin") as tmp:
            with open(tmp, "wb") as out:
                for i in range(0, len(payload), 4096):
                    out.write(payload[i: i + 4096])


def test_two_processes_writing_the_same_product_leave_one_whole_entry(tmp_path):
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_put_same_entry, args=(str(tmp_path), 20)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    entry = Store(tmp_path).get("test", "ab" * 32, ".bin")
    assert entry is not None and entry.read_bytes() == hashlib.sha256(b"x").digest() * 32768
    assert [p.name for p in entry.parent.iterdir()] == [entry.name]  # no temporary file left


def _kill_when(command: list[str], ready, timeout: float = 120.0) -> bool:
    """Run ``command``; SIGKILL it as soon as ``ready()`` is true.  False if it finished first."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if ready():
                process.send_signal(signal.SIGKILL)
                process.wait()
                return True
            time.sleep(0.002)
        return False
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _parts(folder: Path, suffix: str = "") -> list[Path]:
    return [p for p in folder.rglob(f".*.part{suffix}")] if folder.exists() else []


@pytest.mark.skipif(not VIDEO, reason="video tests switched off")
def test_a_build_killed_at_any_point_leaves_outputs_and_caches_usable(speech, tmp_path):
    cache = _fresh_cache(speech, tmp_path / "cache")
    routine = tmp_path / "short.qi"
    routine.write_text(ROUTINE, encoding="utf-8")
    out = tmp_path / "out"
    _build(routine, out, cache, preview=True)
    folder = out / "short"
    before = _digests(folder)
    routine.write_text(EDITED, encoding="utf-8")
    command = [sys.executable, "-m", "qidsl.cli", "build", str(routine), "--out", str(out),
               "--cache-dir", str(cache), "--preview"]
    store = cache
    points = [
        ("while levelling or encoding sound", lambda: bool(_parts(store, ".f32") or _parts(store, ".mp3"))),
        ("while writing the mix", lambda: bool(_parts(store, ".wav"))),
        ("while encoding the video", lambda: bool(_parts(store, ".mp4"))),
    ]
    killed = 0
    loudness = iter([-16.0 - 0.1 * k for k in range(1, 20)])  # every try has all its sound and video to make
    for _, ready in points:
        for _try in range(4):  # a fast machine may finish a stage between two looks: try again with new work
            if _kill_when([*command, "--loudness", f"{next(loudness):.1f}"], ready):
                killed += 1
                # Killed before its outputs were put in place: the folder is the earlier build, whole.
                assert {n: d for n, d in _digests(folder).items() if not n.startswith(".")} == before
                break
            before = _digests(folder)  # it finished: its outputs are the earlier build now
    assert killed >= 2, "the build finished before it could be killed"

    # The caches are usable: the next build finishes and gives exactly what a clean build gives.
    assert main(["build", str(routine), "--out", str(out), "--cache-dir", str(cache), "--preview"]) == 0
    clean = tmp_path / "clean"
    _build(routine, clean, _fresh_cache(speech, tmp_path / "clean-cache"), preview=True)
    assert _digests(folder) == _digests(clean / "short")


def test_j2_builds_two_routines_side_by_side_over_one_cache(speech, tmp_path):
    cache = _fresh_cache(speech, tmp_path / "cache")
    routines = tmp_path / "routines"
    routines.mkdir()
    (routines / "a.qi").write_text(ROUTINE, encoding="utf-8")
    (routines / "b.qi").write_text(EDITED, encoding="utf-8")
    assert main(["build", str(routines), "--no-video", "-j", "2", "--out", str(tmp_path / "par"),
                 "--cache-dir", str(cache)]) == 0
    alone = tmp_path / "alone"
    for name in ("a", "b"):
        _build(routines / f"{name}.qi", alone, _fresh_cache(speech, tmp_path / f"cache-{name}"), video=False)
        assert _digests(tmp_path / "par" / name) == _digests(alone / name)


def test_a_build_with_nothing_changed_loads_neither_numpy_nor_piper(speech, tmp_path):
    cache = _fresh_cache(speech, tmp_path / "cache")
    routine = tmp_path / "short.qi"
    routine.write_text(ROUTINE, encoding="utf-8")
    _build(routine, tmp_path / "out", cache, video=False)
    script = ("import sys; from qidsl.cli import main; "
              f"code = main(['build', {str(routine)!r}, '--no-video', '--out', {str(tmp_path / 'out')!r}, "
              f"'--cache-dir', {str(cache)!r}]); "
              "print(code, sorted(m for m in ('numpy', 'piper', 'onnxruntime', 'scipy') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "up to date" in result.stderr
    assert result.stdout.strip().splitlines()[-1] == "0 []"
