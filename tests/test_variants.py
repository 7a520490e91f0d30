"""Audience variants and levels: `plan` per variant, `check --level`, `build --variant`, and the
front end failing loudly on a statement type it does not know."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from qidsl.cli import main
from qidsl.compile import compile_routine
from qidsl.lang import model as m
from qidsl.lang.check import Sizer
from qidsl.lang.expand import expand
from qidsl.lang.formatter import format_routine
from qidsl.lang.loader import Library, Loader
from qidsl.lang.parser import parse_text
from qidsl.lang.settings import Settings
from tests.test_cases import CASES, _golden, _run

VARIANTS = CASES / "valid" / "variants.qi"
PLANS = CASES / "variant-plans"


@pytest.mark.parametrize("variant", ["standing", "seated", "short"])
def test_plan_shows_each_variant_as_stored(variant, monkeypatch, capsys):
    code, out, err = _run(monkeypatch, capsys, VARIANTS.parent, ["plan", "--quick", "--variant", variant, VARIANTS.name])
    assert (code, err) == (0, "")
    _golden(PLANS / f"{VARIANTS.stem}.{variant}.plan", out)


def test_the_default_plan_is_the_first_variant(monkeypatch, capsys):
    _, default, _ = _run(monkeypatch, capsys, VARIANTS.parent, ["plan", "--quick", VARIANTS.name])
    _, standing, _ = _run(monkeypatch, capsys, VARIANTS.parent, ["plan", "--quick", "--variant", "standing",
                                                                 VARIANTS.name])
    assert default == standing
    assert default.startswith("Waking the Waist (variant: standing) — about 2:09")


def test_each_variant_plays_only_its_blocks():
    compiled = compile_routine(VARIANTS, Loader())
    spoken = {v.name: {s.text for s in v.expanded.steps if s.kind == "say"} for v in compiled.variants}
    assert "Stand with your feet shoulder-width apart." in spoken["standing"] - spoken["seated"]
    assert "Sit tall at the front of your chair, feet flat." in spoken["seated"] - spoken["standing"]
    sections = {v.name: [e.text for e in v.estimate.sections] for v in compiled.variants}
    assert sections["short"] == ["Arriving", "Waist", "Closing"]  # `unless short:` around a whole section
    assert sections["seated"] == ["Arriving", "Waist", "Resting", "Closing"]


def test_plan_of_an_unknown_variant_is_a_usage_error(monkeypatch, capsys):
    code, out, err = _run(monkeypatch, capsys, VARIANTS.parent, ["plan", "--variant", "lying", VARIANTS.name])
    assert (code, out) == (2, "")
    assert err == "qidsl: variants.qi has no variant 'lying'; its variants are: standing, seated, short\n"


def test_a_routine_without_variants_plans_as_before(monkeypatch, capsys):
    path = CASES / "valid" / "repeats.qi"
    code, out, _ = _run(monkeypatch, capsys, path.parent, ["plan", path.name])
    assert code == 0 and "variants" not in out and "(variant:" not in out


# ---------------------------------------------------------------------------
# Levels


def _codes(argv, monkeypatch, capsys, name="warn-long-retention.qi") -> list[str]:
    code, out, err = _run(monkeypatch, capsys, CASES / "errors", ["check", "--format", "json", *argv, name])
    return re.findall(r'"code": "([a-z-]+)"', out)


def test_level_option_overrides_the_routine(monkeypatch, capsys):
    assert _codes([], monkeypatch, capsys).count("long-retention") == 3  # 12 s, 6+6 s and 16 s at beginner
    assert _codes(["--level", "intermediate"], monkeypatch, capsys) == []  # up to 20 s
    assert _codes(["--level", "advanced"], monkeypatch, capsys, "warn-fast-breathing.qi") == []
    assert _codes(["--level", "intermediate"], monkeypatch, capsys, "warn-fast-breathing.qi") == \
        ["long-fast-breathing"]  # 80 s of breathe 1-0-1 is over a minute; the 40 s round is not


def test_level_setting_is_read(tmp_path):
    text = 'title: "L"\nlevel: intermediate\nnote "Be gentle."\n\ninhale 4s\nhold 15s\nexhale 4s\nhold 25s\n'
    compiled = compile_routine(tmp_path / "l.qi", Loader(), text=text)
    assert [(d.code, d.span.line) for d in compiled.diagnostics] == [("long-retention", 8)]
    assert "after an exhale; the intermediate level holds it for at most 20s" in compiled.diagnostics[0].message


def test_plan_and_build_take_a_level(monkeypatch, capsys):
    code, _, err = _run(monkeypatch, capsys, CASES / "errors", ["plan", "--level", "advanced",
                                                                "warn-long-retention.qi"])
    assert (code, err) == (0, "")
    code, _, err = _run(monkeypatch, capsys, CASES / "errors", ["plan", "warn-long-retention.qi"])
    assert code == 0 and err.count("warning: the breath is held") == 3
    with pytest.raises(SystemExit):
        main(["build", "--level", "expert", "x.qi"])


def test_a_hold_after_a_say_or_a_pause_is_a_posture():
    text = 'title: "P"\n\ninhale 4s\nsay "Stay."\nhold 1m\npause 1s\nhold 1m\n'
    assert compile_routine("p.qi", Loader(), text=text).diagnostics == ()


# ---------------------------------------------------------------------------
# A statement type the front end does not know is a bug: it must not vanish


@dataclasses.dataclass(frozen=True)
class _Unknown:
    span: m.Span = m.Span("u.qi", 1, 1, 1, 2)
    body: tuple = ()


# Each stage matches on the model's closed union with assert_never last (a type checker flags a
# forgotten class); at run time an unknown one raises.
UNREACHABLE = "Expected code to be unreachable"


def test_the_size_pass_fails_on_an_unknown_statement():
    with pytest.raises(AssertionError, match=UNREACHABLE):
        Sizer(Library({}, ())).of(_Unknown())


def test_the_expander_fails_on_an_unknown_statement():
    span = _Unknown().span
    routine = m.Routine("u.qi", (), (m.Say(m.Text("Hello.", span), span), _Unknown()))
    with pytest.raises(AssertionError, match=UNREACHABLE):
        # The size pass meets it first; the expander's own guard is tested on its own below.
        expand(routine, Library({}, ()), Settings(title="U"))
    from qidsl.lang.expand import _Expander

    with pytest.raises(AssertionError, match=UNREACHABLE + ".*_Unknown"):
        _Expander(Library({}, ()), Settings(title="U")).node(_Unknown(), (None, None, None))


def test_the_formatter_fails_on_an_unknown_statement():
    from qidsl.lang.formatter import statement_line

    with pytest.raises(AssertionError, match=UNREACHABLE):
        statement_line(_Unknown())


# ---------------------------------------------------------------------------
# fmt of a library file


def test_fmt_keeps_the_blank_line_after_a_library_files_heading():
    text = '# Shared breaths for the morning routines.\n\ndefine "wave":\n    inhale 4s\n    exhale 4s\n'
    result = parse_text(text, "lib.qi")
    assert format_routine(result.routine, text.split("\n")) == text


def test_fmt_lays_out_variant_blocks():
    text = 'title: "V"\nvariants: a,b\n\nsection "S":\n  for a ,b :\n      say "x"\n  unless   b:\n    pause 1s\n'
    result = parse_text(text, "v.qi")
    assert format_routine(result.routine, text.split("\n")) == (
        'title: "V"\nvariants: a,b\n\nsection "S":\n    for a, b:\n        say "x"\n    unless b:\n        pause 1s\n')


# ---------------------------------------------------------------------------
# Build


ROUTINE = """\
title: "Two Audiences"
variants: standing, seated

