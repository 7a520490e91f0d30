"""Backdrops: the instructor's clip or photo behind the picture.

Media are made by ffmpeg's test sources (tests/media.py); frames are drawn
small (320x180 at 10 frames/s) from routines of a few seconds:

- ``check`` golden cases for each media mistake (tests/cases/media/, the
  media generated beside them in a temporary folder);
- the scene track's backdrop windows, and where they are in the timeline JSON;
- frames during a clip show the clip (as ffmpeg scales and crops it) under
  the captions, and change every frame; a photo moves between frames;
- every fully covered caption pixel keeps 4.5:1 against what is behind it;
- a one-cue edit remakes only the segments it touches.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from qidsl.cli import main
from qidsl.compile import compile_routine
from qidsl.lang.loader import Loader
from qidsl.pools import Pools
from qidsl.renderers.backdrop import CONTRAST, OPEN_KEEP
from qidsl.renderers.scene import scene_dict, scene_track
from qidsl.renderers.themes import theme_named
from qidsl.renderers.video import VideoFrames
from qidsl.build import render_video
from qidsl.store import Store
from qidsl.timeline import EstimatedSpeech, build_timeline
from tests import media as make
from tests.browser import browser  # noqa: F401 - the fixture
from tests.test_video import cues_of
from tests.test_video_segments import narration_wav

CASES = Path(__file__).parent / "cases" / "media"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
W, H, FPS = 320, 180, 10


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A routine's folder holding every test medium under media/."""
    root = tmp_path_factory.mktemp("backdrops")
    make.mistakes(root)
    return root


@pytest.mark.parametrize("case", sorted(CASES.glob("*.qi")), ids=lambda p: p.stem)
def test_media_mistake_reports_as_stored(case, folder, monkeypatch, capsys):
    shutil.copy(case, folder / case.name)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("NO_COLOR", "1")
    code = main(["check", case.name])
    out, err = capsys.readouterr()
    actual = f"{out}{err}[exit {code}]\n"
    golden = case.with_suffix(".out")
    if UPDATE:
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8")


def test_every_media_golden_has_its_case():
    for golden in CASES.glob("*.out"):
        assert golden.with_suffix(".qi").exists(), golden.name


