"""A backdrop and the figure in one routine: the figure is off while a backdrop shows.

The footage (or photo) already shows the movement, and a drawn figure beside a
filmed person would compete with it (docs/language.md, "figure: none, and
backdrops").  The poses still run on under the backdrop, so after
``backdrop none`` the figure comes back in the pose the routine has reached.
The routine goes through the real front end with synthetic speech
(tests/renderer_fixtures.py); the photo is made by ffmpeg's test source.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from qidsl.lang import poses
from qidsl.renderers.captions import caption_cues
from qidsl.renderers.scene import scene_dict, scene_track
from qidsl.renderers.video import VideoFrames, _figure_at
from tests import media as make
from tests.renderer_fixtures import routine_timeline

FPS = 10
W, H = 640, 360

ROUTINE = """\
title: "Figure and Footage"

section "Heavens":
    pose "standing"
    inhale 4s "Press the palms up." to "arms overhead"
    exhale 4s "Float the arms down." to "standing"
    backdrop "media/horse-stance.jpg"
    pose "horse stance"
    inhale 4s "Draw the bow." to "drawing the bow left"
    exhale 4s "Let it go." to "horse stance"
    backdrop none
    inhale 4s "Raise the arms." to "arms overhead"
    stay 3s "Rest here."
"""


@pytest.fixture(scope="module")
def line(tmp_path_factory):
    folder = tmp_path_factory.mktemp("backdrop-figure")
    make.photo(folder / "media" / "horse-stance.jpg")
    return routine_timeline(folder / "figure-footage.qi", ROUTINE, 0.25, FPS)[0]


@pytest.fixture(scope="module")
def frames(line):
    video = VideoFrames(line, caption_cues(line), W, H, fps=FPS)
    yield video
    video.release()


def _event(line, kind: str, text: str):
    return next(e for e in line.events if e.kind == kind and e.text == text)


def test_no_figure_window_while_the_backdrop_shows_and_the_figure_is_back_after_backdrop_none(line):
    track = scene_track(line, caption_cues(line), FPS)
    (photo,) = track.backdrop
    assert photo.kind == "photo"
    # The backdrop runs from its statement (before the bow's inhale) to `backdrop none` (before the last inhale).
    assert photo.start == _event(line, "inhale", "Draw the bow.").start
    assert photo.end == _event(line, "inhale", "Raise the arms.").start
    assert track.figure, "the routine's poses make figure windows"
    for window in track.figure:
        assert window.end <= photo.start or window.start >= photo.end, (window, photo)
    before = [w for w in track.figure if w.end <= photo.start]
    after = [w for w in track.figure if w.start >= photo.end]
    assert before and after
    assert before[-1].end == photo.start  # the figure shows up to the backdrop...
    assert after[0].start == photo.end  # ...and again from `backdrop none`
    # The poses ran on under the backdrop: the move after it starts from the horse stance reached there.
    assert after[0].a == poses.LIBRARY["horse stance"].angles
    assert after[0].b == poses.LIBRARY["arms overhead"].angles
    # The timeline JSON's scene says the same: no figure window meets the backdrop's.
    written = scene_dict(track)
    assert all(w["end"] <= written["backdrop"][0]["start"] or w["start"] >= written["backdrop"][0]["end"]
               for w in written["figure"]["windows"])


def test_no_figure_pixels_over_the_backdrop_and_the_figure_drawn_after_it(line, frames):
    track = frames.scene.track
    (photo,) = track.backdrop
    left, top, right, bottom = frames.layout.figure_box
    # The figure the routine would show at t if no backdrop hid it (its windows before hiding).
    unhidden = scene_track(dataclasses.replace(line, backdrops=()), caption_cues(line), FPS).figure
    sampled = 0
    for i in range(round(photo.start * FPS), round(photo.end * FPS), 3):
        t = i / FPS
        state = frames.state(t)
        assert state.figure is None and state.screen.backdrop is not None and not state.screen.figure, t
        drawn = frames.draw(state).astype(np.int16)
        # What the frame is without any figure: the photo under its shade and texts, nothing more.
        picture = frames.backdrop_picture(state)
        plain = frames.overlay_of(state.screen, state.place).over(picture, np.empty_like(picture))
        assert np.abs(drawn[top:bottom, left:right] - plain[top:bottom, left:right]).max() <= 1, t
        # The same frame with the figure it would have had differs there: the comparison can see a figure.
        hidden = next(w for w in unhidden if w.start <= t < w.end)
        with_figure = frames.fresh().draw(dataclasses.replace(state, figure=_figure_at(hidden, t)))
        assert (np.abs(with_figure[top:bottom, left:right].astype(np.int16) - plain[top:bottom, left:right])
                .max(axis=2) > 24).sum() > 100, t
        sampled += 1
    assert sampled >= 10
    # After `backdrop none` the figure is drawn again, in its box, with no backdrop under it.
    rest = _event(line, "stay", "Rest here.")
    state = frames.state(rest.start + 1.0)
    assert state.screen.backdrop is None and state.figure is not None
    assert state.figure.angles == tuple((j, round(v * 4) / 4) for j, v in poses.LIBRARY["arms overhead"].angles)
    with_figure = frames.draw(state).astype(np.int16)
    without = frames.fresh().draw(dataclasses.replace(state, figure=None)).astype(np.int16)
    inked = np.abs(with_figure - without).max(axis=2) > 24
    assert inked[top:bottom, left:right].sum() > 300
    assert inked.sum() == inked[top:bottom, left:right].sum()  # nothing of it outside its box
