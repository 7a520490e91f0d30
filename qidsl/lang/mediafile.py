"""``check`` looks at a routine's media files (``music:``) without decoding them.

``check`` stays light (no numpy, no moviepy, no ffmpeg process per file): a
file must be inside the routine's folder tree (the ``include`` rules), exist,
be readable, and begin with the signature of a sound format ffmpeg decodes.
Reading a dozen bytes answers all of that in microseconds; whether every
packet decodes is only learnt by decoding, which ``build`` does, and a file
that fails there stops the build with one sentence.
"""

from __future__ import annotations

import os
from pathlib import Path

from .diagnostics import Diagnostic, error
from .model import Routine
from .settings import MUSIC_CALM, Settings

_HEAD = 12
# The first bytes of the sound formats a `music:` file may be in, by name.
_SOUND_SIGNATURES = (
    ("Ogg", lambda head: head.startswith(b"OggS")),
    ("FLAC", lambda head: head.startswith(b"fLaC")),
    ("WAV", lambda head: head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE"),
    ("AIFF", lambda head: head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC")),
    ("MP3", lambda head: head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)),
    ("MPEG-4 audio", lambda head: head[4:8] == b"ftyp"),
)
SOUND_FORMATS = ", ".join(name for name, _ in _SOUND_SIGNATURES)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValueError):
        return "a file name cannot hold a NUL character"
    return (getattr(exc, "strerror", None) or str(exc)).rstrip(".")


def media_path(routine_path: str, written: str) -> Path:
    """Where a media file written in a routine is: relative to the routine's folder (as ``include``)."""
    return Path(os.path.normpath(Path(routine_path).parent / Path(written).expanduser()))


def music_file_problems(routine: Routine, settings: Settings) -> list[Diagnostic]:
    """A ``music:`` file outside the routine's folder, missing, unreadable or not a sound, at its line."""
    line = routine.setting("music")
    if line is None or settings.music in (None, MUSIC_CALM):
        return []
    written, span = settings.music, line.value_span
    target = media_path(routine.path, written)
    try:
        root = Path(routine.path).parent.resolve()
        inside = target.resolve().is_relative_to(root)
    except (OSError, ValueError) as exc:
        return [error("music-unreadable", f"cannot read \"{written}\": {_reason(exc)}", span)]
    if not inside:
        return [error("music-outside", f"\"{written}\" is outside this routine's folder", span,
                      "keep media in the routine's folder or below it")]
    try:
        with open(target, "rb") as stream:
            head = stream.read(_HEAD)
    except FileNotFoundError:
        return [error("music-missing", f"cannot find \"{written}\"", span, f"looked for {target}")]
    except (OSError, ValueError) as exc:
        return [error("music-unreadable", f"cannot read \"{written}\": {_reason(exc)}", span)]
    if not any(matches(head) for _, matches in _SOUND_SIGNATURES):
        return [error("music-unsupported", f"\"{written}\" is not a sound file qidsl can play", span,
                      f"use a sound in one of these formats: {SOUND_FORMATS}")]
    return []