def test_check_probes_media_without_numpy_or_moviepy(folder):
    script = ("import sys; from qidsl.cli import main; code = main(['check', 'backdrop-portrait.qi']); "
              "assert not any(m.split('.')[0] in ('numpy', 'moviepy', 'PIL') for m in sys.modules), "
              "[m for m in sys.modules if m.split('.')[0] in ('numpy', 'moviepy', 'PIL')]; sys.exit(code)")
    shutil.copy(CASES / "backdrop-portrait.qi", folder / "backdrop-portrait.qi")
    done = subprocess.run([os.sys.executable, "-c", script], cwd=folder, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "crops away 68% of it" in done.stdout


ROUTINE = '''title: "Footage"
backdrop: "media/horse-stance.jpg"

section "Standing":
    say "Sink into the horse stance."
    hold 4s "Keep the back long."
    backdrop "media/rolling.mp4" from 0:01
    say "Roll the hands backwards, slowly, with the breath."
    inhale 3s "Float the hands up."
    exhale 3s "Roll them down."
    backdrop none
    say "Rest the hands."
'''


def _timeline(folder: Path, text: str = ROUTINE, name: str = "footage.qi"):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    compiled = compile_routine(path, Loader())
    assert not [d for d in compiled.diagnostics if d.is_error], compiled.diagnostics
    return build_timeline(compiled.expanded, EstimatedSpeech(), frame_rate=FPS)


def test_the_scene_track_has_a_backdrop_window_per_statement(folder):
    timeline = _timeline(folder)
    track = scene_track(timeline, cues_of(timeline), FPS)
    photo, clip = track.backdrop
    assert (photo.kind, photo.file, clip.kind, clip.file) == ("photo", "media/horse-stance.jpg", "clip",
                                                               "media/rolling.mp4")
    # The photo from the first cue (after the title card) to the clip; the clip to `backdrop none`.
    intro = track.steps[0]
    assert photo.start == intro.end and photo.end == clip.start
    rest = next(s for s in track.steps if timeline.events[s.event].text == "Rest the hands.")
    assert clip.end == rest.start
    # The clip starts at 0:01 and has 2 s left: the window is longer, so it loops.
    assert clip.offset == 1.0 and clip.length == pytest.approx(3.0) and clip.loop
    assert clip.clip_time(clip.start + 2.5) == pytest.approx(1.5)
    with open(folder / "media/rolling.mp4", "rb") as stream:
        import hashlib
        assert clip.media == hashlib.file_digest(stream, "sha256").hexdigest()
    written = scene_dict(track)["backdrop"]
    assert written[1] == {"start": clip.start, "end": clip.end, "file": "media/rolling.mp4", "kind": "clip",
                          "media": clip.media, "from": 1.0, "length": clip.length, "loop": True}


def _clip_frame(path: Path, seconds: float) -> np.ndarray:
    """The clip's picture at ``seconds`` scaled to cover W x H and cropped about the middle, by ffmpeg."""
    raw = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-ss", f"{seconds}", "-i", str(path),
                          "-frames:v", "1", "-vf", f"scale={W}:{H}", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(H, W, 3)


@pytest.fixture(scope="module")
def frames(folder):
    timeline = _timeline(folder)
    video = VideoFrames(timeline, cues_of(timeline), W, H, fps=FPS)
    yield timeline, video
    video.release()  # no clip reader (an ffmpeg) is left running


def _open_area(overlay) -> np.ndarray:
    """Pixels far from every text and moving part: the picture there is only lightly shaded."""
    return overlay.keep >= int(OPEN_KEEP * 256) - 1


def test_frames_during_a_clip_show_the_clip_under_the_captions(frames, folder):
    timeline, video = frames
    clip = video.scene.track.backdrop[1]
    theme = theme_named("calm")
    seen = []
    for t in (clip.start + 0.5, clip.start + 0.6, clip.start + 2.9):
        state = video.state(t)
        assert state.screen.backdrop is not None and state.screen.caption, state
        frame = video.draw(state).astype(np.float32)
        overlay = video.overlay_of(state.screen, state.place)
        open_ = _open_area(overlay)
        assert open_.mean() > 0.3  # most of the picture is the footage
        expected = overlay.behind(_clip_frame(folder / "media/rolling.mp4", clip.clip_time(t)))
        assert np.abs(frame[open_] - expected[open_]).mean() < 6, t
        # The caption is drawn over it, in the text colour.
        (lines, (left, top, right, bottom)), = [p for p in overlay.placed if p[0] == state.screen.caption]
        caption = frame[top:bottom, left:right]
        assert (np.abs(caption - np.array(theme.text)).max(axis=2) < 2).sum() > 50
        seen.append(frame)
    # The footage moves: two frames a tenth of a second apart differ (no skip frame there).
    assert np.abs(seen[0] - seen[1]).mean() > 1
    assert video.state(clip.start + 0.5) != video.state(clip.start + 0.6)


def test_a_photo_moves_between_frames_in_steps(frames):
    _, video = frames
    photo = video.scene.track.backdrop[0]
    first, later = video.state(photo.start + 0.2), video.state(photo.start + 3.0)
    assert first.screen.backdrop is not None and first.screen.backdrop.kind == "photo"
    a = video.draw(first).astype(np.float32)
    b = video.draw(later).astype(np.float32)
    open_ = _open_area(video.overlay_of(first.screen, first.place)) & _open_area(
        video.overlay_of(later.screen, later.place))
    assert np.abs(a[open_] - b[open_]).mean() > 1
    # Frames within one step of the pan are the same picture: a skip frame to the encoder.
    assert video.state(photo.start + 0.2) == video.state(photo.start + 0.21)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    c = rgb / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def test_every_caption_pixel_keeps_its_contrast_on_every_sampled_frame(frames):
    timeline, video = frames
    sampled = 0
    for i in range(0, round(timeline.duration * FPS), 3):
        state = video.state(i / FPS)
        if state.screen.backdrop is None or not state.screen.caption:
            continue
        picture = video.backdrop_picture(state).astype(np.float32)
        frame = video.draw(state).astype(np.float32)
        overlay = video.overlay_of(state.screen, state.place)
        behind = overlay.behind(picture)
        (_, (left, top, right, bottom)), = [p for p in overlay.placed if p[0] == state.screen.caption]
        inked = overlay.coverage[top:bottom, left:right] == 255
        assert inked.sum() > 20  # small letters at 320x180: few pixels are wholly ink
        text = _luminance(frame[top:bottom, left:right][inked])
        back = _luminance(behind[top:bottom, left:right][inked])
        ratio = (np.maximum(text, back) + 0.05) / (np.minimum(text, back) + 0.05)
        assert ratio.min() >= CONTRAST, (i, ratio.min())
        sampled += 1
    assert sampled >= 10


def _render(timeline, folder: Path, name: str, store: Path):
    audio = narration_wav(folder / f"{name}.wav", timeline)
    out = folder / f"{name}.mp4"
    stats = render_video(timeline, cues_of(timeline), audio, out, width=W, height=H, fps=FPS, progress=False,
                         store=Store(store), pools=Pools(2))
    return out, stats


def test_a_one_cue_edit_in_a_routine_with_footage_remakes_only_the_segments_it_touches(folder):
    text = ROUTINE + '''
section "Closing":
    backdrop "media/rolling.mp4"
    say "Gather the energy at the Dan Tian."
    hold 6s
'''
    store = folder / "store"
    base = _timeline(folder, text, "edit.qi")
    out, first = _render(base, folder, "first", store)
    assert first.made == first.segments
    # The MP4 shows the footage: its frames in the clip's window move.
    clip = scene_track(base, cues_of(base), FPS).backdrop[1]
    raw = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-ss", f"{clip.start + 0.5}", "-i",
                          str(out), "-frames:v", "2", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                         check=True, capture_output=True).stdout
    a, b = np.frombuffer(raw, np.uint8).reshape(2, -1).astype(np.float32)
    assert np.abs(a - b).mean() > 1
    # A longer first cue, over the photo: everything after it moves by whole frames.  Made again: the
    # title and end cards (they show the routine's length) and the photo's stretch from the cue on (the
    # pan runs on from the photo's start, so the next cue over it shows it further along: two segments);
    # the clips' segments show the same frames of the same files, so they are kept.
    edited = _timeline(folder, text.replace("Sink into the horse stance.",
                                            "Sink into the horse stance, knees soft and wide."), "edit.qi")
    assert edited.duration > base.duration
    _, second = _render(edited, folder, "second", store)
    assert second.made == 4 and second.reused == second.segments - 4, second
    assert json.dumps(scene_dict(scene_track(edited, cues_of(edited), FPS))["backdrop"][2]["media"]) == \
        json.dumps(clip.media)


