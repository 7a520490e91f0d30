"""Music under the voice: the calm bed, the ducking envelope, and a real build measured with ffmpeg's ebur128."""

import json
import re
import subprocess
import sys

import imageio_ffmpeg
import numpy as np
import pytest

from qidsl.lang.settings import DEFAULT_MUSIC_LEVEL
from qidsl.renderers import music

RATE = 48000
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
# The test's music: a tone above everything the voice holds (Piper's joe speaks at 22.05 kHz, so
# nothing above 11 kHz), which a narrow band-pass then measures alone under the voice.
TONE_HZ = 16000


def test_calm_bed_is_the_same_bytes_every_time_and_loops_without_a_seam():
    first, second = music.calm_cycle(), music.calm_cycle()
    assert first.tobytes() == second.tobytes()
    assert len(first) == music.CALM_CYCLE_SECONDS * RATE
    steps = np.abs(np.diff(first))
    # The step from the last sample to the first is no bigger than any step inside the cycle.
    assert abs(float(first[0]) - float(first[-1])) <= steps.max()


def _db(gain: np.ndarray, second: float) -> float:
    return 20 * np.log10(float(gain[int(second * RATE)]) + 1e-12)


def test_music_is_down_before_the_first_syllable_through_short_pauses_and_up_in_long_ones():
    # Speech 5-7 s, 7.6-9 s (a 0.6 s pause), then 15-16 s; 24 s in all; 15 LU under the voice.
    sounds = [(5 * RATE, 7 * RATE), (int(7.6 * RATE), 9 * RATE), (15 * RATE, 16 * RATE)]
    gain = np.concatenate(list(music.gains(sounds, 24 * RATE, 15.0)))
    assert len(gain) == 24 * RATE
    assert _db(gain, 0) < -60 and _db(gain, 23.999) < -40  # faded in and out
    assert _db(gain, 4) == pytest.approx(-music.PAUSE_DB, abs=0.1)  # the intro: up
    assert _db(gain, 5 - music.LEAD_SECONDS) == pytest.approx(-15, abs=0.1)  # down before the first syllable
    assert all(_db(gain, t) == pytest.approx(-15, abs=0.1) for t in np.arange(5 - music.LEAD_SECONDS, 9.3, 0.05))
    assert _db(gain, 12) == pytest.approx(-music.PAUSE_DB, abs=0.1)  # back up in the long pause
    ramp = [_db(gain, t) for t in np.arange(9.3, 11.1, 0.01)]
    steps = np.diff(ramp)
    assert steps.min() >= -1e-4 and steps.max() < 1.0  # smoothly, never jumping back


def _momentary(path, band: bool = False) -> list[tuple[float, float]]:
    """ffmpeg ebur128's momentary loudness (t, LUFS) of a file, optionally of the music's band only."""
    chain = (f"bandpass=f={TONE_HZ}:width_type=h:w=60,bandpass=f={TONE_HZ}:width_type=h:w=60," if band else "")
    done = subprocess.run([FFMPEG, "-nostats", "-i", str(path), "-af", chain + "ebur128", "-f", "null", "-"],
                          capture_output=True, text=True, check=True)
    return [(float(t), float(m)) for t, m in re.findall(r"t:\s*([\d.]+)\s+TARGET:\S+ LUFS\s+M:\s*([-\d.]+)",
                                                        done.stderr)]


def _integrated_and_peak(path) -> tuple[float, float]:
    done = subprocess.run([FFMPEG, "-nostats", "-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-"],
                          capture_output=True, text=True, check=True)
    summary = done.stderr.rsplit("Summary:", 1)[1]
    return (float(re.search(r"I:\s*([-\d.]+) LUFS", summary).group(1)),
            float(re.search(r"Peak:\s*([-\d.]+) dBFS", summary).group(1)))


def _qidsl(folder, *args) -> subprocess.CompletedProcess:
    """``qidsl ARGS`` run in ``folder`` as a user runs it."""
    return subprocess.run([sys.executable, "-c", "import sys; from qidsl.cli import main; sys.exit(main())", *args],
                          cwd=folder, capture_output=True, text=True)


