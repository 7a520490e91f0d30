"""``qidsl diff OLD NEW``: what changed between two versions of a routine, for review.

Both versions go through the front end (no speech is made): the estimated
time of each section before and after, the sections added, removed or moved,
the cues (spoken texts and notes) added, removed or reworded with a
word-level diff, the settings changed, each variant's total, and how many
cues a build of the new version would have to synthesise anew.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .compile import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, Compiled, compile_routine, print_diagnostics
from .lang import model as m
from .lang.formatter import quote, statement_line
from .lang.loader import Loader
from .lang.speech import ENGINES
from .lang.statements import keyword_of
from .timefmt import clock

STDIN = "-"
REWORD_SIMILARITY = 0.5  # two cues this alike (by words) are one cue reworded, not one removed and one added


@dataclass(frozen=True)
class SectionTime:
    name: str
    before: float | None  # estimated seconds; None when the section is not in that version
    after: float | None
    change: str  # "same", "changed", "added", "removed" or "moved" (its time may have changed too)


@dataclass(frozen=True)
class Move:
    name: str
    before: int  # position among the sections, from 1
    after: int


@dataclass(frozen=True)
class Word:
    op: str  # "equal", "delete" or "insert"
    text: str


@dataclass(frozen=True)
class CueChange:
    change: str  # "added", "removed" or "reworded"
    kind: str  # the statement's keyword (qidsl.lang.statements): "say", "note", or a timed phase
    section: str | None  # the section, 'define "name"', or None outside sections
    before: str | None
    after: str | None
    line_before: int | None
    line_after: int | None
    words: tuple[Word, ...]  # for a rewording: the word-level diff


@dataclass(frozen=True)
class StepChange:
    """A statement other than a cue's text that was added, removed or changed (a count, a duration…)."""

    change: str  # "added", "removed" or "changed"
    section: str | None
    before: str | None  # the statement's line in the canonical layout, texts shown as "…"
    after: str | None
    line_before: int | None
    line_after: int | None


@dataclass(frozen=True)
class SettingChange:
    key: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class VariantTotal:
    name: str | None
    before: float | None
    after: float | None


@dataclass(frozen=True)
class RoutineDiff:
    """Everything ``qidsl diff`` reports, in the JSON shape of docs/cli.md."""

    old: str
    new: str
    total_before: float
    total_after: float
    sections: tuple[SectionTime, ...]
    moved: tuple[Move, ...]
    cues: tuple[CueChange, ...]
    steps: tuple[StepChange, ...]
    settings: tuple[SettingChange, ...]
    variants: tuple[VariantTotal, ...]
    new_speech: int  # cues a build of NEW synthesises that a build of OLD did not
    speech: int  # distinct cues a build of NEW speaks

    @property
    def unchanged(self) -> bool:
        return (not self.cues and not self.steps and not self.settings and not self.moved and self.total_before == self.total_after
                and all(s.change == "same" for s in self.sections))


# ---------------------------------------------------------------------------
# Sections


def _section_times(compiled: Compiled) -> list[tuple[str, float]]:
    # Rounded to the millisecond, as the timeline's times are, so that equal times compare equal.
    assert compiled.estimate is not None  # only clean routines are compared
    return [(event.text or "", round(event.duration, 3)) for event in compiled.estimate.sections]


def _sections(old: Compiled, new: Compiled) -> tuple[list[SectionTime], list[Move]]:
    before, after = _section_times(old), _section_times(new)
    before_names, after_names = [n for n, _ in before], [n for n, _ in after]
    common = [n for n in after_names if n in before_names]
    old_common = [n for n in before_names if n in after_names]
    matcher = difflib.SequenceMatcher(None, old_common, common, autojunk=False)
    in_place = {common[j + k] for _, j, size in matcher.get_matching_blocks() for k in range(size)}
    moves = [Move(name, before_names.index(name) + 1, after_names.index(name) + 1)
             for name in common if name not in in_place]
    moved = {move.name for move in moves}
    old_time = dict(before)
    rows = []
    for name, seconds in after:
        if name not in old_time:
            rows.append(SectionTime(name, None, seconds, "added"))
        else:
            change = "moved" if name in moved else ("same" if old_time[name] == seconds else "changed")
            rows.append(SectionTime(name, old_time[name], seconds, change))
    rows.extend(SectionTime(name, seconds, None, "removed") for name, seconds in before if name not in after_names)
    return rows, moves


# ---------------------------------------------------------------------------
# Cues


@dataclass(frozen=True)
class _Cue:
    kind: str
    section: str | None
    text: str
    line: int


