"""The front end's own fuzzer: routines generated from the grammar, valid routines mutated, and what must hold.

Used twice: bounded, by tests/test_fuzz.py in every `make test`; and long, by
tests/fuzz.py (`make fuzz`), which prints how many inputs it tried, the
failures by kind and the slowest input.

What must hold for every input (:func:`examine`):

- the front end answers with diagnostics, never an exception, and never an
  ``internal-error`` diagnostic;
- every diagnostic points into the text (a line that exists, a column >= 1)
  and renders with its marker;
- ``--format json`` output is JSON, ``--format github`` output is one
  annotation per line;
- a routine that checks without errors formats to text that parses back
  without errors to the same routine, and formatting that text again changes
  nothing.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

from qidsl.compile import compile_routine, print_diagnostics
from qidsl.lang.diagnostics import render
from qidsl.lang.formatter import format_routine
from qidsl.lang.statements import PHASES
from qidsl.lang.loader import Loader
from qidsl.lang.parser import decode_source, parse_text

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "tests" / "cases" / "valid").glob("*.qi")) + [ROOT / "routines" / "rolling-the-hands-backwards.qi"]

# Characters str.strip() takes for blank that Lark's indenter does not (and the reverse), quotes, digits, scripts.
ODD_SPACE = ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\u2028", "\u2029", "\xa0", "\u3000",
             "\u200b", "\ufeff", "\t", "\r", "\r\n", "\x00"]
TOKENS = ["say", "inhale", "exhale", "hold", "stay", "pause", "bell", "note", "breathe", "do", "include", "section",
          "repeat", "each side", "define", "counted", "times", "x3", "×3", "4-7-8", "4-4-4-4", "4s", "1m30s", "1h",
          "0.000001s", "4", "0", ":", ",", '"', '""', '"text"', '\\"', "\\", "#", "# c", "{side}", "{sid}", "{",
          "}", "title:", "tempo:", "gap:", "language:", "-", ".", "é", "气", "🌬️", "\ufffd", "'", "“", "    ", "  ",
          "for", "unless", "for seated:", "unless standing, seated:", "level:", "variants:", "all"]
DIGITS = ["0", "1", "9", "1000", "1001", "100000000", "4.5", "0.0", "1e5", "9" * 50, "1" * 5000]


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------------------
# Routines from the grammar: every construct, every setting, numbers from 0 to absurd

WORD = st.sampled_from(["Breathe in.", "Let go", "Don't lock the knees", "双脚与肩同宽", "Καλημέρα", "x",
                        "a # not a comment", "turn {side}", "say: repeat", "  spaced  "])
NUMBER = st.one_of(st.sampled_from(["1", "4", "0", "2.5", "0.000001", "1000", "1001", "86400", "9" * 30]),
                   st.integers(0, 10 ** 6).map(str), st.decimals(0, 1000, places=3).map(str))
DURATION = st.one_of(
    st.tuples(NUMBER, st.sampled_from(["s", "m", "h"])).map("".join),
    st.tuples(st.integers(0, 99), st.integers(0, 59)).map(lambda t: f"{t[0]}m{t[1]}s"),
    st.sampled_from(["1h30m", "1m30s", "4", "4 s", "4sec", "0s", "0.5m", "1.50s"]),
)
COUNT = st.one_of(st.integers(0, 1002).map(str), st.sampled_from(["1000", "100000", "9" * 20, "1" * 5000]))
SETTING = st.one_of(
    st.tuples(st.sampled_from(["title", "author", "description", "tags"]), WORD.map(_q) | WORD),
    st.tuples(st.just("language"), st.sampled_from(["en", "en-GB", "zh-CN", "english", "de"])),
    st.tuples(st.sampled_from(["tempo", "rate"]), st.sampled_from(["1", "0.5", "2", "3", "fast", "1e400", "nan"])),
    st.tuples(st.just("gap"), st.sampled_from(["0.5", "0.5s", "0", "11", "-1"])),
    st.tuples(st.just("engine"), st.sampled_from(["piper", "gtts", "espeak"])),
    st.tuples(st.just("theme"), st.sampled_from(["calm", "light", "dark"])),
    st.tuples(st.just("voice"), st.sampled_from(["joe", "voices/x.onnx"])),
    st.tuples(st.just("level"), st.sampled_from(["beginner", "intermediate", "advanced", "expert"])),
    st.tuples(st.just("variants"), st.sampled_from(["standing, seated", "standing", "a, a", "all, b"])),
).map(lambda kv: f"{kv[0]}: {kv[1]}")
NAMES = ["wave", "rolling breath", "左右"]
PHASE_WORDS = [kind.keyword for kind in PHASES]  # inhale, exhale, hold, stay…: from the table of statements


@st.composite
def statement(draw) -> str:
    kind = draw(st.sampled_from(["say", "note", *PHASE_WORDS, "pause", "bell", "breathe", "do", "include"]))
    if kind in ("say", "note"):
        return f"{kind} {_q(draw(WORD))}"
    if kind in PHASE_WORDS:
        text = draw(st.none() | WORD)
        return f"{kind} {draw(DURATION)}" + ("" if text is None else f" {_q(text)}")
    if kind == "pause":
        return f"pause {draw(DURATION)}"
    if kind == "bell":
        return "bell" + draw(st.sampled_from(["", " 3s", " 1m"]))
    if kind == "breathe":
        parts = draw(st.lists(NUMBER, min_size=3, max_size=4))
        return f"breathe {'-'.join(parts)} x{draw(COUNT)}"
    if kind == "do":
        times = draw(st.none() | COUNT)
        return f"do {_q(draw(st.sampled_from(NAMES)))}" + ("" if times is None else f" {times} times")
    return f"include {_q(draw(st.sampled_from(['parts/breaths.qi', 'missing.qi', '.', '../x.qi'])))}"


@st.composite
def block(draw, depth: int, width: int) -> list[str]:
    """The lines of one statement at ``depth``: a block brings its body, indented ``width`` more."""
    if depth >= 15 or draw(st.integers(0, 3)) != 0:
        lines = [draw(statement())]
    else:
        header = draw(st.sampled_from(["section", "repeat", "each side", "define", "for", "unless"]))
        if header == "section":
            head = f"section {_q(draw(WORD))}:"
        elif header == "define":
            head = f"define {_q(draw(st.sampled_from(NAMES)))}:"
        elif header in ("for", "unless"):
            names = draw(st.lists(st.sampled_from(["standing", "seated", "lying", "all"]), min_size=1, max_size=2))
            head = f"{header} {', '.join(names)}:"
        elif header == "repeat":
            head = f"repeat {draw(COUNT)}{draw(st.sampled_from(['', ' counted']))}:"
        else:
            sides = draw(st.lists(st.sampled_from(["left", "right", '"left arm"', "左"]), min_size=1, max_size=3))
            head = f"each side {', '.join(sides)}:"
        lines = [head]
        for _ in range(draw(st.integers(0, 3))):
            lines += [" " * width + line if line else line for line in draw(block(depth + 1, width))]
    if draw(st.integers(0, 5)) == 0:
        lines[0] += "  # " + draw(WORD)
    if draw(st.integers(0, 6)) == 0:
        lines.insert(0, draw(st.sampled_from(["", "# a comment", "    # indented comment"])))
    return lines


@st.composite
def grammar_routines(draw) -> str:
    """A routine built from the grammar's constructs (its numbers and settings are not always valid)."""
    head = [] if draw(st.integers(0, 9)) == 0 else ['title: "Generated"']
    head += draw(st.lists(SETTING, max_size=4))
    width = draw(st.sampled_from([1, 2, 4, 7]))
    body: list[str] = []
    for _ in range(draw(st.integers(0, 6))):
        body += draw(block(0, width))
    for name in NAMES:
        if draw(st.booleans()):
            body += [f"define {_q(name)}:", " " * width + "pause 1s"]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(head + [""] + body) + draw(st.sampled_from(["\n", ""]))


