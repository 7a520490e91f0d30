"""The video renderer: real ffmpeg encodes of short, small timelines, judged by ffprobe and by pixels.

Timelines are built by hand from steps (no parser needed) with estimated
speech; captions are one cue per spoken sentence, as the captions renderer
would give them.  Frames are decoded back with ffmpeg so what is tested is
what a viewer would see.
"""

from __future__ import annotations

import os
import struct
import subprocess
import wave
from dataclasses import dataclass

import imageio_ffmpeg
import numpy as np
import pytest

from qidsl.errors import BuildError
from qidsl.lang.model import Span
from qidsl.renderers.themes import THEMES
from qidsl.renderers.video import VideoFrames, format_length, rgb_to_yuv420
from qidsl.build import render_video
from qidsl.renderers.video_layers import Layout
from qidsl.lang.settings import Settings
from qidsl.lang.steps import ExpandedRoutine, Repetition, Step
from qidsl.timeline import EstimatedSpeech, build_timeline
from qidsl.timefmt import clock
from tests.probe import probe

W, H, FPS = 320, 180, 10
SPAN = Span("test.qi", 1, 1, 1, 2)


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    lines: tuple[str, ...]


def step(kind, seconds=None, text=None, section=None, repetition=None, side=None) -> Step:
    return Step(kind, seconds, text, section, repetition, side, SPAN)


def routine_steps() -> list[Step]:
    """Two sections: speech, a note, a pause, two counted breaths, a hold each side."""
    a, b = "Arriving", "Closing"
    steps = [step("section", text=a, section=a),
             step("say", text="Stand tall and let the shoulders soften.", section=a),
             step("note", text="Have a chair nearby.", section=a),
             step("pause", 2.0, section=a)]
    for i in (1, 2):
        r = Repetition(i, 2, True)
        steps += [step("count", text=str(i), section=a, repetition=r),
                  step("inhale", 4.0, "In.", section=a, repetition=r),
                  step("exhale", 4.0, section=a, repetition=r)]
    steps += [step("section", text=b, section=b)]
    for side in ("left", "right"):
        steps += [step("hold", 2.0, section=b, side=side)]
    return steps


def make_timeline(steps, theme="calm", notes=("Not medical advice.",), title="Morning Flow"):
    settings = Settings(title=title, author="Qi Studio", theme=theme)
    return build_timeline(ExpandedRoutine(settings, tuple(steps), tuple(notes)), EstimatedSpeech())


def cues_of(timeline) -> list[Cue]:
    return [Cue(s.start, s.end, (s.text,)) for e in timeline.events for s in e.speech]


