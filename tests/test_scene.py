"""The scene track: what is on screen over time, worked out once for the video and the page."""

from __future__ import annotations

import json

import pytest

from qidsl.lang.steps import Repetition
from qidsl.renderers.captions import caption_cues, srt_text
from qidsl.renderers.scene import NEXT_UP_SECONDS, scene_track
from qidsl.renderers.timeline_json import timeline_dict
from qidsl.renderers.video import VideoFrames
from tests.test_video import make_timeline, routine_steps, step


@pytest.fixture(scope="module")
def timeline():
    return make_timeline(routine_steps())


def test_steps_run_back_to_back_over_the_whole_routine_one_per_timed_event(timeline):
    scene = timeline_dict(timeline)["scene"]
    steps = scene["steps"]
    assert steps[0]["start"] == 0 and steps[-1]["end"] == timeline.duration
    assert all(a["end"] == b["start"] for a, b in zip(steps, steps[1:]))
    timed = [e for e in timeline.events if e.kind not in ("section", "note")]
    assert [timeline.events[s["event"]] for s in steps] == timed
    assert [s["card"] for s in (steps[0], steps[-1])] == ["intro", "outro"]
    for track in ("captions", "notes", "next"):
        windows = scene[track]
        assert all(w["start"] < w["end"] for w in windows)
        assert all(a["end"] <= b["start"] for a, b in zip(windows, windows[1:])), track


def test_the_captions_track_is_exactly_the_srt(timeline):
    cues = caption_cues(timeline)
    captions = timeline_dict(timeline)["scene"]["captions"]
    assert [(c["start"], c["end"], tuple(c["lines"])) for c in captions] == [(c.start, c.end, c.lines) for c in cues]
    assert len(captions) == srt_text(cues).count(" --> ")


def test_what_each_step_shows(timeline):
    steps = timeline_dict(timeline)["scene"]["steps"]
    by_kind = {}
    for s in steps:
        by_kind.setdefault(timeline.events[s["event"]].kind, []).append(s)
    inhale, exhale = by_kind["inhale"][1], by_kind["exhale"][1]
    assert inhale["counter"] == "Round 2 / 2" and inhale["label"] == "Breathe in" and inhale["countdown"]
    assert inhale["pacer"] == {"from": 0.0, "to": 1.0, "ease": "cosine"}
    assert exhale["pacer"] == {"from": 1.0, "to": 0.0, "ease": "cosine"}
    pause = by_kind["pause"][0]
    assert pause["phase"] == "pause" and pause["pacer"] is None and pause["countdown"]
    holds = by_kind["hold"]
    assert [h["side"] for h in holds] == ["Left", "Right"]
    assert holds[0]["pacer"] == {"from": 0.0, "to": 0.0, "ease": "cosine"}  # where the exhale before ended
    assert holds[0]["place"] == "Section 2 of 2" and inhale["place"] == "Section 1 of 2"
    arriving = [s for s in steps if s["section"] == "Arriving"]
    assert [s["progress"] for s in arriving] == [{"step": k, "steps": len(arriving)} for k in range(len(arriving))]
    say = by_kind["say"][0]
    assert (say["counter"], say["phase"], say["pacer"], say["countdown"]) == (None, None, None, False)


def test_a_hold_rests_where_the_breath_before_ended_or_half_full_after_anything_else():
    r = Repetition(1, 1, False)
    timeline = make_timeline([step("section", text="A", section="A"), step("inhale", 3.0, section="A", repetition=r),
                              step("hold", 2.0, section="A", repetition=r), step("say", text="Rest.", section="A"),
                              step("hold", 2.0, section="A")])
    holds = [s for s in scene_track(timeline, []).steps if s.phase == "hold"]
    assert [(h.pacer.a, h.pacer.b) for h in holds if h.pacer] == [(1.0, 1.0), (0.5, 0.5)]


def test_next_up_is_announced_before_each_section_never_before_the_one_before_starts():
    timeline = make_timeline([step("section", text="A", section="A"), step("pause", 2.0, section="A"),
                              step("section", text="B", section="B"), step("pause", 9.0, section="B"),
                              step("section", text="C", section="C"), step("pause", 2.0, section="C")])
    a, b, c = timeline.sections
    assert [(w.start, w.end, w.text) for w in scene_track(timeline, []).next] == [
        (round(a.start - NEXT_UP_SECONDS, 3), a.start, "Next: A"), (a.start, b.start, "Next: B"),
        (round(c.start - NEXT_UP_SECONDS, 3), c.start, "Next: C")]


def test_the_json_scene_is_plain_data(timeline):
    data = timeline_dict(timeline)
    assert json.loads(json.dumps(data)) == data


def test_the_video_draws_from_the_scene_track_on_its_frame_grid(timeline):
    fps = 10
    frames = VideoFrames(timeline, caption_cues(timeline), 320, 180, fps=fps)
    assert frames.scene.track == scene_track(timeline, caption_cues(timeline), fps)
    # Every step's window, snapped to the frames, is what the video shows from the step's first frame.
    for k, s in enumerate(frames.scene.track.steps):
        if s.end > s.start:
            assert frames.scene.at(s.start).event == k
            assert (frames.scene.at(s.start).screen.counter, frames.scene.at(s.start).screen.side) == (
                s.counter, s.side) or s.card
