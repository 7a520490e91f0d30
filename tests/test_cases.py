"""Golden cases: what `qidsl plan` prints for valid routines, what `qidsl check` prints for mistakes.

Each case is one routine file under tests/cases/ with its expected output
beside it (Black-style):

- ``valid/NAME.qi``  -> ``valid/NAME.plan``: the exact `qidsl plan` output; the
  routine must also check clean with ``--strict``.
- ``errors/NAME.qi`` -> ``errors/NAME.out``: the exact `qidsl check` text
  output (diagnostics with their source line, caret line and hint, then the
  summary line), colour off, followed by ``[exit N]``.

Files in ``parts/`` folders are only included by cases, never cases themselves.
Run with ``UPDATE_GOLDEN=1`` to rewrite the expected files, then read every
changed one before committing it: the golden files are the specification.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qidsl.cli import main
from qidsl.compile import compile_routine
from qidsl.lang.loader import Loader

CASES = Path(__file__).parent / "cases"
VALID = sorted((CASES / "valid").glob("*.qi"))
ERRORS = sorted((CASES / "errors").glob("*.qi"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
SHIPPED = Path(__file__).parent.parent / "routines" / "rolling-the-hands-backwards.qi"


def _run(monkeypatch, capsys, folder: Path, argv: list[str]) -> tuple[int, str, str]:
    monkeypatch.chdir(folder)  # so the paths in the output are the short ones a user types
    monkeypatch.setenv("NO_COLOR", "1")
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _golden(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual, encoding="utf-8", newline="")
        return
    assert path.exists(), f"{path.name} is missing: run with UPDATE_GOLDEN=1, then review it"
    expected = path.read_bytes().decode("utf-8")
    assert actual == expected, f"output differs from {path.relative_to(CASES)}"


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_case_checks_clean_and_plans_as_stored(path, monkeypatch, capsys):
    code, out, err = _run(monkeypatch, capsys, path.parent, ["check", "--strict", path.name])
    assert (code, out) == (0, ""), out
    assert err == "no problems in 1 file\n"
    # The pace of letters, pure Python and the same on every machine; tests/test_piper_timing.py has the voice's.
    code, out, err = _run(monkeypatch, capsys, path.parent, ["plan", "--quick", path.name])
    assert code == 0, err
    assert err == ""
    _golden(path.with_suffix(".plan"), out)


@pytest.mark.parametrize("path", ERRORS, ids=lambda p: p.stem)
def test_error_case_reports_as_stored(path, monkeypatch, capsys):
    code, out, err = _run(monkeypatch, capsys, path.parent, ["check", path.name])
    assert out, "an error case must report something"
    _golden(path.with_suffix(".out"), f"{out}{err}[exit {code}]\n")


def test_every_golden_file_has_its_case():
    for folder, suffix in (("valid", ".plan"), ("errors", ".out")):
        for golden in (CASES / folder).glob(f"*{suffix}"):
            assert golden.with_suffix(".qi").exists(), f"{golden.name} has no routine"


def _codes(paths) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in paths:
        result = compile_routine(path, Loader())
        for diagnostic in result.diagnostics:
            found.setdefault(diagnostic.code, []).append(path.name)
    return found


def test_the_cases_cover_every_mistake_of_the_language_brief():
    """Each mistake and warning LANGUAGE.md lists is among the error cases."""
    codes = _codes(ERRORS)
    wanted = {
        "unknown-statement",  # inhal 4s
        "missing-unit",  # inhale 4
        "bad-count",  # repeat 0: / repeat 100000:
        "too-many-steps",  # repeats nested past the limit
        "unknown-sequence",  # do "rolling breth"
        "tab-indent", "bad-dedent",
        "unclosed-text",  # say "unclosed
        "unknown-placeholder", "side-outside",  # {sid}, {side} outside each side
        "include-missing", "include-self", "include-cycle", "include-outside",
        "not-utf8", "empty-file", "missing-title",
        "unknown-setting", "bad-setting", "bad-language", "unknown-engine", "unknown-theme",
        "empty-block", "repeat-times",
        # warnings
        "breath-twice", "unused-define", "cue-overruns-phase", "long-routine",
    }
    assert wanted <= set(codes), sorted(wanted - set(codes))


def test_valid_cases_have_no_diagnostics_at_all():
    assert _codes(VALID) == {}


def test_the_shipped_routine_checks_clean(monkeypatch, capsys):
    code, out, err = _run(monkeypatch, capsys, SHIPPED.parent, ["check", "--strict", SHIPPED.name])
    assert (code, out, err) == (0, "", "no problems in 1 file\n")


def test_the_shipped_routine_lasts_as_the_issue_asks():
    """"about 8 to 12 minutes": the estimated timeline says so."""
    result = compile_routine(SHIPPED, Loader())
    assert 8 * 60 <= result.estimate.duration <= 12 * 60
    assert {s.text for s in result.estimate.sections} >= {"Arriving", "Rolling the Hands Backwards", "Closing"}
