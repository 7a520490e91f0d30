"""The video: a captioned, paced picture of the timeline, encoded with the narration.

A frame function draws from cached layers.  What stays still for a while (a
:class:`~qidsl.renderers.video_layers.Screen`: section title, caption,
counter, side, next-up, a card) is composed once with Pillow; per frame only
the moving parts are redrawn into a reused buffer: the breath pacer (a small
patch) with its seconds-left number, and the section's progress bar.  What
shows when is the scene track's (:mod:`qidsl.renderers.scene`, the very
track the practice page reads), laid on the frame grid and looked up by
bisecting; a frame's :class:`FrameState` says exactly what it shows, in the
units it is drawn in.

Nothing drawn depends on the routine's absolute time or length (but the
title card's length): the bar is the section's own and counts its steps.
So :mod:`qidsl.renderers.video_segments` can cut the video into segments,
cache each by what it shows and encode only what an edit changed.

While a backdrop shows (the instructor's clip or photo,
:mod:`qidsl.renderers.backdrop`), the still screen is composed as text
layers on a shade instead, laid over the backdrop's picture on every frame
of a clip and every step of a photo's pan; the moving parts go on top as usual.

Frames go to ffmpeg (:mod:`qidsl.renderers.encoder`) as yuv420p, kept up to
date here only where the picture changed: that halves the bytes and spares
ffmpeg a whole-frame colour conversion (about 1.5x faster end to end).
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import math
import threading
from typing import TypedDict
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..timefmt import clock
from ..timeline import Timeline
from ..words import screen_words
from .backdrop import (OPEN_KEEP, SHADE_REACH, BackdropView, Overlay, PlanarOverlay, Pictures, block_means, overlay,
                       shade_for)
from .figure import STEP as FIGURE_STEP, FigurePatch
from .pacer import DiskPatch, blend
from .scene import Backdrop, CueLike, FigureWindow, Window, scene_track
from .themes import theme_named
from .video_layers import CardText, Layout, Painter, Screen, countdown_layer, countdown_text, text_layer

# What moves on screen moves in steps, measured from the start of the event that shows it, so
# most frames repeat the one before and cost a skip frame instead of an encode (see h264.py):
# the breath disk takes 15 steps a second (it reads as smooth: it moves at most ~2.5 px a step),
# the section's bar one step a second, like a clock's hand.
PACER_STEPS_PER_SECOND = 15
BAR_STEPS_PER_SECOND = 1

# Encoding.  x264 preset chosen by measuring (benchmarks/render_speed.py --presets ...,
# 120 s of the shipped routine at 1280x720@30 on the 2-core machine, best of 3
# interleaved runs; speed as a multiple of real time, render / lavfi baseline, file size):
#   ultrafast  17.0x / 24.1x  3.58 MB  -- but Constrained Baseline, not High profile
#   superfast  13.8x / 13.1x  1.35 MB
#   veryfast   11.5x / 13.2x  0.83 MB
#   faster      7.0x /  7.7x  0.87 MB  -- below the 10x target
# superfast is the fastest preset that keeps High profile (CABAC, 8x8 transform) and
# leaves a margin over the 10x target on a busy machine; veryfast files are ~40% smaller
# but a 10-minute routine is under 7 MB either way, so speed wins.  (x264's thread count is
# fixed by qidsl.renderers.video_segments.X264_THREADS.)
PRESET = "superfast"
CRF = 21


class _Preview(TypedDict):
    width: int
    height: int
    fps: int
    preset: str
    crf: int


PREVIEW = _Preview(width=640, height=360, fps=15, preset="ultrafast", crf=28)
AUDIO_BITRATE = "160k"
AUDIO_RATE = 48000


def format_length(seconds: float) -> str:
    """The routine's length on the title card, rounded as the command line and chapters round it."""
    return clock(seconds)


@dataclass(frozen=True)
class Moment:
    """What is on screen at one instant: the still :class:`Screen` and the moving values."""

    screen: Screen
    level: float | None  # pacer fullness 0..1 during a breath phase
    seconds_left: int | None  # whole seconds left in a breath phase or pause
    progress: float | None  # 0..1 through the current section (None: no bar, as on the cards)
    place: str | None = None  # the section's place among the sections ("Section 2 of 5")
    event: int = -1  # index of the scene's step shown (segments are cut where it changes)
    backdrop: int | None = None  # the backdrop's picture (see qidsl.renderers.backdrop.BackdropView.number)
    figure: Figure | None = None  # the figure's pose, when it shows


