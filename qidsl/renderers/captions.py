"""Captions (SRT and WebVTT) from the timeline's spoken sentences.

The broadcast rules of the BBC subtitle guidelines and Netflix's timed-text
style guide: at most 2 lines of at most 42 characters, each cue on screen
for 1 to 7 seconds, cues never overlapping, and breaks where a reader
pauses.  A cue shows a sentence where it can; a long sentence is split
into cues at clause boundaries, and a short one ("Welcome.") is joined to
the next.  Lines and cues break after punctuation or before a conjunction,
never after an article or a preposition and never inside a name ("Dan
Tian").  Each choice is a least-cost search over the break points (see
:class:`qidsl.fonts.breaks.BreakRules` for the costs).  A part's time is its sentence's time
shared in proportion to its characters.  Scripts written without spaces
(Chinese, Japanese) are wrapped between characters.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..engines.timing import Word
from ..fonts.breaks import SENTENCE_END as _SENTENCE_END, TRAILING as _TRAILING, UNSPACED as _UNSPACED, BreakRules
from ..outputs import write_text_atomic
from ..timeline import Timeline

MAX_CHARS = 42
MAX_LINES = 2
MIN_SECONDS = 1.0
MAX_SECONDS = 7.0

# Punctuation that must not begin a line (kinsoku): it stays with what precedes it.
_NO_LINE_START = set("、。，．！？：；）」』】〉》〕］｝〜ー・…‥ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮ!?.,;:)]}”’")
# Opening brackets that must not end a line: they stay with what follows.
_NO_LINE_END = set("（「『【〈《〔［｛([{“‘")
# The longest text two lines can hold: two full lines and the space between them.
_WIDEST = MAX_CHARS * MAX_LINES + MAX_LINES - 1


@dataclass(frozen=True)
class Cue:
    """One caption: times in seconds, one or two lines of text.

    ``words``: when each of its words (its lines split at spaces) is spoken,
    or empty where that is not known (a script written without spaces).
    """

    start: float
    end: float
    lines: tuple[str, ...]
    words: tuple[Word, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class _Token:
    text: str
    spaced: bool  # a space separates it from the token before


def _tokens(text: str) -> list[_Token]:
    """Units that a line may be broken between: words, or single characters in unspaced scripts."""
    tokens: list[_Token] = []
    for word in text.split():
        pieces = [word[0]]
        for before, char in zip(word, word[1:]):
            breakable = bool(_UNSPACED.match(char) or _UNSPACED.match(before))
            if breakable and char not in _NO_LINE_START and before not in _NO_LINE_END:
                pieces.append(char)
            else:
                pieces[-1] += char
        for i, piece in enumerate(pieces):
            spaced = i == 0
            # A piece longer than a line (a long URL) is cut into line-sized parts.
            while len(piece) > MAX_CHARS:
                tokens.append(_Token(piece[:MAX_CHARS], spaced))
                piece, spaced = piece[MAX_CHARS:], False
            tokens.append(_Token(piece, spaced))
    return tokens


def _join(tokens: list[_Token]) -> str:
    return "".join((" " if t.spaced and i else "") + t.text for i, t in enumerate(tokens))


BORROW = 0.3  # seconds a cue may start after its speech, to let a short cue before it last 1 s
# The break rules are shared with the screen's texts (qidsl.fonts.textfit): one set of rules.
_Breaks = BreakRules


class _Run:
    """Tokens with what the searches ask of them again and again, computed once.

    ``cost[k]`` is the cost of a break before token ``k``; widths come from
    prefix sums, so trying a cue or a line costs no string building.
    """

    def __init__(self, tokens: list[_Token], breaks: _Breaks, sentence_starts: frozenset[int] = frozenset()):
        self.tokens = tokens
        n = len(tokens)
        # Between two sentences is always a natural break, punctuated or not.
        texts = [token.text for token in tokens]
        self.cost = [0.0 if k in sentence_starts else breaks.cost(texts, k, k >= n or tokens[k].spaced)
                     for k in range(n + 1)]
        self._chars = [0] * (n + 1)
        self._spaces = [0] * (n + 1)
        for k, token in enumerate(tokens):
            self._chars[k + 1] = self._chars[k] + len(token.text)
            self._spaces[k + 1] = self._spaces[k] + (1 if token.spaced else 0)
        # Breaks right after the end of a sentence (a full stop, a question mark…).
        self.sentence_end = [0 < k < n and (k in sentence_starts or tokens[k].spaced and tokens[k - 1].text.rstrip(
            _TRAILING).endswith(_SENTENCE_END)) for k in range(n + 1)]

    def width(self, i: int, j: int) -> int:
        """Characters of tokens i..j-1 joined (spaces included)."""
        if j <= i:
            return 0
        return self._chars[j] - self._chars[i] + self._spaces[j] - self._spaces[i + 1]

    def text(self, i: int, j: int) -> str:
        return _join(self.tokens[i:j])

    def lines(self, i: int, j: int) -> tuple[float, int | None] | None:
        """Tokens i..j-1 as lines: (cost, where the second line starts or None for one line); None if too wide."""
        if self.width(i, j) <= MAX_CHARS:
            # Two sentences joined in one cue read best one to a line ("Welcome." / "This is ...").
            ends = [k for k in range(i + 1, j) if self.sentence_end[k]]
            return (0.0, ends[0]) if len(ends) == 1 else (0.0, None)
        best: tuple[float, int | None] | None = None
        for cut in range(i + 1, j):
            top, bottom = self.width(i, cut), self.width(cut, j)
            if top > MAX_CHARS:
                break
            if bottom <= MAX_CHARS:
                # A natural break first; then lines of similar length (uneven ones matter less
                # after a full stop), the lower one a little longer on a tie (the Netflix
                # guide's bottom-heavy pyramid).
                natural = self.cost[cut]
                cost = natural + abs(top - bottom) / (30 if natural == 0 else 10) + (0.01 if top > bottom else 0)
                if best is None or cost < best[0]:
                    best = (cost, cut)
        return best

    def cue_lines(self, i: int, j: int) -> list[str]:
        found = self.lines(i, j)
        cut = None if found is None else found[1]
        return [self.text(i, j)] if cut is None else [self.text(i, cut), self.text(cut, j)]


def _lines(tokens: list[_Token], breaks: _Breaks | None = None) -> list[str] | None:
    """The tokens as one line, or two lines broken at the most natural place; None when they do not fit."""
    run = _Run(tokens, breaks or _Breaks("en"))
    return None if run.lines(0, len(tokens)) is None else run.cue_lines(0, len(tokens))


@dataclass(frozen=True)
class _Part:
    """Tokens of one sentence, and the sentence's times."""

    tokens: list[_Token]
    start: float
    end: float


