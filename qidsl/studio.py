"""After ``qidsl build FOLDER``: the programme's files beside its routines' outputs.

Each episode's JSON chapters (``OUT/NAME/NAME.chapters.json``), the artwork,
the index page (``OUT/index.html``) and, given a base URL, the podcast feed
(``OUT/feed.xml``).  Read from what the build left in ``OUT``; a routine that
was not built is left out of both.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .feed import Episode, feed_xml, write_chapters
from .index_page import index_html
from .outputs import atomic_path, write_text_atomic
from .programme import Programme


def built_episodes(programme: Programme, out: Path, voices: list[str] | None = None) -> list[Episode]:
    """The episodes whose outputs are in ``out``, numbered in the programme's order.

    With ``voices`` (folder names), each routine's are in ``out/NAME/VOICE/``, one episode per voice.
    """
    episodes = []
    for number, stem in enumerate(programme.episodes, 1):
        for voice in voices or [""]:
            folder = out / stem / voice if voice else out / stem
            timeline_path = folder / f"{stem}.timeline.json"
            mp3 = folder / f"{stem}.mp3"
            if not (timeline_path.is_file() and mp3.is_file()):
                continue
            timeline = json.loads(timeline_path.read_text(encoding="utf-8"))
            mp4 = folder / f"{stem}.mp4"
            episodes.append(Episode(number, stem, voice or None, timeline.get("title") or stem,
                                    timeline.get("description") or "", float(timeline["duration"]), mp3,
                                    mp4 if mp4.is_file() else None, folder / f"{stem}.html", folder / f"{stem}.vtt",
                                    folder / f"{stem}.chapters.json", timeline_path))
    return episodes


def write_programme(programme: Programme, out: Path, base_url: str | None, voices: list[str] | None = None) -> list[Path]:
    """Write the programme's files into ``out`` (its routines built in ``voices``, if several); the paths written."""
    episodes = built_episodes(programme, out, voices)
    written = []
    for episode in episodes:
        write_chapters(episode.timeline, episode.chapters)
        written.append(episode.chapters)
    artwork = out / programme.artwork.name
    with atomic_path(artwork) as tmp:
        shutil.copyfile(programme.artwork, tmp)
    written.append(artwork)
    write_text_atomic(out / "index.html", index_html(programme, episodes, out, artwork))
    written.append(out / "index.html")
    if base_url:
        with atomic_path(out / "feed.xml") as tmp:
            tmp.write_bytes(feed_xml(programme, episodes, out, base_url))
        written.append(out / "feed.xml")
    return written
