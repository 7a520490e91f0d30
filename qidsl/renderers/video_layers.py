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
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..fonts import textfit
from ..fonts.textfit import BOXES, face_name, needs_cjk
from ..words import screen_words

from .backdrop import BackdropView
from .themes import Theme


_FONT_FILES = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf",
               # DejaVu has no Chinese, Japanese or Korean: Droid Sans Fallback (Latin too, no bold).
               "cjk": "DroidSansFallbackFull.ttf"}
_LINE_SPACING = 1.12
CAPTION_SIZE = 44  # design pixels: the caption low above the bar, under a pacer or beside a note
CAPTION_MIDDLE_SIZE = 58  # the caption alone in the middle during speech


@functools.lru_cache(maxsize=3)
def _font_source(name: str) -> str | bytes:
    """The font file's path, or its bytes when the package is not a folder on disk (a zip)."""
    entry = resources.files("qidsl.fonts").joinpath(name)
    if isinstance(entry, Path):
        # FreeType maps a file from disk: one shared copy, where bytes are copied for every size.
        return str(entry)
    return entry.read_bytes()


@functools.lru_cache(maxsize=64)
def font(size: int, bold: bool = False, cjk: bool = False) -> ImageFont.FreeTypeFont:
    """The shipped DejaVu Sans at ``size`` pixels (Droid Sans Fallback for CJK text)."""
    source = _font_source(_FONT_FILES[face_name(bold, cjk)])
    return ImageFont.truetype(source if isinstance(source, str) else io.BytesIO(source), max(1, int(size)))


@dataclass(frozen=True)
class TextLayer:
    """Text drawn once: an 8-bit coverage mask, to be filled with a colour."""

    mask: Image.Image
    lines: tuple[str, ...] = ()  # the text as drawn, line by line (what a test can compare)

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
    return TextLayer(mask, tuple(lines))


@functools.lru_cache(maxsize=256)
def text_layer(text: str, size: int, bold: bool, max_width: int, max_lines: int = 1,
               align: str = "left", min_size: int | None = None, language: str = "en") -> TextLayer:
    """``text`` wrapped to ``max_width``, shrunk towards ``min_size`` to fit ``max_lines``.

    Lines break where a reader of ``language`` pauses, by the rules captions
    follow (:mod:`qidsl.fonts.breaks`).

    Lines and size come from :func:`qidsl.fonts.textfit.fit`, the measure
    ``qidsl check`` uses too, so a text check lets through is drawn within
    its limits.  Nothing is cut: a text too long at ``min_size`` is shrunk
    further and shown whole (and check has warned about it).  The cache is
    bounded so memory does not grow with the routine's length.
    """
    placed = textfit.fit(text, size, min_size or int(size * 0.75), max_width, max_lines, bold, language)
    return _render_lines(list(placed.lines), font(placed.size, bold, needs_cjk(text)), align)


def box_layer(name: str, text: str, layout: Layout, align: str = "left", language: str = "en") -> TextLayer:
    """``text`` of a routine in ``language`` in the box ``name`` of :data:`qidsl.fonts.textfit.BOXES`,
    at this layout's scale."""
    box = BOXES[name]
    return text_layer(text, layout.px(box.size), box.bold, layout.px(box.width), box.lines, align,
                      layout.px(box.min_size), language)


def countdown_text(seconds: int) -> str:
    """Seconds left as a viewer reads them: ``45``, or ``1:45`` from a minute up."""
    return str(seconds) if seconds < 60 else f"{seconds // 60}:{seconds % 60:02d}"