def _run_cues(parts: list[_Part], breaks: _Breaks) -> list[Cue]:
    """Cues for the sentences of one spoken text: a least-cost choice of cue breaks.

    A cue must fit two lines.  Costs: the break itself (:class:`_Breaks`),
    the cue's own line break, a cue under 1 s or over 7 s (steep), a
    sentence joined to the next (slight: one sentence a cue where it
    can), and a small part split off a sentence (a lonely scrap).
    """
    tokens: list[_Token] = []
    owner: list[int] = []  # the sentence of each token
    for index, part in enumerate(parts):
        tokens += part.tokens
        owner += [index] * len(part.tokens)
    n = len(tokens)
    if not n:
        return []
    first = [0] * len(parts)  # each sentence's first token
    for k in range(n - 1, -1, -1):
        first[owner[k]] = k
    run = _Run(tokens, breaks, frozenset(first[1:]))
    last = [first[i] + len(p.tokens) for i, p in enumerate(parts)]

    def time_at(k: int, starting: bool) -> float:
        """The time at the break before token k (approximate inside a sentence: by characters)."""
        if k >= n:
            return parts[-1].end
        index = owner[k]
        part = parts[index]
        if k == first[index]:
            return part.start if starting else parts[index - 1].end
        left, right = run.width(first[index], k), run.width(k, last[index])
        return part.start + (part.end - part.start) * left / max(1, left + right)

    starts = [time_at(k, True) for k in range(n)]
    ends = [0.0] + [time_at(k, False) for k in range(1, n + 1)]
    inf = float("inf")
    best = [inf] * (n + 1)
    back = [0] * (n + 1)
    best[0] = 0.0
    for j in range(1, n + 1):
        # A cue break inside a sentence weighs more than a line break there: the reader
        # loses the rest of the sentence from view.
        cut_cost = 1.5 * run.cost[j] + 4 if j < n and j != first[owner[j]] else 0.0
        for i in range(j - 1, -1, -1):
            width = run.width(i, j)
            if width > _WIDEST:
                break
            if best[i] == inf:
                continue
            found = run.lines(i, j)
            if found is None:
                continue
            duration = ends[j] - starts[i]
            cost = best[i] + cut_cost + found[0]
            if duration < MIN_SECONDS - BORROW:
                cost += 30 + 30 * (MIN_SECONDS - duration)
            elif duration < MIN_SECONDS:
                cost += 3  # the next cue can wait that long (see _at_least_a_second)
            if duration > MAX_SECONDS:
                cost += 40 * (duration - MAX_SECONDS)
            if owner[j - 1] != owner[i]:  # sentences joined in one cue: better on lines of their own
                cost += 1.5 * (owner[j - 1] - owner[i])
                if found[1] is None or not run.sentence_end[found[1]]:
                    cost += 5 if width > MAX_CHARS else 0
            inside = i != first[owner[i]] or (j < n and j != first[owner[j]])
            if inside and width < 30:
                cost += (30 - width) / 6  # a scrap of a sentence
            if cost < best[j]:
                best[j], back[j] = cost, i
    cuts = [n]
    while cuts[-1] > 0:
        cuts.append(back[cuts[-1]])
    cuts.reverse()
    return _timed_cues(parts, run, cuts, owner, first, last)