def _cues(routine: m.Routine) -> list[_Cue]:
    """Every spoken text and note written in the file, in order, with its section."""
    found: list[_Cue] = []

    def walk(body, section) -> None:
        for node in body:
            if isinstance(node, m.Section):
                walk(node.body, node.name.value)
            elif isinstance(node, m.Define):
                walk(node.body, f'define "{node.name.value}"')
            elif isinstance(node, (m.Say, m.Note)):
                found.append(_Cue(keyword_of(node), section, node.text.value,
                                  node.text.span.line))
            elif isinstance(node, m.Breath) and node.text is not None:
                found.append(_Cue(node.phase, section, node.text.value, node.text.span.line))
            else:
                walk(m.children(node), section)

    walk(routine.body, None)
    return found


def _words(before: str, after: str) -> tuple[Word, ...]:
    a, b = before.split(), after.split()
    words: list[Word] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            words.append(Word("equal", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            words.append(Word("delete", " ".join(a[i1:i2])))
        if j2 > j1:
            words.append(Word("insert", " ".join(b[j1:j2])))
    return tuple(words)


def _similarity(before: str, after: str) -> float:
    """How alike two texts are by their words (punctuation and case aside), from 0 to 1."""
    a, b = re.findall(r"\w+", before.lower()), re.findall(r"\w+", after.lower())
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _cue_changes(old: m.Routine, new: m.Routine) -> list[CueChange]:
    before, after = _cues(old), _cues(new)
    # A text in both versions is unchanged wherever it went (moving a section moves its cues).
    remaining = list(before)
    added: list[_Cue] = []
    for cue in after:
        match = next((i for i, c in enumerate(remaining) if c.text == cue.text and c.kind == cue.kind), None)
        if match is None:
            added.append(cue)
        else:
            remaining.pop(match)
    removed = remaining
    pairs: list[tuple[_Cue, _Cue]] = []
    for same_section in (True, False):  # a reworded cue is looked for in its own section first
        for cue in list(added):
            candidates = [(c, _similarity(c.text, cue.text)) for c in removed
                          if (c.section == cue.section or not same_section) and c.kind == cue.kind]
            candidates = [(c, s) for c, s in candidates if s >= REWORD_SIMILARITY]
            if candidates:
                best = max(candidates, key=lambda pair: pair[1])[0]
                pairs.append((best, cue))
                removed.remove(best)
                added.remove(cue)
    changes = [CueChange("reworded", new_cue.kind, new_cue.section, old_cue.text, new_cue.text, old_cue.line,
                         new_cue.line, _words(old_cue.text, new_cue.text)) for old_cue, new_cue in pairs]
    changes += [CueChange("added", c.kind, c.section, None, c.text, None, c.line, ()) for c in added]
    changes += [CueChange("removed", c.kind, c.section, c.text, None, c.line, None, ()) for c in removed]
    return sorted(changes, key=lambda c: (c.line_after or c.line_before or 0, c.change))


# ---------------------------------------------------------------------------
# Steps: the statements themselves, their texts aside


_TEXT = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def _steps(routine: m.Routine) -> dict[str | None, list[tuple[str, int]]]:
    """Each section's statements (say and note aside: they are cues) as canonical lines, texts as "…"."""
    groups: dict[str | None, list[tuple[str, int]]] = {}

    def walk(body, section, depth: int) -> None:
        for node in body:
            if isinstance(node, (m.Say, m.Note)):
                continue
            if isinstance(node, m.Section):
                walk(node.body, node.name.value, 0)
                continue
            if isinstance(node, m.Define):
                walk(node.body, f'define "{node.name.value}"', 0)
                continue
            line = statement_line(node)
            if isinstance(node, m.Breath) and node.to is not None:  # the pose it moves to is shown, not its text
                line = _TEXT.sub('"…"', statement_line(replace(node, to=None))) + f" to {quote(node.to.value)}"
            elif not isinstance(node, (m.Do, m.Include, m.Pose)):  # names are shown: a pose's too
                line = _TEXT.sub('"…"', line)
            groups.setdefault(section, []).append(("    " * depth + line, node.span.line))
            walk(m.children(node), section, depth + 1)

    walk(routine.body, None, 0)
    return groups


def _step_changes(old: m.Routine, new: m.Routine) -> list[StepChange]:
    before, after = _steps(old), _steps(new)
    changes: list[StepChange] = []
    for section in [s for s in after if s in before]:  # added and removed sections are reported as such
        a, b = before[section], after[section]
        matcher = difflib.SequenceMatcher(None, [x for x, _ in a], [x for x, _ in b], autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                continue
            pairs = min(i2 - i1, j2 - j1) if op == "replace" else 0
            for k in range(pairs):
                changes.append(StepChange("changed", section, a[i1 + k][0].strip(), b[j1 + k][0].strip(),
                                          a[i1 + k][1], b[j1 + k][1]))
            changes += [StepChange("removed", section, text.strip(), None, line, None) for text, line in a[i1 + pairs:i2]]
            changes += [StepChange("added", section, None, text.strip(), None, line) for text, line in b[j1 + pairs:j2]]
    return sorted(changes, key=lambda c: (c.line_after or c.line_before or 0, c.change))


# ---------------------------------------------------------------------------
# Settings, variants, speech


def _settings(old: m.Routine, new: m.Routine) -> list[SettingChange]:
    keys = list(dict.fromkeys([s.key for s in old.settings] + [s.key for s in new.settings]))
    changes = []
    for key in keys:
        before, after = old.setting(key), new.setting(key)
        a = before.value if before else None
        b = after.value if after else None
        if a != b:
            changes.append(SettingChange(key, a, b))
    return changes


def _variants(old: Compiled, new: Compiled) -> list[VariantTotal]:
    before = {v.name: v.estimate.duration for v in old.variants}
    after = {v.name: v.estimate.duration for v in new.variants}
    if list(before) == [None] and list(after) == [None]:
        return []
    # A version without variants plays the same for every variant of the other.
    if list(before) == [None]:
        before = dict.fromkeys(after, before[None])
    if list(after) == [None]:
        after = dict.fromkeys(before, after[None])
    names = list(dict.fromkeys(list(after) + list(before)))
    return [VariantTotal(name, before.get(name), after.get(name)) for name in names]


def _speech_keys(compiled: Compiled) -> set[tuple]:
    """What the speech cache is keyed by, for every cue of every variant (the voice file's bytes aside)."""
    settings = compiled.settings
    assert settings is not None  # only clean routines are compared
    # The voice as the engine registry resolves it: Pico's and eSpeak NG's follow the language.
    spoken_by = ENGINES[settings.engine].voice_for(settings.language, settings.voice) if settings.engine else None
    voice = (settings.engine, spoken_by, settings.rate)
    return {voice + (text,) for v in compiled.variants for text in v.estimate.spoken_texts}


def diff_compiled(old: Compiled, new: Compiled) -> RoutineDiff:
    """Compare two clean compiled versions of a routine."""
    assert old.estimate is not None and new.estimate is not None  # clean routines: each has its estimate
    assert old.routine is not None and new.routine is not None  # and its routine
    sections, moves = _sections(old, new)
    old_speech, new_speech = _speech_keys(old), _speech_keys(new)
    return RoutineDiff(old.path, new.path, old.estimate.duration, new.estimate.duration, tuple(sections),
                       tuple(moves), tuple(_cue_changes(old.routine, new.routine)),
                       tuple(_step_changes(old.routine, new.routine)), tuple(_settings(old.routine, new.routine)), tuple(_variants(old, new)),
                       len(new_speech - old_speech), len(new_speech))


# ---------------------------------------------------------------------------
# Output


def _signed(seconds: float) -> str:
    sign = "+" if seconds > 0 else "-"
    seconds = abs(seconds)
    return f"{sign}{seconds:.0f}s" if seconds < 60 else f"{sign}{clock(seconds)}"


def _time(seconds: float | None) -> str:
    return "—" if seconds is None else clock(seconds)


def _where(change: CueChange) -> str:
    section = change.section or "(outside sections)"
    if change.change == "reworded" and change.line_before != change.line_after:
        return f"{section}, line {change.line_before} → {change.line_after}"
    return f"{section}, line {change.line_after or change.line_before}"


def _quoted(text: str | None) -> str:
    return '"' + (text or "").replace("\\", "\\\\").replace('"', '\\"') + '"'


def _cue_line(change: CueChange) -> str:
    kind = "" if change.kind == "say" else f"{change.kind} "
    if change.change == "reworded":
        words = " ".join({"equal": w.text, "delete": f"[-{w.text}-]", "insert": f"{{+{w.text}+}}"}[w.op]
                         for w in change.words)
        return f"  reworded  {_where(change)}: {kind}{words}"
    return f"  {change.change:<8}  {_where(change)}: {kind}{_quoted(change.after or change.before)}"


def diff_text(diff: RoutineDiff) -> str:
    """The text form of a diff (docs/cli.md shows it)."""
    out = [f"--- {diff.old}", f"+++ {diff.new}"]
    if diff.unchanged and diff.new_speech == 0:
        return "\n".join(out + ["no changes"]) + "\n"
    width = min(32, max([len("time per section (estimated)")] + [len(s.name) + 2 for s in diff.sections]))
    out += ["", f"{'time per section (estimated)':<{width}}  {'before':>7}  {'after':>7}  change"]
    for section in diff.sections:
        if section.change in ("added", "removed"):
            note = f"({section.change})"
        else:
            assert section.before is not None and section.after is not None  # kept sections have both
            delta = round(section.after) - round(section.before)
            note = " ".join(([_signed(delta)] if delta else []) + (["(moved)"] if section.change == "moved" else []))
        name = section.name if len(section.name) <= width - 2 else section.name[:width - 3] + "…"
        out.append(f"  {name:<{width - 2}}  {_time(section.before):>7}  {_time(section.after):>7}  {note}".rstrip())
    delta = round(diff.total_after) - round(diff.total_before)
    out.append(f"  {'total':<{width - 2}}  {clock(diff.total_before):>7}  {clock(diff.total_after):>7}  "
               f"{_signed(delta) if delta else ''}".rstrip())
    changed_sections = [s for s in diff.sections if s.change in ("added", "removed")]
    if changed_sections or diff.moved:
        out += ["", "sections"]
        out += [f"  {s.change:<8}  {_quoted(s.name)}" for s in changed_sections]
        out += [f"  moved     {_quoted(move.name)}: position {move.before} → {move.after}" for move in diff.moved]
    if diff.cues:
        out += ["", "cues"] + [_cue_line(change) for change in diff.cues]
    if diff.steps:
        out += ["", "steps"]
        for change in diff.steps:
            place = change.section or "(outside sections)"
            if change.change == "changed":
                where = f"line {change.line_before}" if change.line_before == change.line_after else \
                    f"line {change.line_before} → {change.line_after}"
                out.append(f"  changed   {place}, {where}: {change.before} → {change.after}")
            else:
                out.append(f"  {change.change:<8}  {place}, line {change.line_after or change.line_before}: "
                           f"{change.after or change.before}")
    if diff.settings:
        out += ["", "settings"]
        out += [f"  {c.key}: {c.before if c.before is not None else '—'} → {c.after if c.after is not None else '—'}"
                for c in diff.settings]
    if diff.variants:
        out += ["", "variants (total, estimated)"]
        width = max(len(v.name or "(none)") for v in diff.variants)
        out += [f"  {v.name or '(none)':<{width}}  {_time(v.before):>7} → {_time(v.after)}" for v in diff.variants]
    out += ["", f"speech: {diff.new_speech} of {diff.speech} cue{'' if diff.speech == 1 else 's'} to synthesise "
                "anew"]
    return "\n".join(out) + "\n"


def diff_json(diff: RoutineDiff) -> str:
    """The JSON form of a diff (``"schema": "qidsl.diff/1"``)."""
    data = {"schema": "qidsl.diff/1", **asdict(diff)}
    data.pop("total_before"), data.pop("total_after")
    data["total"] = {"before": diff.total_before, "after": diff.total_after}
    data["speech"] = {"new": diff.new_speech, "cues": diff.speech}
    data.pop("new_speech")
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _read(name: str, other: str, loader: Loader, stdin_text: str | None) -> Compiled | None:
    if name == STDIN:
        # Named after the other version, so includes are found next to it.
        display = f"{other} (standard input)" if other != STDIN else "(standard input)"
        return compile_routine(display, loader, text=stdin_text)
    try:
        return compile_routine(Path(name), loader)
    except OSError as exc:
        print(f"qidsl: cannot read {name}: {exc.strerror or exc}", file=sys.stderr)
        return None


def run_diff(old: str, new: str, fmt: str = "text") -> int:
    """``qidsl diff OLD NEW``: exit 0 (with or without changes), 1 when a version has errors, 2 on usage."""
    if old == STDIN and new == STDIN:
        print("qidsl: only one of OLD and NEW can be '-' (standard input)", file=sys.stderr)
        return EXIT_USAGE
    for name in (old, new):
        if name != STDIN and not Path(name).is_file():
            print(f"qidsl: no such file: {name}", file=sys.stderr)
            return EXIT_USAGE
    stdin_text = sys.stdin.read() if STDIN in (old, new) else None
    versions = []
    for name, other in ((old, new), (new, old)):
        loader = Loader()  # one each: both versions may be the same file name
        compiled = _read(name, other, loader, stdin_text)
        if compiled is None:
            return EXIT_PROBLEMS
        if compiled.errors:
            print_diagnostics(list(compiled.errors), loader, "text", sys.stderr)
            print(f"qidsl: {compiled.path} has errors; fix them before comparing", file=sys.stderr)
            return EXIT_PROBLEMS
        versions.append(compiled)
    result = diff_compiled(*versions)
    sys.stdout.write(diff_json(result) if fmt == "json" else diff_text(result))
    return EXIT_OK