def tone_wav(path, seconds, rate=22050):
    """A quiet tone with a silent second half: a stand-in narration."""
    n = int(seconds * rate)
    signal = 0.2 * np.sin(2 * np.pi * 330 * np.arange(n) / rate)
    signal[n // 2:] = 0.0
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((signal * 32767).astype("<i2").tobytes())
    return path


def decode_frame(path, t, width=W, height=H) -> np.ndarray:
    """The picture a player shows at ``t`` (t on a frame boundary), as RGB."""
    raw = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-ss", f"{t:.3f}", "-i", str(path),
         "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(height, width, 3).astype(int)


def on_frame(t: float) -> float:
    return round(t * FPS) / FPS


def first(timeline, kind):
    return next(e for e in timeline.events if e.kind == kind)


def nth(timeline, kind, n):
    return [e for e in timeline.events if e.kind == kind][n]


def ink(picture, box, colour, tolerance=60) -> int:
    """Pixels in ``box`` that differ clearly from ``colour``."""
    left, top, right, bottom = box
    region = picture[top:bottom, left:right].astype(int)
    return int((np.abs(region - np.array(colour)).max(axis=2) > tolerance).sum())


def disk_pixels(picture, theme, tolerance=40) -> int:
    """Pixels of the pacer's colour (the accent blended as the disk draws it)."""
    bg, accent = np.array(theme.background), np.array(theme.accent)
    disk = bg + (accent - bg) * 0.92
    return int((np.abs(picture.astype(int) - disk).max(axis=2) < tolerance).sum())


def top_level_atoms(path) -> list[str]:
    atoms, data = [], open(path, "rb").read()
    at = 0
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        if size == 1:
            size = struct.unpack(">Q", data[at + 8:at + 16])[0]
        elif size == 0:
            size = len(data) - at
        atoms.append(kind.decode("latin-1"))
        at += size
    return atoms


def child_pids() -> set[str]:
    """This process's children (Linux); empty where /proc does not list them."""
    pid = os.getpid()
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listing:
            return set(listing.read().split())
    except OSError:
        return set()


# --- encoded: one render of the main timeline, shared -------------------------------------------

@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    folder = tmp_path_factory.mktemp("video")
    timeline = make_timeline(routine_steps())
    audio = tone_wav(folder / "narration.wav", timeline.duration)
    out = folder / "routine.mp4"
    render_video(timeline, cues_of(timeline), audio, out, width=W, height=H, fps=FPS, progress=True)
    return timeline, out


def test_the_file_is_h264_high_yuv420p_with_aac_48k(rendered):
    _, out = rendered
    streams = {s["codec_type"]: s for s in probe(out)["streams"]}
    assert streams["video"]["codec_name"] == "h264"
    assert streams["video"]["profile"] == "High"
    assert streams["video"]["pix_fmt"] == "yuv420p"
    assert (streams["video"]["width"], streams["video"]["height"]) == (W, H)
    assert streams["audio"]["codec_name"] == "aac"
    assert int(streams["audio"]["sample_rate"]) == 48000


def test_the_video_lasts_as_long_as_the_timeline(rendered):
    timeline, out = rendered
    info = probe(out)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert abs(float(info["format"]["duration"]) - timeline.duration) <= 1 / FPS
    assert abs(float(video["duration"]) - timeline.duration) <= 1 / FPS


def test_the_index_comes_before_the_media_so_it_streams(rendered):
    atoms = top_level_atoms(rendered[1])
    assert "moov" in atoms and "mdat" in atoms
    assert atoms.index("moov") < atoms.index("mdat")


def test_the_first_frame_is_the_title_card(rendered):
    timeline, out = rendered
    card = decode_frame(out, 0.0)
    middle = decode_frame(out, on_frame(first(timeline, "inhale").start + 1))
    layout, theme = Layout(W, H), THEMES["calm"]
    assert ink(card, layout.title_box, theme.background) > 50
    assert np.abs(card - middle).mean() > 2


def test_the_pacer_grows_through_an_inhale_and_shrinks_through_an_exhale(rendered):
    timeline, out = rendered
    theme = THEMES["calm"]
    for kind, grows in (("inhale", True), ("exhale", False)):
        event = first(timeline, kind)
        early = disk_pixels(decode_frame(out, on_frame(event.start + 0.25 * event.duration)), theme)
        late = disk_pixels(decode_frame(out, on_frame(event.start + 0.8 * event.duration)), theme)
        assert (late > early * 1.5) if grows else (early > late * 1.5), (kind, early, late)


def test_captions_show_during_speech_and_not_in_a_pause(rendered):
    timeline, out = rendered
    layout, theme = Layout(W, H), THEMES["calm"]
    sentence = first(timeline, "say").speech[0]
    pause = first(timeline, "pause")
    speaking = decode_frame(out, on_frame((sentence.start + sentence.end) / 2))
    silent = decode_frame(out, on_frame((pause.start + pause.end) / 2))
    # Speech alone: the caption is large in the middle, where the pacer would be.
    assert ink(speaking, layout.speech_box, theme.background) > 30
    assert ink(speaking, layout.caption_box[:1] + (layout.pacer_box[3],) + layout.caption_box[2:],
               theme.background) == 0
    assert ink(silent, layout.caption_box, theme.background) == 0


def test_themes_give_different_backgrounds(tmp_path):
    pictures = {}
    for theme in ("calm", "light"):
        timeline = make_timeline([step("say", text="Hello.")], theme=theme)
        audio = tone_wav(tmp_path / "a.wav", timeline.duration)
        render_video(timeline, cues_of(timeline), audio, tmp_path / f"{theme}.mp4", width=W, height=H,
                     fps=FPS, progress=False)
        pictures[theme] = decode_frame(tmp_path / f"{theme}.mp4", on_frame(first(timeline, "say").start + 0.5))
    for theme, picture in pictures.items():
        corner = picture[2:12, 2:12].reshape(-1, 3).mean(axis=0)
        assert np.abs(corner - THEMES[theme].background).max() < 8, theme
    assert np.abs(pictures["calm"][2:12, 2:12].mean() - pictures["light"][2:12, 2:12].mean()) > 100


def test_progress_off_a_terminal_is_a_few_plain_lines(rendered, capfd):
    # Off a terminal (pytest holds stderr) the render reports in plain lines, at most ten of them.
    timeline = make_timeline([step("pause", 10.0)])
    out = rendered[1].parent / "lines.mp4"
    render_video(timeline, [], tone_wav(rendered[1].parent / "q.wav", 2.0), out, width=W, height=H, fps=FPS)
    lines = capfd.readouterr().err.splitlines()
    assert 1 <= len(lines) <= 10
    assert all(line.startswith("video ") and line.endswith(" frames)") for line in lines)
    assert lines[-1].startswith("video 100% (")
    render_video(timeline, [], tone_wav(rendered[1].parent / "q.wav", 2.0), out, width=W, height=H, fps=FPS,
                 progress=False)
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("audio_kind", ["missing", "not audio"])
def test_a_failed_render_leaves_the_previous_video_intact(tmp_path, audio_kind):
    timeline = make_timeline([step("say", text="Hello there.")])
    out = tmp_path / "routine.mp4"
    out.write_bytes(b"the previous video")
    audio = tmp_path / "narration.wav"
    if audio_kind == "not audio":
        audio.write_bytes(b"this is not a sound file at all" * 100)
    children = child_pids()
    with pytest.raises(BuildError) as failure:
        render_video(timeline, cues_of(timeline), audio, out, width=W, height=H, fps=FPS, progress=False)
    message = str(failure.value)
    assert "narration.wav" in message and "\n" not in message
    assert out.read_bytes() == b"the previous video"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["routine.mp4"] + (
        ["narration.wav"] if audio.exists() else []))
    assert child_pids() <= children  # no ffmpeg left behind


