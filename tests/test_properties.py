"""Property tests: whatever the text, the front end answers with diagnostics, never a crash;
every script built from the grammar's constructs parses, and `fmt` keeps its meaning."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qidsl.lang import model as m
from qidsl.commands import plan_table, variants_table
from qidsl.compile import compile_routine
from qidsl.lang.diagnostics import Diagnostic, render
from qidsl.lang.formatter import format_routine
from qidsl.lang.loader import Loader
from qidsl.lang.parser import parse_text

ROOT = Path(__file__).parent.parent
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------
# Random text


PIECES = [
    "say ", "inhale ", "exhale ", "hold ", "pause ", "bell", "note ", "breathe ", "do ", "include ", "section ",
    "repeat ", "each side ", "define ", "title: ", "tempo: ", "language: ", "counted", " times", "x3", "4-7-8",
    "4s", "1m30s", "1.5", "0", "100000000", '"', '"text"', '\\"', "\\", ":", ",", "#", "# c", "{side}", "{sid}",
    "\n", "\r\n", "\r", "\t", "    ", "  ", " ", "\ufeff", "\u2028", "\x00", "\x0c", "é", "气", "🌬️", "\ufffd",
]
RANDOM_TEXT = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), max_size=60).map("".join)


def _assert_sane(diagnostics, text: str) -> None:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for diagnostic in diagnostics:
        assert isinstance(diagnostic, Diagnostic)
        assert diagnostic.severity in ("error", "warning") and diagnostic.code and diagnostic.message
        assert 1 <= diagnostic.span.line <= len(lines) + 1
        assert diagnostic.span.column >= 1
        render(diagnostic, lines)  # the marker can always be drawn


@SETTINGS
@given(RANDOM_TEXT)
def test_random_text_only_ever_gives_diagnostics(text):
    result = parse_text(text, "r.qi")
    _assert_sane(result.diagnostics, text)
    compiled = compile_routine("r.qi", Loader(), text=text)
    _assert_sane(compiled.diagnostics, text)
    if compiled.errors:
        assert compiled.expanded is None


@SETTINGS
@given(st.text(max_size=200))
def test_any_unicode_text_only_ever_gives_diagnostics(text):
    text = 'title: "T"\n\n' + text
    _assert_sane(compile_routine("u.qi", Loader(), text=text).diagnostics, text)


# ---------------------------------------------------------------------------
# Scripts generated from the grammar's constructs

WORDS = st.sampled_from(["Breathe in.", "Let go", "Don't lock the knees", "双脚与肩同宽", "Καλημέρα", "🙂 smile",
                         "a # not a comment", "say: repeat", "  spaced  ", "x"])
TEXT = st.one_of(
    WORDS,
    st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"\\{}\u2028\u2029\x85'),
            min_size=1, max_size=12),
    st.tuples(WORDS, WORDS).map(lambda pair: f'{pair[0]} \\"{pair[1]}\\" \\\\'),
)
DURATION = st.one_of(
    st.integers(1, 59).map(lambda n: f"{n}s"),
    st.tuples(st.integers(0, 9), st.integers(1, 9)).map(lambda t: f"{t[0]}.{t[1]}s"),
    st.integers(1, 5).map(lambda n: f"{n}m"),
    st.tuples(st.integers(1, 5), st.integers(1, 59)).map(lambda t: f"{t[0]}m{t[1]}s"),
    st.integers(60, 200).map(lambda n: f"{n}s"),
)
SIDE = st.one_of(st.sampled_from(["left", "right", "front", "back", "links", "左", "say", "side", "times"]),
                 TEXT.map(lambda t: f'"{t}"'))
COMMENT = st.sampled_from(["# note", "#", "# 气 \"quoted\" : x3", "#say \"x\""])
VARIANTS = ["standing", "seated", "short"]
NAMES = ["wave", "rolling breath", "左右"]


def q(text: str) -> str:
    return f'"{text}"'


@st.composite
def simple(draw) -> str:
    kind = draw(st.sampled_from(["say", "inhale", "exhale", "hold", "pause", "bell", "note", "breathe", "do"]))
    if kind in ("say", "note"):
        return f"{kind} {q(draw(TEXT))}"
    if kind in ("inhale", "exhale", "hold"):
        text = draw(st.none() | TEXT)
        return f"{kind} {draw(DURATION)}" + (f" {q(text)}" if text is not None else "")
    if kind == "pause":
        return f"pause {draw(DURATION)}"
    if kind == "bell":
        return "bell" + draw(st.sampled_from(["", " 3s", " 1m"]))
    if kind == "breathe":
        parts = draw(st.lists(st.sampled_from(["1", "4", "0", "2.5", "7", "8"]), min_size=3, max_size=4))
        parts[0] = parts[2] = "4"
        return f"breathe {'-'.join(parts)} x{draw(st.integers(1, 5))}"
    times = draw(st.sampled_from(["", " 1 times", " 3 times"]))
    return f"do {q(draw(st.sampled_from(NAMES)))}{times}"


@st.composite
def lines_of(draw, depth: int, top: bool) -> list[str]:
    """The lines of one statement (a block brings its indented body), with comments and blank lines."""
    out: list[str] = []
    if draw(st.integers(0, 5)) == 0:
        out.append(" " * draw(st.integers(0, 10)) + draw(COMMENT))
    if draw(st.integers(0, 5)) == 0:
        out.append(draw(st.sampled_from(["", "   ", "\t"])))
    is_block = depth < 3 and draw(st.integers(0, 3)) == 0
    if not is_block:
        line = draw(simple())
    else:
        kinds = ["repeat", "each side", "for", "unless"] + (["section", "define"] if top else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "section":
            line = f"section {q(draw(TEXT))}:"
        elif kind == "define":
            line = f"define {q(draw(st.sampled_from(NAMES)))}:"
        elif kind in ("for", "unless"):
            line = f"{kind} {', '.join(draw(st.lists(st.sampled_from(VARIANTS), min_size=1, max_size=2, unique=True)))}:"
        elif kind == "repeat":
            line = f"repeat {draw(st.integers(1, 3))}{draw(st.sampled_from(['', ' counted']))}:"
        else:
            line = f"each side {', '.join(draw(st.lists(SIDE, min_size=1, max_size=3, unique=True)))}:"
    if draw(st.integers(0, 4)) == 0:
        line += " " * draw(st.integers(0, 3)) + "  " + draw(COMMENT)
    out.append(line)
    if is_block:
        width = draw(st.integers(1, 6))
        for _ in range(draw(st.integers(0 if line.startswith("section") else 1, 3))):
            out.extend(" " * width + inner if inner.strip() else inner
                       for inner in draw(lines_of(depth + 1, top=False)))
    return out


@st.composite
def scripts(draw) -> str:
    head = [f"title: {q(draw(TEXT))}"]
    optional = {"language": st.sampled_from(["en", "en-GB", "zh-CN"]), "tempo": st.sampled_from(["0.5", "1", "1.25"]),
                "tags": st.sampled_from(["back, calm", "气功"]), "author": TEXT.map(q), "gap": st.just("0.8s")}
    for key in draw(st.lists(st.sampled_from(sorted(optional)), unique=True, max_size=3)):
        head.append(f"{key}: {draw(optional[key])}")
    if draw(st.booleans()):
        head.append(f"variants: {', '.join(VARIANTS)}")
    if draw(st.booleans()):
        head.insert(0, draw(COMMENT))
    body: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        body.extend(draw(lines_of(0, top=True)))
    for name in NAMES:  # every `do` finds its sequence: defined at the end, as the language allows
        body.extend([f"define {q(name)}:", "    pause 1s"])
    text = "\n".join(head + [""] + body)
    ending = draw(st.sampled_from(["\n", "", "\n\n"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return (text + ending).replace("\n", newline)


def fmt(text: str) -> str:
    result = parse_text(text, "g.qi")
    return format_routine(result.routine, text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def _fmt_properties(text: str) -> None:
    parsed = parse_text(text, "g.qi")
    assert not [d for d in parsed.diagnostics if d.is_error], [(d.span.line, d.message) for d in parsed.diagnostics]
    once = fmt(text)
    again = parse_text(once, "g.qi")
    assert not again.diagnostics, [(d.span.line, d.message) for d in again.diagnostics]
    assert again.routine == parsed.routine  # the meaning is unchanged (spans take no part)
    assert fmt(once) == once  # idempotent


@SETTINGS
@given(scripts())
def test_generated_scripts_parse_and_fmt_keeps_their_meaning(text):
    _fmt_properties(text)
    compiled = compile_routine("g.qi", Loader(), text=text)  # and the whole front end answers in words
    _assert_sane(compiled.diagnostics, text)


@SETTINGS
@given(scripts())
def test_generated_scripts_keep_every_comment_through_fmt(text):
    comments = [line.split("#", 1)[1] for line in text.replace("\r", "").split("\n")
                if line.lstrip().startswith("#")]
    formatted = fmt(text)
    for comment in comments:
        assert "#" + comment.rstrip() in formatted


def _plans(text: str) -> list[str] | None:
    """Each variant's plan (and the table of every variant's times), or None when the script has errors."""
    compiled = compile_routine("g.qi", Loader(), text=text)
    if compiled.errors:
        return None
    plans = [plan_table(compiled.variant(v.name)) for v in compiled.variants]
    return plans + ([variants_table(compiled)] if compiled.settings.variants else [])


@SETTINGS
@given(scripts())
def test_fmt_keeps_the_plan_of_every_variant(text):
    before = _plans(text)
    assert before is None or _plans(fmt(text)) == before


def test_the_two_fmt_properties_hold_on_every_golden_case_and_the_shipped_routine():
    paths = sorted((ROOT / "tests" / "cases" / "valid").glob("**/*.qi"))
    paths.append(ROOT / "routines" / "rolling-the-hands-backwards.qi")
    for path in paths:
        _fmt_properties(path.read_bytes().decode("utf-8"))


def test_model_equality_ignores_spans():
    a = parse_text('title: "T"\n\nsay "x"\n', "a.qi").routine
    b = parse_text('title:    "T"\n\n\n\nsay    "x"   # moved\n', "a.qi").routine
    assert a == b and a.body[0].span != b.body[0].span
    assert a != parse_text('title: "T"\n\nsay "y"\n', "a.qi").routine
    assert isinstance(a.body[0], m.Say)