ROUTINE = """title: "Music under the voice"
music: "media/tone.wav"

section "Standing":
    say "Stand with your feet apart, knees soft, and let the shoulders drop."
    pause 1s
    say "Breathe in slowly through the nose, and let the breath go down to the belly."
    pause 9s
    say "Float the hands up along the centre line, and let them sink again."
    pause 6s
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("music")
    (folder / "media").mkdir()
    subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", f"sine=frequency={TONE_HZ}:duration=5",
                    str(folder / "media" / "tone.wav")], check=True)
    (folder / "under.qi").write_text(ROUTINE, encoding="utf-8")
    done = _qidsl(folder, "build", "under.qi", "--out", "out", "--preview", "--wav")
    assert done.returncode == 0, done.stderr
    timeline = json.loads((folder / "out" / "under" / "under.timeline.json").read_text(encoding="utf-8"))
    return folder / "out" / "under", timeline


def test_build_keeps_the_programme_at_the_target_and_under_the_ceiling(built):
    folder, _ = built
    for name in ("under.mp3", "under.wav", "under.mp4"):
        integrated, peak = _integrated_and_peak(folder / name)
        assert integrated == pytest.approx(-16.0, abs=0.5), name
        assert peak <= -1.0, name


def _power_mean(values) -> float:
    return 10 * np.log10(np.mean([10 ** (v / 10) for v in values]))


def test_music_sits_the_margin_below_the_voice_and_rises_in_long_pauses(built):
    folder, timeline = built
    mix = folder / "under.wav"  # the exact mix the MP3 and the MP4 are encoded from
    whole, band = dict(_momentary(mix)), dict(_momentary(mix, band=True))
    spoken = [(s["start"], s["end"]) for e in timeline["events"] for s in e.get("speech") or ()]
    # Windows (400 ms, ending at t) wholly inside a sentence: the voice, and the music's band under it.
    under = [t for t in whole if any(a + 0.4 <= t <= b for a, b in spoken)]
    assert len(under) > 20
    # The loudness difference as Torcoli et al. measure it: the voice's loudness against the music's
    # over the stretches where the voice speaks.
    voice = _power_mean(whole[t] for t in under)
    difference = voice - _power_mean(band[t] for t in under)
    assert difference >= DEFAULT_MUSIC_LEVEL - 1.0, difference
    # No moment while the voice speaks brings the music within Torcoli's 10 LU of it.
    assert max(band[t] for t in under) <= voice - 10.0
    last_word = max(b for a, b in spoken if b < timeline["duration"] - 6.5)
    in_pause = [band[t] for t in band if last_word + 2.5 <= t <= last_word + 8.0]
    assert min(in_pause) >= _power_mean(band[t] for t in under) + 6.0  # the music comes back up in the 9 s pause


CALM = """title: "Calm under the voice"
music: calm
music-level: accessible

say "Welcome. Stand with your feet apart."
pause 4s
say "Breathe in slowly."
"""


def _products(folder, routine: str, *more: str) -> str:
    (folder / "calm.qi").write_text(routine, encoding="utf-8")
    done = _qidsl(folder, "build", "calm.qi", "--out", "out", "--no-video", *more)
    assert done.returncode == 0, done.stderr
    return re.search(r"products: (.*)", done.stderr).group(1)


def _made(summary: str, kind: str) -> int:
    found = re.search(rf"(\d+) {kind}\b", summary.split("made: ", 1)[-1]) if "made: " in summary else None
    return int(found.group(1)) if found else 0


SECTIONS = """title: "Calm in two sections"
music: calm

section "Standing":
    say "Welcome. Stand with your feet apart."
    pause 4s
    say "Breathe in slowly."
    pause 9s

section "Sinking":
    say "Let the knees soften."
    pause 10s
    say "Rise again, slowly."
    pause 6s
