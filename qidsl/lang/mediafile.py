"""``check`` looks at a routine's media files: ``music:`` without decoding it, ``backdrop`` with one ffmpeg.

``check`` stays light (no numpy, no moviepy, no ffmpeg process per file): a
file must be inside the routine's folder tree (the ``include`` rules), exist,
be readable, and begin with the signature of a sound format ffmpeg decodes.
Reading a dozen bytes answers all of that in microseconds; whether every
packet decodes is only learnt by decoding, which ``build`` does, and a file
that fails there stops the build with one sentence.

A backdrop (a photo or a clip) is asked more of: its shape and length, and
whether its first picture decodes.  The build's own ffmpeg binary answers
that, one short process per file (the header and one picture), kept while the
file is unchanged, so the language server does not ask again on each key.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .diagnostics import Diagnostic, error, warning
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


def _outside(what: str, written: str, target: Path, routine_path: str, span) -> Diagnostic | None:
    """``what``-outside when ``target`` is not inside the routine's folder tree (the ``include`` rule),
    ``what``-unreadable when that cannot be told; None when it is inside."""
    try:
        inside = target.resolve().is_relative_to(Path(routine_path).parent.resolve())
    except (OSError, ValueError) as exc:
        return error(f"{what}-unreadable", f"cannot read \"{written}\": {_reason(exc)}", span)
    if inside:
        return None
    return error(f"{what}-outside", f"\"{written}\" is outside this routine's folder", span,
                 "keep media in the routine's folder or below it")


def music_file_problems(routine: Routine, settings: Settings) -> list[Diagnostic]:
    """A ``music:`` file outside the routine's folder, missing, unreadable or not a sound, at its line."""
    line = routine.setting("music")
    if line is None or settings.music in (None, MUSIC_CALM):
        return []
    written, span = settings.music, line.value_span
    target = media_path(routine.path, written)
    outside = _outside("music", written, target, routine.path, span)
    if outside is not None:
        return [outside]
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


# ---- backdrops: a photo or a clip behind the picture ----------------------