def _timed_cues(parts: list[_Part], run: _Run, cuts: list[int], owner: list[int], first: list[int],
                last: list[int]) -> list[Cue]:
    """The cues between the chosen token ``cuts`` (see :func:`_run_cues`), with their exact times."""
    # Exact times: each sentence's time shared between its pieces by their characters.
    times: dict[int, float] = {}  # a cut inside a sentence -> its time
    for index, part in enumerate(parts):
        inner = [c for c in cuts if first[index] < c < last[index]]
        edges = [first[index]] + inner + [last[index]]
        pieces = [run.width(a, b) for a, b in zip(edges, edges[1:])]
        total, done = sum(pieces), 0
        for c, length in zip(inner, pieces):
            done += length
            times[c] = round(part.start + (part.end - part.start) * done / total, 3)
    cues = []
    for i, j in zip(cuts, cuts[1:]):
        start = times.get(i, parts[owner[i]].start)
        end = times.get(j, parts[owner[j - 1]].end)
        cues.append(Cue(round(start, 3), round(end, 3), tuple(run.cue_lines(i, j))))
    return cues


def _joined(a: Cue, b: Cue, breaks: _Breaks) -> Cue | None:
    """``a`` and ``b`` as one cue, if their text fits two lines and the time 7 s."""
    if b.end - a.start > MAX_SECONDS:
        return None
    if len(a.lines) == 1 and len(b.lines) == 1:
        return Cue(a.start, b.end, a.lines + b.lines)  # each on its own line ("1" / "Float up.")
    lines = _lines(_tokens(" ".join(a.lines + b.lines)), breaks)
    return None if lines is None else Cue(a.start, b.end, tuple(lines))


def _at_least_a_second(cues: list[Cue], duration: float, breaks: _Breaks) -> list[Cue]:
    """No cue under 1 s: held into the silence after it, else joined to a neighbour.

    In order of preference: the silence after it; the next cue starting up
    to 0.3 s late; joined with the next cue, or the previous one; the
    silence before it; and only for speech too dense to read, the cues
    after it starting late.
    """
    cues = list(cues)
    i = 0
    while i < len(cues):
        cue = cues[i]
        if round(cue.end - cue.start, 3) >= MIN_SECONDS:  # to the millisecond: 7.931 to 8.931 is a second
            i += 1
            continue
        nxt = cues[i + 1] if i + 1 < len(cues) else None
        prev = cues[i - 1] if i else None
        limit = nxt.start if nxt else max(duration, cue.end)
        want = cue.start + MIN_SECONDS
        if want <= limit:  # the silence after it
            cues[i] = Cue(cue.start, round(want, 3), cue.lines)
            i += 1
            continue
        if nxt and want - nxt.start <= BORROW and nxt.end - want >= MIN_SECONDS:
            cues[i] = Cue(cue.start, round(want, 3), cue.lines)
            cues[i + 1] = Cue(round(want, 3), nxt.end, nxt.lines)
            i += 1
            continue
        merged = _joined(cue, nxt, breaks) if nxt else None
        if merged is not None:
            cues[i:i + 2] = [merged]
            continue  # look at the joined cue again
        merged = _joined(prev, cue, breaks) if prev else None
        if merged is not None:
            cues[i - 1:i + 1] = [merged]
            i -= 1
            continue
        # The silence before it, as much as it takes.
        start = max(prev.end if prev else 0.0, round(limit - MIN_SECONDS, 3))
        end = max(cue.end, limit)
        if end - start < MIN_SECONDS:
            # Last resort, for speech too dense to read (a second's worth of words in a
            # fraction of one): the cues after this one start later, as late as it takes.
            end = round(start + MIN_SECONDS, 3)
            at = end
            for k in range(i + 1, len(cues)):
                later = cues[k]
                if later.start >= at:
                    break
                cues[k] = Cue(at, round(max(later.end, at + MIN_SECONDS), 3), later.lines)
                at = cues[k].end
        cues[i] = Cue(round(start, 3), round(end, 3), cue.lines)
        i += 1
    return cues