def test_preview_is_a_small_quick_draft(tmp_path):
    timeline = make_timeline([step("say", text="Hello.")])
    out = tmp_path / "preview.mp4"
    render_video(timeline, cues_of(timeline), tone_wav(tmp_path / "a.wav", timeline.duration), out,
                 preview=True, progress=False)
    video = next(s for s in probe(out)["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (640, 360)
    assert eval(video["avg_frame_rate"]) == 15


# --- the frame function, without encoding -----------------------------------------------------

@pytest.fixture(scope="module")
def frames_and_timeline():
    timeline = make_timeline(routine_steps())
    return VideoFrames(timeline, cues_of(timeline), W, H), timeline


def picture(frames, t) -> np.ndarray:
    return frames(t).copy()


def test_frames_are_rgb_pictures_of_the_requested_size(frames_and_timeline):
    frames, _ = frames_and_timeline
    frame = frames(0.0)
    assert frame.shape == (H, W, 3) and frame.dtype == np.uint8


def test_the_disk_swells_steadily_through_an_inhale_and_rests_on_a_hold(frames_and_timeline):
    frames, timeline = frames_and_timeline
    theme = frames.theme
    inhale = first(timeline, "inhale")
    sizes = [disk_pixels(frames(inhale.start + k * inhale.duration / 8), theme, 10) for k in range(1, 8)]
    assert sizes == sorted(sizes) and sizes[-1] > 2 * sizes[0]
    exhale = first(timeline, "exhale")
    sizes = [disk_pixels(frames(exhale.start + k * exhale.duration / 8), theme, 10) for k in range(1, 8)]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > 2 * sizes[-1]
    hold = first(timeline, "hold")
    held = {disk_pixels(frames(hold.start + k * hold.duration / 4), theme, 10) for k in (1, 2, 3)}
    assert len(held) <= 2 and min(held) > 0  # only the seconds-left number changes


def test_the_phase_label_and_seconds_left_follow_the_breath(frames_and_timeline):
    frames, timeline = frames_and_timeline
    inhale = first(timeline, "inhale")
    moments = [frames.scene.at(inhale.start + x) for x in (0.0, 1.5, 3.5)]
    assert {m.screen.phase for m in moments} == {"Breathe in"}
    assert [m.seconds_left for m in moments] == [4, 3, 1]
    assert frames.scene.at(first(timeline, "exhale").start + 0.1).screen.phase == "Breathe out"
    assert frames.scene.at(first(timeline, "hold").start + 0.1).screen.phase == "Hold"


def test_counted_repetitions_show_the_count(frames_and_timeline):
    frames, timeline = frames_and_timeline
    layout = frames.layout
    right_column = (layout.width // 2 + layout.width // 4, 0, layout.width, layout.pacer_box[1])
    second = nth(timeline, "inhale", 1)
    assert frames.scene.at(second.start + 1).screen.counter == "Round 2 / 2"
    assert ink(picture(frames, second.start + 1), right_column, frames.theme.background) > 20
    say = first(timeline, "say")
    assert frames.scene.at(say.start + 0.5).screen.counter is None
    assert ink(picture(frames, say.start + 0.5), right_column, frames.theme.background) == 0


def test_each_side_names_the_side(frames_and_timeline):
    frames, timeline = frames_and_timeline
    left, right = nth(timeline, "hold", 0), nth(timeline, "hold", 1)
    assert frames.scene.at(left.start + 1.5).screen.side == "Left"
    assert frames.scene.at(right.start + 1.5).screen.side == "Right"
    # Same hold, same second left: only the side's name differs between the two pictures.
    assert np.abs(picture(frames, left.start + 1.5).astype(int) - picture(frames, right.start + 1.5)).sum() > 0


def test_next_section_is_announced_in_the_last_seconds(frames_and_timeline):
    frames, timeline = frames_and_timeline
    closing = nth(timeline, "section", 1)
    assert frames.scene.at(closing.start - 4).screen.next_up == "Next: Closing"
    assert frames.scene.at(closing.start - 6).screen.next_up is None
    assert frames.scene.at(closing.start + 0.5).screen.next_up is None


def test_a_note_stays_on_screen_for_about_six_seconds(frames_and_timeline):
    frames, timeline = frames_and_timeline
    note = first(timeline, "note")
    assert frames.scene.at(note.start + 1).screen.note == "Have a chair nearby."
    assert frames.scene.at(note.start + 5.5).screen.note == "Have a chair nearby."
    assert frames.scene.at(note.start + 6.5).screen.note is None


def test_captions_follow_the_cues_exactly(frames_and_timeline):
    frames, timeline = frames_and_timeline
    cue = cues_of(timeline)[0]
    assert frames.scene.at(cue.start - 0.01).screen.caption == ()
    assert frames.scene.at(cue.start + 0.01).screen.caption == cue.lines
    assert frames.scene.at(cue.end + 0.01).screen.caption == ()


def test_the_progress_bar_is_the_sections_own_and_names_its_place(frames_and_timeline):
    frames, timeline = frames_and_timeline
    left, top, right, bottom = frames.layout.bar_box
    accent = np.array(frames.theme.accent)
    def filled(t):
        row = picture(frames, t)[(top + bottom) // 2, left:right].astype(int)
        return int((np.abs(row - accent).max(axis=1) < 10).sum())
    sections = timeline.sections
    for section in sections:
        amounts = [filled(section.start + section.duration * k / 6) for k in range(1, 6)]
        assert amounts == sorted(amounts) and amounts[0] > 0 and amounts[-1] < right - left, section.text
    # It starts again with each section: early in the second is less than late in the first.
    assert filled(sections[1].start + 0.2) < filled(sections[0].end - 0.2)
    # "Section 1 of 2" and "Section 2 of 2" sit left of the bar: the label's pixels differ between the sections.
    label = (left, top - frames.layout.px(14), frames._bar_box[0], bottom)
    first_label = picture(frames, sections[0].start + 1)
    second_label = picture(frames, sections[1].start + 1)
    assert ink(first_label, label, frames.theme.background) > 0
    left, t_, r, b = label
    assert not np.array_equal(first_label[t_:b, left:r], second_label[t_:b, left:r])
    # The cards have no bar.
    assert filled(0.5) == 0 and filled(timeline.duration - 0.5) == 0


def test_nothing_is_drawn_in_the_safe_margins(tmp_path):
    long = "A very long title that goes on and on about rolling the hands backwards gently"
    timeline = make_timeline(routine_steps(), title=long, notes=(long * 3,))
    frames = VideoFrames(timeline, cues_of(timeline), 640, 360)
    mx, my = round(0.045 * 640), round(0.045 * 360)
    background = np.array(frames.theme.background)
    for t in np.linspace(0, timeline.duration, 40):
        frame = frames(float(t)).astype(int)
        border = np.concatenate([frame[:my].reshape(-1, 3), frame[-my:].reshape(-1, 3),
                                 frame[:, :mx].reshape(-1, 3), frame[:, -mx:].reshape(-1, 3)])
        assert (border == background).all(), t


def test_the_yuv_copy_is_the_same_picture(frames_and_timeline):
    _, timeline = frames_and_timeline
    frames = VideoFrames(timeline, cues_of(timeline), W, H, planar=True)
    for t in np.arange(0, timeline.duration, 0.7):
        rgb = frames(float(t))
        whole = np.empty_like(frames.yuv)
        y = whole[:W * H].reshape(H, W)
        u = whole[W * H:W * H * 5 // 4].reshape(H // 2, W // 2)
        v = whole[W * H * 5 // 4:].reshape(H // 2, W // 2)
        rgb_to_yuv420(rgb, y, u, v)
        assert np.array_equal(whole, frames.yuv), t


def test_frames_are_the_same_on_every_run(frames_and_timeline):
    frames, timeline = frames_and_timeline
    again = VideoFrames(timeline, cues_of(timeline), W, H)
    for t in (0.0, 5.3, 12.7, timeline.duration - 0.1):
        assert np.array_equal(picture(frames, t), again(t))


def test_themes_change_the_picture():
    calm = VideoFrames(make_timeline(routine_steps(), theme="calm"), [], W, H)(1.0)[0, 0]
    light = VideoFrames(make_timeline(routine_steps(), theme="light"), [], W, H)(1.0)[0, 0]
    assert tuple(calm) == THEMES["calm"].background and tuple(light) == THEMES["light"].background


def test_the_title_card_gives_the_length_rounded_as_the_command_line_rounds_it():
    assert format_length(754.4) == "12:34"
    assert format_length(357.6) == clock(357.6) == "5:57"  # the CLI said "a 5:57 routine", the card 5:58
    assert format_length(3725) == clock(3725) == "1:02:05"


def test_odd_sizes_are_refused_with_one_sentence(tmp_path):
    timeline = make_timeline([step("say", text="Hi.")])
    with pytest.raises(BuildError, match="even"):
        render_video(timeline, [], tone_wav(tmp_path / "a.wav", 1.0), tmp_path / "x.mp4", width=321, height=180)


def test_chinese_text_is_drawn_with_real_glyphs_not_boxes():
    from qidsl.renderers.video_layers import text_layer

    # A font without the glyphs draws the same empty box for every character.
    first = text_layer("八", 40, False, 400).mask.tobytes()
    second = text_layer("锦", 40, False, 400).mask.tobytes()
    assert first != second
    assert any(first) and any(second)


def test_on_screen_words_follow_the_routine_language():
    from dataclasses import replace

    from qidsl.renderers.video import Scene

    timeline = make_timeline([step("inhale", 4.0)])
    german = replace(timeline, settings=replace(timeline.settings, language="de"))
    finnish = replace(timeline, settings=replace(timeline.settings, language="fi"))
    t = next(e for e in timeline.events if e.kind == "inhale").start + 1.0
    assert Scene(german, []).at(t).screen.phase == "Einatmen"
    assert Scene(finnish, []).at(t).screen.phase == "Breathe in"  # no words yet: English


def test_the_pacer_moves_15_times_a_second_and_the_bar_once_counted_from_each_event():
    # Each step is a new picture to encode; in between, frames repeat and cost a skip frame.
    fps = 30
    timeline = make_timeline(routine_steps())
    frames = VideoFrames(timeline, cues_of(timeline), W, H, fps=fps)
    inhale = first(timeline, "inhale")
    start = round(inhale.start * fps)
    states = [frames.state(i / fps) for i in range(start, round(inhale.end * fps))]
    radii = [s.pacer[0] for s in states]
    fills = [s.fill for s in states]
    changed_radius = [k for k in range(1, len(states)) if radii[k] != radii[k - 1]]
    changed_fill = [k for k in range(1, len(states)) if fills[k] != fills[k - 1]]
    assert changed_radius and all(k % 2 == 0 for k in changed_radius)  # every other frame at 30 fps
    assert len(changed_radius) >= 0.8 * len(states) / 2  # and it does keep moving through the breath
    assert changed_fill == [30, 60, 90]  # a 4-second breath: the bar steps at each whole second
    assert radii == sorted(radii) and radii[-1] > radii[0]


def test_the_pacer_drawn_straight_into_yuv_matches_the_rgb_route(frames_and_timeline):
    # The encoder draws the pacer in Y'CbCr; the picture is the RGB route's but for rounding.
    _, timeline = frames_and_timeline
    both = VideoFrames(timeline, cues_of(timeline), W, H, planar=True)
    direct = VideoFrames(timeline, cues_of(timeline), W, H, planar=True, yuv_only=True)
    moments = [e.start + k * (e.end - e.start) / 5 for e in timeline.events if e.kind in ("inhale", "exhale", "hold")
               for k in range(5)]
    assert len(moments) >= 10
    worst = 0
    for t in moments:
        both.draw(both.state(t))
        direct.draw(direct.state(t))
        difference = np.abs(both.yuv.astype(int) - direct.yuv.astype(int))
        worst = max(worst, int(difference.max()))
    assert worst <= 2


def test_the_round_and_the_sections_place_are_labelled_apart():
    # "Round 2 / 2" top right and "Section 2 of 2" left of the bar: never two bare "2/2"s side by side.
    from qidsl.renderers.video_layers import text_layer

    timeline = make_timeline(routine_steps())
    frames = VideoFrames(timeline, cues_of(timeline), 640, 360)
    lay, theme = frames.layout, frames.theme
    second = nth(timeline, "inhale", 1)
    state = frames.state(second.start + 1)
    assert state.screen.counter == "Round 2 / 2" and state.place == "Section 1 of 2"
    picture = frames(second.start + 1).astype(int)
    assert ("Round 2 / 2",) in [lines for lines, _ in frames._painter.placed]

    def inked_columns(box):
        left, top, right, bottom = box
        columns = np.abs(picture[top:bottom, left:right] - np.array(theme.background)).max(axis=2).max(axis=0) > 60
        found = np.flatnonzero(columns)
        return int(found[-1] - found[0] + 1) if len(found) else 0

    left, top, _, bottom = lay.bar_box
    label = inked_columns((left, top - lay.px(20), frames._bar_box[0], bottom))
    words = text_layer("Section 1 of 2", lay.px(20), True, lay.width).size[0]
    assert words - 4 <= label <= words and label > 3 * text_layer("1/2", lay.px(20), True, lay.width).size[0]
    counter = inked_columns((lay.width // 2, lay.margin_y, lay.width - lay.margin_x + 1, lay.pacer_box[1]))
    drawn = text_layer("Round 2 / 2", lay.px(52), True, round(lay.content_width * 0.28)).size[0]
    assert drawn - 12 <= counter <= drawn and counter > 1.8 * text_layer("2 / 2", lay.px(52), True, lay.width).size[0]
    # The closing section's frames say it is the second of two.
    assert frames.state(nth(timeline, "hold", 0).start + 0.5).place == "Section 2 of 2"


def test_a_stay_reads_as_resting_with_the_breath_free_never_hold():
    from qidsl.renderers.scene import NEUTRAL_LEVEL
    from qidsl.renderers.video import Scene

    timeline = make_timeline([step("exhale", 4.0), step("stay", 10.0, "Rest here.")])
    stay = next(e for e in timeline.events if e.kind == "stay")
    moment = Scene(timeline, []).at(stay.start + 1.0)
    assert moment.screen.phase == "Stay, breathe freely" and moment.screen.pacer == "breath"
    assert moment.level == NEUTRAL_LEVEL  # the disk rests half full: the breath is neither held in nor out