@dataclass(frozen=True)
class Figure:
    """The figure as drawn on one frame: every joint's angle (rounded to what is drawn), the view."""

    angles: tuple[tuple[str, float], ...]
    view: str
    facing: str


def _stepped(seconds: float, steps_per_second: int) -> float:
    """``seconds`` rounded down to the last whole step (a millionth of a second of slack for rounding)."""
    return math.floor(seconds * steps_per_second + 1e-6) / steps_per_second


def _window(starts: list[float], windows: Sequence[Window] | Sequence[Backdrop] | Sequence[FigureWindow],
            t: float) -> int:
    """The index of the window of ``windows`` showing at ``t``, or -1."""
    i = bisect.bisect_right(starts, t) - 1
    return i if i >= 0 and t < windows[i].end else -1


class Scene:
    """The scene track (:mod:`qidsl.renderers.scene`) indexed by time, for fast lookups frame after frame.

    With ``fps``, the track is laid on that frame grid (see :func:`~qidsl.renderers.scene.scene_track`).
    """

    def __init__(self, timeline: Timeline, cues: Sequence[CueLike], fps: int | None = None):
        self.duration = float(timeline.duration)
        self.words = screen_words(timeline.settings.language or "en")
        self.fps = fps
        self.track = track = scene_track(timeline, cues, fps)
        self._step_starts = [s.start for s in track.steps]
        self._cue_starts = [c.start for c in track.captions]
        self._note_starts = [n.start for n in track.notes]
        self._next_starts = [n.start for n in track.next]
        self._backdrop_starts = [b.start for b in track.backdrop]
        self._views = [BackdropView.of(b) for b in track.backdrop]
        # Where each backdrop's file is, by its hash (the screens name files by their content only).
        self.media_paths = {b.media: b.path for b in track.backdrop}
        self._figure_starts = [w.start for w in track.figure]
        # `captions: words`: the caption marks the word being spoken (each caption's word starts, found once).
        self.marks_words = timeline.settings.captions == "words"
        self._word_starts = ([[start for start, _ in c.words] for c in track.captions]
                             if self.marks_words else None)
        self._screens: dict[tuple[int, int, int, int, int, int, bool], Screen] = {}
        # The figure moves in steps (FigureWindow.at): its pose is worked out once a step, not once a frame.
        self._figures: dict[tuple[int, int], Figure] = {}

    def at(self, t: float) -> Moment:
        """What to show at ``t`` seconds."""
        t = min(max(t, 0.0), self.duration)
        if self.fps:
            t = round(t * self.fps) / self.fps
        track = self.track
        i = bisect.bisect_right(self._step_starts, t) - 1
        step = track.steps[max(i, 0)] if track.steps else None
        if step is None or step.card is not None:
            card = step.card if step is not None else "intro"
            return Moment(Screen(card=card), None, None, None, None, max(i, 0))
        progress = None
        if step.progress is not None:
            k, n = step.progress
            # The step in progress counts as done, so the bar moves from the event's first frame.
            into = _stepped(t - step.start, BAR_STEPS_PER_SECOND) + 1 / BAR_STEPS_PER_SECOND
            through = into / (step.end - step.start) if step.end > step.start else 1.0
            progress = (k + min(1.0, max(0.0, through))) / n
        c = _window(self._cue_starts, track.captions, t)
        n = _window(self._note_starts, track.notes, t)
        s = _window(self._next_starts, track.next, t)
        words = self._word_starts[c] if self._word_starts is not None and c >= 0 else None
        w = bisect.bisect_right(words, t) - 1 if words else -1
        b = _window(self._backdrop_starts, track.backdrop, t)
        view = self._views[b] if b >= 0 else None
        # No figure window while a backdrop shows (qidsl.renderers.scene.hide_figure).
        f = _window(self._figure_starts, track.figure, t)
        figure = self._figure(f, t) if f >= 0 else None
        # The still screen depends on these only; building it is the dear part, so keep it.
        which = (i, c, n, s, w, b, figure is not None)
        screen = self._screens.get(which)
        if screen is None:
            if len(self._screens) > 4096:
                self._screens.clear()
            screen = self._screens[which] = Screen(
                section=step.section, caption=track.captions[c].lines if c >= 0 else (), counter=step.counter,
                side=step.side, note=track.notes[n].text if n >= 0 else None,
                next_up=track.next[s].text if s >= 0 else None, phase=step.label,
                pacer="breath" if step.pacer is not None else "count" if step.countdown else None,
                caption_word=w if w >= 0 else None, backdrop=view, figure=figure is not None)
        level = None
        if step.pacer is not None:
            at = step.start + _stepped(t - step.start, PACER_STEPS_PER_SECOND)
            level = step.pacer.level((at - step.start) / (step.end - step.start) if step.end > step.start else 1.0)
        seconds_left = step.seconds_left(t) if step.countdown else None
        picture = view.number(t - track.backdrop[b].start, self.fps) if view is not None else None
        return Moment(screen, level, seconds_left, progress, step.place, i, picture, figure)

    def _figure(self, f: int, t: float) -> Figure:
        """The figure of window ``f`` at ``t``, kept by (window, step): every frame of a step shows one pose."""
        window = self.track.figure[f]
        which = (f, window.step(t))
        figure = self._figures.get(which)
        if figure is None:
            if len(self._figures) > 4096:
                self._figures.clear()
            figure = self._figures[which] = _figure_at(window, t)
        return figure


