"""The figure on the video's frames and on the practice page, from the one scene track.

The routines go through the real front end; speech is synthetic clips of
known length (tests/renderer_fixtures.py) and the timeline is laid on the
video's frame grid, as a build lays it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from qidsl.lang import poses
from qidsl.renderers.audio import mix
from qidsl.renderers.captions import caption_cues
from qidsl.renderers.mp3 import write_mp3
from qidsl.renderers.page import write_page
from qidsl.renderers.video import VideoFrames
from tests.browser import browser, open_page, seek  # noqa: F401 - browser is a fixture
from tests.renderer_fixtures import routine_timeline

FPS = 30
SIZES = [(1280, 720), (1920, 1080)]

ROUTINE = """\
title: "Figure Test"

section "Heavens":
    say "Stand with your feet apart and let the arms hang."
    pose "standing"
    inhale 4s "Press the palms up." to "arms overhead"
    exhale 4s "Float the arms down." to "standing"
    stay 3s "Rest here, breathing freely."

section "Bow":
    pose "horse stance"
    each side left, right:
        inhale 4s "Draw the bow to the {side}." to "drawing the bow {side}"
        stay 3s
        exhale 4s to "horse stance"
    say "Stand up slowly, and let both hands come to rest on the belly."
"""


def _timeline(folder, text: str = ROUTINE):
    return routine_timeline(folder / "figure-test.qi", text, 0.25, FPS)


@pytest.fixture(scope="module")
def line(tmp_path_factory):
    return _timeline(tmp_path_factory.mktemp("figure"))[0]


def _frames(line, size):
    return VideoFrames(line, caption_cues(line), *size, fps=FPS)


def _figure_mask(frames: VideoFrames, t: float) -> np.ndarray:
    """Where the frame at ``t`` differs from the same frame drawn without the figure (whole frame, bool)."""
    state = frames.state(t)
    assert state.figure is not None, f"no figure at {t}"
    with_figure = frames.draw(state).copy()
    without = frames.fresh().draw(dataclasses.replace(state, figure=None)).copy()
    return np.abs(with_figure.astype(int) - without.astype(int)).max(axis=2) > 24


def _event(line, kind, n=0, **where):
    found = [e for e in line.events if e.kind == kind and all(getattr(e, k) == v for k, v in where.items())]
    return found[n]


@pytest.mark.parametrize("size", SIZES, ids=["720p", "1080p"])
def test_the_figures_highest_pixel_rises_steadily_through_an_inhale_to_arms_overhead(line, size):
    frames = _frames(line, size)
    inhale = _event(line, "inhale", section="Heavens")
    first, last = round(inhale.start * FPS), round(inhale.end * FPS) - 1
    tops = []
    for i in range(first, last + 1):
        rows = np.flatnonzero(_figure_mask(frames, i / FPS).any(axis=1))
        tops.append(int(rows[0]))
    assert all(b <= a for a, b in zip(tops, tops[1:])), tops  # never sinks
    height = frames.layout.figure_box[3] - frames.layout.figure_box[1]
    assert tops[0] - tops[-1] > 0.12 * height, tops  # the hands end well above where the head began
    # It moves in steps counted from the inhale (15 a second), never faster than the frames.
    assert len(set(tops)) > 8


def _mirrored(mask: np.ndarray, box) -> np.ndarray:
    left, top, right, bottom = box
    inner = mask[top:bottom, left:right]
    return inner[:, ::-1]


def _within_a_pixel(a: np.ndarray, b: np.ndarray) -> bool:
    """Every pixel set in ``a`` is within one pixel of one set in ``b``."""
    grown = b.copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            grown |= np.roll(np.roll(b, dy, axis=0), dx, axis=1)
    return not (a & ~grown).any()


@pytest.mark.parametrize("size", SIZES, ids=["720p", "1080p"])
def test_each_side_shows_the_pose_and_its_horizontal_mirror(line, size):
    frames = _frames(line, size)
    box = frames.layout.figure_box
    left_stay = _event(line, "stay", section="Bow", side="left")
    right_stay = _event(line, "stay", section="Bow", side="right")
    left = _figure_mask(frames, left_stay.start + 1.0)[box[1]:box[3], box[0]:box[2]]
    right = _figure_mask(frames, right_stay.start + 1.0)
    flipped = _mirrored(right, box)
    assert left.sum() > 500 and not (left == right[box[1]:box[3], box[0]:box[2]]).all()  # a pose, not symmetric
    assert _within_a_pixel(left, flipped) and _within_a_pixel(flipped, left)
    assert frames.state(left_stay.start + 1.0).figure.angles == tuple(
        (j, round(v * 4) / 4) for j, v in poses.LIBRARY["drawing the bow left"].angles)


@pytest.mark.parametrize("size", SIZES, ids=["720p", "1080p"])
def test_the_figure_never_overlaps_the_captions_or_any_text(line, size):
    frames = _frames(line, size)
    lay = frames.layout
    cl, ct, cr, cb = lay.caption_box
    figure_shown = 0
    for i in range(0, round(line.duration * FPS), FPS // 3):
        t = i / FPS
        state = frames.state(t)
        if state.figure is None:
            continue
        figure_shown += 1
        mask = _figure_mask(frames, t)
        ys, xs = np.nonzero(mask)
        assert not ((xs >= cl) & (xs < cr) & (ys >= ct) & (ys < cb)).any(), f"the figure covers the caption at {t}"
        # Nor any text of the still picture (section, caption, counter, side, next-up, phase label), nor the pacer.
        frames._painter.compose(state.screen)
        boxes = [placed for _, placed in frames._painter.placed] + [lay.pacer_box]
        for left, top, right, bottom in boxes:
            assert not ((xs >= left) & (xs < right) & (ys >= top) & (ys < bottom)).any(), (t, (left, top, right, bottom))
    assert figure_shown > 50


def test_a_still_pose_is_one_picture_and_each_move_is_stepped_from_its_own_start(line):
    frames = _frames(line, SIZES[0])
    stay = _event(line, "stay", section="Heavens")
    states = {frames.state(stay.start + k / FPS).figure for k in range(round(stay.duration * FPS))}
    assert len(states) == 1  # a still stretch: one picture, skip frames after it
    # The move back from each side is stepped from its own start: the right's frames are the left's mirrored.
    a, b = _event(line, "exhale", section="Bow", side="left"), _event(line, "exhale", section="Bow", side="right")
    frames_of = [[frames.state(e.start + k / FPS).figure for k in range(round(e.duration * FPS))] for e in (a, b)]
    assert len(set(frames_of[0])) > 20
    assert [poses.mirror(poses.Pose("x", f.angles)).angles for f in frames_of[0]] == [f.angles for f in frames_of[1]]
    assert frames.state(0.5).figure is None  # the title card shows no figure


def test_figure_none_draws_no_figure(tmp_path):
    off, _ = _timeline(tmp_path, ROUTINE.replace('title: "Figure Test"\n', 'title: "Figure Test"\nfigure: none\n'))
    frames = _frames(off, SIZES[0])
    assert all(frames.state(i / 2).figure is None for i in range(round(off.duration * 2)))


# --- the page, in chromium ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("figure-page")
    line, clips = _timeline(folder)
    write_mp3(folder / "figure-test.mp3", mix(line, clips), 48000, line.settings.title, None, ())
    write_page(folder / "figure-test.html", line, "figure-test.mp3")
    return line, folder / "figure-test.html"


@pytest.fixture
def page(browser, built):  # noqa: F811 - the fixture above
    yield from open_page(browser, built[1])


# The points an SVG figure is drawn through: its lines' ends, its discs' centres and its polygons' corners.
_POINTS_OF = """function pointsOf(svg) {
    const out = [];
    for (const l of svg.querySelectorAll('line')) {
        out.push([+l.getAttribute('x1'), +l.getAttribute('y1')], [+l.getAttribute('x2'), +l.getAttribute('y2')]);
    }
    for (const c of svg.querySelectorAll('circle')) out.push([+c.getAttribute('cx'), +c.getAttribute('cy')]);
    for (const p of svg.querySelectorAll('polygon')) {
        for (const xy of p.getAttribute('points').trim().split(/\\s+/)) out.push(xy.split(',').map(Number));
    }
    return out;
}"""

_SVG_POINTS = "() => {" + _POINTS_OF + """
    return {hidden: document.getElementById('figure').hidden, pose: document.getElementById('figure').dataset.pose,
            time: parseFloat(document.body.dataset.time), points: pointsOf(document.getElementById('figure-svg'))};
}"""


def _assert_drawn_through(drawn: list, expected: dict, names: tuple[str, ...], where) -> None:
    """Each of the pose's points ``names`` is within 0.004 of the box of a point the SVG is drawn through."""
    svg = np.array(drawn)
    for name in names:
        nearest = np.min(np.hypot(svg[:, 0] - expected[name][0], svg[:, 1] - expected[name][1]))
        assert nearest < 0.004, (where, name, expected[name], nearest)