"""


def test_calm_music_is_levelled_once_and_an_edit_remakes_only_the_pieces_it_reaches(tmp_path):
    first = _products(tmp_path, SECTIONS, "--wav")
    assert _made(first, "music") == 1
    pieces = _made(first, "mix-piece")
    assert pieces >= 6  # each section: a head, a piece between and a tail
    mp3 = tmp_path / "out" / "calm" / "calm.mp3"
    integrated, peak = _integrated_and_peak(mp3)
    assert integrated == pytest.approx(-16.0, abs=0.5) and peak <= -1.0
    edited = SECTIONS.replace("Rise again, slowly.", "Rise again, very slowly.")
    again = _products(tmp_path, edited, "--wav")
    assert _made(again, "music") == 0  # the loop is not levelled again
    # The first section's loudness is not measured again (its pieces' samples are remade only when
    # the edit moves the programme's gains by a step of their grid, as in a routine this short it may).
    assert 0 < _made(again, "mix-loudness") <= pieces - 3, again
    assert _made(again, "mp3-piece") == _made(again, "mix-piece")


def test_an_edit_leaves_the_windows_of_the_pieces_it_does_not_reach():
    """A cue made longer moves every later section by 0.133 s: the pieces before the edit and those inside
    the later sections hold the same window (the same key); the edited section's later pieces, the heads
    and tails of the sections after it, and the end do not."""
    from qidsl.renderers import music_mix
    from qidsl.renderers.audio import Piece

    def programme(longer: int):
        starts = [0, 60 * RATE, 130 * RATE + longer]  # the edit is in the second section
        placed = []
        for k, start in enumerate(starts):
            for at in range(2 * RATE, 55 * RATE, 9 * RATE):
                length = 3 * RATE + (longer if (k, at) == (1, 20 * RATE) else 0)
                shift = longer if (k, at) > (1, 20 * RATE) and k == 1 else 0
                placed.append(Piece(start + at + shift, length, f"sound-{k}-{at}"))
        total = 190 * RATE + longer
        lay = music_mix.layout(starts[1:], placed, total)
        return lay, [music_mix.piece_window(lay, a, b).identity() for a, b in lay.pieces]

    (before, old), (_, new) = programme(0), programme(6400)
    assert len(old) == len(new)
    same = [a == b for a, b in zip(old, new)]
    edited_at = 60 * RATE + 20 * RATE
    for (first, end), kept in zip(before.pieces, same):
        if end <= edited_at - RATE:
            assert kept, (first, end)  # before the edit
        elif first > edited_at and end < 130 * RATE:
            assert not kept, (first, end)  # after it in its section: the voice has moved over the music
    third = [i for i, (first, _) in enumerate(before.pieces) if first >= 130 * RATE - music_mix.FRAME]
    # The third section: its head and its tail (the programme's end) are remade, every piece between is kept.
    assert len(third) >= 4 and all(same[i] for i in third[1:-1]) and not same[third[-1]]
    assert sum(same) >= len(same) // 2


def test_a_rebuild_after_an_edit_is_the_same_mix_as_a_clean_build(tmp_path):
    """The pieces an edit keeps and those it remakes join into what a build from nothing makes: the same
    samples, the same MP3 bytes, at the target and under the ceiling."""
    import shutil

    edited = SECTIONS.replace("Let the knees soften.", "Let the knees soften and sink.")
    _products(tmp_path, SECTIONS, "--wav")
    _products(tmp_path, edited, "--wav")
    clean = tmp_path / "clean"
    clean.mkdir()
    # The same speech (Piper's varies a little between syntheses); nothing else of the first store.
    shutil.copytree(tmp_path / "out" / ".cache" / "speech", clean / "store" / "speech")
    made = _products(clean, edited, "--wav", "--cache-dir", str(clean / "store"))
    assert _made(made, "speech") == 0 and _made(made, "mix-piece") >= 6
    for name in ("calm.wav", "calm.mp3"):
        rebuilt, fresh = tmp_path / "out" / "calm" / name, clean / "out" / "calm" / name
        assert rebuilt.read_bytes() == fresh.read_bytes(), name
    integrated, peak = _integrated_and_peak(tmp_path / "out" / "calm" / "calm.mp3")
    assert integrated == pytest.approx(-16.0, abs=0.5) and peak <= -1.0
    # The MP3's pieces join cleanly: decoded, it follows the mix as closely at the joins as anywhere.
    wav = np.fromfile(tmp_path / "out" / "calm" / "calm.wav", "<i2")[22:].astype(np.float64) / 32767
    decoded = np.frombuffer(subprocess.run([FFMPEG, "-v", "error", "-i", str(tmp_path / "out" / "calm" / "calm.mp3"),
                                            "-f", "f32le", "-ac", "1", "-"], capture_output=True, check=True).stdout,
                            "<f4")[:len(wav)].astype(np.float64)
    frames = len(decoded) // 1152
    error = np.sqrt(np.mean(np.square((decoded - wav[:len(decoded)])[:frames * 1152]).reshape(frames, 1152), axis=1))
    level = np.sqrt(np.mean(np.square(wav[:frames * 1152]).reshape(frames, 1152), axis=1))
    # (Measured on the shipped routine: a median of 0.13 % of the level and at most 0.018; with the MP3 one
    # sample off, 1.9 % and 0.19.)
    assert np.median(error / np.maximum(level, 1e-6)) < 0.01
    assert np.max(error) < 0.05, np.argmax(error)


def test_music_that_does_not_decode_stops_the_build_with_one_sentence(tmp_path):
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "broken.ogg").write_bytes(b"OggS" + bytes(range(256)) * 8)  # an Ogg page's mark, no more
    routine = 'title: "Broken music"\nmusic: "media/broken.ogg"\n\nsay "Welcome."\n'
    (tmp_path / "broken.qi").write_text(routine, encoding="utf-8")
    done = _qidsl(tmp_path, "build", "broken.qi", "--out", "out", "--no-video")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert re.search(r"qidsl: could not decode the music \S*broken\.ogg", done.stderr), done.stderr
    assert not (tmp_path / "out" / "broken" / "broken.mp3").exists()


def _quick_wav(folder, routine: str):
    """What `qidsl watch` serves: the quick build's WAV, as float samples, and its rate."""
    import wave

    from qidsl.build import BuildOptions, build_one
    from qidsl.compile import compile_routine
    from qidsl.lang.loader import Loader

    path = folder / "quick.qi"
    path.write_text(routine, encoding="utf-8")
    loader = Loader()
    options = BuildOptions(out=folder / "out", video=False, quick=True, cache_dir=folder / "cache", progress=False)
    report = build_one(path, compile_routine(path, loader), loader, options)
    assert report is not None
    wav_path = next(p for p in report.outputs if p.suffix == ".wav")
    with wave.open(str(wav_path)) as stream:
        rate = stream.getframerate()
        samples = np.frombuffer(stream.readframes(stream.getnframes()), "<i2").astype(np.float32) / 32767
    timeline = json.loads(next(p for p in report.outputs if p.name.endswith(".timeline.json")).read_text())
    return samples, rate, timeline


