"""A programme's podcast feed, ``feed.xml``: RSS 2.0 with the iTunes and Podcasting 2.0 namespaces (PSP-1).

Written with feedgen (its ``podcast`` extension makes the ``itunes:`` tags);
the ``podcast:`` tags of the Podcast Index namespace come from the small
feedgen extension below (:class:`PodcastIndexExtension`).  Every episode
carries its MP3 as the enclosure, a JSON chapters file (version 1.2, written
here beside the MP3 as ``NAME.chapters.json``) and its WebVTT captions as the
transcript.  The feed is a pure function of the programme and the built files,
so building twice writes the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

# feedgen.feed first: it loads lxml.etree, which feedgen.util uses without importing it
from feedgen.feed import FeedGenerator
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.util import xml_elem

from . import __version__
from .programme import Programme

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
# PSP-1's namespace for podcast:guid, a UUIDv5 over the feed's URL without scheme and trailing slashes.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
CHAPTERS_VERSION = "1.2.0"
CHAPTERS_TYPE = "application/json+chapters"
# What counts as content before a routine's first section (as qidsl.renderers.chapters counts it).
_CONTENT_KINDS = ("say", "count", "pause", "bell", "inhale", "exhale", "hold")


@dataclass(frozen=True)
class Episode:
    """One built routine in one voice, as the feed and the index page list it.

    Paths are the built files; ``voice`` is None when the programme is built in one voice.
    """

    number: int
    stem: str
    voice: str | None
    title: str
    description: str
    duration: float
    mp3: Path
    mp4: Path | None
    page: Path
    vtt: Path
    chapters: Path
    timeline: Path


def podcast_guid(feed_url: str) -> str:
    """PSP-1's ``podcast:guid``: UUIDv5 of the feed URL with its scheme and trailing slashes removed."""
    address = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, address))


def url_of(base_url: str, out: Path, path: Path) -> str:
    """The public URL of ``path`` (inside the output folder ``out``) under ``base_url``."""
    return base_url.rstrip("/") + "/" + quote(path.resolve().relative_to(out.resolve()).as_posix())


def chapters_json(timeline: dict) -> dict:
    """The Podcasting 2.0 JSON chapters of a routine from its ``NAME.timeline.json``.

    The same chapters as the MP3's and the YouTube description's: one per
    section, the content before the first section a chapter of its own named
    after the routine, the first starting at 0.
    """
    events = timeline.get("events", [])
    sections = [e for e in events if e.get("kind") == "section"]
    duration = float(timeline.get("duration", 0.0))
    first = sections[0]["start"] if sections else duration
    marks: list[tuple[str, float]] = []
    if any(e.get("kind") in _CONTENT_KINDS and e["start"] < first for e in events):
        marks.append((" ".join((timeline.get("title") or "").split()) or "Introduction", 0.0))
    marks += [(" ".join((s.get("text") or "").split()), float(s["start"])) for s in sections]
    chapters = []
    for i, (title, start) in enumerate(marks):
        start = 0.0 if i == 0 else start
        end = marks[i + 1][1] if i + 1 < len(marks) else duration
        if end > start:
            chapters.append({"startTime": round(start, 3), "endTime": round(end, 3), "title": title})
    result: dict = {"version": CHAPTERS_VERSION, "chapters": chapters}
    if timeline.get("title"):
        result["title"] = timeline["title"]
    if timeline.get("author"):
        result["author"] = timeline["author"]
    return result


class PodcastIndexExtension(BaseExtension):
    """The channel's ``podcast:`` tags (``podcast:guid``, ``podcast:locked``), and ``itunes:explicit``.

    ``itunes:explicit`` is here because PSP-1 (and Apple today) want ``true``
    or ``false``, where feedgen 1.0's podcast extension only writes the older
    ``yes``, ``no`` or ``clean``.
    """

    def __init__(self):
        self._guid: str | None = None
        self._locked: tuple[str, str | None] | None = None
        self._explicit: bool | None = None

    def extend_ns(self):
        return {"podcast": PODCAST_NS}

    def guid(self, value: str) -> None:
        self._guid = value

    def locked(self, locked: bool, owner: str | None = None) -> None:
        self._locked = ("yes" if locked else "no", owner)

    def explicit(self, explicit: bool) -> None:
        self._explicit = explicit

    def extend_rss(self, rss_feed):
        channel = rss_feed[0]
        if self._explicit is not None:
            xml_elem(f"{{{ITUNES_NS}}}explicit", channel).text = "true" if self._explicit else "false"
        if self._guid:
            xml_elem(f"{{{PODCAST_NS}}}guid", channel).text = self._guid
        if self._locked:
            element = xml_elem(f"{{{PODCAST_NS}}}locked", channel)
            element.text = self._locked[0]
            if self._locked[1]:
                element.attrib["owner"] = self._locked[1]
        return rss_feed

    def extend_atom(self, atom_feed):
        return atom_feed


