"""Backdrops: the instructor's photo or clip behind the picture, and the shade that keeps text readable.

The scene track says which file shows when (:class:`qidsl.renderers.scene.Backdrop`);
this module makes its pictures at the video's size with moviepy:

- a clip is streamed by ffmpeg (one picture in memory at a time, never the
  whole clip), without its sound, from its in-point, looped when the stretch
  it covers is longer than what is left of it, scaled and cropped to fill the
  frame (about the middle).  For the encoder, ffmpeg hands it over as the
  video's yuv420p (:class:`ClipPlanes`, through ``imageio_ffmpeg.read_frames``)
  and it is shaded in those planes (:meth:`Overlay.planar`): no RGB picture and
  no conversion in numpy.  For a picture in RGB (:meth:`Pictures.picture`) it
  is opened with moviepy's ``VideoFileClip(..., target_resolution=...)``, cut
  at its in-point (``subclipped``), looped (``Loop``) and cropped (``Crop``);
- a photo is loaded once with ``ImageClip``, resized (``Resize``) a little
  larger than the frame, and shown with a slow pan and zoom: a window of it,
  drifting and breathing in and out over :data:`PAN_PERIOD` seconds, scaled to
  the frame.  It moves in :data:`PHOTO_STEPS_PER_SECOND` steps a second, so the
  frames between two steps repeat (cheap skip frames), as the pacer does.

Everything else is drawn over it on a shade (:func:`shade_for`): the picture is
darkened towards the theme's background, a little in the open and more behind
every text, so every fully covered pixel of a caption keeps a contrast of at
least 4.5:1 (WCAG 2's figure for normal text) with what is behind it, whatever
the footage holds.

What a frame shows is named by :class:`BackdropView` (the file's hash, its
kind and stretch: part of the still screen, so of the segment's key) and a
number: the frame since the backdrop began (a clip) or the pan's step (a photo).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import math
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ..errors import BuildError
from ..timeline import MediaInfo
from .scene import Backdrop

PHOTO_STEPS_PER_SECOND = 15  # the pan moves well under a pixel a step at this rate: it reads as smooth
PAN_ZOOM = 0.08  # the photo breathes between 100 % and 108 % of the frame
PAN_PERIOD = 40.0  # seconds for the pan and zoom to go there and back
CONTRAST = 4.5  # WCAG 2.x: the least contrast of normal text with what is behind it
_MARGIN = 0.1  # asked of the shade above CONTRAST, for the rounding of the 8-bit picture
OPEN_KEEP = 0.72  # how much of the picture shows where no text is (1: untouched)
SHADE_REACH = 14  # design pixels of full shade around every text, then a soft edge as wide
# Overlays are worked out this many rows at a time (even: whole chroma blocks): a frame's worth of
# float32 copies at once (about 50 MB at 720p) made the build's peak memory at every new caption.
_ROWS = 48


@dataclass(frozen=True)
class BackdropView:
    """What a backdrop shows, independent of when: its file's hash, kind and stretch.

    Part of the still :class:`~qidsl.renderers.video_layers.Screen`, so of a
    video segment's key; with the frame's number (see the module's docstring)
    it names the picture exactly.
    """

    kind: str  # "photo" or "clip"
    media: str  # SHA-256 of the file's bytes
    offset: float  # a clip's in-point
    period: float | None  # a looping clip's period (its length after the in-point); None when it does not loop

    @classmethod
    def of(cls, backdrop: Backdrop) -> BackdropView:
        period = (backdrop.length - backdrop.offset) if backdrop.loop and backdrop.length is not None else None
        return cls(backdrop.kind, backdrop.media, backdrop.offset, period)

    def number(self, seconds: float, fps: int | None) -> int:
        """The picture's number ``seconds`` into the backdrop: its frame (a clip) or pan step (a photo)."""
        if self.kind == "photo":
            return math.floor(seconds * PHOTO_STEPS_PER_SECOND + 1e-6)
        return round(seconds * (fps or 30))


# ---- contrast ---------------------------------------------------------------------------------------

def _linear(channel: float) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour) -> float:
    """WCAG 2's relative luminance of an sRGB colour (0..255 channels)."""
    r, g, b = (_linear(float(c)) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    """WCAG 2's contrast ratio of two colours, 1 to 21."""
    la, lb = luminance(a), luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def shade_for(colours, background) -> float:
    """The most of the picture that may show behind text of ``colours`` when it is shaded towards
    ``background`` (``bg + (pixel - bg) * keep``), so that every colour keeps :data:`CONTRAST` with
    any pixel at all.  Luminance grows with each channel, so the darkest and brightest possible
    pixels (black and white shaded) are the worst cases."""
    def fine(keep: float) -> bool:
        return all(contrast(colour, [b + (corner - b) * keep for b in background]) >= CONTRAST + _MARGIN
                   for colour in colours for corner in (0, 255))

    low, high = 0.0, 1.0
    if not fine(low):
        return 0.0  # the theme's own colours are too close: show no picture behind text
    for _ in range(30):
        middle = (low + high) / 2
        low, high = (middle, high) if fine(middle) else (low, middle)
    return low


# ---- the still overlay ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Overlay:
    """A still screen ready to lay over any picture: ``out = picture * mul / 256 + add`` per channel.

    ``mul`` (height x width, 0..256) is how much of the picture shows at each
    pixel (the shade and the texts' coverage); ``add`` (height x width x 3)
    is the shade's colour and the texts, premultiplied.
    """

    mul: np.ndarray
    add: np.ndarray
    keep: np.ndarray  # (height x width, 0..256) how much of the picture the shade lets through
    background: tuple[int, int, int]  # the colour it shades towards
    coverage: np.ndarray  # (height x width, 0..255) how much of each pixel the texts cover
    placed: tuple = ()  # the texts laid: (lines, (left, top, right, bottom)) each, as the painter placed them

    def behind(self, picture: np.ndarray) -> np.ndarray:
        """What is behind the texts: ``picture`` under the shade alone (float32, height x width x 3)."""
        keep = self.keep[..., None].astype(np.float32) / 256
        return picture * keep + np.asarray(self.background, np.float32) * (1 - keep)

    def over(self, picture: np.ndarray, out: np.ndarray, work: np.ndarray | None = None) -> np.ndarray:
        """Lay the texts and shade over ``picture`` (height x width x 3 uint8) into ``out``.

        ``work`` (uint16, the picture's shape), when given, holds the sums: no 5 MB array made a frame.
        """
        mixed = np.multiply(picture, self.mul[..., None], out=work) if work is not None else picture * self.mul[..., None]
        mixed >>= 8
        mixed += self.add
        np.copyto(out, mixed, casting="unsafe")
        return out

    def planar(self, y_row: np.ndarray, c_rows: np.ndarray) -> PlanarOverlay:
        """The same overlay for a yuv420p picture, the video's Y'CbCr being ``16 + y_row . rgb`` and
        ``128 + c_rows . rgb`` (rows of the studio-range matrix, RGB in 0..255).

        Y'CbCr is an affine map of RGB, so ``picture * m + add`` becomes ``Y * m + (16 (1 - m) + y_row . add)``
        for the luma, and for each chroma sample the same with its 2x2 block's mean ``m`` and offset
        (exact but where the shade or a letter's edge changes within a block, by rounding elsewhere).
        """
        height, width = self.mul.shape
        add_y = np.empty((height, width), np.uint16)
        mul_c, add_u, add_v = (np.empty((height // 2, width // 2), np.uint16) for _ in range(3))
        y_row, c_rows = np.asarray(y_row, np.float32), np.asarray(c_rows, np.float32)
        for top in range(0, height, _ROWS):
            rows, half = slice(top, top + _ROWS), slice(top // 2, (top + _ROWS) // 2)
            mul = self.mul[rows]
            m = mul.astype(np.float32) / 256
            add = self.add[rows].astype(np.float32)
            add_y[rows] = _fit((16 * (1 - m) + add @ y_row) * 256 + 128, mul)
            chroma = 128 * (1 - m)[..., None] + add @ c_rows.T
            mul_c[half], add_u[half], add_v[half] = _fit_blocks(m, chroma)
        return PlanarOverlay(self.mul, add_y, mul_c, add_u, add_v)


def _fit(offset: np.ndarray, mul: np.ndarray) -> np.ndarray:
    """``offset`` rounded to uint16, so that ``255 * mul + offset`` never passes 65535 (rounding could)."""
    return np.minimum(np.rint(offset), 65535 - 255 * mul.astype(np.float32)).astype(np.uint16)


def block_means(a: np.ndarray) -> np.ndarray:
    """The means of ``a``'s 2x2 blocks (even sides; float): what a yuv420p chroma sample stands for."""
    pair = a[0::2] + a[1::2]
    return (pair[:, 0::2] + pair[:, 1::2]) * np.float32(0.25)


def _fit_blocks(m: np.ndarray, chroma: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The chroma planes' share of the picture and offsets (x 256, rounded), means over 2x2 blocks."""
    mul = np.rint(block_means(m) * 256).astype(np.uint16)
    return (mul, _fit(block_means(chroma[..., 0]) * 256 + 128, mul),
            _fit(block_means(chroma[..., 1]) * 256 + 128, mul))


@dataclass(frozen=True)
class PlanarOverlay:
    """An :class:`Overlay` for yuv420p pictures: ``out = (plane * mul + add) >> 8`` per plane."""

    mul_y: np.ndarray  # (height x width, 0..256)
    add_y: np.ndarray  # (height x width) x 256, rounding included
    mul_c: np.ndarray  # (height/2 x width/2, 0..256)
    add_u: np.ndarray
    add_v: np.ndarray

    def over(self, planes, out, work: np.ndarray) -> None:
        """Lay the shade and texts over the Y, Cb and Cr ``planes`` (uint8 or uint16, 0..255; the chroma
        at half size) into the uint8 planes ``out``; ``work`` is a uint16 buffer of the luma's size."""
        for plane, mul, add, into in zip(planes, (self.mul_y, self.mul_c, self.mul_c),
                                         (self.add_y, self.add_u, self.add_v), out, strict=True):
            sums = work.reshape(-1)[:mul.size].reshape(mul.shape)  # contiguous, as the planes are
            np.multiply(plane, mul, out=sums)
            sums += add
            sums >>= 8
            np.copyto(into, sums, casting="unsafe")


def overlay(colours: Image.Image, coverage: Image.Image, boxes, background, keep_open: float, keep_text: float,
            reach: int) -> Overlay:
    """The overlay of texts drawn in ``colours`` on black (so premultiplied by their ``coverage``),
    shaded towards ``background``: ``keep_text`` of the picture shows within ``reach`` pixels of each
    box of ``boxes`` (what the texts and moving parts cover), ``keep_open`` far from them."""
    width, height = colours.size
    near = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(near)
    for left, top, right, bottom in boxes:
        draw.rounded_rectangle((left - 2 * reach, top - 2 * reach, right + 2 * reach, bottom + 2 * reach),
                               radius=2 * reach, fill=255)
    soft = near.filter(ImageFilter.BoxBlur(reach))
    hard = Image.new("L", (width, height), 0)
    for left, top, right, bottom in boxes:  # full shade under every box, whatever the blur did
        ImageDraw.Draw(hard).rectangle((left - reach, top - reach, right + reach, bottom + reach), fill=255)
    soft_a, hard_a, cover_a, colours_a = (np.asarray(image) for image in (soft, hard, coverage, colours))
    mul = np.empty((height, width), np.uint16)
    add = np.empty((height, width, 3), np.uint16)
    kept = np.empty((height, width), np.uint16)
    shade_colour = np.asarray(background, dtype=np.float32)
    for top in range(0, height, _ROWS):
        rows = slice(top, top + _ROWS)
        weight = np.maximum(soft_a[rows], hard_a[rows]).astype(np.float32) / 255
        keep = keep_open + (keep_text - keep_open) * weight  # how much of the picture shows, before the texts
        alpha = cover_a[rows].astype(np.float32) / 255
        mul[rows] = np.floor(keep * (1 - alpha) * 256)
        shade = (1 - keep)[..., None] * shade_colour
        # The picture's part is rounded down, so picture + add never passes 255.
        add[rows] = np.clip(np.rint(colours_a[rows].astype(np.float32) + shade * (1 - alpha)[..., None]), 0, 255)
        kept[rows] = np.floor(keep * 256)
    return Overlay(mul, add, kept, tuple(background), np.asarray(coverage, dtype=np.uint8))


# ---- the pictures -----------------------------------------------------------------------------------

def _cover(width: int, height: int, frame_w: int, frame_h: int, zoom: float = 1.0) -> tuple[int, int]:
    """The size (even) at which a ``width`` x ``height`` picture covers ``zoom`` times the frame."""
    scale = max(frame_w / width, frame_h / height) * zoom
    return (max(frame_w, 2 * math.ceil(width * scale / 2)), max(frame_h, 2 * math.ceil(height * scale / 2)))


class Pictures:
    """A backdrop's pictures at the video's size: one per thread (it keeps a clip's reader open).

    A clip is read forward as frames are asked for in order (a segment is
    drawn front to back), one picture in memory at a time; a photo is kept
    resized, a little larger than the frame, for its pan and zoom.
    """

    def __init__(self, width: int, height: int, fps: int):
        self.width, self.height, self.fps = width, height, fps
        # (what it shows, the clip, how it is read): RGB, or Y'CbCr planes for the encoder.
        self._clip: tuple[tuple[str, BackdropView, bool], _ReadAhead] | None = None
        self._photo: tuple[str, np.ndarray] | None = None

    def close(self, park: bool = False) -> None:
        """Close the clip's reader, or with ``park`` leave it open for the next :class:`Pictures` that asks
        for the same clip (the next segment, on whichever thread: see :func:`close_parked`)."""
        if self._clip is not None:
            if park:
                _park(*self._clip)
            else:
                self._clip[1].close()
            self._clip = None
        self._photo = None

    def picture(self, path: str, view: BackdropView, number: int) -> np.ndarray:
        """The picture ``number`` (see :meth:`BackdropView.number`) of the backdrop ``view`` of the file at
        ``path``, height x width x 3 uint8."""
        if view.kind == "photo":
            return self._photo_at(path, view, number / PHOTO_STEPS_PER_SECOND)
        frame = self._clip_frame(path, view, number, planar=False)
        if frame.shape[0] != self.height or frame.shape[1] != self.width:  # ffmpeg rounded the scale
            frame = np.asarray(Image.fromarray(frame).resize((self.width, self.height)))
        return frame

    def clip_planes(self, path: str, view: BackdropView, number: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A clip's picture ``number`` as the video's Y'CbCr (BT.709, studio range, 4:2:0): the luma
        (height x width) and the two chroma planes (half size each way), uint8, valid until the call
        after next.  ffmpeg scales, crops and converts it (:class:`ClipPlanes`) on the read-ahead
        thread, for the next picture while this one is shaded and encoded: no RGB on either side.
        """
        return self._clip_frame(path, view, number, planar=True)

    def _clip_frame(self, path: str, view: BackdropView, number: int, planar: bool) -> Any:
        """The clip's picture ``number`` of the backdrop: RGB cropped to the frame (moviepy), or
        (``planar``) the video's Y'CbCr planes (:class:`ClipPlanes`)."""
        from ..timeline import probe_media

        key = (path, view, planar)
        if self._clip is None or self._clip[0] != key:
            self.close()
            return_large_blocks()
            info = probe_media(Path(path))
            assert not isinstance(info, str)  # the scene track found it showable
            parked = _unpark(key)
            if parked is None:
                close_parked()  # another clip's: never two readers at once
                parked = self._open(path, info, view, planar)
            self._clip = (key, parked)
        return self._clip[1].frame(self._clip_time(view, number), self._clip_time(view, number + 1))

    def _open(self, path: str, info: MediaInfo, view: BackdropView, planar: bool) -> _ReadAhead:
        size = _cover(info.width, info.height, self.width, self.height)
        if planar:
            planes = ClipPlanes(path, info, size, self.width, self.height)
            return _ReadAhead(lambda seconds: planes.at(view.offset + seconds), planes.close, info.seconds)
        from moviepy import VideoFileClip, vfx

        # decode_file=False: the length from the container, not a decode of the whole file at every open.
        source = VideoFileClip(path, audio=False, target_resolution=size, decode_file=False)
        clip = source.subclipped(view.offset) if view.offset else source
        effects = [vfx.Crop(x_center=size[0] / 2, y_center=size[1] / 2, width=self.width, height=self.height)]
        if view.period is not None:
            effects.append(vfx.Loop())
        clip = clip.with_effects(effects)

        def close() -> None:
            source.close()
            # A moviepy clip and its reader hold each other (the frame function refers to the clip), so
            # only the cycle collector frees them, and with them the reader's two pipe buffers of a
            # frame's size each: collected now, not several clips later (28 MB measured at 720p).
            gc.collect()
        return _ReadAhead(clip.get_frame, close, info.seconds)

    def _clip_time(self, view: BackdropView, number: int) -> float:
        """Where in the backdrop's stretch of the clip (from its in-point) the backdrop's frame ``number`` is."""
        assert self._clip is not None
        seconds = number / self.fps
        if view.period is not None:
            return seconds % view.period
        # A last frame a hair past the end shows the clip's last picture.
        length = self._clip[1].length
        return min(seconds, max(0.0, length - view.offset - 1 / max(1, self.fps))) if length else seconds

    def _photo_at(self, path: str, view: BackdropView, seconds: float) -> np.ndarray:
        if self._photo is None or self._photo[0] != view.media:
            from moviepy import ImageClip, vfx

            return_large_blocks()  # a pan step is a new picture of a frame's size too
            still = ImageClip(path)
            w, h = still.size
            size = _cover(w, h, self.width, self.height, 1 + PAN_ZOOM)
            picture = still.with_effects([vfx.Resize(new_size=size)]).get_frame(0)
            self._photo = (view.media, np.ascontiguousarray(picture[..., :3], dtype=np.uint8))
        picture = self._photo[1]
        big_h, big_w = picture.shape[:2]
        # Zoom in and out (eased) and drift along a slow ellipse, both over PAN_PERIOD.
        phase = 2 * math.pi * seconds / PAN_PERIOD
        zoom = 1 + PAN_ZOOM * (0.5 - 0.5 * math.cos(phase))
        # The window has the frame's shape and fits the picture (rounded up to even pixels, the picture
        # may be a hair taller or wider than the frame's shape): at zoom 1 it is as large as fits.
        view_w = min(big_w, big_h * self.width / self.height) / zoom
        view_h = view_w * self.height / self.width
        room_x, room_y = (big_w - view_w) / 2, (big_h - view_h) / 2
        cx = big_w / 2 + room_x * 0.9 * math.sin(phase / 2)
        cy = big_h / 2 + room_y * 0.9 * math.sin(phase)
        box = (cx - view_w / 2, cy - view_h / 2, cx + view_w / 2, cy + view_h / 2)
        image = Image.fromarray(picture).resize((self.width, self.height), Image.Resampling.BILINEAR, box=box)
        return np.asarray(image)


# The clip reader a finished segment left open, so that the next segment, which mostly goes on
# where it stopped, reads on instead of starting ffmpeg again and seeking (a new probe, and a decode
# from the key frame before): one at most, so an idle reader never holds more than one's memory.
_parked: list[tuple[tuple, _ReadAhead]] = []
_parked_lock = threading.Lock()


def _park(key: tuple, clip: _ReadAhead) -> None:
    with _parked_lock:
        before = _parked[:]
        _parked[:] = [(key, clip)]
    for _, old in before:
        old.close()


def _unpark(key: tuple) -> _ReadAhead | None:
    with _parked_lock:
        if _parked and _parked[0][0] == key:
            return _parked.pop()[1]
    return None


def close_parked() -> None:
    """Close the clip reader left open between segments (called once the segments are made)."""
    with _parked_lock:
        before = _parked[:]
        _parked.clear()
    for _, clip in before:
        clip.close()


@functools.cache
def return_large_blocks() -> None:
    """Have glibc give every block of 1 MiB or more back to the system when it is freed.

    Each picture of a clip comes over as a new bytes object of a frame's size (1.4 MB at 720p as
    yuv420p, 2.7 MB as RGB from moviepy), read on the read-ahead thread and freed on the drawing
    one; a photo's pan makes a new picture a step.  glibc's own threshold for that rises with the
    first large block freed, and from then on such blocks come from per-thread heaps that keep what
    they held: the build's Python measured 316 MB resident a minute into a clip video's segments,
    234 MB with this (one mmap and munmap a picture).  Set before the build makes anything
    (:func:`qidsl.renderers.video_segments.declare_mp4`, for a video with backdrops): set when the
    first picture was opened, after the mix's large arrays had come and gone on other threads, the
    photo-backdrop benchmark's build peaked at 293 MB in one run and 559 MB in another (274 and 269
    MB since).  Elsewhere than glibc: nothing done.
    """
    import ctypes
    import ctypes.util

    m_mmap_threshold = -3  # malloc.h
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt(m_mmap_threshold, 1 << 20)


# Y'CbCr matrices by the names ffmpeg gives them, as ffmpeg's colorspace filter names them.  An untagged
# or unknown stream is read as BT.601 (bt470bg), as ffmpeg reads one when it converts it to RGB: so a
# clip shows as it did through RGB.  (BT.2020's constant-luminance form is read as the usual one.)
_SPACES = {"bt709": "bt709", "bt2020nc": "bt2020nc", "bt2020c": "bt2020nc", "smpte240m": "smpte240m",
           "fcc": "fcc", "smpte170m": "smpte170m", "bt470bg": "bt470bg"}
_SKIP_MAX = 100  # read on through this many frames to reach a later one; further on, seek (as moviepy does)


def clip_filters(info: MediaInfo, size: tuple[int, int], width: int, height: int) -> str:
    """ffmpeg's filters that turn a clip's pictures into the video's: scaled to ``size`` (which covers
    the frame), cropped about the middle to ``width`` x ``height``, 4:2:0, BT.709 studio range."""
    scale = f"scale={size[0]}:{size[1]}:flags=bicubic" + (":in_range=pc:out_range=tv" if info.full_range else "")
    filters = [scale, f"crop={width}:{height}", "format=yuv420p"]
    space = _SPACES.get(info.matrix, "bt470bg")
    if space != "bt709":  # the matrix alone: primaries and transfer stay as they are (as the clip showed)
        filters.append(f"colorspace=ispace={space}:space=bt709:iprimaries=bt709:primaries=bt709:"
                       "itrc=bt709:trc=bt709:irange=tv:range=tv")
    return ",".join(filters)


class ClipPlanes:
    """A clip read forward as the video's Y'CbCr planes, ffmpeg doing the scaling, crop and colours.

    ``imageio_ffmpeg.read_frames`` (the layer moviepy reads clips through) streams the pictures as
    ``yuv420p``, already cropped and in BT.709: moviepy's reader hands over three bytes a pixel only
    (RGB, or 4:4:4), so a 4:2:0 clip was widened to 4:4:4 by ffmpeg and averaged back and its colours
    mapped in numpy (7 ms of CPU a 720p frame, a third of a footage build's; now about 1 ms in ffmpeg).
    Frames are picked as moviepy picks them: the picture at ``t`` is the clip's frame ``int(fps t)``,
    read on to when it is near, sought (ffmpeg's exact seek) when it is behind or far ahead.
    """

    def __init__(self, path: str, info: MediaInfo, size: tuple[int, int], width: int, height: int):
        self.path, self.width, self.height = path, width, height
        self.rate = info.fps or 30.0
        self.filters = clip_filters(info, size, width, height)
        self._frames: Any = None  # read_frames' generator
        self._next = 0  # the number of the frame it gives next
        self._last: bytes | None = None

    def at(self, seconds: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The planes (uint8: luma, then the half-size Cb and Cr) of the clip's picture at ``seconds``;
        past the end of the clip, its last picture."""
        number = int(self.rate * seconds + 1e-5)
        if self._frames is None or number < self._next or number > self._next + _SKIP_MAX:
            self._open(number)
        while self._next <= number:
            try:
                data = next(self._frames, None)
            except RuntimeError as exc:  # imageio's "could not read frame", with ffmpeg's log
                self.close()
                raise BuildError(f"ffmpeg could not read the clip {self.path} at {seconds:.2f} s: "
                                 f"{str(exc).splitlines()[0]}") from exc
            if data is None:  # the clip ended a frame or two before its container's length said
                break
            self._last, self._next = data, self._next + 1
        if self._last is None:
            raise BuildError(f"ffmpeg gave no picture of {self.path} at {seconds:.2f} s")
        w, h = self.width, self.height
        picture = np.frombuffer(self._last, np.uint8)
        return (picture[:w * h].reshape(h, w), picture[w * h:w * h * 5 // 4].reshape(h // 2, w // 2),
                picture[w * h * 5 // 4:].reshape(h // 2, w // 2))

    def _open(self, number: int) -> None:
        import imageio_ffmpeg

        # imageio logs a warning whenever the pictures are not the clip's own size (ours never are: they
        # are cropped), which Python prints on stderr when nothing else handles it.
        logging.getLogger("imageio_ffmpeg").setLevel(logging.ERROR)
        self.close()
        # moviepy's seek: a hair before the frame's time, so ffmpeg's first picture is that frame.
        seek = ["-ss", f"{number / self.rate - 0.00001:.6f}"] if number else []
        self._frames = imageio_ffmpeg.read_frames(
            self.path, pix_fmt="yuv420p", bits_per_pixel=12, input_params=seek,
            output_params=["-map", "0:v:0", "-an", "-sn", "-vf", self.filters, "-nostats"])
        try:
            next(self._frames)  # the stream's description (imageio reads it from ffmpeg's log)
        except (OSError, RuntimeError) as exc:
            self.close()
            raise BuildError(f"ffmpeg could not read the clip {self.path}: {str(exc).splitlines()[0]}") from exc
        self._next, self._last = number, None

    def close(self) -> None:
        """Stop ffmpeg (the generator's own clean-up)."""
        if self._frames is not None:
            self._frames.close()
            self._frames = None


class _ReadAhead:
    """A clip's pictures by time, the next one read while the one before is composed and encoded.

    While one picture is composed and encoded, the next one (the frame after it: frames are asked
    for in order) is read on a thread of its own: waiting for ffmpeg to decode and scale it then
    overlaps the work on the picture before (a pipe read and numpy both let go of the GIL).  The
    clip is only ever read by one thread at a time: a read is waited for before the next starts.
    """

    def __init__(self, read: Callable[[float], Any], close: Callable[[], None], length: float | None):
        self._read, self._close, self.length = read, close, length
        self._ahead: tuple[float, Future] | None = None  # the picture being read ahead, and when it is
        self._reader: ThreadPoolExecutor | None = None

    def frame(self, seconds: float, following: float) -> Any:
        """The picture at ``seconds``; the one at ``following`` is read meanwhile."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            wait([ahead[1]])  # the clip is free again (a failed read that is not wanted is dropped)
        frame = ahead[1].result() if ahead is not None and ahead[0] == seconds else self._read(seconds)
        if self._reader is None:
            self._reader = ThreadPoolExecutor(1, thread_name_prefix="backdrop-clip")
        self._ahead = (following, self._reader.submit(self._read, following))
        return frame

    def close(self) -> None:
        if self._reader is not None:
            self._reader.shutdown(wait=True)  # the read ahead ends before the reader closes
            self._reader = None
        self._ahead = None
        self._close()
