"""Captions (SRT and WebVTT) from the timeline's spoken sentences.

The broadcast rules of the BBC subtitle guidelines and Netflix's timed-text
style guide: at most 2 lines of at most 42 characters, each cue on screen
for 1 to 7 seconds, cues never overlapping, and breaks where a reader
pauses.  A cue shows a sentence where it can; a long sentence is split
into cues at clause boundaries, and a short one ("Welcome.") is joined to
the next.  Lines and cues break after punctuation or before a conjunction,
never after an article or a preposition and never inside a name ("Dan
Tian").  Each choice is a least-cost search over the break points (see
:func:`_break_cost` for the costs).  A part's time is its sentence's time
shared in proportion to its characters.  Scripts written without spaces
(Chinese, Japanese) are wrapped between characters.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ..outputs import write_text_atomic
from ..timeline import Timeline

MAX_CHARS = 42
MAX_LINES = 2
MIN_SECONDS = 1.0
MAX_SECONDS = 7.0

# Characters that may be wrapped on either side without a space: CJK
# ideographs, kana, CJK symbols/punctuation and fullwidth forms.  Hangul is
# written with spaces between words, so it wraps like Latin text.
_UNSPACED = re.compile(r"[\u2e80-\u2fdf\u3000-\u30ff\u3100-\u312f\u31a0-\u31ff\u3400-\u4dbf"
                       r"\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")
# Punctuation that must not begin a line (kinsoku): it stays with what precedes it.
_NO_LINE_START = set("、。，．！？：；）」』】〉》〕］｝〜ー・…‥ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮ!?.,;:)]}”’")
# Opening brackets that must not end a line: they stay with what follows.
_NO_LINE_END = set("（「『【〈《〔［｛([{“‘")
# The longest text two lines can hold: two full lines and the space between them.
_WIDEST = MAX_CHARS * MAX_LINES + MAX_LINES - 1


@dataclass(frozen=True)
class Cue:
    """One caption: times in seconds, one or two lines of text."""

    start: float
    end: float
    lines: tuple[str, ...]

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


# Words a line or a cue must not end with: they lean on what follows (BBC: keep an
# article with its noun, a preposition with its phrase, a conjunction with its clause).
_CLINGING = {
    "en": "a an the to of in on at by for with from into onto upon over under about through across "
          "along around between behind towards toward without within than and or but nor if "
          "your my his her its our their this these those each every no",
    "de": "der die das den dem des ein eine einen einem einer eines und oder aber zu zum zur im in an am "
          "auf aus bei mit nach von vom vor über unter durch für gegen ohne um bis dein deine deinen "
          "ihr ihre ihren sein seine seinen mein meine meinen jede jeder jedes jedem jeden kein keine keinen "
          "diese dieser dieses diesem diesen",
    "fr": "le la les l' un une des du de d' au aux à et ou mais en dans sur sous avec pour par sans "
          "vers chez ton ta tes votre vos son sa ses mon ma mes ce cet cette ces",
    "es": "el la los las un una unos unas de del al a y o pero en con por para sin sobre entre hacia "
          "tu tus su sus mi mis este esta estos estas",
    "it": "il lo la i gli le un uno una di del della dei delle a al alla in nel nella con su per tra "
          "fra e o ma tuo tua tuoi tue suo sua",
    "pt": "o a os as um uma de do da dos das em no na nos nas com por para e ou mas teu tua seu sua",
    "nl": "de het een en of maar in op aan bij met van voor naar door over onder uit je jouw zijn haar",
}
# Softer: better not to end a line with a subject pronoun or an auxiliary before its verb.
_LEANING = {
    "en": "i you we they he she it is are was were be been will would can could should not very "
          "as so then when while because which that who let",
}
# Small words that join the capitalised words of a name ("Rolling the Hands Backwards").
_NAME_JOINERS = {"the", "of", "and", "de", "del", "la", "le", "du", "von", "van", "da", "di"}
BORROW = 0.3  # seconds a cue may start after its speech, to let a short cue before it last 1 s
# Words that open a clause: a break before them is the next best thing to punctuation.
_CLAUSE_WORDS = frozenset("and or but so then while as when because until which who "
                          "und oder aber dann wenn weil während et ou mais puis quand "
                          "y o pero cuando mientras e ma quando mentre".split())
_CLAUSE_END = (",", ";", ":", "—", "–", ")", "，", "、", "；", "：")
_SENTENCE_END = (".", "!", "?", "…", "。", "！", "？")
_TRAILING = "\"'”’»)]"


def _word(token: "_Token") -> str:
    return token.text.strip(_TRAILING + "\"'“‘«([").lower()


def _is_capital(token: "_Token") -> bool:
    text = token.text.lstrip("\"'“‘«([")
    return bool(text) and text[0].isupper() and not _UNSPACED.match(text[0])


def _words(table: dict[str, str], language: str) -> frozenset[str]:
    return frozenset(table.get(language.split("-")[0].lower(), "").split())


class _Breaks:
    """The cost of breaking (a line or a cue) between two tokens: 0 is natural, 50 is wrong."""

    def __init__(self, language: str):
        self.clinging = _words(_CLINGING, language)
        self.leaning = _words(_LEANING, language)
        # German writes every noun with a capital: two capitals in a row are not a name there.
        self.names = not language.lower().startswith("de")

    def cost(self, tokens: list["_Token"], k: int) -> float:
        """Breaking before ``tokens[k]`` (after ``tokens[k - 1]``)."""
        if k <= 0 or k >= len(tokens):
            return 0.0
        before, after = tokens[k - 1], tokens[k]
        if not after.spaced and not (_UNSPACED.match(after.text[:1] or " ") or _UNSPACED.match(before.text[-1:] or " ")):
            return 50.0  # inside a word too long for a line (a link), cut to fit
        end = before.text.rstrip(_TRAILING)
        if end.endswith(_SENTENCE_END):
            return 0.0
        if end.endswith(_CLAUSE_END):
            return 1.0
        word = _word(before)
        if word in self.clinging or word.endswith("'"):
            return 50.0
        if self.names and _is_capital(before):
            if _is_capital(after):
                return 50.0  # "Dan / Tian"
            if _word(after) in _NAME_JOINERS and k + 1 < len(tokens) and _is_capital(tokens[k + 1]):
                return 50.0  # "Rolling / the Hands"
        if self.names and word in _NAME_JOINERS and k >= 2 and _is_capital(tokens[k - 2]) and _is_capital(after):
            return 50.0
        if word in self.leaning:
            return 10.0
        if _word(after) in _CLAUSE_WORDS:
            return 2.0  # before a conjunction: the clause starts on the new line
        return 4.0


class _Run:
    """Tokens with what the searches ask of them again and again, computed once.

    ``cost[k]`` is the cost of a break before token ``k``; widths come from
    prefix sums, so trying a cue or a line costs no string building.
    """

    def __init__(self, tokens: list[_Token], breaks: _Breaks, sentence_starts: frozenset[int] = frozenset()):
        self.tokens = tokens
        n = len(tokens)
        # Between two sentences is always a natural break, punctuated or not.
        self.cost = [0.0 if k in sentence_starts else breaks.cost(tokens, k) for k in range(n + 1)]
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
        if cue.end - cue.start >= MIN_SECONDS:
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


def vtt_text(cues: list[Cue]) -> str:
    """The cues as WebVTT text."""
    blocks = ["WEBVTT\n"]
    for c in cues:
        body = "\n".join(_vtt_escape(line) for line in c.lines)
        blocks.append(f"{_timestamp(c.start, '.')} --> {_timestamp(c.end, '.')}\n{body}\n")
    return "\n".join(blocks)


def write_srt(path: str | os.PathLike, cues: list[Cue]) -> None:
    """Write ``cues`` to ``path`` as SubRip (UTF-8), atomically."""
    write_text_atomic(path, srt_text(cues))


def write_vtt(path: str | os.PathLike, cues: list[Cue]) -> None:
    """Write ``cues`` to ``path`` as WebVTT (UTF-8), atomically."""
    write_text_atomic(path, vtt_text(cues))