@functools.lru_cache(maxsize=512)  # a routine's pacer shows about 300 (number, size, room)s
def countdown_layer(text: str, size: int, radius: float) -> TextLayer:
    """The countdown ``text`` at ``size`` pixels or smaller, so its ink fits in a circle of ``radius``.

    The mask is cropped to the ink, so centring it centres the digits
    themselves (not the line box, whose descent would pull them up).
    """
    current = max(1, size)
    while True:
        face = font(current, True)
        left, top, right, bottom = face.getbbox(text)
        # The ink's corners stay inside the circle, with a little room to read.
        if math.hypot(right - left, bottom - top) / 2 <= 0.86 * radius or current <= textfit.SMALLEST:
            break
        current = max(textfit.SMALLEST, min(current - 1, int(current * textfit.SHRINK)))
    mask = Image.new("L", (int(right - left) + 2, int(bottom - top) + 2), 0)  # whole pixels from FreeType
    ImageDraw.Draw(mask).text((1 - left, 1 - top), text, font=face, fill=255)
    return TextLayer(mask, (text,))


def _lines_face(lines: tuple[str, ...], size: int, bold: bool, max_width: int) -> ImageFont.FreeTypeFont:
    cjk = needs_cjk("".join(lines))
    face = font(size, bold, cjk)
    widest = max((face.getlength(line) for line in lines), default=0.0)
    if widest > max_width:
        face = font(max(1, int(size * max_width / widest)), bold, cjk)
    return face


@functools.lru_cache(maxsize=256)
def lines_layer(lines: tuple[str, ...], size: int, bold: bool, max_width: int,
                align: str = "center") -> TextLayer:
    """Lines kept exactly as given (a caption cue), shrunk only if one is too wide."""
    return _render_lines(list(lines) or [""], _lines_face(lines, size, bold, max_width), align)


@functools.lru_cache(maxsize=256)
def word_layer(lines: tuple[str, ...], size: int, bold: bool, max_width: int, word: int) -> TextLayer:
    """Only the ``word``-th word (counted through ``lines`` split at spaces) where :func:`lines_layer` draws it.

    The same size of mask, so it is laid where the caption is laid (centred lines).
    """
    face = _lines_face(lines, size, bold, max_width)
    whole = _render_lines(list(lines) or [""], face, "center")
    ascent, descent = face.getmetrics()
    line_height = math.ceil((ascent + descent) * _LINE_SPACING)
    mask = Image.new("L", whole.mask.size, 0)
    draw = ImageDraw.Draw(mask)
    count = 0
    for i, line in enumerate(lines):
        pieces = line.split(" ")
        if count <= word < count + len(pieces):
            before = " ".join(pieces[:word - count] + [""]) if word > count else ""
            x = (whole.mask.size[0] - face.getlength(line)) / 2 + face.getlength(before)
            draw.text((x, i * line_height), pieces[word - count], font=face, fill=255)
            break
        count += len(pieces)
    return TextLayer(mask, ())


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
    def speech_box(self) -> tuple[int, int, int, int]:
        """Where the caption goes, large and centred on the pacer's middle, while only speech is on."""
        return self.margin_x, self.pacer_box[1], self.width - self.margin_x, self.caption_box[3]

    @property
    def figure_box(self) -> tuple[int, int, int, int]:
        """The figure's place: right of the pacer, under the right column's texts, above the captions.

        Nothing else is drawn there while the figure shows (a caption then keeps
        to its low box, never the middle), so the figure covers no text and no
        text the figure.  Even corners, as for every moving part.
        """
        left = _even_up(self.pacer_box[2] + self.px(24))
        bottom = _even(self.caption_box[1] - self.px(12))
        return left, _even(self.px(236)), _even(self.width - self.margin_x), bottom

    @property
    def title_box(self) -> tuple[int, int, int, int]:
        """The title on the title card."""
        return self.margin_x, round(0.18 * self.height), self.width - self.margin_x, round(0.50 * self.height)


@dataclass(frozen=True)
class Screen:
    """What stays still on screen for a while: one composed image each.

    ``card`` is "intro" or "outro" for the title and end cards, when the
    other fields are unused; ``pacer`` is "breath" (disk and guide ring),
    "count" (seconds left only) or None.  Texts are as shown ("Round 2 / 3",
    "Next: Closing"), taken from the scene track.
    """

    card: str | None = None
    section: str | None = None
    caption: tuple[str, ...] = ()
    caption_word: int | None = None  # the word being spoken, counted through the caption's lines
    counter: str | None = None
    side: str | None = None
    note: str | None = None
    next_up: str | None = None
    phase: str | None = None
    pacer: str | None = None
    backdrop: BackdropView | None = None  # a photo or clip behind it all (drawn per frame, under a shade)
    figure: bool = False  # the figure is drawn (in Layout.figure_box): the caption keeps low, clear of it