def test_the_practice_page_shows_each_backdrops_still_beside_the_pacer(folder, browser):  # noqa: F811
    from tests.browser import wait_until

    (folder / "page.qi").write_text(ROUTINE, encoding="utf-8")
    assert main(["build", str(folder / "page.qi"), "--no-video", "--out", str(folder / "out"),
                 "--cache-dir", str(folder / "cache")]) == 0
    out = folder / "out" / "page"
    data = json.loads((out / "page.timeline.json").read_text(encoding="utf-8"))
    photo, clip = data["scene"]["backdrop"]
    stills = sorted(p.name for p in out.glob("*.jpg"))
    assert stills == sorted([f"page.backdrop-{photo['media'][:12]}.jpg", f"page.backdrop-{clip['media'][:12]}-1.jpg"])
    for name in stills:  # real JPEG pictures, at most 480 wide, beside the page (not inlined in it)
        assert (out / name).read_bytes()[:3] == b"\xff\xd8\xff"
    assert "base64" not in (out / "page.html").read_text(encoding="utf-8")
    tab = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto((out / "page.html").as_uri())
    wait_until(tab, "() => document.getElementById('audio').readyState >= 1")
    for window, name in ((photo, stills[0] if photo["media"][:12] in stills[0] else stills[1]),
                         (clip, stills[0] if clip["media"][:12] in stills[0] else stills[1])):
        middle = (window["start"] + window["end"]) / 2
        tab.evaluate(f"() => {{ document.getElementById('audio').currentTime = {middle}; }}")
        wait_until(tab, "() => { const i = document.getElementById('backdrop'); return !i.hidden && i.complete "
                        f"&& i.naturalWidth > 0 && i.src.endsWith({json.dumps(name)}); }}")
    # Before the first backdrop (the title card) and after `backdrop none`, no still.
    tab.evaluate(f"() => {{ document.getElementById('audio').currentTime = {clip['end'] + 0.3}; }}")
    wait_until(tab, "() => document.getElementById('backdrop').hidden")
    assert errors == []


def test_a_changed_backdrop_file_is_a_new_build_though_the_routine_is_the_same(folder, capsys):
    make.photo(folder / "media" / "changing.jpg", 400, 300)
    routine = folder / "changing.qi"
    routine.write_text('title: "Changing"\nbackdrop: "media/changing.jpg"\n\nsay "Stand tall."\n', encoding="utf-8")
    argv = ["build", str(routine), "--no-video", "--out", str(folder / "out"), "--cache-dir", str(folder / "cache")]
    assert main(argv) == 0
    first = sorted(p.name for p in (folder / "out" / "changing").glob("*.jpg"))
    assert main(argv) == 0
    assert "up to date" in capsys.readouterr().err
    make.photo(folder / "media" / "changing.jpg", 480, 320)  # another picture under the same name
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "up to date" not in err and "1 poster" in err
    second = sorted(p.name for p in (folder / "out" / "changing").glob("*.jpg"))
    assert len(first) == len(second) == 1 and first != second  # the old still is not left beside the page


