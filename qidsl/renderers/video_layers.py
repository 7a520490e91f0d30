"""The still parts of a video frame: where things go, and text drawn once with Pillow.

Everything that does not move between two changes of what is on screen (the
section title, the caption, the counter, a card) is composed here into one
full-frame image per visual state.  The moving parts (pacer, progress bar)
are drawn per frame by :mod:`qidsl.renderers.video` on top of it.

Fonts are the DejaVu files shipped in ``qidsl.fonts`` so every machine draws
the same frames; system fonts are never used.
"""

from __future__ import annotations

import functools
import io
import math
import re
from dataclasses import dataclass
from importlib import resources

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..words import screen_words

from .themes import Theme


_FONT_FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}
# DejaVu has no Chinese, Japanese or Korean; text in those scripts is drawn
# with the shipped Droid Sans Fallback instead (it has Latin too, no bold).
_CJK_FONT_FILE = "DroidSansFallbackFull.ttf"
_CJK = re.compile(r"[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf"
                  r"\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
_LINE_SPACING = 1.12
_ELLIPSIS = "…"


@functools.lru_cache(maxsize=3)
def _font_bytes(name: str) -> bytes:
    # Read through importlib.resources so the fonts are found inside a wheel or zip too.
    return resources.files("qidsl.fonts").joinpath(name).read_bytes()


@functools.lru_cache(maxsize=64)
def font(size: int, bold: bool = False, cjk: bool = False) -> ImageFont.FreeTypeFont:
    """The shipped DejaVu Sans at ``size`` pixels (Droid Sans Fallback for CJK text)."""
    name = _CJK_FONT_FILE if cjk else _FONT_FILES[bold]
    return ImageFont.truetype(io.BytesIO(_font_bytes(name)), max(1, int(size)))


def needs_cjk(text: str) -> bool:
    """Whether ``text`` has characters only the CJK font can draw."""
    return _CJK.search(text) is not None


def _split_long(word: str, face: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    # A word wider than the line (or a script written without spaces) breaks between characters.
    pieces, current = [], ""
    for char in word:
        if current and face.getlength(current + char) > max_width:
            pieces.append(current)
            current = char
        else:
            current += char
    return pieces + ([current] if current else [])


def wrap(text: str, face: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """``text`` broken into lines no wider than ``max_width`` pixels in ``face``."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if face.getlength(candidate) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            if face.getlength(word) <= max_width:
                current = word
            else:
                *full, current = _split_long(word, face, max_width)
                lines.extend(full)
        lines.append(current)
    return [line for line in lines if line] or [""]


def _truncate(line: str, face: ImageFont.FreeTypeFont, max_width: float) -> str:
    while line and face.getlength(line + _ELLIPSIS) > max_width:
        line = line[:-1]
    return line.rstrip() + _ELLIPSIS


@dataclass(frozen=True)
class TextLayer:
    """Text drawn once: an 8-bit coverage mask, to be filled with a colour."""

    mask: Image.Image

    @property
    def size(self) -> tuple[int, int]:
        return self.mask.size


def _render_lines(lines: list[str], face: ImageFont.FreeTypeFont, align: str) -> TextLayer:
    ascent, descent = face.getmetrics()
    line_height = math.ceil((ascent + descent) * _LINE_SPACING)
    widths = [face.getlength(line) for line in lines]
    width = max(1, math.ceil(max(widths)) + 2)
    height = line_height * (len(lines) - 1) + ascent + descent
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    for i, (line, line_width) in enumerate(zip(lines, widths)):
        x = {"left": 0, "center": (width - line_width) / 2, "right": width - line_width}[align]
        draw.text((x, i * line_height), line, font=face, fill=255)
    return TextLayer(mask)


@functools.lru_cache(maxsize=256)
def text_layer(text: str, size: int, bold: bool, max_width: int, max_lines: int = 1,
               align: str = "left", min_size: int | None = None) -> TextLayer:
    """``text`` wrapped to ``max_width``, shrunk towards ``min_size`` to fit ``max_lines``.

    Text still too long at the smallest size is cut with an ellipsis: a
    screen has room for a glance, the full text is in the captions file.
    The cache is bounded so memory does not grow with the routine's length.
    """
    min_size = min(size, min_size or int(size * 0.75))
    current = size
    cjk = needs_cjk(text)
    while True:
        face = font(current, bold, cjk)
        lines = wrap(text, face, max_width)
        if len(lines) <= max_lines or current <= min_size:
            break
        current = max(min_size, int(current * 0.92))
    if len(lines) > max_lines:
        lines = lines[:max_lines - 1] + [_truncate(lines[max_lines - 1], face, max_width)]
    return _render_lines(lines, face, align)


@functools.lru_cache(maxsize=256)
def lines_layer(lines: tuple[str, ...], size: int, bold: bool, max_width: int,
                align: str = "center") -> TextLayer:
    """Lines kept exactly as given (a caption cue), shrunk only if one is too wide."""
    cjk = needs_cjk("".join(lines))
    face = font(size, bold, cjk)
    widest = max((face.getlength(line) for line in lines), default=0.0)
    if widest > max_width:
        face = font(max(1, int(size * max_width / widest)), bold, cjk)
    return _render_lines(list(lines) or [""], face, align)


@functools.lru_cache(maxsize=8)
def ring_layer(radius: float, thickness: float) -> TextLayer:
    """A smooth circle outline centred in a square mask (drawn 4x larger, then reduced)."""
    scale = 4
    side = 2 * math.ceil(radius + thickness) + 2
    big = Image.new("L", (side * scale, side * scale), 0)
    centre = side * scale / 2
    outer = (radius + thickness / 2) * scale
    ImageDraw.Draw(big).ellipse(
        (centre - outer, centre - outer, centre + outer, centre + outer),
        outline=255, width=max(1, round(thickness * scale)))
    return TextLayer(big.resize((side, side), Image.Resampling.BOX))


def _even(value: float) -> int:
    return 2 * round(value / 2)


def _even_up(value: float) -> int:
    return 2 * math.ceil(value / 2)


@dataclass(frozen=True)
class Layout:
    """Where everything sits on a frame of ``width`` x ``height``.

    Designed at 1280x720 and scaled; margins are 5% of each side (a phone's
    safe area).  Boxes are ``(left, top, right, bottom)`` in pixels.
    """

    width: int
    height: int

    @property
    def scale(self) -> float:
        return min(self.width / 1280, self.height / 720)

    def px(self, value: float) -> int:
        """A design size at 1280x720 in this frame's pixels (at least 1)."""
        return max(1, round(value * self.scale))

    @property
    def margin_x(self) -> int:
        return round(0.05 * self.width)

    @property
    def margin_y(self) -> int:
        return round(0.05 * self.height)

    @property
    def content_width(self) -> int:
        return self.width - 2 * self.margin_x

    # The breath pacer: a disk between two radii, centred a little above the middle.
    @property
    def pacer_centre(self) -> tuple[int, int]:
        # Even coordinates: the moving parts are redrawn in 2x2 blocks (4:2:0 chroma).
        return _even(self.width / 2), _even(0.475 * self.height)

    @property
    def pacer_max_radius(self) -> float:
        return 0.19 * self.height

    @property
    def pacer_min_radius(self) -> float:
        return 0.065 * self.height

    @property
    def ring_thickness(self) -> float:
        return max(1.0, 3 * self.scale)

    @property
    def pacer_box(self) -> tuple[int, int, int, int]:
        cx, cy = self.pacer_centre
        reach = _even_up(self.pacer_max_radius + self.ring_thickness + 2)
        return cx - reach, cy - reach, cx + reach, cy + reach

    @property
    def phase_label_top(self) -> int:
        return self.pacer_box[3] + self.px(8)

    @property
    def bar_box(self) -> tuple[int, int, int, int]:
        bottom = _even(self.height - self.margin_y)
        return _even(self.margin_x), bottom - _even_up(8 * self.scale), _even(self.width - self.margin_x), bottom

    @property
    def caption_box(self) -> tuple[int, int, int, int]:
        """Where captions are drawn (bottom-aligned, above the progress bar)."""
        bottom = self.bar_box[1] - self.px(22)
        return self.margin_x, bottom - self.px(112), self.width - self.margin_x, bottom

    @property
    def title_box(self) -> tuple[int, int, int, int]:
        """The title on the title card."""
        return self.margin_x, round(0.18 * self.height), self.width - self.margin_x, round(0.50 * self.height)


@dataclass(frozen=True)
class Screen:
    """What stays still on screen for a while: one composed image each.

    ``card`` is "intro" or "outro" for the title and end cards, when the
    other fields are unused; ``pacer`` is "breath" (disk and guide ring),
    "count" (seconds left only) or None.
    """

    card: str | None = None
    section: str | None = None
    caption: tuple[str, ...] = ()
    counter: str | None = None
    side: str | None = None
    note: str | None = None
    next_up: str | None = None
    phase: str | None = None
    pacer: str | None = None


@dataclass(frozen=True)
class CardText:
    """The routine's own words for the title and end cards."""

    title: str
    author: str | None
    length: str  # m:ss
    notes: tuple[str, ...]


class Painter:
    """Composes the still image of a :class:`Screen` with Pillow."""

    def __init__(self, layout: Layout, theme: Theme, card: CardText, words: dict[str, str] | None = None):
        self.layout = layout
        self.theme = theme
        self.card = card
        self.words = words or screen_words("en")
        self._background = Image.new("RGB", (layout.width, layout.height), theme.background)

    def _place(self, image: Image.Image, layer: TextLayer, x: float, y: float, colour,
               anchor: str = "left") -> tuple[int, int, int, int]:
        w, h = layer.size
        left = round({"left": x, "center": x - w / 2, "right": x - w}[anchor])
        top = round(y)
        image.paste(colour, (left, top, left + w, top + h), layer.mask)
        return left, top, left + w, top + h

    def compose(self, screen: Screen) -> np.ndarray:
        """The still frame for ``screen`` as an (height, width, 3) uint8 array."""
        image = self._background.copy()
        if screen.card == "intro":
            self._title_card(image)
        elif screen.card == "outro":
            self._end_card(image)
        else:
            self._routine(image, screen)
        return np.asarray(image)

    def _title_card(self, image: Image.Image) -> None:
        lay, theme, card = self.layout, self.theme, self.card
        left, top, right, bottom = lay.title_box
        width = right - left
        title = text_layer(card.title or " ", lay.px(72), True, width, 2, "center", lay.px(48))
        # The title sits on the bottom of its box so one or two lines both look placed.
        y = bottom - title.size[1]
        self._place(image, title, lay.width / 2, y, theme.text, "center")
        y = bottom + lay.px(22)
        if card.author:
            author = text_layer(card.author, lay.px(38), False, width, 1, "center")
            self._place(image, author, lay.width / 2, y, theme.muted, "center")
            y += author.size[1] + lay.px(18)
        length = text_layer(card.length, lay.px(40), True, width, 1, "center")
        self._place(image, length, lay.width / 2, y, theme.accent, "center")
        y += length.size[1] + lay.px(34)
        if card.notes:
            room = lay.bar_box[1] - lay.px(20) - y
            notes = text_layer("\n".join(card.notes), lay.px(30), False, round(width * 0.85),
                               max(1, room // lay.px(38)), "center", lay.px(24))
            self._place(image, notes, lay.width / 2, y, theme.text, "center")

    def _end_card(self, image: Image.Image) -> None:
        lay, theme, card = self.layout, self.theme, self.card
        width = lay.content_width
        thanks = text_layer(self.words["end"], lay.px(60), True, width, 2, "center")
        y = round(0.40 * lay.height) - thanks.size[1]
        self._place(image, thanks, lay.width / 2, y, theme.text, "center")
        y = round(0.40 * lay.height) + lay.px(30)
        title = text_layer(card.title or " ", lay.px(38), False, width, 2, "center")
        self._place(image, title, lay.width / 2, y, theme.accent, "center")
        if card.author:
            y += title.size[1] + lay.px(16)
            author = text_layer(card.author, lay.px(32), False, width, 1, "center")
            self._place(image, author, lay.width / 2, y, theme.muted, "center")

    def _routine(self, image: Image.Image, screen: Screen) -> None:
        lay, theme = self.layout, self.theme
        top, left, right = lay.margin_y, lay.margin_x, lay.width - lay.margin_x
        # The left column must stay clear of the pacer, the right column of both.
        # (the same width with or without a pacer, so a note does not reflow when one appears).
        left_width = lay.pacer_box[0] - lay.px(24) - left
        right_width = round(lay.content_width * 0.28)
        if screen.section:
            # The top row is above the pacer: the title may run up to the counter's column.
            section = text_layer(screen.section, lay.px(46), True, round(lay.content_width * 0.70), 1,
                                 "left", lay.px(34))
            self._place(image, section, left, top, theme.text)
        if screen.note:
            note = text_layer(screen.note, lay.px(30), False, left_width, 3, "left", lay.px(24))
            self._place(image, note, left, top + lay.px(66), theme.muted)
        y = top
        if screen.counter:
            counter = text_layer(screen.counter, lay.px(52), True, right_width, 1, "right")
            y = self._place(image, counter, right, y, theme.accent, "right")[3] + lay.px(10)
        else:
            y += lay.px(10)
        if screen.side:
            side = text_layer(screen.side, lay.px(38), True, right_width, 1, "right", lay.px(28))
            y = self._place(image, side, right, y, theme.text, "right")[3] + lay.px(14)
        if screen.next_up:
            label = self.words["next"].format(screen.next_up)
            nxt = text_layer(label, lay.px(32), True, right_width, 2, "right", lay.px(26))
            self._place(image, nxt, right, max(y, top + lay.px(66)), theme.accent, "right")
        if screen.pacer == "breath":
            ring = ring_layer(lay.pacer_max_radius, lay.ring_thickness)
            cx, cy = lay.pacer_centre
            self._place(image, ring, cx, cy - ring.size[1] / 2, theme.track, "center")
        if screen.phase:
            phase = text_layer(screen.phase, lay.px(40), True, lay.content_width, 1, "center")
            self._place(image, phase, lay.width / 2, lay.phase_label_top, theme.text, "center")
        if screen.caption:
            cl, ct, cr, cb = lay.caption_box
            caption = lines_layer(screen.caption, lay.px(44), False, cr - cl)
            self._place(image, caption, lay.width / 2, max(ct, cb - caption.size[1]), theme.text, "center")
