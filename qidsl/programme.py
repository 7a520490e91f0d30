"""A programme: a folder of routines published together, described by its ``programme.toml``.

``qidsl build FOLDER`` builds every routine in the folder and, when it holds a
``programme.toml``, writes the programme's index page and podcast feed beside
the routines' outputs (:mod:`qidsl.index_page`, :mod:`qidsl.feed`).
``qidsl check FOLDER`` reports the file's mistakes as a routine's are
reported: ``file:line:col``, the line and a caret.  Read with the standard
library's ``tomllib``; nothing here loads speech, numpy or moviepy.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from .lang.diagnostics import Diagnostic, error
from .lang.model import Span

PROGRAMME_FILE = "programme.toml"

# Apple Podcasts' categories (https://podcasters.apple.com/support/1691-apple-podcasts-categories),
# which itunes:category must name: each main category with its subcategories.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": ("Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": ("Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition", "Sexuality"),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": ("Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies", "Home & Garden",
                "Video Games"),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": ("Business News", "Daily News", "Entertainment News", "News Commentary", "Politics", "Sports News",
             "Tech News"),
    "Religion & Spirituality": ("Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion",
                                "Spirituality"),
    "Science": ("Astronomy", "Chemistry", "Earth Sciences", "Life Sciences", "Mathematics", "Natural Sciences",
                "Nature", "Physics", "Social Sciences"),
    "Society & Culture": ("Documentary", "Personal Journals", "Philosophy", "Places & Travel", "Relationships"),
    "Sports": ("Baseball", "Basketball", "Cricket", "Fantasy Sports", "Football", "Golf", "Hockey", "Rugby",
               "Running", "Soccer", "Swimming", "Tennis", "Volleyball", "Wilderness", "Wrestling"),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}

# key: (type, required, what it is, for the messages)
_KEYS: dict[str, tuple[type | tuple[type, ...], bool, str]] = {
    "title": (str, True, "a string"),
    "author": (str, True, "a string"),
    "description": (str, True, "a string"),
    "artwork": (str, True, "a path to a square JPEG or PNG, relative to the folder"),
    "language": (str, False, "a language tag such as \"en\" or \"de-DE\""),
    "category": (str, True, "one of Apple Podcasts' categories, e.g. \"Health & Fitness\""),
    "subcategory": (str, False, "a subcategory of the category, e.g. \"Alternative Health\""),
    "explicit": (bool, False, "true or false"),
    "locked": (bool, False, "true or false"),
    "owner_email": (str, False, "an e-mail address"),
    "published": ((dt.date, dt.datetime), False, "a TOML date such as 2026-01-05"),
    "episodes": (list, False, "a list of the routines' names (file names without .qi), in order"),
}
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class Programme:
    """What ``programme.toml`` says: the channel of the feed and the order of its episodes.

    ``episodes`` are routine stems in order; ``serial`` is set when the file
    numbers them (an ``episodes`` list), which the feed says as ``itunes:type serial``.
    ``published`` is the first episode's date; episode N is dated N-1 days later.
    """

    folder: Path
    title: str
    author: str
    description: str
    artwork: Path
    language: str
    category: str
    subcategory: str | None
    explicit: bool
    locked: bool
    owner_email: str | None
    published: dt.datetime
    episodes: tuple[str, ...]
    serial: bool


def programme_file(paths: list[str]) -> Path | None:
    """The ``programme.toml`` of the one folder named in ``paths``, if there is one."""
    if len(paths) != 1 or not Path(paths[0]).is_dir():
        return None
    candidate = Path(paths[0]) / PROGRAMME_FILE
    return candidate if candidate.is_file() else None


def _span(file: str, lines: list[str], line: int, column: int, length: int = 1) -> Span:
    return Span(file, line, column, line, column + max(1, length))


def _key_span(file: str, lines: list[str], key: str, needle: str | None = None) -> Span:
    """Where ``key = ...`` is written (or ``needle`` after it); the first line when not found."""
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number, line in enumerate(lines, 1):
        match = pattern.match(line)
        if match:
            if needle is None:
                start = line.index(key)
                return _span(file, lines, number, start + 1, len(key))
            # the needle may be on this line or a later one of a multi-line array
            for later, text in enumerate(lines[number - 1:], number):
                at = text.find(needle, match.end() if later == number else 0)
                if at >= 0:
                    return _span(file, lines, later, at + 1, len(needle))
            return _span(file, lines, number, line.index(key) + 1, len(key))
    return _span(file, lines, 1, 1, len(lines[0]) if lines else 1)


def read_programme(path: Path, routines: list[Path]) -> tuple[Programme | None, list[Diagnostic], Any]:
    """Read ``path`` against the routine files of its folder.

    Returns the programme (None when it has errors), its problems, and its
    source (with ``.lines``) to render them with.
    """
    file = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        return None, [error("programme-unreadable", f"cannot read {PROGRAMME_FILE}: {exc.strerror or exc}",
                            Span(file, 1, 1, 1, 2))], SimpleNamespace(lines=[])
    except UnicodeDecodeError as exc:
        return None, [error("programme-encoding", f"{PROGRAMME_FILE} is not UTF-8 ({exc.reason})",
                            Span(file, 1, 1, 1, 2))], SimpleNamespace(lines=[])
    lines = text.splitlines()
    source = SimpleNamespace(lines=lines)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = re.search(r"\(at line (\d+), column (\d+)\)$", message)
        if where:
            line, column = int(where.group(1)), int(where.group(2))
            message = message[: where.start()].rstrip()
        else:  # "(at end of document)"
            line = max(1, len(lines))
            column = len(lines[-1]) + 1 if lines else 1
            message = re.sub(r"\s*\(at end of document\)$", " at the end of the file", message)
        message = message[:1].lower() + message[1:]
        return None, [error("programme-syntax", f"{message} (TOML)", Span(file, line, column, line, column + 1),
                            "programme.toml is TOML: key = \"value\" lines, see docs/programme.md")], source
    problems: list[Diagnostic] = []

    def problem(code: str, message: str, key: str, needle: str | None = None, hint: str | None = None) -> None:
        problems.append(error(code, message, _key_span(file, lines, key, needle), hint))

    for key, value in data.items():
        if key not in _KEYS:
            close = [k for k in _KEYS if k.startswith(key[:3])]
            problem("programme-unknown-key", f"unknown key '{key}' in {PROGRAMME_FILE}", key,
                    hint=f"did you mean '{close[0]}'?" if close else f"the keys are: {', '.join(_KEYS)}")
            continue
        kind, _, what = _KEYS[key]
        if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
            problem("programme-bad-value", f"'{key}' must be {what}", key)
    for key, (_, required, what) in _KEYS.items():
        if required and key not in data:
            problems.append(error("programme-missing-key", f"{PROGRAMME_FILE} has no '{key}' ({what})",
                                  _span(file, lines, 1, 1, len(lines[0]) if lines else 1),
                                  f"add a line: {key} = ..."))
    if problems:
        return None, problems, source

    folder = path.parent
    artwork = folder / data["artwork"]
    if not artwork.is_file():
        problem("programme-artwork-missing", f"the artwork '{data['artwork']}' is not in {folder}", "artwork",
                f"\"{data['artwork']}\"")
    elif artwork.suffix.lower() not in (".jpg", ".jpeg", ".png"):
        problem("programme-artwork-format", "the artwork must be a .jpg or .png file (Apple Podcasts' rule)",
                "artwork", f"\"{data['artwork']}\"")
    language = data.get("language", "en")
    if not _LANGUAGE.match(language):
        problem("programme-bad-value", f"'{language}' is not a language tag such as \"en\" or \"de-DE\"",
                "language", f"\"{language}\"")
    category, subcategory = data["category"], data.get("subcategory")
    if category not in CATEGORIES:
        problem("programme-category", f"'{category}' is not one of Apple Podcasts' categories", "category",
                f"\"{category}\"", "the categories are: " + ", ".join(CATEGORIES))
    elif subcategory is not None and subcategory not in CATEGORIES[category]:
        subs = CATEGORIES[category]
        problem("programme-category", f"'{subcategory}' is not a subcategory of '{category}'", "subcategory",
                f"\"{subcategory}\"", ("its subcategories are: " + ", ".join(subs)) if subs else
                f"'{category}' has no subcategories")
    stems = {routine.stem: routine for routine in routines}
    order = data.get("episodes")
    if order is not None:
        seen: set[str] = set()
        for name in order:
            if not isinstance(name, str):
                problem("programme-bad-value", "'episodes' must list the routines' names as strings", "episodes")
                break
            if name not in stems:
                problem("programme-unknown-episode", f"no routine '{name}.qi' in {folder}", "episodes",
                        f"\"{name}\"", ("the routines are: " + ", ".join(sorted(stems))) if stems else None)
            elif name in seen:
                problem("programme-repeated-episode", f"'{name}' is listed twice", "episodes", f"\"{name}\"")
            seen.add(name)
        missing = [s for s in sorted(stems) if s not in seen]
        if missing and not problems:
            problem("programme-episode-missing", f"'episodes' leaves out {', '.join(missing)}", "episodes",
                    hint="list every routine of the folder, in the order they are to be published")
    if problems:
        return None, problems, source
    published = data.get("published", dt.date(2026, 1, 1))
    if not isinstance(published, dt.datetime):
        published = dt.datetime(published.year, published.month, published.day, 6, 0)
    if published.tzinfo is None:
        published = published.replace(tzinfo=dt.UTC)
    return Programme(folder, data["title"].strip(), data["author"].strip(), data["description"].strip(), artwork,
                     language, category, subcategory, data.get("explicit", False), data.get("locked", False),
                     data.get("owner_email"), published, tuple(order) if order is not None else tuple(sorted(stems)),
                     order is not None), [], source