def test_a_build_remembers_its_backdrops_hashes_and_probes_in_the_store(folder, monkeypatch):
    """The next build (a new process: nothing in memory) neither hashes a backdrop again nor asks ffmpeg
    what it holds; a file changed under the same name is probed and hashed afresh."""
    from qidsl import memo
    from qidsl.lang import mediafile

    make.clip(folder / "media" / "remembered.mp4", seconds=2.0)
    routine = folder / "remembered.qi"
    routine.write_text('title: "Remembered"\nbackdrop: "media/remembered.mp4"\n\nsay "Stand tall."\n',
                       encoding="utf-8")
    argv = ["build", str(routine), "--no-video", "--out", str(folder / "out-remembered"),
            "--cache-dir", str(folder / "cache-remembered")]
    probes, hashes = [], []
    real_run, real_sha = mediafile.subprocess.run, memo.hashlib.file_digest
    def run(command, *args, **kwargs):
        if command[-3:] == ["-f", "null", "-"]:  # ffmpeg asked what a file holds
            probes.append(1)
        return real_run(command, *args, **kwargs)
    monkeypatch.setattr(mediafile.subprocess, "run", run)
    def file_digest(handle, *args, **kwargs):
        if handle.name.endswith("remembered.mp4"):
            hashes.append(1)
        return real_sha(handle, *args, **kwargs)
    monkeypatch.setattr(memo.hashlib, "file_digest", file_digest)

    def new_process() -> None:
        mediafile._probe.cache_clear()
        monkeypatch.setattr(memo, "_REMEMBERED", {})
        probes.clear()
        hashes.clear()

    new_process()
    assert main(argv) == 0
    assert probes == [1] and hashes == [1]  # once each, though the check, the scene and the key all ask
    new_process()
    assert main(argv) == 0
    assert probes == [] and hashes == []
    make.clip(folder / "media" / "remembered.mp4", seconds=3.0)
    new_process()
    assert main(argv) == 0
    assert probes == [1] and hashes == [1]


@pytest.mark.parametrize("size", [(1920, 1080), (1000, 300), (300, 1000), (401, 299)])
def test_a_photo_of_any_shape_pans_inside_itself(folder, size):
    from qidsl.renderers.backdrop import PAN_PERIOD, PHOTO_STEPS_PER_SECOND, BackdropView, Pictures

    path = make.photo(folder / "media" / f"shape-{size[0]}x{size[1]}.png", *size)
    pictures = Pictures(W, H, FPS)
    view = BackdropView("photo", f"{size}", 0.0, None)
    for step in range(0, round(PAN_PERIOD * PHOTO_STEPS_PER_SECOND), 37):
        assert pictures.picture(str(path), view, step).shape == (H, W, 3)
    pictures.close()


def test_the_encoders_frames_composed_in_yuv420p_match_the_rgb_frames_on_clip_and_photo(frames):
    """The segments' painter lays the shade and texts in Y'CbCr planes (a clip read as yuv444p, its
    colours mapped to the video's), never through RGB: its picture is the RGB route's to rounding, and
    every fully inked caption pixel is the same colour, so the contrast checked above holds in the MP4."""
    timeline, rgb = frames
    yuv = VideoFrames(timeline, cues_of(timeline), W, H, planar=True, fps=FPS, yuv_only=True)
    reference = VideoFrames(timeline, cues_of(timeline), W, H, planar=True, fps=FPS)
    kinds = set()
    try:
        for i in range(0, round(timeline.duration * FPS), 4):
            state = rgb.state(i / FPS)
            if state.screen.backdrop is None:
                continue
            kinds.add(state.screen.backdrop.kind)
            reference.draw(state)
            yuv.draw(state)
            ours, theirs = (np.asarray(v.yuv, np.float32) for v in (yuv, reference))
            # Rounding apart (the RGB route floors the shaded picture; ffmpeg's RGB of the clip is rounded
            # once more), the same picture: a BT.601 clip shown as BT.709 would be 9 levels off.
            luma = np.abs(ours[:W * H] - theirs[:W * H]).reshape(H, W)
            assert luma.mean() < 1.5 and np.abs(ours[W * H:] - theirs[W * H:]).mean() < 1.5, i
            if state.screen.caption:
                overlay = reference.overlay_of(state.screen, state.place)
                assert luma[overlay.coverage == 255].max() <= 1, i
    finally:
        yuv.release()
        reference.release()
    assert kinds == {"clip", "photo"}


