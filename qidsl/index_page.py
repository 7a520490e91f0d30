"""A programme's index page, ``index.html``: every routine with its practice page, MP3 and MP4.

Self-contained and offline like the practice page: one file, its style
inline, no script and nothing fetched; every link is relative, so the
folder can be opened from disk, copied to a USB stick or served as it is.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from urllib.parse import quote

from .feed import Episode
from .programme import Programme
from .timefmt import clock

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#223;
background:#fbfaf7;line-height:1.45}
header{display:flex;gap:1.2rem;align-items:center}header img{width:7rem;height:7rem;border-radius:.5rem;
object-fit:cover}h1{margin:.2rem 0}.by{color:#556}ol{padding-left:1.4rem}li{margin:1.1rem 0}
.len{color:#556;font-variant-numeric:tabular-nums}.files a{margin-right:.9rem}p{margin:.3rem 0}
"""


def _href(out: Path, path: Path) -> str:
    return quote(Path(os.path.relpath(path, out)).as_posix())


def index_html(programme: Programme, episodes: list[Episode], out: Path, artwork: Path) -> str:
    """The page listing ``episodes`` (grouped by routine, one line of files per voice)."""
    e = html.escape
    items = []
    by_stem: dict[str, list[Episode]] = {}
    for episode in episodes:
        by_stem.setdefault(episode.stem, []).append(episode)
    for stem in programme.episodes:
        versions = by_stem.get(stem)
        if not versions:
            continue
        first = versions[0]
        lines = []
        for episode in versions:
            files = [f'<a href="{_href(out, episode.page)}">practice page</a>',
                     f'<a href="{_href(out, episode.mp3)}">MP3</a>']
            if episode.mp4 is not None:
                files.append(f'<a href="{_href(out, episode.mp4)}">MP4</a>')
            voice = f"{e(episode.voice)}: " if episode.voice else ""
            lines.append(f'<p class="files">{voice}{" ".join(files)} '
                         f'<span class="len">{clock(episode.duration)}</span></p>')
        description = f"<p>{e(first.description)}</p>" if first.description else ""
        items.append(f'<li id="{e(stem)}"><strong>{e(first.title)}</strong> '
                     f'<span class="len">({clock(first.duration)})</span>{description}{"".join(lines)}</li>')
    return (f'<!DOCTYPE html>\n<html lang="{e(programme.language)}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{e(programme.title)}</title>\n"
            f'<link rel="alternate" type="application/rss+xml" title="{e(programme.title)}" href="feed.xml">\n'
            f"<style>{_STYLE}</style>\n</head>\n<body>\n<header>"
            f'<img src="{_href(out, artwork)}" alt="">'
            f'<div><h1>{e(programme.title)}</h1><p class="by">{e(programme.author)}</p></div></header>\n'
            f"<p>{e(programme.description)}</p>\n<ol>\n" + "\n".join(items) + "\n</ol>\n"
            '<p><a href="feed.xml">Podcast feed</a></p>\n</body>\n</html>\n')
