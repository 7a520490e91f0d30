"""The MP4's tags and chapters, as the MP3 has them, written through ffmpeg's ffmetadata.

ffmpeg's MP4 muxer turns the global keys of an ffmetadata file into iTunes
tags (``title`` ©nam, ``artist`` ©ART, ``comment`` ©cmt, ``description``
desc, ``keywords``) and its ``[CHAPTER]`` sections into both a QuickTime
chapter track (a text track the video track refers to with ``chap``: what
QuickTime and Apple's players read) and a Nero ``chpl`` box (what VLC,
mp4v2-based players and podcast apps read).  The language goes on every
track as ISO 639-2/T, from the routine's BCP-47 tag (langcodes).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MILLISECONDS = 1000


def _escaped(text: str) -> str:
    """A value as ffmetadata wants it: ``=``, ``;``, ``#``, ``\\`` and line breaks escaped with a backslash."""
    return re.sub(r"([=;#\\\n])", r"\\\1", text)


def ffmetadata(title: str, author: str | None, description: str | None, tags: Sequence[str],
               chapters: Sequence[tuple[str, float, float]]) -> str:
    """An ffmetadata file's text: the routine's tags and one ``[CHAPTER]`` per (title, start s, end s)."""
    lines = [";FFMETADATA1"]
    for key, value in (("title", title), ("artist", author), ("comment", description),
                       ("description", description), ("keywords", ", ".join(tags))):
        if value:
            lines.append(f"{key}={_escaped(value)}")
    for name, start, end in chapters:
        lines += ["", "[CHAPTER]", f"TIMEBASE=1/{MILLISECONDS}", f"START={round(start * MILLISECONDS)}",
                  f"END={round(end * MILLISECONDS)}", f"title={_escaped(name)}"]
    return "\n".join(lines) + "\n"


def mp4_language(tag: str) -> str:
    """The ISO 639-2/T code an MP4 track's language is (``en-GB`` -> ``eng``); ``und`` when there is none."""
    import langcodes

    try:
        return langcodes.Language.get(tag).to_alpha3()
    except (LookupError, ValueError):
        return "und"