# The first bytes of the pictures and clips a `backdrop` may be, by name and kind.
_PICTURE_SIGNATURES = (
    ("JPEG", "photo", lambda head: head.startswith(b"\xff\xd8\xff")),
    ("PNG", "photo", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    ("WebP", "photo", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
    ("MP4/MOV", "clip", lambda head: head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free")),
    ("WebM/MKV", "clip", lambda head: head.startswith(b"\x1a\x45\xdf\xa3")),
    ("AVI", "clip", lambda head: head[:4] == b"RIFF" and head[8:12] == b"AVI "),
)
PICTURE_FORMATS = ", ".join(name for name, _, _ in _PICTURE_SIGNATURES)
MIN_CLIP_SECONDS = 1.0  # a shorter clip would loop more than once a second
LANDSCAPE = (1280, 720)  # the video's shape (its preview and sizes are all 16:9)


@dataclass(frozen=True)
class MediaInfo:
    """What ffmpeg says of a backdrop's file: its kind, its picture's size as shown, its length."""

    kind: str  # "photo" or "clip"
    width: int
    height: int
    seconds: float | None  # a clip's length; None for a photo
    # How a clip's Y'CbCr is to be read, as its stream is tagged: the colour matrix ("" when untagged,
    # which ffmpeg reads as BT.601) and whether it uses the full 0..255 range rather than the studio one.
    matrix: str = ""
    full_range: bool = False
    fps: float | None = None  # a clip's frame rate, as ffmpeg reads it (None: not said)


def picture_kind(head: bytes) -> str | None:
    """``"photo"`` or ``"clip"`` from a file's first bytes, None when it is neither."""
    for _, kind, matches in _PICTURE_SIGNATURES:
        if matches(head):
            return kind
    return None


def _ffmpeg() -> str:
    import imageio_ffmpeg  # the build's own ffmpeg binary (no numpy behind it)

    return imageio_ffmpeg.get_ffmpeg_exe()


_INPUT_SIZE = re.compile(r"Stream #\S+.*?: Video: .*?(\d{2,5})x(\d{2,5})")
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_ROTATION = re.compile(r"rotation of (-?\d+(?:\.\d+)?) degrees")
_RATE = re.compile(r"Stream #\S+.*?: Video: [^\n]*?, (\d+(?:\.\d+)?)(k?) (fps|tbr)\b")
_DECODED = re.compile(r"frame=\s*[1-9]")
# The pixel format and its details, as in "Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709, progressive)".
_PIXELS = re.compile(r"Stream #\S+.*?: Video: [^\n]*?, (\w+)(?:\(([^)]*)\))?, \d{2,5}x\d{2,5}")


@functools.lru_cache(maxsize=256)
def _probe(path: str, size: int, mtime: int) -> MediaInfo | str:
    """ffmpeg reads the header and decodes the first picture: a MediaInfo, or why it cannot (a sentence)."""
    with open(path, "rb") as stream:
        kind = picture_kind(stream.read(_HEAD))
    if kind is None:
        return "unsupported"
    command = [_ffmpeg(), "-hide_banner", "-nostdin", "-i", path, "-map", "0:v:0", "-frames:v", "1", "-f", "null", "-"]
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"ffmpeg could not read it ({exc})"
    text = done.stderr.decode("utf-8", "replace")
    header = text.split("Output #0", 1)[0]
    found = _INPUT_SIZE.search(header)
    if done.returncode != 0 or found is None or not _DECODED.search(text):
        return "no picture in it can be decoded"
    width, height = int(found.group(1)), int(found.group(2))
    rotation = _ROTATION.search(header)
    if rotation and round(float(rotation.group(1))) % 180:
        width, height = height, width  # a phone's portrait clip stored sideways, shown upright
    seconds = None
    if kind == "clip":
        length = _DURATION.search(header)
        seconds = (int(length.group(1)) * 3600 + int(length.group(2)) * 60 + float(length.group(3))
                   if length else 0.0)
    matrix, full_range = _colours(header)
    return MediaInfo(kind, width, height, seconds, matrix, full_range, _rate(header) if kind == "clip" else None)


def _rate(header: str) -> float | None:
    """A video stream's frame rate: its "fps", else its "tbr" (as moviepy reads it)."""
    rates = {unit: float(value) * (1000 if k else 1) for value, k, unit in _RATE.findall(header)}
    return rates.get("fps") or rates.get("tbr")


def _colours(header: str) -> tuple[str, bool]:
    """The colour matrix a video stream is tagged with ("" when untagged) and whether it is full range."""
    found = _PIXELS.search(header)
    if found is None:
        return "", False
    details = [part.strip() for part in (found.group(2) or "").split(",")]
    # ffmpeg writes the matrix, primaries and transfer as "m/p/t", or once when all three are the same.
    tagged = [part.split("/")[0] for part in details if "/" in part or part.startswith(("bt", "smpte", "fcc"))]
    matrix = tagged[0] if tagged and tagged[0] != "unknown" else ""
    return matrix, "pc" in details or found.group(1).startswith("yuvj")


def probe_media(path: Path) -> MediaInfo | str:
    """What ffmpeg says of the picture or clip at ``path`` (cached while the file is unchanged).

    A string says why it cannot be shown: ``"unsupported"`` (not a picture or
    clip format), or a sentence.  Raises OSError when the file cannot be read.
    """
    stat = path.stat()
    probe = functools.partial(_probe, str(path), stat.st_size, stat.st_mtime_ns)
    if _remember is None:
        return probe()

    def described() -> str:
        info = probe()
        if isinstance(info, str):
            raise _NotShowable(info)  # not remembered: the build stops and says why
        return json.dumps(dataclasses.asdict(info))
    try:
        return MediaInfo(**json.loads(_remember(path, described)))
    except _NotShowable as exc:
        return exc.reason
    except (ValueError, TypeError):  # a remembered description that is not one
        return probe()


class _NotShowable(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# How a build remembers what ffmpeg said of a file beyond its process (qidsl.memo, in the store): a
# function of the file and of a function that works the description out.  None (qidsl check, the
# language server): once per process.
_remember: Callable[[Path, Callable[[], str]], str] | None = None


def remember_probes(remember: Callable[[Path, Callable[[], str]], str] | None) -> None:
    """Have :func:`probe_media` remember its answers with ``remember`` (see ``qidsl.memo.remembered``)."""
    global _remember
    _remember = remember


def cover_crop(width: int, height: int, frame: tuple[int, int] = LANDSCAPE) -> float:
    """The share of a ``width`` x ``height`` picture cut away when it fills ``frame`` (scaled, then cropped)."""
    scale = max(frame[0] / width, frame[1] / height)
    return 1 - (frame[0] * frame[1]) / (width * height * scale * scale)


def backdrop_problems(written: str, span, routine_path: str, named_in: str, start=None) -> list[Diagnostic]:
    """A ``backdrop`` file outside the routine's folder, missing, unreadable, not a picture or clip, one
    that cannot be decoded (errors), a portrait one in the landscape video or a clip shorter than a
    second (warnings), reported at ``span``.  ``written`` is relative to the file ``named_in``.
    ``start``: the ``from`` of the statement (a Duration), which must fall inside the clip."""
    target = media_path(named_in, written)
    outside = _outside("backdrop", written, target, routine_path, span)
    if outside is not None:
        return [outside]
    try:
        info = probe_media(target)
    except FileNotFoundError:
        return [error("backdrop-missing", f"cannot find \"{written}\"", span, f"looked for {target}")]
    except (OSError, ValueError) as exc:
        return [error("backdrop-unreadable", f"cannot read \"{written}\": {_reason(exc)}", span)]
    if info == "unsupported":
        return [error("backdrop-unsupported", f"\"{written}\" is not a photo or video clip qidsl can show", span,
                      f"use a file in one of these formats: {PICTURE_FORMATS}")]
    if isinstance(info, str):
        return [error("backdrop-undecodable", f"\"{written}\" cannot be shown: {info}", span,
                      "export it again from your video or photo program")]
    problems: list[Diagnostic] = []
    if info.height > info.width:
        cut = cover_crop(info.width, info.height)
        problems.append(warning("backdrop-portrait", f"this {info.kind} is portrait ({info.width}x{info.height}) "
                                f"and the video is landscape: filling the frame crops away {cut:.0%} of it, "
                                "keeping the middle band", span,
                                f"use a landscape {info.kind}, or frame the movement in its middle"))
    if start is not None and info.kind == "photo":
        problems.append(error("backdrop-from", "a photo has no time to start from", start.span,
                              "remove the from part, or name a clip"))
    elif start is not None and info.seconds is not None and start.seconds >= info.seconds:
        problems.append(error("backdrop-from", f"this clip lasts {info.seconds:.1f}s, so it cannot start at "
                              f"{start.seconds:g}s", start.span, "start it earlier, or leave out the from part"))
    if info.kind == "clip" and info.seconds is not None and info.seconds < MIN_CLIP_SECONDS:
        problems.append(warning("backdrop-short", f"this clip lasts {info.seconds:.2f}s, under a second, so it "
                                "loops more than once a second", span,
                                "use a clip of at least a second, or a photo"))
    return problems
