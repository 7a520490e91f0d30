"""``qidsl import``: a draft routine from the captions of a recorded lesson (SRT or WebVTT).

Cues are read with webvtt-py (both formats; tags and voice spans removed).
A cue that ends mid-sentence and runs straight on into the next is joined
with it.  Each cue becomes ``inhale``, ``exhale`` or ``hold`` when its words
say so in the routine's language (:data:`BREATH_WORDS`), ``bell`` when it
describes a bell, else ``say``.  A breath phase lasts until the next cue, as
it did in the lesson; after a ``say`` the silence left once the narrator
has spoken (at the pace ``plan --quick`` measures the voice by) becomes a
``pause``, or a ``stay`` when it is long enough to be a posture held.  A
passage that comes back straight after itself, with the same words and
about the same times, becomes ``repeat N:``.  The draft is laid out by the
formatter, so ``fmt --check`` accepts it as written.

Pure Python: no speech, no numpy; ``check`` never imports this module.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from .lang.formatter import duration, quote
from .lang.settings import Settings
from .lang.speech import automatic_engine
from .timeline import INTRO_SECONDS, EstimatedSpeech

LONG_GAP = 5.0  # seconds of silence after a cue that read as a posture held (stay), not a breather (pause)
JOIN_WITHIN = 0.5  # seconds between two cues of one sentence split for the screen
SAME_TIME = 0.75  # seconds: two occurrences of a passage this close in every duration are one repeat
STEP = 0.5  # durations are written to the half second

# What a cue's words say, per language (primary subtag).  A cue that names
# both an inhale and an exhale ("breathe in, breathe out") stays a `say`.
BREATH_WORDS: dict[str, dict[str, str]] = {
    "en": {"inhale": r"\b(breathe in|breathing in|inhale|inhaling|in-breath|take a (deep |slow |long )?breath in"
                     r"|draw the breath in)\b",
           "exhale": r"\b(breathe out|breathing out|exhale|exhaling|out-breath|let the breath (out|go)"
                     r"|let your breath (out|go)|release the breath)\b",
           "hold": r"^(and )?hold\b|\bhold (the|your) breath\b|\bkeep the breath\b"},
    "de": {"inhale": r"\b(einatmen|atme(t|n)? (\w+ ){0,3}ein)\b",
           "exhale": r"\b(ausatmen|atme(t|n)? (\w+ ){0,3}aus)\b",
           "hold": r"\b(halte(n|t)? (den|die) (atem|luft)|luft anhalten|atem anhalten)\b|^halten\b"},
    "fr": {"inhale": r"\b(inspire[zr]?|inspirez)\b", "exhale": r"\b(expire[zr]?|soufflez)\b",
           "hold": r"\b(retene[zr]|retiens) (le|votre) souffle\b|^retenez\b"},
    "es": {"inhale": r"\b(inhala[rd]?|inspira[rd]?)\b", "exhale": r"\b(exhala[rd]?|espira[rd]?)\b",
           "hold": r"\b(sost[eé]n|ret[eé]n) (el|la) (aire|respiraci[oó]n)\b|^sost[eé]n\b"},
    "it": {"inhale": r"\b(inspira(re|te)?)\b", "exhale": r"\b(espira(re|te)?)\b",
           "hold": r"\btrattieni\b"},
    "pt": {"inhale": r"\b(inspire|inspira[r]?)\b", "exhale": r"\b(expire|expira[r]?|solte o ar)\b",
           "hold": r"\bsegure (o|a) (ar|respira[cç][aã]o)\b|^segure\b"},
    "nl": {"inhale": r"\b(adem (\w+ ){0,3}in|inademen)\b", "exhale": r"\b(adem (\w+ ){0,3}uit|uitademen)\b",
           "hold": r"\bhoud (de|je) adem vast\b|^vasthouden\b"},
}
_BELL = re.compile(r"^[\[(♪*]*\s*(a |the )?(bell|gong|chime|singing bowl|glocke|klangschale|cloche|campana|sino)s?"
                   r"\b[^\])]*[\])♪*]*$", re.IGNORECASE)
_SOUND = re.compile(r"^\s*[\[(♪].*[\])♪]\s*$")  # [music], (silence), ♪ ... ♪: not words to speak
_SENTENCE_END = re.compile(r"[.!?…:;。！？\"”»)]\s*$")


class LessonError(Exception):
    """A lesson that cannot be read: the message is one sentence for the user."""


@dataclass(frozen=True)
class Cue:
    """One caption of the lesson: seconds from its start, and the words shown."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Statement:
    """One line of the draft: ``kind`` as in the language, its duration (None for say) and text."""

    kind: str
    seconds: float | None
    text: str | None = None


@dataclass(frozen=True)
class Repeat:
    """``repeat count:`` over ``body``."""

    count: int
    body: tuple[Statement, ...]


def _seconds(stamp) -> float:
    return stamp.hours * 3600 + stamp.minutes * 60 + stamp.seconds + stamp.milliseconds / 1000


