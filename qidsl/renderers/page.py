"""``NAME.html``: the practice page, and the class sheet it prints as.

One self-contained HTML file (its CSS and JavaScript inline, no network)
that plays ``NAME.mp3`` lying beside it and draws, in step with the audio
clock, what the video shows: the section, the caption cue of the SRT, the
breath pacer, the counter, the side and "Next: ...".  The timeline it follows
is embedded as the very JSON the timeline_json renderer writes
(:func:`qidsl.renderers.timeline_json.timeline_dict`), and ``page.js`` only
reads its scene track (:mod:`qidsl.renderers.scene`) and interpolates it, so
there is one truth.  The chapter list reuses
:func:`qidsl.renderers.chapters.chapters`, at the sections' true starts as
the printable class sheet gives them; the sheet (every section, cue and
breath pattern in order) is written here, from the same JSON, as plain HTML:
it reads and prints with JavaScript off.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from importlib import resources
from urllib.parse import quote

from ..outputs import write_text_atomic
from ..timefmt import clock
from ..timeline import BELL, BREATH_KINDS, COUNT, NOTE, PAUSE, SAY, SECTION, Timeline
from ..words import screen_words
from .chapters import chapters
from .scene import CueLike
from .timeline_json import timeline_dict

# A marker the watch server replaces with its own script; harmless text in a file opened from disk.
WATCH_MARKER = "<!--qidsl:watch-->"


def _resource(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _script_json(data: object) -> str:
    """JSON safe inside a ``<script>`` element: no ``</script>`` or ``<!--`` can end it early."""
    text = json.dumps(data, ensure_ascii=False, indent=None, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _seconds(value: float) -> str:
    """A written duration: ``4s``, ``1.5s``, ``1m30s``."""
    value = round(value, 1)
    minutes, secs = divmod(value, 60)
    secs_text = f"{secs:g}s" if secs else ""
    if minutes >= 1:
        return f"{int(minutes)}m{secs_text}"
    return f"{value:g}s"


def _same(a: dict, b: dict) -> bool:
    return (a["kind"], a["text"], a["side"], round(a["end"] - a["start"], 2)) == (
        b["kind"], b["text"], b["side"], round(b["end"] - b["start"], 2))


def _groups(events: list[dict]) -> list[tuple[int, bool, list[dict]] | dict]:
    """``events`` with each whole ``repeat`` folded to one pass: ``(times, counted, body)`` or an event.

    A run of events from one repeat (1 of N .. N of N, each pass the same
    steps) prints once with "N times"; anything less regular, such as a
    repeat nested in a repeat, prints as it happens, which is never wrong.
    """
    out: list = []
    i = 0
    while i < len(events):
        rep = events[i]["repetition"]
        if rep is None or rep["index"] != 1:
            out.append(events[i])
            i += 1
            continue
        j = i
        while (j < len(events) and events[j]["repetition"] is not None
               and events[j]["repetition"]["total"] == rep["total"]
               and events[j]["repetition"]["counted"] == rep["counted"]
               and (j == i or events[j]["repetition"]["index"] >= events[j - 1]["repetition"]["index"])):
            j += 1
        run = events[i:j]
        passes: list[list[dict]] = []
        for event in run:
            index = event["repetition"]["index"]
            while len(passes) < index:
                passes.append([])
            passes[index - 1].append(event)
        body = [e for e in passes[0] if e["kind"] != COUNT]
        regular = (len(passes) == rep["total"] and body
                   and all(len([e for e in p if e["kind"] != COUNT]) == len(body)
                           and all(_same(a, b) for a, b in zip(body, [e for e in p if e["kind"] != COUNT]))
                           for p in passes))
        if regular:
            out.append((rep["total"], rep["counted"], body))
        else:
            out.extend(run)
        i = j
    return out


def _step_html(event: dict, words: dict[str, str]) -> str:
    kind, text = event["kind"], event["text"]
    length = event["end"] - event["start"]
    quoted = f' <q>{_e(text)}</q>' if text else ""
    if kind in BREATH_KINDS:
        return f'<span class="step {kind}"><b>{_e(words[kind])} {_seconds(length)}</b>{quoted}</span>'
    if kind == PAUSE:
        return f'<span class="step pause"><b>{_e(words["pause"])} {_seconds(length)}</b></span>'
    if kind == BELL:
        return f'<span class="step bell"><b>Bell</b> <i>({_seconds(length)})</i></span>'
    if kind == NOTE:
        return f'<span class="step note"><b>Note:</b> {_e(text)}</span>'
    if kind in (SAY, COUNT):
        return f'<span class="step say">{_e(text)}</span>'
    return f'<span class="step">{_e(text or kind)}</span>'


def _items_html(events: list[dict], words: dict[str, str]) -> str:
    items = []
    for group in _groups(events):
        if isinstance(group, dict):
            items.append(f"<li>{_step_html(group, words)}</li>")
            continue
        times, counted, body = group
        label = f"{times} times{', counted' if counted else ''}"
        if all(e["kind"] in BREATH_KINDS for e in body):  # a breath pattern: one line
            steps = " · ".join(_step_html(e, words) for e in body)
            items.append(f'<li class="pattern"><span class="times">{label}:</span> {steps}</li>')
        else:
            inner = "".join(f"<li>{_step_html(e, words)}</li>" for e in body)
            items.append(f'<li class="pattern"><span class="times">{label}:</span><ol>{inner}</ol></li>')
    return "".join(items)


def _first_pose(windows: list[dict], start: float, end: float) -> int | None:
    """The section's first pose: the index of the figure's first window in it (a held pose, or the first move's
    goal)."""
    for number, window in enumerate(windows):
        if window["end"] > start and window["start"] < end:
            return number
    return None


def _sheet_figure(windows: list[dict], number: int) -> str:
    """A place for the pose window ``number`` goes to, small: page.js draws it with figure.js, as the live figure."""
    name = _e(windows[number]["pose"])
    return (f'<svg class="sheet-figure" data-window="{number}" role="img" aria-label="{name}">'
            f"<title>{name}</title></svg>")


def sheet_html(data: dict, words: dict[str, str]) -> str:
    """The class sheet: title, total time, notes, then every section with its time and steps in order."""
    events = data["events"]
    parts = [f'<header class="sheet-head"><h2>{_e(data["title"])}</h2>']
    facts = [f"Total time {clock(data['duration'])}"]
    if data.get("author"):
        facts.insert(0, _e(data["author"]))
    parts.append(f'<p class="facts">{" · ".join(facts)}</p>')
    if data.get("description"):
        parts.append(f'<p class="description">{_e(data["description"])}</p>')
    parts.append("</header>")
    if data["notes"]:
        notes = "".join(f"<li>{_e(n)}</li>" for n in data["notes"])
        parts.append(f'<ul class="notes">{notes}</ul>')
    # Group the timed events under their sections, keeping what falls outside any section.
    blocks: list[tuple[dict | None, list[dict]]] = []
    sections = [e for e in events if e["kind"] == SECTION]
    for event in events:
        if event["kind"] in ("intro", "outro", SECTION):
            continue
        if event["kind"] == NOTE and event["text"] in data["notes"] and event["section"] is None:
            continue  # already among the notes at the top
        section = next((s for s in sections if s["text"] == event["section"]
                        and s["start"] <= event["start"] <= s["end"]), None)
        if not blocks or blocks[-1][0] is not section:
            blocks.append((section, []))
        blocks[-1][1].append(event)
    windows = data["scene"].get("figure", {}).get("windows", [])
    for section, steps in blocks:
        first = _first_pose(windows, steps[0]["start"], steps[-1]["end"]) if windows and steps else None
        if first is None:
            parts.append('<section class="sheet-section">')
        else:  # the section's first pose, small, beside it
            parts.append(f'<section class="sheet-section posed">{_sheet_figure(windows, first)}')
        if section is not None:
            parts.append(f'<h3><span class="when">{clock(section["start"])}–{clock(section["end"])}</span> '
                         f'{_e(section["text"])}</h3>')
        parts.append(f"<ol>{_items_html(steps, words)}</ol></section>")
    return "".join(parts)


POSTER_WIDTH = 480  # pixels: a still beside the pacer, small enough for a phone's data plan


def poster_key(window: dict) -> str:
    """What tells a backdrop's still apart: the file's hash and, for a clip, where it starts."""
    return f"{window['media']}:{window['from']:g}"


def poster_name(name: str, window: dict) -> str:
    """The file name of the still of a backdrop window (of the scene's JSON) beside ``NAME.html``."""
    start = f"-{window['from']:g}".replace(".", "_") if window["kind"] == "clip" and window["from"] else ""
    return f"{name}.backdrop-{window['media'][:12]}{start}.jpg"


def write_poster(path: str | os.PathLike, source: str, kind: str, offset: float) -> None:
    """The still of a backdrop at ``path`` (JPEG, :data:`POSTER_WIDTH` wide at most): the photo, or the
    clip's frame at ``offset``, made by ffmpeg from the file at ``source``."""
    import subprocess

    import imageio_ffmpeg

    from ..errors import BuildError
    from ..outputs import atomic_path

    seek = ["-ss", f"{offset:.3f}"] if kind == "clip" and offset else []
    with atomic_path(path) as tmp:
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-nostdin", *seek, "-i", source,
                   "-frames:v", "1", "-vf", f"scale='min({POSTER_WIDTH},iw)':-2", "-q:v", "4",
                   "-fflags", "+bitexact", "-flags:v", "+bitexact", "-f", "image2", "-c:v", "mjpeg", str(tmp)]
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True)
        if done.returncode != 0 or not os.path.getsize(tmp):
            raise BuildError(f"could not make a still of the backdrop {source}: "
                             f"{done.stderr.decode('utf-8', 'replace').strip().splitlines()[-1:] or 'no picture'}")


