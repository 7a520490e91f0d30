"""``qidsl export``: a built routine's timeline for video editors, with OpenTimelineIO.

The timeline JSON a build wrote (``NAME.timeline.json``) becomes an
OpenTimelineIO timeline: a *Narration* audio track with each spoken sentence
as a clip cut from ``NAME.mp3`` at its own time (so the editor can move or
trim one sentence), a *Bell* audio track with each bell as a clip of
``NAME.bell.wav`` (written beside, the same synthesised strike the build
mixed in), a *Video* track with ``NAME.mp4`` when the build made one, and
each section as a marker.  OpenTimelineIO's adapters write it as ``.otio``
(its own JSON), ``.fcpxml`` (Final Cut Pro X, read by DaVinci Resolve and
Premiere through FCPXML import) or ``.edl`` (CMX 3600).  The captions go
beside as ``NAME.srt`` (the build's own).

OpenTimelineIO and its adapters are the ``export`` extra: ``pip install
'qidsl[export]'``.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from .outputs import atomic_path

FORMATS = {"otio": ("otio_json", ".otio"), "fcpxml": ("fcpx_xml", ".fcpxml"), "edl": ("cmx_3600", ".edl")}
TIMELINE_SUFFIX = ".timeline.json"


class ExportError(Exception):
    """An export that cannot be made: the message is one sentence for the user."""


@dataclass(frozen=True)
class Clip:
    """A stretch of a media file placed on a track: ``start`` on the timeline, ``source`` in the file."""

    name: str
    start: float
    duration: float
    media: Path
    source: float


@dataclass(frozen=True)
class Plan:
    """What an export holds, read from a timeline JSON: tracks of clips, and section markers."""

    title: str
    duration: float
    narration: tuple[Clip, ...]
    bells: tuple[Clip, ...]
    video: tuple[Clip, ...]
    markers: tuple[tuple[str, float, float], ...]  # (name, start, duration)


def read_plan(timeline_path: Path) -> Plan:
    """The clips and markers of the build whose timeline JSON is ``timeline_path``."""
    try:
        data = json.loads(timeline_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ExportError(f"cannot read {timeline_path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ExportError(f"{timeline_path} is not a timeline JSON written by qidsl build") from None
    if not isinstance(data, dict) or not str(data.get("schema", "")).startswith("qidsl.timeline/"):
        raise ExportError(f"{timeline_path} is not a timeline JSON written by qidsl build")
    name = timeline_path.name[: -len(TIMELINE_SUFFIX)]
    folder = timeline_path.parent.resolve()
    audio = folder / f"{name}.mp3"
    if not audio.exists():
        raise ExportError(f"{audio} is missing: build the routine again (without deleting its MP3)")
    narration, bells, markers = [], [], []
    for event in data["events"]:
        if event["kind"] == "section":
            markers.append((event["text"] or "", event["start"], event["end"] - event["start"]))
        elif event["kind"] == "bell":
            length = event["end"] - event["start"]
            bells.append(Clip("Bell", event["start"], length, folder / f"{name}.bell.wav", 0.0))
        for sentence in event.get("speech") or ():
            # The MP3 is the whole routine from 0: a sentence's place in it is its place on the timeline.
            narration.append(Clip(sentence["text"], sentence["start"], sentence["end"] - sentence["start"],
                                  audio, sentence["start"]))
    video = folder / f"{name}.mp4"
    videos = (Clip(data.get("title") or name, 0.0, data["duration"], video, 0.0),) if video.exists() else ()
    return Plan(data.get("title") or name, data["duration"], tuple(narration), tuple(bells), videos,
                tuple(markers))


def _otio():
    try:
        import opentimelineio as otio
    except ImportError:
        raise ExportError("export needs OpenTimelineIO and its adapters: pip install 'qidsl[export]'") from None
    return otio


def otio_timeline(plan: Plan, fps: int, fmt: str = "otio"):
    """``plan`` as an ``opentimelineio.schema.Timeline`` at ``fps`` frames a second, laid out for ``fmt``."""
    otio = _otio()

    def time(seconds: float):
        return otio.opentime.RationalTime(round(seconds * fps), fps)

    def span(start: float, length: float):
        return otio.opentime.TimeRange(time(start), time(length))

    lengths: dict[Path, float] = {}
    for clip in plan.narration + plan.video:
        lengths[clip.media] = plan.duration
    for clip in plan.bells:
        lengths[clip.media] = max(lengths.get(clip.media, 0.0), clip.duration)

    def track(name: str, kind: str, clips: tuple[Clip, ...]):
        out = otio.schema.Track(name=name, kind=kind)
        at = 0
        for clip in clips:
            # Both ends on the frame grid (rounding the length instead could put the end a frame off).
            begin = round(clip.start * fps)
            length = round((clip.start + clip.duration) * fps) - begin
            if begin < at or length <= 0:  # never on this grid: a sentence shorter than a frame
                continue
            if begin > at:
                out.append(otio.schema.Gap(source_range=span(0, (begin - at) / fps)))
            reference = otio.schema.ExternalReference(target_url=clip.media.as_uri(),
                                                      available_range=span(0, lengths[clip.media]))
            out.append(otio.schema.Clip(name=clip.name, media_reference=reference,
                                        source_range=span(clip.source, length / fps)))
            at = begin + length
        return out

    timeline = otio.schema.Timeline(name=plan.title, global_start_time=time(0))
    # Always a picture track the routine's length: FCPXML hangs audio clips on the primary storyline.
    video = track("Video", otio.schema.TrackKind.Video, plan.video)
    if not plan.video:
        video.append(otio.schema.Gap(source_range=span(0, plan.duration)))
    audio = [track("Narration", otio.schema.TrackKind.Audio, plan.narration)]
    if plan.bells:
        audio.append(track("Bell", otio.schema.TrackKind.Audio, plan.bells))
    # CMX 3600 holds one track, the first: there it is the narration.
    for item in ([*audio, video] if fmt == "edl" else [video, *audio]):
        timeline.tracks.append(item)
    # FCPXML keeps markers on the storyline's clips only; OpenTimelineIO on the timeline's stack.
    holder = video[0] if fmt == "fcpxml" else timeline.tracks
    for name, start, length in plan.markers:
        holder.markers.append(otio.schema.Marker(name=name, marked_range=span(start, length)))
    return timeline


def _write_bell(plan: Plan, target: Path) -> None:
    from .renderers.audio import SAMPLE_RATE, write_wav
    from .renderers.bell import bell

    write_wav(target, bell(max(clip.duration for clip in plan.bells), SAMPLE_RATE), SAMPLE_RATE)


def export(timeline_path: Path, fmt: str, out_dir: Path | None = None, fps: int = 30) -> Path:
    """Write the export of ``fmt`` (a key of :data:`FORMATS`) for a build; returns the file written.

    Beside it: ``NAME.bell.wav`` when the routine rings a bell, and ``NAME.srt``.
    """
    otio = _otio()
    plan = read_plan(timeline_path)
    name = timeline_path.name[: -len(TIMELINE_SUFFIX)]
    folder = out_dir or timeline_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    if plan.bells:
        wav = timeline_path.parent.resolve() / f"{name}.bell.wav"
        _write_bell(plan, wav)
    captions = timeline_path.parent / f"{name}.srt"
    if captions.exists() and captions.resolve() != (folder / captions.name).resolve():
        with atomic_path(folder / captions.name) as tmp:
            shutil.copyfile(captions, tmp)
    adapter, suffix = FORMATS[fmt]
    target = folder / f"{name}{suffix}"
    timeline = otio_timeline(plan, fps, fmt)
    try:
        text = otio.adapters.write_to_string(timeline, adapter_name=adapter)
    except otio.exceptions.OTIOError as exc:
        raise ExportError(f"OpenTimelineIO cannot write {target.name}: {exc}") from None
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target


def run_export(path: str, formats: list[str], out: str | None = None, fps: int = 30) -> int:
    """``qidsl export``: write each of ``formats`` for the build at ``path``; returns the exit code.

    ``path`` is a ``NAME.timeline.json`` or the build folder holding one.
    """
    given = Path(path)
    if given.is_dir():
        found = sorted(given.glob(f"*{TIMELINE_SUFFIX}"))
        if len(found) != 1:
            what = "no" if not found else "more than one"
            print(f"qidsl: {given} holds {what} timeline JSON; name the NAME.timeline.json to export",
                  file=sys.stderr)
            return 2
        given = found[0]
    elif not given.name.endswith(TIMELINE_SUFFIX):
        print(f"qidsl: {given} is not a NAME.timeline.json (qidsl build writes one beside the MP3)",
              file=sys.stderr)
        return 2
    try:
        for fmt in formats:
            target = export(given, fmt, Path(out) if out else None, fps)
            print(f"wrote {target}", file=sys.stderr)
    except ExportError as exc:
        print(f"qidsl: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"qidsl: cannot write the export: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