def caption_cues(timeline: Timeline) -> list[Cue]:
    """The captions of ``timeline``: one cue per spoken sentence where it reads well.

    Each spoken text's sentences are cut into cues at their most natural
    breaks (long sentences split at clauses, a short one joined to its
    neighbour); then no cue lasts under 1 s (see :func:`_at_least_a_second`)
    or over 7 s, and none overlaps the next.
    """
    breaks = _Breaks(getattr(timeline.settings, "language", "en") or "en")
    raw: list[Cue] = []
    for event in sorted((e for e in timeline.events if e.speech), key=lambda e: e.start):
        parts = [_Part(_tokens(s.text), s.start, s.end) for s in sorted(event.speech, key=lambda s: (s.start, s.end))]
        raw += _run_cues([p for p in parts if p.tokens], breaks)
    raw.sort(key=lambda c: c.start)
    cues = _at_least_a_second(raw, float(timeline.duration), breaks)
    out: list[Cue] = []
    for i, cue in enumerate(cues):
        limit = cues[i + 1].start if i + 1 < len(cues) else max(timeline.duration, cue.end)
        end = min(cue.end, limit, cue.start + MAX_SECONDS)
        if end > cue.start:  # a cue squeezed to nothing by overlapping speech is dropped
            out.append(Cue(cue.start, round(end, 3), cue.lines))
    return _with_words(out, timeline)


def _with_words(cues: list[Cue], timeline: Timeline) -> list[Cue]:
    """``cues`` with the timeline's words laid on them, in order (a cue whose words do not match keeps none)."""
    spoken = [w for e in sorted((e for e in timeline.events if e.speech), key=lambda e: e.start)
              for s in sorted(e.speech, key=lambda s: (s.start, s.end)) for w in s.words]
    out: list[Cue] = []
    at = 0
    for cue in cues:
        pieces = " ".join(cue.lines).split()
        found = next((k for k in range(at, min(at + 8, len(spoken)))
                      if [w.text for w in spoken[k:k + len(pieces)]] == pieces), None)
        if found is None:
            out.append(cue)
            continue
        out.append(Cue(cue.start, cue.end, cue.lines, tuple(spoken[found:found + len(pieces)])))
        at = found + len(pieces)
    return out


def _timestamp(seconds: float, separator: str) -> str:
    ms = int(round(seconds * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def srt_text(cues: list[Cue]) -> str:
    """The cues as SubRip text."""
    blocks = [f"{i}\n{_timestamp(c.start, ',')} --> {_timestamp(c.end, ',')}\n{c.text}\n"
              for i, c in enumerate(cues, 1)]
    return "\n".join(blocks)


def _vtt_escape(line: str) -> str:
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _vtt_body(cue: Cue) -> str:
    """A cue's lines, each word after the first with its WebVTT cue timestamp (``<00:00:01.200>``).

    Players that support them (karaoke-style captions) show each word as it is
    spoken; the others ignore them.  A timestamp must fall inside its cue.
    """
    if not cue.words:
        return "\n".join(_vtt_escape(line) for line in cue.lines)
    words = iter(cue.words)
    lines: list[str] = []
    for line in cue.lines:
        out: list[str] = []
        for piece in line.split(" "):
            word = next(words)
            later = bool(out or lines)  # the first word starts with the cue itself
            stamp = f"<{_timestamp(word.start, '.')}>" if later and cue.start < word.start < cue.end else ""
            out.append(stamp + _vtt_escape(piece))
        lines.append(" ".join(out))
    return "\n".join(lines)


def vtt_text(cues: list[Cue]) -> str:
    """The cues as WebVTT text, with each word's time where it is known (see :func:`_vtt_body`)."""
    blocks = ["WEBVTT\n"]
    for c in cues:
        blocks.append(f"{_timestamp(c.start, '.')} --> {_timestamp(c.end, '.')}\n{_vtt_body(c)}\n")
    return "\n".join(blocks)


def write_srt(path: str | os.PathLike, cues: list[Cue]) -> None:
    """Write ``cues`` to ``path`` as SubRip (UTF-8), atomically."""
    write_text_atomic(path, srt_text(cues))


def write_vtt(path: str | os.PathLike, cues: list[Cue]) -> None:
    """Write ``cues`` to ``path`` as WebVTT (UTF-8), atomically."""
    write_text_atomic(path, vtt_text(cues))