@pytest.mark.parametrize("codes, tags, expected", [
    ((81, 90, 240), ("-colorspace", "bt709"), (81, 90, 240)),  # the video's own: passed as it is
    # Untagged, read as BT.601 as ffmpeg's conversion to RGB reads it: its pure red is the video's.
    ((81, 90, 240), (), (63, 102, 240)),
    ((81, 90, 240), ("-colorspace", "smpte170m"), (63, 102, 240)),
    ((0, 128, 128), ("-colorspace", "bt709", "-color_range", "pc"), (16, 128, 128)),  # full range: black
    ((255, 128, 128), ("-colorspace", "bt709", "-color_range", "pc"), (235, 128, 128)),  # and white
    ((126, 128, 128), ("-colorspace", "bt2020nc"), (126, 128, 128)),  # grey stays grey in every matrix
])
def test_a_clips_colours_are_read_as_the_videos_bt709_studio_range(folder, codes, tags, expected):
    from qidsl.lang.mediafile import probe_media
    from qidsl.renderers.backdrop import ClipPlanes

    path = make.coded_clip(folder / "media" / f"coded-{'-'.join(tags) or 'untagged'}-{codes[0]}.mp4", codes, tags)
    info = probe_media(path)
    planes = ClipPlanes(str(path), info, (64, 36), 64, 36)
    try:
        y, cb, cr = planes.at(0.04)
    finally:
        planes.close()
    assert (y.shape, cb.shape, cr.shape) == ((36, 64), (18, 32), (18, 32))
    for plane, want in zip((y, cb, cr), expected, strict=True):
        assert np.abs(plane.astype(int) - want).max() <= 1, (tags, plane.min(), plane.max(), want)


def test_a_clip_of_another_shape_is_read_without_a_word_on_stderr(folder, capfd, caplog):
    """ffmpeg scales and crops a portrait clip to the frame; nothing is said about it (imageio warns through
    Python's logging whenever the pictures are not the clip's own size, which Python prints on stderr
    when nothing handles it: pytest handles it, hence caplog)."""
    from qidsl.lang.mediafile import probe_media
    from qidsl.renderers.backdrop import ClipPlanes, _cover

    path = folder / "media" / "standing-tall.mp4"  # 180 x 320
    info = probe_media(path)
    planes = ClipPlanes(str(path), info, _cover(info.width, info.height, W, H), W, H)
    try:
        y, cb, cr = planes.at(1.0)
    finally:
        planes.close()
    assert (y.shape, cb.shape, cr.shape) == ((H, W), (H // 2, W // 2), (H // 2, W // 2))
    assert capfd.readouterr().err == ""
    assert [r.getMessage() for r in caplog.records if r.name.startswith("imageio")] == []


def test_clip_planes_pick_the_frames_moviepy_picks_reading_on_and_seeking(folder):
    """The encoder's reader (yuv420p through imageio-ffmpeg) shows at every time the picture moviepy's
    VideoFileClip shows there, whether it reads on, skips ahead or seeks back; past the end, the last."""
    from moviepy import VideoFileClip

    from qidsl.lang.mediafile import probe_media
    from qidsl.renderers.backdrop import ClipPlanes

    path = make.clip(folder / "media" / "frames.mp4", 128, 72, seconds=3.0, fps=25)
    info = probe_media(path)
    assert info.fps == 25
    reference = VideoFileClip(str(path), audio=False, pixel_format="yuv444p")
    try:  # each of the clip's 75 frames' luma, as moviepy reads it
        lumas = [frame.reshape(3, 72, 128)[0].astype(np.float32) for frame in reference.iter_frames()]
    finally:
        reference.close()
    assert len(lumas) == 75
    planes = ClipPlanes(str(path), info, (128, 72), 128, 72)
    try:
        for seconds in (0.0, 0.04, 0.05, 1 / 30, 0.5, 0.52, 2.4, 0.3, 1.0, 2.96, 3.5):
            y = planes.at(seconds)[0].astype(np.float32)
            # Its colours are mapped (an untagged clip is BT.601), so the frame is the one it is nearest.
            nearest = min(range(75), key=lambda k: float(np.abs(y - lumas[k]).mean()))  # noqa: B023
            assert nearest == min(74, int(25 * seconds + 1e-5)), seconds
    finally:
        planes.close()