def read_cues(path: Path) -> tuple[list[Cue], str | None]:
    """The cues of an SRT or WebVTT file in time order, and the language its header names (VTT)."""
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    try:
        data = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise LessonError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise LessonError(f"{path} is not UTF-8 text; save it as UTF-8 and import it again") from None
    is_srt = path.suffix.lower() == ".srt" or not data.lstrip().startswith("WEBVTT")
    try:
        captions = webvtt.from_buffer(data.splitlines(), format="srt" if is_srt else "vtt")
    except (MalformedFileError, MalformedCaptionError, ValueError, IndexError) as exc:
        kind = "SRT" if is_srt else "WebVTT"
        raise LessonError(f"{path} is not a readable {kind} file ({exc})") from None
    language = None
    for line in getattr(captions, "metadata", None) or []:
        key, _, value = line.partition(":")
        if key.strip().lower() == "language" and value.strip():
            language = value.strip()
    cues = []
    for caption in captions.captions:
        text = " ".join(line.strip() for line in caption.text.splitlines() if line.strip())
        text = text.replace("{", "(").replace("}", ")")  # a brace would read as a {side} placeholder
        if text:
            cues.append(Cue(_seconds(caption.start_time), _seconds(caption.end_time), text))
    cues.sort(key=lambda cue: cue.start)
    if not cues:
        raise LessonError(f"{path} has no captions to make a routine from")
    return cues, language


def join_split_sentences(cues: list[Cue]) -> list[Cue]:
    """Cues with a sentence split across two (no sentence end, the next straight after) joined."""
    joined: list[Cue] = []
    for cue in cues:
        last = joined[-1] if joined else None
        if (last and not _SENTENCE_END.search(last.text) and not _SOUND.match(last.text)
                and not _SOUND.match(cue.text) and cue.start - last.end <= JOIN_WITHIN):
            joined[-1] = Cue(last.start, max(last.end, cue.end), f"{last.text} {cue.text}")
        else:
            joined.append(cue)
    return joined


def cue_kind(text: str, language: str) -> str:
    """``inhale``, ``exhale``, ``hold``, ``bell``, ``sound`` (not words) or ``say`` for a cue's text."""
    if _BELL.match(text.strip()):
        return "bell"
    if _SOUND.match(text):
        return "sound"
    words = BREATH_WORDS.get(language.split("-")[0].lower())
    if not words:
        return "say"
    lowered = text.lower()
    found = [kind for kind in ("inhale", "exhale") if re.search(words[kind], lowered)]
    if len(found) == 1:
        return found[0]
    if not found and re.search(words["hold"], lowered):
        return "hold"
    return "say"


def _step(seconds: float) -> float:
    return round(seconds / STEP) * STEP


def statements(cues: list[Cue], language: str, settings: Settings) -> list[Statement]:
    """The draft's statements, in order, each lasting about as long as its stretch of the lesson."""
    speech = EstimatedSpeech.for_settings(settings)
    out: list[Statement] = []
    lead = _step(cues[0].start - INTRO_SECONDS)  # the title card plays over the lesson's first seconds
    if lead >= STEP:
        out.append(Statement("pause", lead))
    for index, cue in enumerate(cues):
        following = cues[index + 1].start if index + 1 < len(cues) else cue.end
        slot = max(following, cue.end) - cue.start  # the cue and the silence after it
        kind = cue_kind(cue.text, language)
        if kind == "sound":
            if _step(slot) >= STEP:
                out.append(Statement("pause", _step(slot)))
            continue
        if kind == "bell":
            out.append(Statement("bell", max(1.0, _step(slot))))
            continue
        spoken = speech.timing(cue.text).duration
        if kind in ("inhale", "exhale", "hold"):
            # The phase lasts until the next cue; never shorter than its words (that would be an overrun).
            out.append(Statement(kind, max(_step(slot), math.ceil(spoken / STEP) * STEP), cue.text))
            continue
        out.append(Statement("say", None, cue.text))
        rest = _step(slot - spoken - settings.gap)
        if rest >= STEP and index + 1 < len(cues):  # the lesson ends with its last words
            # A long silence after words is a posture held with the breath free: `stay`, never a retention.
            out.append(Statement("stay" if rest >= LONG_GAP else "pause", rest))
    return out


def _key(item: Statement) -> tuple[str, str]:
    return item.kind, re.sub(r"\W+", " ", (item.text or "").casefold()).strip()


def _same(a: tuple[Statement, ...] | list[Statement], b: tuple[Statement, ...] | list[Statement]) -> bool:
    return len(a) == len(b) and all(
        _key(x) == _key(y) and ((x.seconds is None) == (y.seconds is None))
        and (x.seconds is None or abs(x.seconds - (y.seconds or 0)) <= SAME_TIME) for x, y in zip(a, b))


def _mean(blocks: list[list[Statement]]) -> tuple[Statement, ...]:
    """One block whose durations are the mean of the occurrences' (to the half second)."""
    first = blocks[0]
    return tuple(Statement(item.kind, None if item.seconds is None else
                           _step(sum(block[i].seconds or 0 for block in blocks) / len(blocks)), item.text)
                 for i, item in enumerate(first))