section "Arriving":
    for standing:
        say "Stand tall."
    for seated:
        say "Sit tall."
    say "Let the shoulders drop."
    inhale 3s "Breathe in."
    exhale 3s
"""


def _speech(stderr: str) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in re.findall(r"speech: \d+ cues, (\d+) synthesised, (\d+) from the cache",
                                                     stderr)]


def _build_every_variant(tmp_path, monkeypatch, capsys, name: str, text: str, video: str) -> tuple[Path, str]:
    """Build ``text`` as ``name``.qi with ``--variant all`` (``video``: --no-video or --preview); its path and stderr."""
    routine = tmp_path / f"{name}.qi"
    routine.write_text(text, encoding="utf-8")
    monkeypatch.setenv("QIDSL_CACHE_DIR", str(tmp_path / "cache"))
    code = main(["build", video, "--variant", "all", "--out", str(tmp_path / "out"), str(routine)])
    _, err = capsys.readouterr()
    assert code == 0, err
    return routine, err


def test_build_every_variant_synthesises_shared_speech_once(tmp_path, monkeypatch, capsys):
    routine, err = _build_every_variant(tmp_path, monkeypatch, capsys, "two", ROUTINE, "--no-video")
    # standing speaks three cues; seated shares two of them and synthesises only "Sit tall."
    assert _speech(err) == [(3, 0), (1, 2)]
    names = sorted(p.name for p in (tmp_path / "out" / "two").iterdir() if not p.name.startswith("."))
    assert names == ["two.chapters.txt", "two.html", "two.mp3", "two.seated.chapters.txt", "two.seated.html",
                     "two.seated.mp3", "two.seated.srt", "two.seated.timeline.json", "two.seated.vtt", "two.srt",
                     "two.timeline.json", "two.vtt"]
    # Each variant's page plays its own narration.
    assert 'src="two.seated.mp3"' in (tmp_path / "out" / "two" / "two.seated.html").read_text(encoding="utf-8")
    assert "Sit tall." in (tmp_path / "out" / "two" / "two.seated.srt").read_text(encoding="utf-8")
    assert "Sit tall." not in (tmp_path / "out" / "two" / "two.srt").read_text(encoding="utf-8")
    # One variant by name, with nothing changed since it was built: it is up to date, nothing is made.
    code = main(["build", "--no-video", "--variant", "seated", "--out", str(tmp_path / "out"), str(routine)])
    _, err = capsys.readouterr()
    assert code == 0 and _speech(err) == [] and "up to date" in err
    # After an edit, only that variant's outputs are made again, its speech all from the cache.
    routine.write_text(ROUTINE.replace('title: "Two Audiences"', 'title: "Two Ways"'), encoding="utf-8")
    code = main(["build", "--no-video", "--variant", "seated", "--out", str(tmp_path / "out"), str(routine)])
    _, err = capsys.readouterr()
    assert code == 0 and _speech(err) == [(0, 3)]
    assert "building" in err and "(variant seated)" in err


def test_build_of_an_unknown_variant_is_a_usage_error(tmp_path, capsys):
    routine = tmp_path / "two.qi"
    routine.write_text(ROUTINE, encoding="utf-8")
    code = main(["build", "--no-video", "--variant", "lying", "--out", str(tmp_path / "out"), str(routine)])
    _, err = capsys.readouterr()
    assert code == 2
    assert "has no variant 'lying'; its variants are: standing, seated" in err
    assert not (tmp_path / "out").exists()


FLOW = """title: "Gentle Flow"
author: "Qi Studio"
variants: mat, chair

