"""Routine settings: the metadata lines resolved into one typed value."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace

from .diagnostics import Diagnostic, error, warning
from .limits import GAP_RANGE, SPEED_RANGE
from .model import Routine, Setting
from .speech import (BUNDLED_VOICE, ENGINES, automatic_engine, espeak_languages,  # noqa: F401 (re-exported)
                     is_bundled_voice, no_voice_advice, not_spoken)

DEFAULT_GAP = 0.5
DEFAULT_BELL = 3.0
THEMES = ("calm", "light")
LEVELS = ("beginner", "intermediate", "advanced")  # who the routine is for: see qidsl.lang.safety
CAPTIONS = ("sentences", "words")  # `captions: words`: the video's caption marks the word being spoken
# `figure: none` turns the drawn figure off; `auto` (the default) shows it when the routine has a pose.
FIGURES = ("auto", "none")
KNOWN_KEYS = (
    "title", "author", "language", "voice", "tags", "description",
    "tempo", "rate", "gap", "engine", "theme", "level", "variants", "captions", "music", "music-level",
    "backdrop", "figure",
)
# `music:` made in code (qidsl.renderers.music); anything else the routine names is a quoted file.
MUSIC_CALM = "calm"
# How far (LU) the music sits below the voice while it speaks.  Torcoli et al. (JAES 2019) found
# listeners need the speech at least 10 LU above the background, and more for older or hard-of-hearing
# listeners and worse speakers; a practice is followed from across a room on a laptop's or phone's
# speaker, so the default keeps 5 LU beyond that minimum.  `accessible` is WCAG G56's 20 dB.
DEFAULT_MUSIC_LEVEL = 15.0
MUSIC_LEVELS = {"accessible": 20.0}
MUSIC_LEVEL_RANGE = (10.0, 40.0)
# A variant's name is one word: it becomes part of output file names (NAME.seated.mp4).
_VARIANT_NAME = re.compile(r"^[^\W\d][\w-]*$")
RESERVED_VARIANTS = ("all",)  # `--variant all` builds every variant
# BCP-47 in the shape people write it: a language, then optional script/region/variants.
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|\d{3}))?(-[A-Za-z0-9]{5,8})*$")


@dataclass(frozen=True)
class Settings:
    """Everything the later stages need to know from a routine's metadata."""

    title: str = ""
    author: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    language: str = "en"
    voice: str | None = None
    tempo: float = 1.0
    rate: float = 1.0
    gap: float = DEFAULT_GAP
    # The speech engine: the routine's `engine:` line, else the best offline
    # voice of its language (qidsl.lang.speech), else None: no offline voice.
    engine: str | None = "piper"
    theme: str = "calm"
    level: str = "beginner"
    variants: tuple[str, ...] = ()  # the audiences, the first the default; () when none are declared
    captions: str = "sentences"  # or "words": the video's caption marks the word being spoken
    music: str | None = None  # "calm", or a file's path as written (relative to the routine); None: no music
    music_level: float = DEFAULT_MUSIC_LEVEL  # LU below the voice while it speaks
    backdrop: str | None = None  # the picture behind everything unless a `backdrop` says otherwise; as written
    figure: str = "auto"  # "none": no figure is drawn, whatever poses the routine names

    def with_overrides(self, **changes) -> Settings:
        """A copy with command-line choices applied (None means keep)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _number(item: Setting, low: float, high: float, problems: list[Diagnostic]) -> float | None:
    text = item.value.strip()
    if item.key == "gap" and text.endswith("s"):
        text = text[:-1]
    try:
        value = float(text)
    except ValueError:
        problems.append(error("bad-setting", f"'{item.key}' must be a number, not '{item.value}'",
                              item.value_span, f"write for example `{item.key}: 1`"))
        return None
    if not low <= value <= high:
        problems.append(error("bad-setting", f"'{item.key}' must be between {low:g} and {high:g}",
                              item.value_span))
        return None
    return value


def _language_hint(written: str) -> str:
    """What to write for ``language:``: the code of a language named in words (``english`` -> ``en``)."""
    wanted = written.strip().strip('"').lower()
    codes = sorted((tag for tag, (_, name) in espeak_languages().items()
                    if name.split(" (")[0].lower() == wanted), key=len)
    if codes:
        return f"write the language's code: language: {codes[0]}"
    return "write the language's code, such as en (English), de (German), en-GB (British English) or zh-CN"


def resolve_settings(routine: Routine) -> tuple[Settings, list[Diagnostic]]:
    """Settings from a routine's metadata, and every problem with them."""
    problems: list[Diagnostic] = []
    values: dict = {}
    seen: dict[str, Setting] = {}
    for item in routine.settings:
        if item.key in seen:
            problems.append(warning("duplicate-setting", f"'{item.key}' is set twice; the last one wins",
                                    item.span))
        seen[item.key] = item
        key, value = item.key, item.value.strip()
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "known settings: " + ", ".join(KNOWN_KEYS)
            problems.append(error("unknown-setting", f"unknown setting '{key}'", item.span.__class__(
                item.span.file, item.span.line, item.span.column, item.span.line,
                item.span.column + len(key)), hint))
        elif key in ("title", "author", "description", "voice"):
            if not value:
                problems.append(error("bad-setting", f"'{key}' is empty", item.span))
            values[key] = value
        elif key == "tags":
            values["tags"] = tuple(t.strip() for t in value.split(",") if t.strip())
        elif key == "language":
            if not _LANGUAGE_TAG.match(value):
                problems.append(error("bad-language", f"'{value}' is not a language code",
                                      item.value_span, _language_hint(value)))
            else:
                values["language"] = value
        elif key in ("tempo", "rate"):
            number = _number(item, *SPEED_RANGE, problems)
            if number is not None:
                values[key] = number
        elif key == "gap":
            number = _number(item, *GAP_RANGE, problems)
            if number is not None:
                values["gap"] = number
        elif key == "music":
            if item.quoted:
                if not value:
                    problems.append(error("bad-setting", "'music' is empty", item.span))
                else:
                    values["music"] = value
            elif value in (MUSIC_CALM, "none"):
                values["music"] = None if value == "none" else value
            else:
                problems.append(error("unknown-music", f"unknown music '{value}'", item.value_span,
                                      f'write music: calm, music: none, or a file in quotes: music: "{value}"'))
        elif key == "backdrop":
            if item.quoted and value:
                values["backdrop"] = value
            elif item.quoted or value != "none":
                problems.append(error("bad-setting", "'backdrop' is a photo or clip in quotes, or none",
                                      item.value_span, f'write backdrop: "{value or "media/garden.jpg"}"'))
        elif key == "music-level":
            if value in MUSIC_LEVELS:
                values["music_level"] = MUSIC_LEVELS[value]
            else:
                if value.endswith("dB") or value.endswith("LU"):
                    item = replace(item, value=value[:-2])
                if not re.fullmatch(r"\s*[0-9.]+\s*", item.value):
                    problems.append(error("bad-setting", f"'music-level' must be a number of dB or accessible, "
                                          f"not '{value}'", item.value_span,
                                          f"write music-level: {DEFAULT_MUSIC_LEVEL:g} (the default) or "
                                          "music-level: accessible (20 dB)"))
                    continue
                number = _number(item, *MUSIC_LEVEL_RANGE, problems)
                if number is not None:
                    values["music_level"] = number
        elif key == "variants":
            names = _variants(item, problems)
            if names is not None:
                values["variants"] = names
        elif key in ("engine", "theme", "level", "captions", "figure"):
            choices = {"engine": tuple(ENGINES), "theme": THEMES, "level": LEVELS, "captions": CAPTIONS,
                       "figure": FIGURES}[key]
            if value not in choices:
                close = difflib.get_close_matches(value, choices, n=1)
                hint = f"did you mean '{close[0]}'?" if close else "choose one of: " + ", ".join(choices)
                problems.append(error(f"unknown-{key}", f"unknown {key} '{value}'", item.value_span, hint))
            else:
                values[key] = value
    if "engine" not in values:
        values["engine"] = automatic_engine(values.get("language", "en"), values.get("voice"))
    settings = Settings(**values)
    problems.extend(_voice_problems(settings, seen))
    return settings, problems