def find_repeats(items: list[Statement]) -> list[Statement | Repeat]:
    """``items`` with each passage that comes back straight after itself folded into a :class:`Repeat`.

    At each place the passage that saves the most lines wins.  The last time
    through may end in a longer silence than the others (the lesson moves on):
    the extra is kept as its own line after the repeat.
    """
    out: list[Statement | Repeat] = []
    i, n = 0, len(items)
    while i < n:
        best: tuple[int, int, int, float] = (0, 0, 0, 0.0)  # saved lines, period, count, extra silence
        for period in range(1, (n - i) // 2 + 1):
            block = items[i:i + period]
            count = 1
            while _same(block, items[i + count * period:i + (count + 1) * period]):
                count += 1
            extra = 0.0
            tail = items[i + count * period:i + (count + 1) * period]
            last = block[-1]
            if (last.kind in ("pause", "stay") and len(tail) == period and _same(block[:-1], tail[:-1])
                    and _key(tail[-1]) == _key(last) and (tail[-1].seconds or 0) > (last.seconds or 0)):
                count, extra = count + 1, (tail[-1].seconds or 0) - (last.seconds or 0)
            saved = period * (count - 1)
            if count >= 2 and saved > best[0]:
                best = (saved, period, count, extra)
        if not best[0]:
            out.append(items[i])
            i += 1
            continue
        _, period, count, extra = best
        blocks = [list(items[i + k * period:i + (k + 1) * period]) for k in range(count)]
        if extra:
            last = blocks[-1][-1]
            blocks[-1][-1] = Statement(last.kind, (last.seconds or 0) - extra, last.text)
        out.append(Repeat(count, _mean(blocks)))
        if _step(extra) >= STEP:
            out.append(Statement(blocks[-1][-1].kind, _step(extra)))
        i += period * count
    return out


def _line(item: Statement) -> str:
    text = f" {quote(item.text)}" if item.text is not None else ""
    if item.kind == "say":
        return f"say{text}"
    if item.kind == "bell":
        return f"bell {duration(item.seconds or 0)}"
    return f"{item.kind} {duration(item.seconds or 0)}{text}"


def draft_source(cues: list[Cue], title: str, language: str, origin: str) -> str:
    """The text of a draft routine for ``cues`` (laid out as ``qidsl fmt`` would)."""
    settings = Settings(title=title, language=language, engine=automatic_engine(language, None))
    body = find_repeats(statements(join_split_sentences(cues), language, settings))
    lines = [f"# Drafted by qidsl import from {origin}: read it through, then adjust words and times.",
             f"title: {quote(title)}", f"language: {language}", ""]
    for item in body:
        if isinstance(item, Repeat):
            lines.append(f"repeat {item.count}:")
            lines.extend("    " + _line(inner) for inner in item.body)
        else:
            lines.append(_line(item))
    return "\n".join(lines) + "\n"


def title_from_name(path: Path) -> str:
    """``morning-breath.srt`` -> ``Morning breath``."""
    words = re.sub(r"[-_.]+", " ", path.stem).strip()
    return (words[:1].upper() + words[1:]) if words else "Imported lesson"


def lesson_length(cues: list[Cue]) -> float:
    """Seconds from the lesson's start to the end of its last cue."""
    return max(cue.end for cue in cues)


def run_import(path: str, out: str | None = None, title: str | None = None, language: str | None = None,
               force: bool = False) -> int:
    """``qidsl import``: write a draft routine for the lesson at ``path``; returns the exit code.

    The draft goes to ``out`` (``-`` for standard output), else next to the
    lesson as NAME.qi; an existing file is kept unless ``force``.
    """
    import sys

    from .lang.formatter import format_routine
    from .lang.parser import decode_source, parse_source
    from .outputs import write_text_atomic

    lesson = Path(path)
    target = None if out == "-" else Path(out) if out else lesson.with_suffix(".qi")
    if target is not None and target.exists() and not force:
        print(f"qidsl: {target} already exists; name another with -o, or pass --force to replace it",
              file=sys.stderr)
        return 1
    try:
        cues, declared = read_cues(lesson)
    except LessonError as exc:
        print(f"qidsl: {exc}", file=sys.stderr)
        return 1
    language = language or declared or "en"
    text = draft_source(cues, title or title_from_name(lesson), language, lesson.name)
    # Laid out by the formatter itself, so `qidsl fmt --check` accepts the draft as written.
    source, _ = decode_source(text.encode("utf-8"), str(target or "<draft>"))
    parsed = parse_source(source) if source else None
    if source is not None and parsed is not None and parsed.routine is not None and not any(d.is_error for d in parsed.diagnostics):
        text = format_routine(parsed.routine, source.lines)
    if target is None:
        sys.stdout.write(text)
        return 0
    try:
        write_text_atomic(target, text)
    except OSError as exc:
        print(f"qidsl: cannot write {target}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {target}: {len(cues)} cues, {_clock(lesson_length(cues))} of lesson", file=sys.stderr)
    return 0


def _clock(seconds: float) -> str:
    from .timefmt import clock

    return clock(seconds)