def test_the_watchs_quick_mix_has_the_music_under_the_voice(tmp_path):
    routine = CALM.replace("pause 4s", "pause 6s")
    samples, rate, timeline = _quick_wav(tmp_path, routine)
    silent, _, _ = _quick_wav(tmp_path, routine.replace("music: calm", "music: none"))
    pause = next(e for e in timeline["events"] if e["kind"] == "pause")
    middle = slice(round((pause["start"] + 2.5) * rate), round((pause["end"] - 1.0) * rate))

    def db(x):
        return 10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-12)

    assert db(silent[middle]) < -80  # without music the pause is silence
    assert db(samples[middle]) > -40  # with it, the music has come up in the pause
    words = next(e for e in timeline["events"] if e["kind"] == "say")["speech"][0]
    spoken = slice(round(words["start"] * rate), round(words["end"] * rate))
    # Under the voice the music is down: the mix there is the voice, within a dB or so.
    assert abs(db(samples[spoken]) - db(silent[spoken])) < 1.5
    assert np.max(np.abs(samples)) <= 0.9


def test_the_quick_mixs_music_restarts_at_each_section_as_the_builds_mix_does():
    """`qidsl watch` plays the music the build's mix plays: the loop started again before each section, with
    the same crossfades (compared over a piece of the build's layout away from the fades and the ducking)."""
    from qidsl.renderers import music_mix

    rate = music_mix.RATE
    cycle = np.sin(np.arange(5 * rate) * 2 * np.pi * 3 / rate).astype(np.float32) * np.linspace(
        0.2, 1.0, 5 * rate, dtype=np.float32)
    total = 120 * rate
    lay = music_mix.layout([30 * rate, 31 * rate, 70 * rate], [], total)
    assert len(lay.loops) == 3  # the section a second long keeps the loop on
    first, end = 25 * rate, 75 * rate
    win = music_mix.window(lay, first, end)
    _voice, ducked, lifted = music_mix.render(win, cycle, lambda key: np.zeros(0, np.float32))
    quick = music_mix.looped_at(cycle, lay.loops, np.arange(first, end, dtype=np.float64))
    assert np.max(np.abs(quick - (ducked + lifted))) < 1e-5
    # And it really starts again: two seconds into the last section the loop is four seconds into the cycle.
    at = lay.loops[-1] + 4 * rate
    assert abs(float(music_mix.looped_at(cycle, lay.loops, np.array([at], np.float64))[0]) - cycle[4 * rate]) < 1e-6