# ---------------------------------------------------------------------------
# Mutations of valid routines

def _seed_texts() -> list[str]:
    return [path.read_text(encoding="utf-8") for path in SEEDS]


SEED = st.sampled_from(_seed_texts()) | grammar_routines()


_OPS = ["delete", "duplicate", "swap", "indent", "insert", "insert", "insert", "replace-line", "blank-odd"]
_INDENTS = [" ", "  ", "   ", "\t", "\x0c", "-1", "-2", "-4"]
_INSERTS = TOKENS + ODD_SPACE + DIGITS + ["\u0301", "\U0001f600", "\ud7ff", "\x7f", "\u00e9\u0301"]
_STATEMENTS = ['say "x"', "inhale 4s", "exhale 4s \"Out.\"", "hold 1m", 'stay 20s "Rest."', "pause 0.5s", "bell",
               'note "n"',
               "breathe 4-7-8 x3", 'do "wave"', "repeat 3:", "each side left, right:", 'section "S":',
               'define "wave":', 'include "parts/breaths.qi"', "title: \"T\"", "for seated:", "unless standing:",
               "variants: standing, seated", "level: beginner"]


def mutate(text: str, rnd, grow_one_in: int = 10) -> str:
    """``text`` with lines deleted, duplicated, swapped or re-indented and tokens, quotes, digits, odd
    whitespace and Unicode put in; sometimes grown to about 20 kB (the same mistakes many times over) or
    cut short.  ``rnd`` is a :class:`random.Random` (Hypothesis gives one it can shrink)."""
    lines = text.replace("\r\n", "\n").split("\n")
    for _ in range(rnd.randint(1, 6)):
        if not lines:
            lines = [""]
        at = rnd.randrange(len(lines))
        op = rnd.choice(_OPS)
        if op == "delete":
            del lines[at]
        elif op == "duplicate":
            lines.insert(at, lines[at])
        elif op == "swap":
            other = rnd.randrange(len(lines))
            lines[at], lines[other] = lines[other], lines[at]
        elif op == "indent":
            change = rnd.choice(_INDENTS)
            if change.startswith("-"):
                cut = int(change[1:])
                lines[at] = lines[at][cut:] if lines[at][:cut].isspace() else lines[at]
            else:
                lines[at] = change + lines[at]
        elif op == "insert":
            line = lines[at]
            col = rnd.randint(0, len(line))
            lines[at] = line[:col] + rnd.choice(_INSERTS) + line[col:]
        elif op == "replace-line":
            lines[at] = " " * rnd.randint(0, 9) + rnd.choice(_STATEMENTS)
        else:  # a line that looks blank to str.strip() but holds odd whitespace
            lines.insert(at, " " * rnd.randint(0, 6) + rnd.choice(ODD_SPACE) + rnd.choice(["", "# c"]))
    text = "\n".join(lines)
    grow = rnd.randrange(grow_one_in)
    if grow == 0:
        text = text * max(1, 20_000 // max(1, len(text)))
    elif grow == 1:
        text = text[: rnd.randint(0, len(text))]
    return text


mutated_routines = st.builds(mutate, SEED, st.randoms(use_true_random=False))


@st.composite
def cut_bytes(draw) -> bytes:
    """A valid routine's bytes cut at any byte (so possibly inside a UTF-8 sequence), or with a byte put in."""
    data = draw(SEED).encode("utf-8")
    if draw(st.booleans()):
        return data[: draw(st.integers(0, len(data)))]
    at = draw(st.integers(0, len(data)))
    return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at:]


