"""What ``qidsl build --profile NAME`` makes for a platform, beside the usual outputs.

- ``youtube``: ``NAME.youtube.txt``, a description ready to paste: the
  routine's description, its chapters (as YouTube reads them) and its tags
  as hashtags;
- ``insight-timer``: ``NAME.insight-timer.mp3``, the exact mix encoded as
  Insight Timer recommends (MP3, 128 kbit/s, 48 kHz);
- ``podcast``: ``NAME.mp3`` with an episode's ID3 tags besides the title,
  author and chapters every build writes: genre Podcast, the description as
  a comment, the language.

The rules and where they come from: :mod:`qidsl.profiles`, docs/profiles.md.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import BuildError
from .products import INSIGHT_TIMER_MP3, PODCAST_MP3, YOUTUBE_DESCRIPTION
from .profiles import youtube_description

INSIGHT_TIMER_BITRATE = "128k"
INSIGHT_TIMER_SAMPLE_RATE = 48000


def _insight_timer_mp3(out: Path, wav: Path, title: str, artist: str | None) -> None:
    import imageio_ffmpeg

    tags = ["-metadata", f"title={title}"] + (["-metadata", f"artist={artist}"] if artist else [])
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
               "-i", str(wav), "-map_metadata", "-1", *tags, "-id3v2_version", "4",
               "-c:a", "libmp3lame", "-b:a", INSIGHT_TIMER_BITRATE, "-ar", str(INSIGHT_TIMER_SAMPLE_RATE),
               "-f", "mp3", str(out)]
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise BuildError(f"ffmpeg could not encode {out.name}: {done.stderr.strip().splitlines()[-1:]}")


def _podcast_tags(out: Path, settings) -> None:
    from mutagen import MutagenError
    from mutagen.id3 import COMM, ID3, TCON, TLAN

    try:
        tags = ID3(str(out))
        tags.add(TCON(encoding=3, text=["Podcast"]))
        if settings.description:
            tags.add(COMM(encoding=3, lang="eng", desc="", text=[settings.description]))
        tags.add(TLAN(encoding=3, text=[settings.language]))
        tags.save(str(out), v2_version=4)
    except MutagenError as exc:
        raise BuildError(f"could not write the podcast tags of {out.name}: {exc}") from exc


def profile_products(profile: str | None, name: str, settings, timeline, outputs: dict[str, Any], wav: Any,
                     product: Callable[..., Any]) -> dict[str, Any]:
    """The products ``profile`` adds to (or puts in place of) a build's ``outputs``.

    ``product(family, key_parts, make, inputs)`` declares one of ``family``
    (:mod:`qidsl.products`) to the build's graph (this module knows nothing of
    it); ``wav`` is the exact mix's product, ``outputs`` the others.
    """
    if profile == "youtube":
        text = youtube_description(timeline)

        def make_description(out: Path) -> None:
            out.write_text(text, encoding="utf-8", newline="\n")
        return {f"{name}.youtube.txt": product(YOUTUBE_DESCRIPTION, (text,), make_description, ())}
    if profile == "insight-timer":
        def make_insight(out: Path, wav_path: Path) -> None:
            _insight_timer_mp3(out, wav_path, settings.title, settings.author)
        return {f"{name}.insight-timer.mp3": product(
            INSIGHT_TIMER_MP3, (wav.key, settings.title, settings.author, INSIGHT_TIMER_BITRATE), make_insight, (wav,))}
    if profile == "podcast":
        plain = outputs[f"{name}.mp3"]

        def make_podcast(out: Path, mp3_path: Path) -> None:
            shutil.copyfile(mp3_path, out)
            _podcast_tags(out, settings)
        return {f"{name}.mp3": product(PODCAST_MP3, (plain.key, settings.description, settings.language),
                                           make_podcast, (plain,))}
    return {}