def page_html(timeline: Timeline, mp3_name: str, cues: Sequence[CueLike] | None = None,
              posters: dict[str, str] | None = None) -> str:
    """The whole practice page for ``timeline``, playing ``mp3_name`` from its own folder.

    ``cues`` are the caption cues of the SRT (worked out from ``timeline`` when not given).
    ``posters`` names, by :func:`poster_key`, the still of each backdrop beside the page:
    shown beside the pacer while that backdrop is on (files, not inlined, so the page stays small).
    """
    data = timeline_dict(timeline, cues)
    words = screen_words(data["language"] or "en")
    chapter_items = "".join(
        f'<li><button type="button" data-start="{c.start:.3f}" data-end="{c.end:.3f}">'
        f'<span class="when">{clock(c.start)}</span> <span class="name">{_e(c.title)}</span></button></li>'
        for c in chapters(timeline, from_zero=False))
    author = f'<span class="author">{_e(data["author"])}</span> · ' if data.get("author") else ""
    replacements = {
        "{{LANG}}": _e(data["language"] or "en"),
        "{{TITLE}}": _e(data["title"]),
        "{{AUTHOR}}": author,
        "{{TOTAL}}": clock(data["duration"]),
        "{{MP3}}": _e(quote(mp3_name)),
        "{{MP3_NAME}}": _e(mp3_name),
        "{{CHAPTERS}}": chapter_items,
        "{{SHEET}}": sheet_html(data, words),
        "{{END_WORDS}}": _e(words["end"]),
        "{{CSS}}": _resource("page.css"),
        # figure.js first: page.js draws the figure with it (the same kinematics as qidsl.lang.poses).
        "{{JS}}": _resource("figure.js") + "\n" + _resource("page.js"),
        "{{TIMELINE_JSON}}": _script_json(data),
        "{{STILLS}}": _e(json.dumps(dict(posters or {}), ensure_ascii=False, separators=(",", ":"))),
        "{{WATCH}}": WATCH_MARKER,
    }
    text = _resource("page.html")
    # One pass over the template, so text from a routine can never be taken for a placeholder.
    out, i = [], 0
    while True:
        j = text.find("{{", i)
        if j < 0:
            out.append(text[i:])
            break
        k = text.index("}}", j) + 2
        out.append(text[i:j])
        out.append(replacements[text[j:k]])
        i = k
    return "".join(out)


def write_page(path: str | os.PathLike, timeline: Timeline, mp3_name: str,
               cues: Sequence[CueLike] | None = None, posters: dict[str, str] | None = None) -> None:
    """Write the practice page for ``timeline`` to ``path`` (atomically); it plays ``mp3_name`` beside it
    and shows the backdrops' stills named in ``posters`` (see :func:`page_html`)."""
    write_text_atomic(path, page_html(timeline, mp3_name, cues, posters))