RANDOM_TEXT = st.lists(st.one_of(st.sampled_from(TOKENS + ODD_SPACE + DIGITS + ["\n"] * 8), st.text(max_size=4)),
                       max_size=80).map("".join)

ANY_INPUT = st.one_of(grammar_routines(), mutated_routines, mutated_routines, RANDOM_TEXT, cut_bytes())


# ---------------------------------------------------------------------------
# Inputs found hard: each kind of failure the fuzzer found, and the shapes that were slow

def pathological() -> dict[str, str]:
    deep = "".join(" " * level + "repeat 2:\n" for level in range(1000)) + " " * 1000 + 'say "x"\n'
    return {
        "form-feed-line": 'title: "T"\nsection "a":\n    say "x"\n  \x0c\n    say "y"\n',
        "u2028-line": 'title: "T"\nsection "a":\n    say "x"\n  \u2028# c\n    say "y"\n',
        "indented-first-line": '  title: "T"\n    say "x"\n  say "y"\n',
        "count-of-5000-digits": 'title: "T"\nrepeat ' + "9" * 5000 + ':\n    say "x"\n',
        "empty-repeats-nested": 'title: "T"\nrepeat 1000:\n    repeat 1000:\n        repeat 1000:\n',
        "digits-20k": 'title: "T"\npause ' + "1" * 20_000 + " x\n",
        "spaced-digits-20k": 'title: "T"\nhold ' + "1" * 20_000 + " seconds\n",
        "nested-1000-deep": 'title: "T"\n' + deep,
        "tiny-duration": 'title: "T"\nhold 0.000001s\n',
        "huge-duration-unused": 'title: "T"\nsay "a"\ndefine "x":\n    hold ' + "9" * 400 + "s\n",
        "many-errors-20k": 'title: "T"\n' + 'section "s":\n    inhal 4s\n    say hi\n    pause 4\n' * 400,
        "many-top-errors-20k": 'title: "T"\n' + "inhal 4s\nsay hi\n" * 1200,
        "one-block-many-errors-20k": 'title: "T"\nsection "s":\n' + "    inhal 4s\n    say hi\n" * 900,
        "define-chain-20k": 'title: "T"\neach side l, r:\n    do "d0"\n'
                            + "".join(f'define "d{i}":\n    do "d{i + 1}"\n' for i in range(700))
                            + 'define "d700":\n    say "{side}"\n',
        # Just within the step limit (29,001 steps from 100 bytes): at the old limit of
        # 100,000 steps such a routine took over a second to check, so the limit came down.
        "steps-near-the-limit": 'title: "T"\nsection "S":\n    repeat 7:\n        breathe 0.1-0.1-0.1-0.1 x1000\n'
                                '    repeat 1000:\n        say "In."\n',
        # Found by the long run: a voice file name longer than the file system allows was
        # taken for the routine being unreadable.
        "voice-name-too-long": 'title: "T"\nvoice: vo' + "1" * 300 + '.onnx\nsay "a"\n',
        # Found by the long run: fitting a long note onto the screen wrapped it again at every
        # size it shrank through, measuring each line anew (about 1 s for one 20 kB word).
        "note-one-word-20k": 'title: "T"\nsection "S":\n    say "a"\n    note "' + "x" * 20000 + '"\n',
        "note-many-words-20k": 'title: "T"\nnote "' + " ".join("w" * (1 + i % 9) for i in range(3500)) + '"\n',
        # Found by the long run: each of 800 title-card notes had all the notes before it fitted
        # onto the card again (10 s); past the first that overflows, the rest overflow too.
        "card-notes-800": 'title: "T"\n' + 'note "双脚与肩同宽"  # x\n' * 800,
        # Issue 19: thousands of {side} placeholders in 20 kB took about 3 s to check.
        "side-placeholders-20k": 'title: "T"\neach side left, right:\n    say "' + "{side}" * 3300 + '"\n',
        "side-placeholder-lines-20k": 'title: "T"\neach side left, right:\n' + '    say "{side}{side}"\n' * 1000,
        "side-placeholders-outside-20k": 'title: "T"\n' + 'say "{side}{side}{sid}"\n' * 800,
        "many-sides-16k": 'title: "T"\neach side ' + ", ".join(f"s{i}" for i in range(2500)) + ':\n    say "{side}"\n',
        "unknown-dos-16k": 'title: "T"\n' + "".join(f'define "seq{i}":\n    pause 1s\n' for i in range(400))
                           + "".join(f'do "zz{i}q"\n' for i in range(400)),
    }


