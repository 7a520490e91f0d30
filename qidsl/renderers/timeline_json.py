"""``NAME.timeline.json``: the timeline as data, for other tools (schema in docs/cli.md)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

from ..outputs import write_text_atomic
from ..timeline import Event, Timeline
from .captions import caption_cues
from .scene import CueLike, scene_dict, scene_track

SCHEMA = "qidsl.timeline/1"


def _event(event: Event) -> dict:
    repetition = event.repetition
    return {
        "start": event.start,
        "end": event.end,
        "kind": event.kind,
        "text": event.text,
        "section": event.section,
        "repetition": None if repetition is None else {
            "index": repetition.index, "total": repetition.total, "counted": repetition.counted},
        "side": event.side,
        "phase": event.phase,
        "source": None if event.line is None else {"file": event.file, "line": event.line},
        "speech": [{"start": s.start, "end": s.end, "text": s.text,
                    "words": [{"start": w.start, "end": w.end, "text": w.text} for w in s.words]}
                   for s in event.speech],
    }


def timeline_dict(timeline: Timeline, cues: Sequence[CueLike] | None = None) -> dict:
    """The JSON-ready form of ``timeline``, with its scene track (what is on screen over time).

    ``cues`` are the caption cues of the SRT (worked out from ``timeline``
    when not given), which the scene track's captions are.
    """
    settings = timeline.settings
    if cues is None:
        cues = caption_cues(timeline)
    return {
        "schema": SCHEMA,
        "title": settings.title,
        "author": settings.author,
        "description": settings.description,
        "tags": list(settings.tags),
        "language": settings.language,
        "engine": settings.engine,
        "voice": settings.voice,
        "tempo": settings.tempo,
        "rate": settings.rate,
        "captions": settings.captions,
        "duration": timeline.duration,
        "notes": list(timeline.notes),
        "events": [_event(event) for event in timeline.events],
        "scene": scene_dict(scene_track(timeline, cues)),
    }


def write_timeline_json(path: str | os.PathLike, timeline: Timeline) -> None:
    """Write the timeline as pretty-printed UTF-8 JSON, atomically."""
    write_text_atomic(path, json.dumps(timeline_dict(timeline), ensure_ascii=False, indent=2) + "\n")