def test_the_pages_figure_is_the_videos_pose_at_five_moments(page, built):
    line = built[0]
    frames = _frames(line, SIZES[0])
    inhale = _event(line, "inhale", section="Heavens")
    bow = _event(line, "inhale", section="Bow", side="right")
    stay = _event(line, "stay", section="Bow", side="left")
    # Mid-step moments (steps of 1/15 s from each window's start), each on a frame of the video.
    moments = [inhale.start + 5.5 / 15, inhale.start + 30.5 / 15, inhale.end - 0.5 / 15,
               stay.start + 20.5 / 15, bow.start + 17.5 / 15]
    for t in moments:
        seek(page, t)
        drawn = page.evaluate(_SVG_POINTS)
        assert not drawn["hidden"] and abs(drawn["time"] - t) < 0.02, (t, drawn["time"])
        figure = frames.scene.at(t).figure
        assert figure is not None
        window = next(w for w in frames.scene.track.figure if w.start <= t < w.end)
        assert drawn["pose"] == window.pose
        expected = poses.points(dict(figure.angles), figure.view, figure.facing)  # type: ignore[arg-type]
        _assert_drawn_through(drawn["points"], expected, ("head", "left-hand", "right-hand", "left-elbow",
                                                          "right-elbow", "left-knee", "right-knee", "left-toe",
                                                          "right-toe", "neck"), t)
    seek(page, 1.0)
    assert page.evaluate(_SVG_POINTS)["hidden"]  # the title card: no figure


