"""How the screen's texts fit their boxes, measured without loading a font.

The video draws with the shipped fonts through Pillow, but ``qidsl check``
must stay light (no Pillow, no numpy), and must still warn about a note or a
title too long to show whole at 720p.  So both use this module: the glyph
advances of the shipped fonts are kept in a small table
(:mod:`qidsl.fonts._advances`, made by ``python -m qidsl.fonts.textfit``),
and the wrapping and shrinking below decide the lines and size of every
text.  The renderer then draws exactly those lines; check warns when a text
needs to go below its box's smallest size.  Nothing is ever cut: a text that
cannot fit at its smallest size is shrunk further and shown whole.

A width here is the sum of the glyph advances, which is what Pillow draws
without kerning; kerning only brings glyphs closer, so the drawn text is at
most as wide as measured (to within hinting's rounding at tiny sizes).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from collections.abc import Callable

from . import _advances
from .breaks import WRONG, BreakRules
from ..lazyre import LazyPattern

# DejaVu has no Chinese, Japanese or Korean; text in those scripts is drawn
# with the shipped Droid Sans Fallback instead (it has Latin too, no bold).
_CJK = LazyPattern(r"[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf"
                  r"\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
SHRINK = 0.92  # each step down in size
SMALLEST = 6  # pixels: below this a text is not shrunk further (it wraps onto more lines instead)
# A character missing from the table (a rare script): counted as wide as "M",
# so the measure errs towards wrapping early rather than spilling.
_UNKNOWN = "M"
_ENGLISH = BreakRules("en")


def needs_cjk(text: str) -> bool:
    """Whether ``text`` has characters only the CJK font can draw."""
    return not text.isascii() and _CJK.search(text) is not None


def face_name(bold: bool, cjk: bool) -> str:
    """The key of the font a text is drawn in: ``regular``, ``bold`` or ``cjk``."""
    return "cjk" if cjk else ("bold" if bold else "regular")


@functools.lru_cache(maxsize=4)
def _table(face: str) -> dict[int, int]:
    table: dict[int, int] = {}
    for first, widths in _advances.ADVANCES[face]:
        for offset, width in enumerate(widths):
            table[first + offset] = width
    return table


def advance(char: str, face: str) -> int:
    """The advance of ``char`` in font units (``_advances.UNITS`` to the em)."""
    table = _table(face)
    width = table.get(ord(char))
    if width is None:
        width = _advances.UNITS if face == "cjk" or _CJK.match(char) else table[ord(_UNKNOWN)]
    return width


def text_width(text: str, size: float, face: str) -> float:
    """``text`` on one line at ``size`` pixels, in pixels."""
    table = _table(face)
    try:
        units = sum(table[ord(c)] for c in text)  # the usual case: every character in the table
    except KeyError:
        units = sum(advance(c, face) for c in text)
    return units * size / _advances.UNITS


def _split_long(word: str, measure: Callable[[str], float], max_width: float) -> list[str]:
    # A word wider than the line (or a script written without spaces) breaks between characters.
    pieces: list[str] = []
    current: list[str] = []
    width = 0.0
    for char in word:
        w = measure(char)
        if current and width + w > max_width:
            pieces.append("".join(current))
            current, width = [], 0.0
        current.append(char)
        width += w
    return pieces + (["".join(current)] if current else [])


# What a layout costs besides its breaks (qidsl.fonts.breaks: 0 after a full stop, 4 an
# ordinary break, 10 after a pronoun, 50 after an article or inside a name).
LINE_COST = 20.0  # a line more is worth it to avoid a wrong break, not an awkward one
FEWEST_LINES = 1000.0  # as line cost: the fewest lines first, the best breaks among those
RAGGED = 4.0  # a line left empty (a half-empty one costs a quarter); the last line is free


def _pieces(paragraph: str, measure: Callable[[str], float],
            max_width: float) -> tuple[list[str], list[bool], list[float]]:
    """The words of ``paragraph`` (a word wider than the line cut into pieces), which follow a space, their widths."""
    words, spaced, widths = [], [], []
    for word in paragraph.split():
        width = measure(word)
        if width <= max_width:
            words.append(word)
            spaced.append(True)
            widths.append(width)
            continue
        parts = _split_long(word, measure, max_width)
        words.extend(parts)
        spaced.extend([True] + [False] * (len(parts) - 1))
        widths.extend(measure(part) for part in parts)
    return words, spaced, widths


def wrap(text: str, measure: Callable[[str], float], max_width: float, rules: BreakRules | None = None,
         line_cost: float = LINE_COST) -> list[str]:
    """``text`` broken into lines no wider than ``max_width`` as ``measure`` counts width.

    Lines break where a reader pauses, by the rules captions follow
    (:class:`qidsl.fonts.breaks.BreakRules`, English unless ``rules`` says
    otherwise): never after an article or a preposition, never inside a name
    ("Next: Waking the / Waist" becomes "Next: / Waking the Waist").  The
    layout is the least costly one: its breaks' costs, ``line_cost`` per line
    (a line more is taken to avoid a wrong break, unless ``line_cost`` is
    :data:`FEWEST_LINES`) and the room left at the end of each line but the
    last (so lines are even).  A line break in the text always starts a new line.

    ``measure`` must add up (the width of a line is the sum of its words' and
    spaces' widths, as :func:`text_width` is), so each word is measured once;
    the search tries, for each word, only the lines that can end at it, so it
    stays linear in the text for a given width, however long the text.
    """
    return _layout(text, measure, max_width, rules or _ENGLISH, line_cost)[0]


def _layout(text: str, measure: Callable[[str], float], max_width: float, rules: BreakRules,
            line_cost: float) -> tuple[list[str], float]:
    """:func:`wrap`'s lines, and the cost of the worst break among them (0 for none)."""
    space = measure(" ")
    lines: list[str] = []
    worst = 0.0
    for paragraph in text.splitlines() or [""]:
        words, spaced, widths = _pieces(paragraph, measure, max_width)
        n = len(words)
        if not n:
            continue
        breaks = [rules.cost(words, k, spaced[k]) for k in range(n)]  # breaks[k]: a line starting at word k
        breaks[0] = 0.0
        # Prefix sums: the width of words[i:j] on one line is ends[j] - ends[i] - (space before words[i]).
        ends, lead = [0.0] * (n + 1), [0.0] * n
        for k in range(n):
            lead[k] = space if k and spaced[k] else 0.0
            ends[k + 1] = ends[k] + lead[k] + widths[k]
        best = [0.0] + [float("inf")] * n  # best[j]: the least cost of laying out words[:j]
        start = [0] * (n + 1)  # where the last line of that best layout starts
        ragged = RAGGED / (max_width * max_width)
        for j in range(1, n + 1):
            end, last, least, at = ends[j], j == n, float("inf"), j - 1
            for i in range(j - 1, -1, -1):
                width = end - ends[i] - lead[i]
                if width > max_width and i < j - 1:
                    break  # (a single piece wider than the line still gets a line of its own)
                cost = best[i] + breaks[i]
                if not last and width < max_width:
                    cost += ragged * (max_width - width) ** 2
                if cost < least:
                    least, at = cost, i
            best[j], start[j] = least + line_cost, at
        cuts, j = [], n
        while j > 0:
            cuts.append((start[j], j))
            j = start[j]
        for i, j in reversed(cuts):
            lines.append("".join((" " if k > i and spaced[k] else "") + words[k] for k in range(i, j)))
            worst = max(worst, breaks[i] if i else 0.0)
    return [line for line in lines if line] or [""], worst


@dataclass(frozen=True)
class Fit:
    """How a text is laid out: its size in pixels, its lines, and whether that is within limits."""

    size: int
    lines: tuple[str, ...]
    within_limits: bool  # False: shrunk below the smallest size (or onto more lines) to be shown whole


@functools.lru_cache(maxsize=16)
def break_rules(language: str) -> BreakRules:
    """The line-break rules of ``language`` (made once per language)."""
    return BreakRules(language)


@functools.lru_cache(maxsize=512)
def fit(text: str, size: int, min_size: int, max_width: int, max_lines: int, bold: bool = False,
        language: str = "en") -> Fit:
    """Wrap ``text`` to ``max_width``, shrinking from ``size`` towards ``min_size`` to fit ``max_lines``.

    Lines break at natural places for ``language`` (see :func:`wrap`); when
    the lines at a size can only break wrongly (after an article, inside a
    name), a smaller size within the limits that avoids it is taken instead.
    Past ``min_size`` it keeps shrinking (down to a few pixels) so the text
    is still shown whole, and says so with ``within_limits=False``.
    """
    face = face_name(bold, needs_cjk(text))
    rules = break_rules(language or "en")
    current, min_size = max(1, size), max(1, min(size, min_size))
    if "\n" not in text and text.strip() == text and text_width(text, current, face) <= max_width:
        return Fit(current, (text,), True)  # one line at full size: most texts, and the quickest answer
    # The words' width at 1 px (widths scale with the size), spaces left out: a lower bound of
    # what the lines must hold, so a size it rules out could never have fitted.
    total = text_width("".join(text.split()), 1.0, face)
    fallback: Fit | None = None  # the largest fit within limits that had to break wrongly
    lines: list[str]
    while True:
        if current > SMALLEST and total * current > max_lines * max_width * 1.0001:
            # Not even perfectly filled lines could hold it at this size: no need to wrap to know.
            lines, worst = [], 0.0
        else:
            measure = functools.partial(text_width, size=current, face=face)
            lines, worst = _layout(text, measure, max_width, rules, LINE_COST)
            if len(lines) > max_lines and current >= min_size:
                # Avoiding wrong breaks took a line too many: the fewest lines, the best breaks among those.
                # (Below its limits a text is shown as best it can be; a second search would cost as much.)
                lines, worst = _layout(text, measure, max_width, rules, FEWEST_LINES)
            within = current >= min_size and len(lines) <= max_lines
            if within and worst >= WRONG:
                # Inside a name or after an article: a size smaller, within limits, may read better.
                fallback = fallback or Fit(current, tuple(lines), True)
            elif len(lines) <= max_lines or current <= SMALLEST:
                return Fit(current, tuple(lines), within) if within or fallback is None else fallback
        if current > min_size:
            current = max(min_size, int(current * SHRINK))
        elif fallback is not None:
            return fallback
        else:
            current = max(SMALLEST, min(current - 1, int(current * SHRINK)))


@dataclass(frozen=True)
class Box:
    """A text's place on a 1280x720 frame: its size, smallest size, width and most lines."""

    size: int
    min_size: int
    width: int
    lines: int
    bold: bool = False

    def fit(self, text: str, scale: float = 1.0, language: str = "en") -> Fit:
        """``text`` of a routine in ``language`` in this box on a frame ``scale`` times 1280x720."""
        if scale == 1.0:
            return fit(text, self.size, self.min_size, self.width, self.lines, self.bold, language)

        def px(value: float) -> int:
            return max(1, round(value * scale))
        return fit(text, px(self.size), px(self.min_size), px(self.width), self.lines, self.bold, language)


# Every text an author writes that the video shows, in design pixels at 1280x720
# (margins of 64 px, so 1152 px of content width).  The layout in
# qidsl.renderers.video_layers places them; check measures against them.
BOXES = {
    "title": Box(72, 48, 1152, 3, True),         # the title card
    "author": Box(38, 28, 1152, 1),
    "card_notes": Box(30, 24, 979, 3),           # notes before the first section, on the title card
    "end_title": Box(38, 28, 1152, 2),           # the title again on the end card
    "section": Box(46, 34, 806, 2, True),        # top left, up to the counter's column
    "note": Box(30, 24, 410, 6),                 # the left column, clear of the pacer
    "side": Box(38, 28, 322, 2, True),           # the right column
    "next": Box(32, 26, 322, 3, True),           # "Next: <section>", the right column
}


def _measure_fonts() -> dict[str, list[tuple[int, list[int]]]]:  # pragma: no cover - run by hand
    """The advance table, measured from the shipped fonts with Pillow."""
    import io
    from importlib import resources

    from PIL import ImageFont

    files = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf", "cjk": "DroidSansFallbackFull.ttf"}
    ranges = {"regular": _advances.RANGES, "bold": _advances.RANGES, "cjk": ((0x20, 0x7F),)}
    out = {}
    for face, name in files.items():
        data = resources.files("qidsl.fonts").joinpath(name).read_bytes()
        font = ImageFont.truetype(io.BytesIO(data), _advances.UNITS)
        out[face] = [(first, [round(font.getlength(chr(c))) for c in range(first, end)])
                     for first, end in ranges[face]]
    return out


if __name__ == "__main__":  # pragma: no cover - regenerates qidsl/fonts/_advances.py
    import pprint
    from pathlib import Path

    table = _measure_fonts()
    target = Path(__file__).with_name("_advances.py")
    text = target.read_text(encoding="utf-8")
    head = text[:text.index("ADVANCES = ")]
    target.write_text(head + "ADVANCES = " + pprint.pformat(table, width=110, compact=True) + "\n",
                      encoding="utf-8")