@dataclass(frozen=True)
class CardText:
    """The routine's own words for the title and end cards."""

    title: str
    author: str | None
    length: str  # m:ss
    notes: tuple[str, ...]


class Painter:
    """Composes the still image of a :class:`Screen` with Pillow."""

    def __init__(self, layout: Layout, theme: Theme, card: CardText, words: dict[str, str] | None = None,
                 language: str = "en"):
        self.layout = layout
        self.theme = theme
        self.card = card
        self.words = words or screen_words(language)
        self.language = language  # where the routine's texts may break onto a new line
        self._background = Image.new("RGB", (layout.width, layout.height), theme.background)
        # What the last compose drew: (lines, box) per text, for tests and tools to compare.
        self.placed: list[tuple[tuple[str, ...], tuple[int, int, int, int]]] = []
        self._alpha: Image.Image | None = None  # while composing layers: every text's coverage
        self._layers_lock = threading.Lock()
        self.boxes: list[tuple[int, int, int, int]] = []  # where the last compose drew anything

    def _place(self, image: Image.Image, layer: TextLayer, x: float, y: float, colour,
               anchor: str = "left") -> tuple[int, int, int, int]:
        w, h = layer.size
        left = round({"left": x, "center": x - w / 2, "right": x - w}[anchor])
        top = round(y)
        image.paste(colour, (left, top, left + w, top + h), layer.mask)
        if self._alpha is not None:
            self._alpha.paste(255, (left, top, left + w, top + h), layer.mask)
        self.boxes.append((left, top, left + w, top + h))
        if layer.lines:
            self.placed.append((layer.lines, (left, top, left + w, top + h)))
        return left, top, left + w, top + h

    def compose(self, screen: Screen) -> np.ndarray:
        """The still frame for ``screen`` as an (height, width, 3) uint8 array."""
        image = self._background.copy()
        self.placed, self.boxes = [], []
        if screen.card == "intro":
            self._title_card(image)
        elif screen.card == "outro":
            self._end_card(image)
        else:
            self._routine(image, screen)
        return np.asarray(image)

    def compose_layers(self, screen: Screen) -> tuple[Image.Image, Image.Image, list, list]:
        """The texts of ``screen`` on nothing, to lay over a backdrop: their colours on black
        (premultiplied by their coverage, as Pillow's paste blends), their coverage (``L``), the boxes
        they cover and the texts placed (as :attr:`placed`).  One thread at a time: the painter is shared."""
        lay = self.layout
        with self._layers_lock:
            image = Image.new("RGB", (lay.width, lay.height), (0, 0, 0))
            self._alpha = alpha = Image.new("L", (lay.width, lay.height), 0)
            self.placed, self.boxes = [], []
            try:
                self._routine(image, screen)
                return image, alpha, list(self.boxes), list(self.placed)
            finally:
                self._alpha = None

    def _title_card(self, image: Image.Image) -> None:
        lay, theme, card = self.layout, self.theme, self.card
        bottom = lay.title_box[3]
        title = box_layer("title", card.title or " ", lay, "center", self.language)
        # The title sits on the bottom of its box so one or two lines both look placed.
        y = bottom - title.size[1]
        self._place(image, title, lay.width / 2, y, theme.text, "center")
        y = bottom + lay.px(22)
        if card.author:
            author = box_layer("author", card.author, lay, "center", self.language)
            self._place(image, author, lay.width / 2, y, theme.muted, "center")
            y += author.size[1] + lay.px(18)
        length = text_layer(card.length, lay.px(40), True, lay.content_width, 1, "center")
        self._place(image, length, lay.width / 2, y, theme.accent, "center")
        y += length.size[1] + lay.px(34)
        if card.notes:
            notes = box_layer("card_notes", "\n".join(card.notes), lay, "center", self.language)
            self._place(image, notes, lay.width / 2, y, theme.text, "center")

    def _end_card(self, image: Image.Image) -> None:
        lay, theme, card = self.layout, self.theme, self.card
        width = lay.content_width
        thanks = text_layer(self.words["end"], lay.px(60), True, width, 2, "center", language=self.language)
        y = round(0.40 * lay.height) - thanks.size[1]
        self._place(image, thanks, lay.width / 2, y, theme.text, "center")
        y = round(0.40 * lay.height) + lay.px(30)
        title = box_layer("end_title", card.title or " ", lay, "center", self.language)
        self._place(image, title, lay.width / 2, y, theme.accent, "center")
        if card.author:
            y += title.size[1] + lay.px(16)
            author = box_layer("author", card.author, lay, "center", self.language)
            self._place(image, author, lay.width / 2, y, theme.muted, "center")

    def _routine(self, image: Image.Image, screen: Screen) -> None:
        lay, theme = self.layout, self.theme
        top, left, right = lay.margin_y, lay.margin_x, lay.width - lay.margin_x
        # Boxes (qidsl.fonts.textfit.BOXES): the left column stays clear of the pacer, the
        # right column of both; the section title may run up to the counter's column.
        left_y = top
        if screen.section:
            section = box_layer("section", screen.section, lay, "left", self.language)
            left_y = self._place(image, section, left, top, theme.text)[3]
        left_y = max(left_y, top + lay.px(56)) + lay.px(10)
        if screen.note:
            note = box_layer("note", screen.note, lay, "left", self.language)
            left_y = self._place(image, note, left, left_y, theme.muted)[3]
        y = top
        if screen.counter:
            counter = text_layer(screen.counter, lay.px(52), True, round(lay.content_width * 0.28), 1, "right")
            y = self._place(image, counter, right, y, theme.accent, "right")[3] + lay.px(10)
        else:
            y += lay.px(10)
        if screen.side:
            side = box_layer("side", screen.side, lay, "right", self.language)
            y = self._place(image, side, right, y, theme.text, "right")[3] + lay.px(14)
        if screen.next_up:
            nxt = box_layer("next", screen.next_up, lay, "right", self.language)
            y = self._place(image, nxt, right, max(y, top + lay.px(66)), theme.accent, "right")[3]
        if screen.pacer == "breath":
            ring = ring_layer(lay.pacer_max_radius, lay.ring_thickness)
            cx, cy = lay.pacer_centre
            self._place(image, ring, cx, cy - ring.size[1] / 2, theme.track, "center")
        if screen.phase:
            phase = text_layer(screen.phase, lay.px(40), True, lay.content_width, 1, "center")
            self._place(image, phase, lay.width / 2, lay.phase_label_top, theme.text, "center")
        if screen.caption:
            self._caption(image, screen, max(y, left_y))

    def _caption(self, image: Image.Image, screen: Screen, taken: int) -> None:
        """The caption: large in the empty middle while only speech is on, else low above the bar.

        During speech with no pacer and no note the middle of the frame would
        be empty; the words being said read best there, large, where the eye
        rests between breaths.  Below ``taken`` the top rows are clear.
        """
        lay, theme = self.layout, self.theme
        cl, ct, cr, cb = lay.caption_box
        middle = screen.pacer is None and screen.note is None and not screen.figure
        size = lay.px(CAPTION_MIDDLE_SIZE if middle else CAPTION_SIZE)
        caption = lines_layer(screen.caption, size, False, cr - cl)
        if middle:
            y = max(lay.pacer_centre[1] - caption.size[1] / 2, taken + lay.px(16), lay.speech_box[1])
            y = min(y, cb - caption.size[1])
        else:
            y = max(ct, cb - caption.size[1])
        self._place(image, caption, lay.width / 2, y, theme.text, "center")
        if screen.caption_word is not None:  # `captions: words`: the word being spoken, in the accent colour
            marked = word_layer(screen.caption, size, False, cr - cl, screen.caption_word)
            self._place(image, marked, lay.width / 2, y, theme.accent, "center")
