"""Captions (SRT and WebVTT) from the timeline's spoken sentences.

The usual broadcast rules: at most 2 lines of at most 42 characters, each cue
on screen for 1 to 7 seconds, cues never overlapping.  A cue shows a sentence,
or part of a long one; the part's time is the sentence's time shared in
proportion to its characters.  Scripts written without spaces (Chinese,
Japanese) are wrapped between characters.
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


def _lines(tokens: list[_Token]) -> list[str] | None:
    """The tokens as one line, or two balanced lines; None when they do not fit."""
    whole = _join(tokens)
    if len(whole) <= MAX_CHARS:
        return [whole]
    best: tuple[int, list[str]] | None = None
    for cut in range(1, len(tokens)):
        top, bottom = _join(tokens[:cut]), _join(tokens[cut:])
        if len(top) <= MAX_CHARS and len(bottom) <= MAX_CHARS:
            # Prefer balanced lines; on a tie, a longer top line (the eye starts there).
            key = (max(len(top), len(bottom)), len(bottom))
            if best is None or key < best[0]:
                best = (key, [top, bottom])
    return None if best is None else best[1]


def _fits(tokens: list[_Token]) -> bool:
    """Whether the tokens wrap into at most MAX_LINES lines (greedy filling needs the fewest lines)."""
    lines, width = 1, 0
    for token in tokens:
        extra = len(token.text) + (1 if token.spaced and width else 0)
        if width and width + extra > MAX_CHARS:
            lines, width = lines + 1, len(token.text)
        else:
            width += extra
    return lines <= MAX_LINES


def _chunks(tokens: list[_Token], width: int) -> list[list[_Token]]:
    """Greedy split into cues that each fit the lines and have at most ``width`` characters."""
    chunks: list[list[_Token]] = []
    current: list[_Token] = []
    for token in tokens:
        trial = current + [token]
        if current and (len(_join(trial)) > width or not _fits(trial)):
            chunks.append(current)
            current = [token]
        else:
            current = trial
    if current:
        chunks.append(current)
    return chunks


def _balanced(tokens: list[_Token], count: int) -> list[list[_Token]]:
    """At most ``count`` cues whose longest is as short as possible."""
    low, high = max(len(t.text) for t in tokens), _WIDEST
    while low < high:  # the smallest width for which ``count`` cues suffice
        mid = (low + high) // 2
        if len(_chunks(tokens, mid)) <= count:
            high = mid
        else:
            low = mid + 1
    return _chunks(tokens, low)


def _sentence_cues(start: float, end: float, text: str) -> list[Cue]:
    tokens = _tokens(text)
    if not tokens:
        return []
    duration = end - start
    count = len(_chunks(tokens, _WIDEST))
    while True:
        chunks = _balanced(tokens, count)
        texts = [_join(c) for c in chunks]
        total = sum(len(t) for t in texts)
        longest = max(len(t) for t in texts) / total * duration
        # Too long on screen: split into more cues, as long as there is more to split.
        if longest <= MAX_SECONDS or len(chunks) >= len(tokens) or len(chunks) < count:
            break
        count += 1
    cues, at, done = [], start, 0
    for chunk, chunk_text in zip(chunks, texts):
        done += len(chunk_text)
        until = end if done == total else round(start + duration * done / total, 3)
        cues.append(Cue(round(at, 3), until, tuple(_lines(chunk) or [chunk_text])))
        at = until
    return cues


def caption_cues(timeline: Timeline) -> list[Cue]:
    """The captions of ``timeline``: one cue per spoken sentence, or per part of a long one.

    Cue times are the sentence times except where a rule needs otherwise: a
    cue shorter than 1 s is held until 1 s if the next cue (and the end of the
    timeline) allows, else until the next cue; none lasts over 7 s; none
    overlaps the next.
    """
    sentences = sorted((s for event in timeline.events for s in event.speech), key=lambda s: (s.start, s.end))
    raw = [cue for s in sentences for cue in _sentence_cues(s.start, s.end, s.text)]
    cues: list[Cue] = []
    for i, cue in enumerate(raw):
        limit = raw[i + 1].start if i + 1 < len(raw) else max(timeline.duration, cue.end)
        end = cue.end
        if end - cue.start < MIN_SECONDS:
            end = max(end, min(cue.start + MIN_SECONDS, limit))
        end = min(end, limit, cue.start + MAX_SECONDS)
        if end > cue.start:  # a cue squeezed to nothing by overlapping speech is dropped
            cues.append(Cue(cue.start, round(end, 3), cue.lines))
    return cues


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