for chair:
    note "Sit near the front of a sturdy chair."

section "Arriving":
    for mat:
        say "Stand tall."
    for chair:
        say "Sit tall."
    inhale 2s
    exhale 2s
"""


def test_each_variant_says_which_it_is_in_everything_it_publishes(tmp_path, monkeypatch, capsys):
    from mutagen.id3 import ID3

    from qidsl.renderers.video import VideoFrames
    from tests.probe import probe

    # The title card as drawn: the texts the painter places in the video's first frame.
    cards: list[list[str]] = []
    draw = VideoFrames.__call__

    def recording(self, t, *args, **kwargs):
        picture = draw(self, t, *args, **kwargs)
        if t == 0.0:
            cards.append([" ".join(lines) for lines, _ in self._painter.placed])
        return picture

    monkeypatch.setattr(VideoFrames, "__call__", recording)
    _build_every_variant(tmp_path, monkeypatch, capsys, "gentle", FLOW, "--preview")
    folder = tmp_path / "out" / "gentle"
    note = "Sit near the front of a sturdy chair."
    for variant, name in (("mat", "gentle"), ("chair", "gentle.chair")):
        title = f"Gentle Flow ({variant})"
        page = (folder / f"{name}.html").read_text(encoding="utf-8")
        assert re.search(r"<title>(.*?)</title>", page).group(1) == title
        assert ID3(folder / f"{name}.mp3")["TIT2"].text == [title]
        assert probe(folder / f"{name}.mp4")["format"]["tags"]["title"] == title
        timeline = json.loads((folder / f"{name}.timeline.json").read_text(encoding="utf-8"))
        assert timeline["title"] == title
        card = next(texts for texts in cards if title in texts)
        # The chair's note at the top is on its title card (not a timed note later), and only on its.
        assert (note in card) == (variant == "chair")
        assert timeline["notes"] == ([note] if variant == "chair" else [])
        assert note not in [e["text"] for e in timeline["events"] if e["kind"] == "note"]