class PodcastIndexEntryExtension(BaseEntryExtension):
    """An episode's ``podcast:chapters`` and ``podcast:transcript``."""

    def __init__(self):
        self._chapters: str | None = None
        self._transcripts: list[tuple[str, str, str | None]] = []

    def chapters(self, url: str) -> None:
        self._chapters = url

    def transcript(self, url: str, mime: str, language: str | None = None) -> None:
        self._transcripts.append((url, mime, language))

    def extend_rss(self, entry):
        if self._chapters:
            xml_elem(f"{{{PODCAST_NS}}}chapters", entry, url=self._chapters, type=CHAPTERS_TYPE)
        for url, mime, language in self._transcripts:
            element = xml_elem(f"{{{PODCAST_NS}}}transcript", entry, url=url, type=mime)
            if language:
                element.attrib["language"] = language
        return entry

    def extend_atom(self, entry):
        return entry


def feed_xml(programme: Programme, episodes: list[Episode], out: Path, base_url: str) -> bytes:
    """The feed of ``programme`` listing ``episodes`` (built under ``out``, published at ``base_url``)."""
    base = base_url.rstrip("/")
    feed_url = f"{base}/feed.xml"
    feed = FeedGenerator()
    feed.load_extension("podcast")
    feed.register_extension("podcastindex", PodcastIndexExtension, PodcastIndexEntryExtension)
    feed.title(programme.title)
    feed.description(programme.description)
    # feedgen's RSS <link> is the last link given, so the index page comes after the feed's own address.
    feed.link(href=feed_url, rel="self", type="application/rss+xml")
    feed.link(href=f"{base}/index.html", rel="alternate")
    feed.language(programme.language)
    feed.author({"name": programme.author, **({"email": programme.owner_email} if programme.owner_email else {})})
    feed.generator("qidsl", __version__, "https://github.com/qidsl/qidsl")
    feed.podcast.itunes_author(programme.author)
    feed.podcast.itunes_image(url_of(base, out, out / programme.artwork.name))
    feed.podcast.itunes_category(programme.category, programme.subcategory)
    feed.podcastindex.explicit(programme.explicit)
    feed.podcast.itunes_summary(programme.description)
    if programme.owner_email:
        feed.podcast.itunes_owner(programme.author, programme.owner_email)
    feed.podcast.itunes_type("serial" if programme.serial else "episodic")
    feed.podcastindex.guid(podcast_guid(feed_url))
    feed.podcastindex.locked(programme.locked, programme.owner_email)
    channel_guid = uuid.UUID(podcast_guid(feed_url))
    latest = programme.published
    for episode in episodes:
        entry = feed.add_entry(order="append")
        title = episode.title if episode.voice is None else f"{episode.title} ({episode.voice})"
        # Stable across builds and hosts: the channel's guid, the routine and the voice.
        guid = str(uuid.uuid5(channel_guid, f"{episode.stem}/{episode.voice or ''}"))
        entry.guid(guid, permalink=False)
        entry.title(title)
        entry.description(episode.description or title)
        entry.link(href=url_of(base, out, episode.page))
        entry.enclosure(url_of(base, out, episode.mp3), str(episode.mp3.stat().st_size), "audio/mpeg")
        published = programme.published + dt.timedelta(days=episode.number - 1)
        latest = max(latest, published)
        entry.pubDate(published)
        entry.podcast.itunes_duration(int(round(episode.duration)))
        entry.podcast.itunes_episode(episode.number)
        entry.podcast.itunes_episode_type("full")
        entry.podcastindex.chapters(url_of(base, out, episode.chapters))
        entry.podcastindex.transcript(url_of(base, out, episode.vtt), "text/vtt", programme.language)
    feed.lastBuildDate(latest)  # not the clock: the same programme gives the same bytes
    return feed.rss_str(pretty=True)


def write_chapters(episode_timeline: Path, out: Path) -> None:
    """Write the JSON chapters of the routine whose timeline is ``episode_timeline`` to ``out``."""
    from .outputs import write_text_atomic

    data = json.loads(episode_timeline.read_text(encoding="utf-8"))
    write_text_atomic(out, json.dumps(chapters_json(data), ensure_ascii=False, indent=2) + "\n")