# ---------------------------------------------------------------------------
# What must hold

@dataclass(frozen=True)
class Outcome:
    """What examining one input found: the failures (kind, detail) and the seconds the check took."""

    failures: tuple[tuple[str, str], ...]
    seconds: float
    clean: bool


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def examine(data: str | bytes, name: str = "fuzz.qi") -> Outcome:
    """Run the front end on ``data`` as `qidsl check` and `qidsl fmt` would, and list what went wrong."""
    failures: list[tuple[str, str]] = []
    started = time.process_time()
    try:
        if isinstance(data, bytes):
            source, problems = decode_source(data, name)
            if source is None:
                return Outcome((), time.process_time() - started, False)
            text = source.text
        else:
            text = data
        loader = Loader()
        compiled = compile_routine(name, loader, text=text, events=False)  # as `qidsl check` runs it
    except Exception as exc:  # noqa: BLE001 - the whole point
        return Outcome((("exception", f"{type(exc).__name__}: {exc}"[:300]),), time.process_time() - started, False)
    seconds = time.process_time() - started
    lines = _lines(text)
    for diagnostic in compiled.diagnostics:
        span = diagnostic.span
        if diagnostic.code == "internal-error":
            failures.append(("internal-error", diagnostic.message))
        if span.file == name and not (1 <= span.line <= len(lines) + 1 and span.column >= 1):
            failures.append(("span-outside", f"{diagnostic.code} at {span.line}:{span.column}"))
        try:
            render(diagnostic, lines)
        except Exception as exc:  # noqa: BLE001
            failures.append(("render", f"{type(exc).__name__}: {exc}"))
    for fmt in ("json", "github"):
        out = io.StringIO()
        try:
            print_diagnostics(list(compiled.diagnostics), loader, fmt, out)
            if fmt == "json":
                json.loads(out.getvalue())
            # GitHub reads workflow commands line by line, split at "\n" only.
            elif any(not line.startswith(("::error ", "::warning ")) for line in out.getvalue().split("\n")[:-1]):
                failures.append(("github-format", out.getvalue()[:200]))
        except Exception as exc:  # noqa: BLE001
            failures.append((f"{fmt}-format", f"{type(exc).__name__}: {exc}"))
    clean = compiled.routine is not None and not compiled.errors
    if clean:
        failures.extend(_fmt_failures(text, name))
    return Outcome(tuple(failures), seconds, clean)


def _fmt_failures(text: str, name: str) -> list[tuple[str, str]]:
    """fmt of a clean routine parses back to the same routine, and is idempotent."""
    try:
        parsed = parse_text(text, name)
        once = format_routine(parsed.routine, _lines(text))
        again = parse_text(once, name)
        if [d for d in again.diagnostics if d.is_error]:
            return [("fmt-unreadable", f"{again.diagnostics[0].message} in {once[:200]!r}")]
        if again.routine != parsed.routine:
            return [("fmt-meaning", once[:200])]
        if format_routine(again.routine, _lines(once)) != once:
            return [("fmt-not-idempotent", once[:200])]
    except Exception as exc:  # noqa: BLE001
        return [("fmt-exception", f"{type(exc).__name__}: {exc}"[:300])]
    return []
