"""Video in segments: joins checked frame by frame, A/V sync and frame count by ffprobe, the cache.

Small renders (320x180 at 10 frames/s, about half a minute) of hand-built
timelines laid on the frame grid, as a build lays them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import wave
from dataclasses import replace

import imageio_ffmpeg
import numpy as np
import pytest

from qidsl.pools import Pools
from qidsl.renderers import video_segments
from qidsl.store import Store
from qidsl.renderers.video import VideoFrames
from qidsl.build import render_video
from qidsl.lang.settings import Settings
from qidsl.lang.steps import ExpandedRoutine
from qidsl.timeline import EstimatedSpeech, build_timeline
from tests.probe import ffprobe_exe, probe
from tests.test_video import FPS, H, W, cues_of, routine_steps, step


def grid_timeline(steps, fps=FPS):
    settings = Settings(title="Morning Flow", author="Qi Studio", theme="calm")
    return build_timeline(ExpandedRoutine(settings, tuple(steps), ("Not medical advice.",)), EstimatedSpeech(),
                          frame_rate=fps)


def narration_wav(path, timeline, rate=48000):
    """Speech-like noise over each spoken sentence, true silence between, 16-bit mono 48 kHz (as a build's mix)."""
    from tests.renderer_fixtures import speechlike

    signal = np.zeros(round(timeline.duration * rate), np.float32)
    for e in timeline.events:
        for _i, s in enumerate(e.speech):
            lo = round(s.start * rate)
            burst = 0.5 * speechlike(s.end - s.start, rate, seed=len(s.text))
            signal[lo:lo + len(burst)] = burst[:len(signal) - lo]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.round(signal * 32767).astype("<i2").tobytes())
    return path


def decode_audio(path, rate=48000) -> np.ndarray:
    raw = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a:0",
                          "-f", "s16le", "-ac", "1", "-ar", str(rate), "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, "<i2").astype(np.float32) / 32767


def render(timeline, folder, name, segments, jobs=2):
    audio = narration_wav(folder / f"{name}.wav", timeline)
    out = folder / f"{name}.mp4"
    stats = render_video(timeline, cues_of(timeline), audio, out, width=W, height=H, fps=FPS, progress=False,
                         store=Store(segments), pools=Pools(jobs))
    return out, stats


def decode(path) -> np.ndarray:
    """Every frame of ``path`` as yuv420p planes flattened, one row per frame."""
    raw = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:v:0",
                          "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, W * H * 3 // 2)