_SHEET_FIGURES = "() => {" + _POINTS_OF + """
    return Array.from(document.querySelectorAll('.sheet-figure'), svg => ({
        pose: svg.getAttribute('aria-label'), section: svg.closest('section').querySelector('h3').textContent,
        points: pointsOf(svg)}));
}"""


def test_the_class_sheet_draws_each_sections_first_pose_as_the_page_does(page, built):
    line = built[0]
    drawn = page.evaluate(_SHEET_FIGURES)
    sections = {e.text: e for e in line.events if e.kind == "section"}
    scene = _frames(line, SIZES[0]).scene.track.figure
    posed = [name for name, s in sections.items() if any(s.start < w.end and w.start < s.end for w in scene)]
    assert [d["section"].split(" ", 1)[1] for d in drawn] == posed and posed
    for sheet in drawn:
        section = sections[sheet["section"].split(" ", 1)[1]]
        window = next(w for w in scene if w.end > section.start)  # the section's first pose
        assert sheet["pose"] == window.pose
        expected = poses.points(dict(window.b), window.view, window.facing)  # type: ignore[arg-type]
        _assert_drawn_through(sheet["points"], expected, ("head", "left-hand", "right-hand", "left-knee",
                                                          "right-knee", "left-toe", "right-toe"), section.text)


def test_a_segments_key_holds_its_figure_and_nothing_else_of_the_routine(tmp_path):
    from qidsl.renderers import video_segments

    encoding = video_segments.Encoding(1280, 720, FPS, "superfast", 21)

    def plan(text: str, name: str):
        folder = tmp_path / name
        folder.mkdir()
        line, _ = _timeline(folder, text)
        frames = VideoFrames(line, caption_cues(line), 1280, 720, planar=True, fps=FPS)
        return line, video_segments.plan_segments(frames, round(line.duration * FPS), encoding)

    line, before = plan(ROUTINE, "before")
    edited, after = plan(ROUTINE.replace('exhale 4s to "horse stance"', 'exhale 4s to "holding the ball"'), "after")
    assert edited.duration == line.duration  # a pose takes no time: nothing moves
    changed = round(_event(line, "exhale", section="Bow", side="left").start * FPS)
    assert [s.start for s in before] == [s.start for s in after]
    same = [a.key == b.key for a, b in zip(before, after)]
    # The segments before the first changed move are the same products (the cache keeps them); the rest
    # that show the changed pose are new.
    assert all(same[i] for i, s in enumerate(before) if s.start + s.frames <= changed)
    assert not all(same) and any(not same[i] for i, s in enumerate(before) if s.start >= changed)