def _voice_problems(settings: Settings, seen: dict[str, Setting]) -> list[Diagnostic]:
    """A routine that the engine it names cannot speak is an error; one no offline voice speaks, a warning."""
    engine_line, language_line = seen.get("engine"), seen.get("language")
    if settings.engine is None:
        where = language_line.value_span if language_line else None
        if where is None:
            return []
        return [warning("no-offline-voice", f"no offline voice speaks '{settings.language}', so "
                        "`qidsl build` will stop", where, no_voice_advice(settings.language))]
    if engine_line is None or engine_line.value.strip() != settings.engine:
        return []
    reason = not_spoken(settings.engine, settings.language, settings.voice)
    if reason is None:
        return []
    others = [name for name in ENGINES if ENGINES[name].offline and name != settings.engine
              and not not_spoken(name, settings.language, None)]
    if settings.engine == "piper":
        hint = (f"remove `engine: piper` to use {others[0]}'s voice for it, or write `voice: joe` to have joe "
                "read it anyway" if others else "write `voice: joe` to have joe read it anyway, or "
                + no_voice_advice(settings.language))
    elif others:
        hint = f"remove the engine line to use {others[0]}, which speaks it"
    else:
        hint = no_voice_advice(settings.language)
    return [error("engine-language", reason, engine_line.value_span, hint)]


def _variants(item: Setting, problems: list[Diagnostic]) -> tuple[str, ...] | None:
    """The names of ``variants: standing, seated, short``, or None (after a diagnostic) when one is wrong."""
    names: list[str] = []
    ok = True
    offset = 0
    for written in item.value.split(","):
        name = written.strip()
        start = offset + len(written) - len(written.lstrip())
        offset += len(written) + 1
        span = item.value_span
        if item.value_span.line == item.value_span.end_line and not item.quoted:
            span = replace(span, column=span.column + start, end_column=span.column + start + max(1, len(name)))
        if not _VARIANT_NAME.match(name):
            problems.append(error("bad-variant", f"'{name}' is not a variant name" if name else "a variant name "
                                  "is missing", span, "name each variant with one word, separated by commas: "
                                  "variants: standing, seated"))
            ok = False
        elif name in RESERVED_VARIANTS:
            problems.append(error("bad-variant", f"'{name}' cannot be a variant's name", span,
                                  "`--variant all` means every variant: choose another word"))
            ok = False
        elif name in names:
            problems.append(error("bad-variant", f"the variant '{name}' is listed twice", span))
            ok = False
        else:
            names.append(name)
    return tuple(names) if ok else None