def packets(path, stream):
    out = subprocess.run([ffprobe_exe(), "-v", "error", "-select_streams", stream, "-show_entries",
                          "packet=pts_time,dts_time,duration_time", "-of", "json", str(path)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["packets"]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    folder = tmp_path_factory.mktemp("segments")
    timeline = grid_timeline(routine_steps())
    out, stats = render(timeline, folder, "first", folder / "cache")
    return timeline, out, stats, folder


def test_a_routine_is_cut_into_several_segments_that_are_all_made(made):
    timeline, _, stats, _ = made
    assert stats.frames == round(timeline.duration * FPS)
    assert stats.segments >= 5 and stats.made == stats.segments and stats.reused == 0


def test_frame_count_sync_and_monotonic_timestamps(made):
    timeline, out, _, _ = made
    streams = {s["codec_type"]: s for s in probe(out)["streams"]}
    frames = round(timeline.duration * FPS)
    assert int(streams["video"]["nb_frames"]) == frames
    video_end = float(streams["video"]["start_time"]) + float(streams["video"]["duration"])
    audio_end = float(streams["audio"]["start_time"]) + float(streams["audio"]["duration"])
    assert abs(float(streams["video"]["start_time"]) - float(streams["audio"]["start_time"])) < 1 / FPS
    assert abs(video_end - audio_end) < 1 / FPS and abs(video_end - frames / FPS) < 1e-3
    for kind in ("v", "a"):
        dts = [float(p["dts_time"]) for p in packets(out, kind)]
        assert all(b > a for a, b in zip(dts, dts[1:])), kind
    pts = sorted(float(p["pts_time"]) for p in packets(out, "v"))
    assert np.allclose(np.diff(pts), 1 / FPS, atol=1e-3)  # no frame doubled or lost at a join


def test_joined_frames_are_the_segments_frames_and_the_pictures_drawn(made):
    timeline, out, stats, folder = made
    joined = decode(out)
    assert len(joined) == stats.frames
    frames = VideoFrames(timeline, cues_of(timeline), W, H, planar=True, fps=FPS)
    from qidsl.renderers.video_segments import Encoding, plan_segments

    plan = plan_segments(frames, stats.frames, Encoding(W, H, FPS, video_segments.video.PRESET,
                                                        video_segments.video.CRF))
    assert [s.start for s in plan] == sorted({s.start for s in plan}) and plan[0].start == 0
    assert sum(s.frames for s in plan) == stats.frames
    for segment in plan:
        alone = decode(Store(folder / "cache").path("video-segment", segment.key, video_segments.SEGMENT_SUFFIX))
        assert len(alone) == segment.frames
        # Bit for bit: the join re-encoded nothing.
        assert np.array_equal(joined[segment.start:segment.start + segment.frames], alone), segment
        # And each frame either side of the join is the picture drawn for it (encoder loss only).
        for i in {segment.start, segment.start + segment.frames - 1, max(0, segment.start - 1)}:
            drawn = frames.draw(frames.state(i / FPS))
            expected = frames.yuv.astype(int)
            assert np.abs(joined[i].astype(int) - expected).mean() < 2.0, i
            del drawn


def test_a_second_render_reuses_every_segment_and_is_byte_identical(made, tmp_path):
    timeline, out, stats, folder = made
    again, second = render(timeline, tmp_path, "again", folder / "cache")
    assert second.made == 0 and second.reused == stats.segments and second.audio_made == 0
    assert again.read_bytes() == out.read_bytes()
    # A cold render elsewhere, two jobs or one, gives the same bytes.
    cold, _ = render(timeline, tmp_path, "cold", tmp_path / "cold-cache", jobs=1)
    assert cold.read_bytes() == out.read_bytes()


def test_after_one_cue_edit_only_its_segments_are_made_again(made, tmp_path):
    timeline, _, stats, folder = made
    steps = routine_steps()
    # A longer first cue: everything after it moves by whole frames.
    edited_steps = [replace(s, text="Stand tall, breathe easily, and let the shoulders soften and widen.")
                    if s.kind == "say" else s for s in steps]
    edited = grid_timeline(edited_steps)
    assert edited.duration > timeline.duration
    _, stats2 = render(edited, tmp_path, "edited", folder / "cache")
    # Made again: the title card (its length changed) and the segments that show the cue.
    assert 1 <= stats2.made <= 3 and stats2.reused >= stats2.segments - 3, stats2
    # The narration chunk that sounds the cue is encoded again; the later ones hold the same samples.
    assert stats2.audio_chunks >= 3 and 1 <= stats2.audio_made <= 2, stats2


def test_a_killed_render_leaves_the_segment_folder_usable(tmp_path):
    timeline = grid_timeline(routine_steps() * 2)
    cache = tmp_path / "cache"
    audio = narration_wav(tmp_path / "n.wav", timeline)
    script = (
        "import pickle, sys\n"
        "from qidsl.build import render_video\n"
        "from tests.test_video_segments import grid_timeline, cues_of\n"
        "from tests.test_video import routine_steps, W, H, FPS\n"
        "t = grid_timeline(routine_steps() * 2)\n"
        "from qidsl.store import Store\nfrom qidsl.pools import Pools\n"
        f"render_video(t, cues_of(t), {str(audio)!r}, {str(tmp_path / 'killed.mp4')!r}, width=W, height=H,"
        f" fps=FPS, progress=False, store=Store({str(cache)!r}), pools=Pools(2))\n")
    child = subprocess.Popen([sys.executable, "-c", script], cwd=os.path.dirname(os.path.dirname(__file__)),
                             start_new_session=True)
    deadline = time.monotonic() + 60
    def finished():
        return [p for p in cache.rglob("*" + video_segments.SEGMENT_SUFFIX) if not p.name.startswith(".")]

    while time.monotonic() < deadline and len(finished()) < 2:
        time.sleep(0.05)
    os.killpg(child.pid, signal.SIGKILL)  # the render and its ffmpegs, mid-flight
    child.wait()
    assert not (tmp_path / "killed.mp4").exists()
    kept = finished()
    assert kept  # what was finished is kept ...
    out, stats = render(timeline, tmp_path, "after", cache)
    assert stats.reused >= len(kept) - 1 and stats.made + stats.reused == stats.segments
    assert int({s["codec_type"]: s for s in probe(out)["streams"]}["video"]["nb_frames"]) == stats.frames
    assert not list(cache.rglob(".*.part*"))  # ... and the killed render's half-written files are swept


def test_a_long_hold_is_split_into_bounded_segments(tmp_path):
    steps = [step("section", text="Still", section="Still"), step("hold", 25.0, section="Still")]
    timeline = grid_timeline(steps)
    frames = VideoFrames(timeline, cues_of(timeline), W, H, planar=True, fps=FPS)
    plan = video_segments.plan_segments(frames, round(timeline.duration * FPS),
                                        video_segments.Encoding(W, H, FPS, "superfast", 21))
    assert max(s.frames for s in plan) <= video_segments.MAX_SECONDS * FPS
    assert len(plan) >= 4


def test_the_narration_joined_from_chunks_is_the_mix_in_step_with_the_picture(tmp_path):
    from qidsl.renderers import narration_aac

    # Short chunks, so this half-minute narration is cut in several places, in pauses and on the grid.
    steps = routine_steps() * 2
    timeline = grid_timeline(steps)
    original = narration_aac.MAX_SECONDS
    narration_aac.MAX_SECONDS = 8.0
    try:
        out, stats = render(timeline, tmp_path, "spoken", tmp_path / "cache")
    finally:
        narration_aac.MAX_SECONDS = original
    assert stats.audio_chunks >= 4 and 1 <= stats.audio_made <= stats.audio_chunks  # equal chunks made once
    with wave.open(str(tmp_path / "spoken.wav")) as wav:
        mix = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(np.float32) / 32767
    heard = decode_audio(out)
    total = round(timeline.duration * 48000)
    assert abs(len(heard) - total) < 48000 / FPS  # as long as the picture, within a frame
    # Every spoken sentence is where the timeline puts it, within a third of a frame (the chunks
    # are placed to within half an AAC packet), and sounds like the mix (AAC loses a little).
    for e in timeline.events:
        for s in e.speech:
            lo, hi = round(s.start * 48000), round(s.end * 48000)
            want = mix[lo:hi]
            best = max(range(-700, 701, 4), key=lambda d: float(np.dot(heard[lo + d:hi + d], want)))
            assert abs(best) <= 520, (s.text, best)
            got = heard[lo + best:hi + best]
            error = np.sqrt(np.mean((got - want) ** 2)) / np.sqrt(np.mean(want ** 2))
            assert error < 0.35, (s.text, error)
    # Silence between cues stays silent: nothing doubled or clicked at a join.
    quiet = np.ones(len(mix), bool)
    for e in timeline.events:
        for s in e.speech:
            quiet[max(0, round(s.start * 48000) - 2048):round(s.end * 48000) + 2048] = False
    quiet = quiet[:min(len(heard), len(mix))]
    assert np.abs(heard[:len(quiet)][quiet]).max() < 0.01