def _figure_at(window: FigureWindow, t: float) -> Figure:
    """The figure at ``t`` in ``window`` (stepped from the window's start: see FigureWindow.at), its angles
    rounded as they are drawn."""
    angles = tuple((joint, round(value / FIGURE_STEP) * FIGURE_STEP) for joint, value in window.at(t))
    return Figure(angles, window.view, window.facing)


# BT.709 studio-range RGB -> Y'CbCr, the matrix HD players assume; the stream is tagged with it.
_Y_ROW = (np.array([0.2126, 0.7152, 0.0722], dtype=np.float32) * np.float32(219 / 255))
_C_ROWS = (np.array([[-0.1146, -0.3854, 0.5], [0.5, -0.4542, -0.0458]], dtype=np.float32)
           * np.float32(224 / 255 / 4)).T  # / 4: applied to the sum of a 2x2 block


_STRIP = 64  # rows converted at a time: the float copies of a whole 720p frame would be 25 MB a thread


def rgb_to_yuv420(rgb: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
    """Convert an RGB region (even height and width) into Y, Cb and Cr planes, in place.

    Chroma is the mean of each 2x2 block, as ffmpeg's own conversion does.
    Written channel by channel: three times quicker than a matrix product
    over the pixels (18.6 against 6.4 ms a 720p frame), with the same result.
    """
    for top in range(0, rgb.shape[0], _STRIP):
        bottom = top + _STRIP
        _convert(rgb[top:bottom], y[top:bottom], u[top // 2:bottom // 2], v[top // 2:bottom // 2])


def _convert(rgb: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
    channels = [rgb[..., k].astype(np.float32) for k in range(3)]
    luma = channels[0] * _Y_ROW[0]
    luma += channels[1] * _Y_ROW[1]
    luma += channels[2] * _Y_ROW[2]
    luma += 16.5  # +0.5 so the uint8 cast rounds
    y[...] = luma
    blocks = []
    for channel in channels:
        pair = channel[0::2] + channel[1::2]
        blocks.append(pair[:, 0::2] + pair[:, 1::2])
    for plane, row in ((u, 0), (v, 1)):
        chroma = blocks[0] * _C_ROWS[0, row]
        chroma += blocks[1] * _C_ROWS[1, row]
        chroma += blocks[2] * _C_ROWS[2, row]
        chroma += 128.5
        plane[...] = chroma


@dataclass(frozen=True)
class FrameState:
    """Everything drawn on one frame, in the units it is drawn in.

    Two frames with equal states are the same picture, so a segment's key is
    the run of states it shows (see :mod:`qidsl.renderers.video_segments`).
    """

    screen: Screen
    place: str | None  # "Section 2 of 5": the section's place among the sections
    pacer: tuple[float | None, int | None] | None  # (disk radius in 1/8 pixels, seconds left)
    fill: int | None  # progress bar fill in pixels; None: no bar
    backdrop: int | None = None  # the backdrop's picture number (the screen names the backdrop)
    figure: Figure | None = None  # the figure's pose; None: no figure


class VideoFrames:
    """The frame function: ``frames(t)`` is the (height, width, 3) uint8 RGB picture at ``t``.

    The returned array is one buffer reused for every call (that is what keeps
    rendering cheap): copy it if you keep it past the next call.
    :meth:`state` tells what a frame shows without drawing it, :meth:`draw`
    draws a state; ``frames(t)`` is ``draw(state(t))``.

    With ``planar=True`` the same picture is also kept as yuv420p bytes in
    :attr:`yuv`, updated only where the picture changed.  The encoder reads
    that: it halves what goes down the pipe and spares ffmpeg a whole-frame
    colour conversion per frame: the whole render measured about 1.5x faster.
    """

    _BASES = 4  # composed still images kept, shared by every thread's frame function (4 MB each at 720p)

    def __init__(self, timeline: Timeline | None, cues: Sequence[CueLike], width: int = 1280, height: int = 720,
                 planar: bool = False, *, fps: int | None = None, yuv_only: bool = False, _shared=None):
        if width < 16 or height < 16 or width % 2 or height % 2:
            raise ValueError("video width and height must be even numbers of at least 16 pixels")
        if _shared is None:
            assert timeline is not None, "a frame function is made from a timeline or shared with another"
            layout = Layout(width, height)
            theme = theme_named(getattr(timeline.settings, "theme", None))
            scene = Scene(timeline, cues, fps)
            settings = timeline.settings
            card = CardText(settings.title or "", settings.author, format_length(timeline.duration),
                            tuple(timeline.notes))
            painter = Painter(layout, theme, card, scene.words, settings.language or "en")
            # Threads drawing neighbouring segments often start on the same still: compose it once.
            stills: tuple[OrderedDict[tuple, tuple[np.ndarray, np.ndarray | None]], threading.Lock] = (
                OrderedDict(), threading.Lock())
            _shared = (layout, theme, scene, card, painter, stills)
        self._shared = _shared
        self.layout, self.theme, self.scene, self.card, self._painter, (self._bases, self._bases_lock) = _shared
        layout = self.layout
        self._out = np.empty((height, width, 3), dtype=np.uint8)
        self.planar = planar
        self.yuv = np.empty(width * height * 3 // 2, dtype=np.uint8) if planar else None
        # For the encoder, which reads only :attr:`yuv`: the pacer is drawn straight into the yuv420p
        # picture (the RGB one is then not kept up to date where the pacer is).  That spares an RGB
        # blend and a colour conversion of the pacer's square on every frame that moves it.
        self.yuv_only = planar and yuv_only
        self._still: tuple | None = None
        self._base: np.ndarray | None = None
        self._base_yuv: np.ndarray | None = None
        self._pacer_state: tuple[float | None, int | None] | None = None
        self._pacer_reach = 0
        self._bar_fill: int | None = None
        self._disk = DiskPatch(layout.pacer_box, layout.pacer_centre, self.theme.accent)
        self._figure = FigurePatch(layout.figure_box, self.theme.muted)
        self._figure_state: Figure | None = None
        self._figure_rect: tuple[int, int, int, int] | None = None  # where the last figure was drawn
        self._bar_box = self._bar_left(), *layout.bar_box[1:]
        left, top, right, bottom = self._bar_box
        self._bar_track = np.empty((bottom - top, right - left, 3), dtype=np.uint8)
        self._bar_done = np.empty_like(self._bar_track)
        self._bar_track[...] = self.theme.track
        self._bar_done[...] = self.theme.accent
        # Backdrops: this thread's reader of their pictures, its last overlay and a frame's buffers.
        self._pictures = Pictures(width, height, self.scene.fps or 30)
        self._overlay: tuple[tuple, Overlay] | None = None
        self._planar_overlay: tuple[tuple, PlanarOverlay] | None = None
        self._frame_rgb: np.ndarray | None = None
        self._frame_yuv: np.ndarray | None = None
        self._frame_sums: np.ndarray | None = None

    def release(self, park: bool = False) -> None:
        """Close what this frame function holds open (a backdrop clip's reader); it opens again when asked.

        With ``park`` the reader is left open for the next segment over the same clip, on any thread
        (:func:`qidsl.renderers.backdrop.close_parked` closes it).
        """
        self._pictures.close(park)

    def fresh(self) -> VideoFrames:
        """Another frame function over the same scene, with its own buffers (one per thread)."""
        return VideoFrames(None, (), self.layout.width, self.layout.height, self.planar, yuv_only=self.yuv_only,
                           _shared=self._shared)

    def _place_size(self) -> int:
        return self.layout.px(20)

    @property
    def language(self) -> str:
        """The routine's language: where its on-screen texts may break onto a new line."""
        return self._painter.language

    def _bar_left(self) -> int:
        # The bar starts right of the widest section's place label, so it has one length in every section.
        lay = self.layout
        left = lay.bar_box[0]
        places = {step.place for step in self.scene.track.steps if step.place}
        if places:
            widest = max(text_layer(place, self._place_size(), True, lay.width).size[0] for place in places)
            left += widest + lay.px(12)
        return left + left % 2

    def _planes(self, flat: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        assert flat is not None, "a yuv420p picture is kept only with planar=True"
        w, h = self.layout.width, self.layout.height
        y = flat[:w * h].reshape(h, w)
        u = flat[w * h:w * h * 5 // 4].reshape(h // 2, w // 2)
        v = flat[w * h * 5 // 4:].reshape(h // 2, w // 2)
        return y, u, v

    def _compose(self, screen: Screen, place: str | None) -> np.ndarray:
        rgb = self._painter.compose(screen)
        if place is None:
            return rgb
        # The section's place ("Section 2 of 5") sits left of the bar, on the bar's bottom line.
        rgb = np.array(rgb)
        lay = self.layout
        label = text_layer(place, self._place_size(), True, lay.width)
        w, h = label.size
        left, bottom = lay.bar_box[0], lay.bar_box[3]
        _blend_mask(rgb, label.mask, self.theme.muted, left + w / 2, bottom - h / 2)
        return rgb

    def _base_for(self, still: tuple) -> tuple[np.ndarray, np.ndarray | None]:
        with self._bases_lock:
            cached = self._bases.get(still)
            if cached is not None:
                self._bases.move_to_end(still)
                return cached
        rgb = self._compose(*still)  # outside the lock: two threads may compose at once
        yuv = None
        if self.planar:
            yuv = np.empty_like(self.yuv)
            rgb_to_yuv420(rgb, *self._planes(yuv))
        with self._bases_lock:
            self._bases[still] = (rgb, yuv)
            while len(self._bases) > self._BASES:
                self._bases.popitem(last=False)
        return rgb, yuv

    def backdrop_picture(self, state: FrameState) -> np.ndarray:
        """The backdrop's picture a frame of ``state`` shows, before the shade and texts (for tests)."""
        view = state.screen.backdrop
        assert view is not None and state.backdrop is not None
        return self._pictures.picture(self.scene.media_paths[view.media], view, state.backdrop)

    def overlay_of(self, screen: Screen, place: str | None) -> Overlay:
        """The still texts of ``screen`` on their shade, to lay over its backdrop's pictures."""
        key = (screen, place)
        if self._overlay is None or self._overlay[0] != key:
            self._overlay = (key, self._overlay_made(screen, place))
        return self._overlay[1]

    def _overlay_made(self, screen: Screen, place: str | None) -> Overlay:
        painter, lay, theme = self._painter, self.layout, self.theme
        colours, coverage, boxes, placed = painter.compose_layers(screen)
        if place is not None:
            label = text_layer(place, self._place_size(), True, lay.width)
            w, h = label.size
            left, top = lay.bar_box[0], lay.bar_box[3] - h
            colours.paste(theme.muted, (left, top, left + w, top + h), label.mask)
            coverage.paste(255, (left, top, left + w, top + h), label.mask)
            boxes.append((left, top, left + w, top + h))
        if screen.pacer:
            boxes.append(lay.pacer_box)
        if place is not None or screen.pacer:
            boxes.append(self._bar_box)
        return dataclasses.replace(
            overlay(colours, coverage, boxes, theme.background, OPEN_KEEP,
                    _keep_behind_text(theme, self.scene.marks_words), lay.px(SHADE_REACH)),
            placed=tuple(placed))

    def _backdrop_base(self, state: FrameState) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The still texts laid over this frame's backdrop picture (in this thread's frame buffers).

        With ``yuv_only`` the picture is composed in yuv420p alone (no RGB base: None).
        """
        if self.yuv_only:
            return None, self._backdrop_yuv(state)
        if self._frame_rgb is None:
            self._frame_rgb = np.empty_like(self._out)
            self._frame_sums = np.empty(self._out.shape, np.uint16)
            self._frame_yuv = np.empty_like(self.yuv) if self.yuv is not None else None
        self.overlay_of(state.screen, state.place).over(self.backdrop_picture(state), self._frame_rgb,
                                                             self._frame_sums)
        if self._frame_yuv is not None:
            rgb_to_yuv420(self._frame_rgb, *self._planes(self._frame_yuv))
        return self._frame_rgb, self._frame_yuv

    def _backdrop_yuv(self, state: FrameState) -> np.ndarray:
        """The backdrop's picture with the still texts and shade laid over it, composed in yuv420p: a clip's
        picture comes as Y'CbCr planes; a photo's pan step as RGB, converted here (a step shows on two frames)."""
        if self._frame_yuv is None:
            self._frame_yuv = np.empty_like(self.yuv)
            self._frame_sums = np.empty(self._out.shape[:2], np.uint16)
        key = (state.screen, state.place)
        if self._planar_overlay is None or self._planar_overlay[0] != key:
            # Made afresh, not through overlay_of: the RGB overlay (10 MB at 720p) is not kept beside it.
            self._planar_overlay = (key, self._overlay_made(*key).planar(_Y_ROW, (_C_ROWS * 4).T))
        view = state.screen.backdrop
        assert view is not None and state.backdrop is not None and self._frame_sums is not None
        out = self._planes(self._frame_yuv)
        if view.kind == "clip":
            planes = self._pictures.clip_planes(self.scene.media_paths[view.media], view, state.backdrop)
        else:
            rgb_to_yuv420(self.backdrop_picture(state), *out)
            planes = out
        self._planar_overlay[1].over(planes, out, self._frame_sums)
        return self._frame_yuv

    def state(self, t: float) -> FrameState:
        """What the frame at ``t`` shows, in drawing units (no drawing done)."""
        return self.state_of(self.scene.at(float(t)))

    def state_of(self, moment: Moment) -> FrameState:
        lay = self.layout
        pacer = None
        if moment.screen.pacer:
            radius = None
            if moment.level is not None:
                radius = lay.pacer_min_radius + (lay.pacer_max_radius - lay.pacer_min_radius) * moment.level
                radius = round(radius * 8) / 8  # an eighth of a pixel is invisible; skips redraws on holds
            pacer = (radius, moment.seconds_left)
        fill = None
        if moment.progress is not None:
            left, _, right, _ = self._bar_box
            fill = round(moment.progress * (right - left))
        return FrameState(moment.screen, moment.place, pacer, fill, moment.backdrop, moment.figure)

    def __call__(self, t: float) -> np.ndarray:
        return self.draw(self.state(t))

    def draw(self, state: FrameState) -> np.ndarray:
        """Draw ``state`` into the reused buffer (only what changed since the last call)."""
        out = self._out
        still: tuple = (state.screen, state.place)
        if state.screen.backdrop is not None:  # a new picture behind: everything is laid again
            still = (state.screen, state.place, state.backdrop)
        if still != self._still:
            if state.screen.backdrop is not None:
                self._base, self._base_yuv = self._backdrop_base(state)
            else:
                self._base, self._base_yuv = self._base_for(still)
            if self._base is not None:  # None: a backdrop composed in yuv420p alone (yuv_only)
                np.copyto(out, self._base)
            if self.yuv is not None and self._base_yuv is not None:
                np.copyto(self.yuv, self._base_yuv)
            self._still = still
            self._pacer_state = None
            self._pacer_reach = 0
            self._bar_fill = None
            self._figure_state = None
            self._figure_rect = None
        if state.pacer is not None:
            self._draw_pacer(state.pacer)
        if state.figure is not None:
            self._draw_figure(state.figure)
        if state.fill is not None:
            self._draw_bar(state.fill)
        return out

    def _changed(self, left: int, top: int, right: int, bottom: int) -> None:
        # Keep the yuv420p copy in step with the RGB picture (boxes have even corners).
        if self.planar:
            y, u, v = self._planes(self.yuv)
            rgb_to_yuv420(self._out[top:bottom, left:right], y[top:bottom, left:right],
                          u[top // 2:bottom // 2, left // 2:right // 2], v[top // 2:bottom // 2, left // 2:right // 2])

    def _draw_pacer(self, state: tuple[float | None, int | None]) -> None:
        if state == self._pacer_state:
            return
        self._pacer_state = state
        radius, seconds_left = state
        lay = self.layout
        box_left, box_top, box_right, box_bottom = lay.pacer_box
        half = (box_right - box_left) // 2
        number = None
        if seconds_left is not None:
            # Inside the disk as it is now, or inside the pacer's square when there is no disk.
            room = radius if radius is not None else half
            number = (countdown_text(seconds_left), lay.px(56 if radius is not None else 72), math.floor(room))
        # Only the square holding the old and the new drawing is redrawn.
        reach = half if radius is None else math.ceil(radius) + 2
        if number is not None:
            reach = max(reach, max(countdown_layer(*number).size) // 2 + 2)
        reach = min(half, reach + reach % 2)
        square = max(reach, self._pacer_reach)
        self._pacer_reach = reach
        lo, hi = half - square, half + square
        colour = self.theme.on_accent if radius is not None else self.theme.text
        if self.yuv_only:
            self._draw_pacer_yuv(radius, number, colour, box_left + lo, box_top + lo, box_left + hi, box_top + hi)
            return
        patch = self._out[box_top:box_bottom, box_left:box_right]
        assert self._base is not None  # drawn after draw() took a still
        np.copyto(patch[lo:hi, lo:hi], self._base[box_top + lo:box_top + hi, box_left + lo:box_left + hi])
        if radius is not None:
            self._disk.draw(patch, radius)
        if number is not None:
            _blend_mask(patch, countdown_layer(*number).mask, colour, half, half)
        self._changed(box_left + lo, box_top + lo, box_left + hi, box_top + hi)

    def _restore_yuv(self, left: int, top: int, right: int, bottom: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The yuv420p picture's planes, the rectangle (even corners) put back as the still shows it."""
        y, u, v = self._planes(self.yuv)
        base_y, base_u, base_v = self._planes(self._base_yuv)
        y[top:bottom, left:right] = base_y[top:bottom, left:right]
        u[top // 2:bottom // 2, left // 2:right // 2] = base_u[top // 2:bottom // 2, left // 2:right // 2]
        v[top // 2:bottom // 2, left // 2:right // 2] = base_v[top // 2:bottom // 2, left // 2:right // 2]
        return y, u, v

    def _draw_pacer_yuv(self, radius, number, colour, left: int, top: int, right: int, bottom: int) -> None:
        """The pacer straight into the yuv420p picture: the same blends, in Y'CbCr (an affine map
        of RGB, so the picture differs from the RGB route by rounding alone)."""
        y, u, v = self._restore_yuv(left, top, right, bottom)
        box_left, box_top, box_right, _ = self.layout.pacer_box
        if radius is not None:
            x0, y0, alpha = self._disk.coverage(radius)
            _blend_yuv(y, u, v, box_left + x0, box_top + y0, alpha, _yuv_of(self.theme.accent))
        if number is not None:
            half = (box_right - box_left) // 2  # centred as _blend_mask centres it in the RGB route
            x0, y0, coverage = _number_coverage(*number, box_left + half, box_top + half)
            _blend_yuv(y, u, v, x0, y0, coverage, _yuv_of(colour))

    def _draw_figure(self, figure: Figure) -> None:
        """The figure in its box: the rectangle it covered last and the one it covers now are redrawn."""
        if figure == self._figure_state:
            return
        self._figure_state = figure
        angles = dict(figure.angles)
        view, facing = figure.view, figure.facing
        box_left, box_top = self.layout.figure_box[:2]
        x0, y0, alpha = self._figure.coverage(angles, view, facing)  # type: ignore[arg-type]  # from a Pose
        now = (box_left + x0, box_top + y0, box_left + x0 + alpha.shape[1], box_top + y0 + alpha.shape[0])
        before = self._figure_rect or now
        self._figure_rect = now
        left, top = min(now[0], before[0]), min(now[1], before[1])
        right, bottom = max(now[2], before[2]), max(now[3], before[3])
        if right <= left or bottom <= top:
            return
        if self.yuv_only:
            y, u, v = self._restore_yuv(left, top, right, bottom)
            if alpha.size:
                _blend_yuv(y, u, v, now[0], now[1], alpha, _yuv_of(self.theme.muted))
            return
        assert self._base is not None  # drawn after draw() took a still
        np.copyto(self._out[top:bottom, left:right], self._base[top:bottom, left:right])
        if alpha.size:
            blend(self._out[now[1]:now[3], now[0]:now[2]], self.theme.muted, alpha)
        self._changed(left, top, right, bottom)

    def _draw_bar(self, fill: int) -> None:
        if fill == self._bar_fill:
            return
        self._bar_fill = fill
        left, top, right, bottom = self._bar_box
        bar = self._out[top:bottom, left:right]
        bar[:, :fill] = self._bar_done[:, :fill]
        bar[:, fill:] = self._bar_track[:, fill:]
        self._changed(left, top, right, bottom)


@functools.lru_cache(maxsize=4)
def _keep_behind_text(theme, words: bool) -> float:
    """How much of a backdrop shows behind the texts: as much as keeps every caption colour (the
    text's, and with ``captions: words`` the accent marking the spoken word) at WCAG's 4.5:1
    against any pixel of it."""
    colours = (theme.text, theme.accent) if words else (theme.text,)
    return min(OPEN_KEEP, shade_for(colours, theme.background))


def _blend_mask(patch: np.ndarray, mask, colour, cx: float, cy: float) -> None:
    """Fill ``colour`` through the 8-bit ``mask`` centred at (cx, cy) of ``patch``, in place."""
    coverage = np.asarray(mask, dtype=np.float32) * np.float32(1 / 255)
    h, w = coverage.shape
    x0, y0 = round(cx - w / 2), round(cy - h / 2)
    x1, y1 = min(patch.shape[1], x0 + w), min(patch.shape[0], y0 + h)
    sx, sy = max(0, -x0), max(0, -y0)
    x0, y0 = max(0, x0), max(0, y0)
    if x1 <= x0 or y1 <= y0:
        return
    coverage = coverage[sy:sy + y1 - y0, sx:sx + x1 - x0]
    blend(patch[y0:y1, x0:x1], colour, coverage)


@functools.lru_cache(maxsize=512)  # as countdown_layer's
def _number_coverage(text: str, size: int, room: int, cx: int, cy: int) -> tuple[int, int, np.ndarray]:
    """(left, top, alpha) of the countdown's ``text`` (:func:`countdown_layer`'s) centred at (cx, cy), on
    whole chroma blocks (even corner and sides: a column or row of nothing on an odd side).  Kept: the
    countdown shows one number for a whole second, through as many pictures of the pacer."""
    coverage = np.asarray(countdown_layer(text, size, room).mask, dtype=np.float32) * np.float32(1 / 255)
    h, w = coverage.shape
    x0, y0 = round(cx - w / 2), round(cy - h / 2)
    coverage = np.pad(coverage, ((y0 % 2, (y0 + h) % 2), (x0 % 2, (x0 + w) % 2)))
    coverage.flags.writeable = False  # shared by every picture that shows the number
    return x0 - x0 % 2, y0 - y0 % 2, coverage


@functools.lru_cache(maxsize=16)
def _yuv_of(colour: tuple[int, int, int]) -> tuple[float, float, float]:
    """An RGB colour's Y', Cb and Cr (BT.709 studio range), unrounded."""
    rgb = np.asarray(colour, dtype=np.float32)
    y = float(rgb @ _Y_ROW) + 16
    cb, cr = (rgb * 4) @ _C_ROWS + 128
    return y, float(cb), float(cr)


def _blend_yuv(y: np.ndarray, u: np.ndarray, v: np.ndarray, left: int, top: int, alpha: np.ndarray,
               colour: tuple[float, float, float]) -> None:
    """Blend ``colour`` through ``alpha`` (even sides) at (left, top) (even) into the planes, in place.

    The chroma's alpha is the mean over each 2x2 block, as chroma is the mean of its block.
    """
    h, w = alpha.shape
    blend(y[top:top + h, left:left + w], colour[0], alpha)
    quarter = block_means(alpha)
    for plane, value in ((u, colour[1]), (v, colour[2])):
        blend(plane[top // 2:(top + h) // 2, left // 2:(left + w) // 2], value, quarter)
