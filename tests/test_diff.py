"""`qidsl diff OLD NEW`: golden outputs for typical edits, standard input, and the promise about speech.

Each ``tests/cases/diff/NAME.qi`` is ``base.qi`` edited one way; ``NAME.diff``
is what `qidsl diff base.qi NAME.qi` prints (``UPDATE_GOLDEN=1`` rewrites it).
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess

import pytest

from tests.test_cases import CASES, _golden, _run

DIFF = CASES / "diff"
EDITS = sorted(p for p in DIFF.glob("*.qi") if p.name != "base.qi")


def test_there_is_a_case_for_each_edit_the_issue_names():
    assert {p.stem for p in EDITS} >= {"reword", "move-section", "change-count", "add-variant"}


@pytest.mark.parametrize("path", EDITS, ids=lambda p: p.stem)
def test_diff_prints_as_stored(path, monkeypatch, capsys):
    code, out, err = _run(monkeypatch, capsys, DIFF, ["diff", "base.qi", path.name])
    assert (code, err) == (0, "")
    _golden(path.with_suffix(".diff"), out)


def test_json_output_as_stored(monkeypatch, capsys):
    code, out, _ = _run(monkeypatch, capsys, DIFF, ["diff", "--format", "json", "base.qi", "reword.qi"])
    assert code == 0
    data = json.loads(out)
    assert data["schema"] == "qidsl.diff/1" and data["speech"] == {"new": 3, "cues": 12}
    reworded = [c for c in data["cues"] if c["change"] == "reworded"]
    assert reworded[1]["words"] == [{"op": "equal", "text": "Circle the"}, {"op": "delete", "text": "waist"},
                                    {"op": "insert", "text": "hips"}, {"op": "equal", "text": "like a belt."}]
    _golden(DIFF / "reword.json", out)


def test_the_same_routine_has_no_changes(monkeypatch, capsys):
    code, out, _ = _run(monkeypatch, capsys, DIFF, ["diff", "base.qi", "base.qi"])
    assert (code, out) == (0, "--- base.qi\n+++ base.qi\nno changes\n")


def test_old_version_from_standard_input(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO((DIFF / "base.qi").read_text(encoding="utf-8")))
    code, out, _ = _run(monkeypatch, capsys, DIFF, ["diff", "-", "reword.qi"])
    assert code == 0
    expected = (DIFF / "reword.diff").read_text(encoding="utf-8")
    assert out == expected.replace("--- base.qi", "--- reword.qi (standard input)", 1)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_diff_of_git_show_output(tmp_path):
    """`git show HEAD:routine.qi | qidsl diff - routine.qi`, as a reviewer runs it."""
    def git(*args, **kwargs):
        return subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True, **kwargs)

    git("init", "-q")
    routine = tmp_path / "morning.qi"
    shutil.copy(DIFF / "base.qi", routine)
    git("add", "morning.qi")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    shutil.copy(DIFF / "change-count.qi", routine)
    old = git("show", "HEAD:morning.qi").stdout
    done = subprocess.run(["qidsl", "diff", "-", "morning.qi"], input=old, cwd=tmp_path, capture_output=True,
                          env=_env())
    assert done.returncode == 0, done.stderr
    expected = (DIFF / "change-count.diff").read_text(encoding="utf-8")
    expected = expected.replace("--- base.qi", "--- morning.qi (standard input)").replace(
        "+++ change-count.qi", "+++ morning.qi")
    assert done.stdout.decode("utf-8") == expected


def _env():
    import os
    import sys
    from pathlib import Path

    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def test_a_version_with_errors_is_refused(tmp_path, monkeypatch, capsys):
    broken = tmp_path / "broken.qi"
    broken.write_text('title: "B"\n\ninhal 4s\n', encoding="utf-8")
    shutil.copy(DIFF / "base.qi", tmp_path / "base.qi")
    code, out, err = _run(monkeypatch, capsys, tmp_path, ["diff", "base.qi", "broken.qi"])
    assert (code, out) == (1, "")
    assert "broken.qi:3:1: error: unknown statement 'inhal'" in err
    assert err.endswith("qidsl: broken.qi has errors; fix them before comparing\n")


def test_usage_problems(monkeypatch, capsys):
    code, _, err = _run(monkeypatch, capsys, DIFF, ["diff", "-", "-"])
    assert (code, err) == (2, "qidsl: only one of OLD and NEW can be '-' (standard input)\n")
    code, _, err = _run(monkeypatch, capsys, DIFF, ["diff", "base.qi", "nothing.qi"])
    assert (code, err) == (2, "qidsl: no such file: nothing.qi\n")


def test_the_count_of_new_speech_is_what_a_build_synthesises(tmp_path, monkeypatch, capsys):
    """Build OLD, then NEW with the same cache: the build synthesises as many cues as diff said."""
    monkeypatch.setenv("QIDSL_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "old.qi").write_text('title: "T"\n\nsay "Stand tall."\nrepeat 2 counted:\n    inhale 3s "In."\n'
                                     '    exhale 3s\n', encoding="utf-8")
    (tmp_path / "new.qi").write_text('title: "T"\n\nsay "Stand up tall."\nrepeat 3 counted:\n    inhale 3s "In."\n'
                                     '    exhale 3s\n', encoding="utf-8")
    code, out, _ = _run(monkeypatch, capsys, tmp_path, ["diff", "old.qi", "new.qi"])
    assert "speech: 2 of 5 cues to synthesise anew" in out  # "Stand up tall." and the count "3"
    made = []
    for name in ("old.qi", "new.qi"):
        code, _, err = _run(monkeypatch, capsys, tmp_path, ["build", "--no-video", "--out", "out", name])
        assert code == 0, err
        made.append(int(re.search(r"speech: \d+ cues, (\d+) synthesised", err).group(1)))
    assert made == [4, 2]


def test_a_new_language_is_new_speech_when_it_changes_the_voice(tmp_path, monkeypatch, capsys):
    body = '\nsay "Eins."\nsay "Zwei."\n'
    for name, language in (("de.qi", "de"), ("at.qi", "de-AT"), ("fr.qi", "fr")):
        (tmp_path / name).write_text(f'title: "T"\nlanguage: {language}\n{body}', encoding="utf-8")
    _, out, _ = _run(monkeypatch, capsys, tmp_path, ["diff", "de.qi", "at.qi"])
    assert "speech: 0 of 2 cues to synthesise anew" in out  # Pico's one German voice either way
    _, out, _ = _run(monkeypatch, capsys, tmp_path, ["diff", "de.qi", "fr.qi"])
    assert "speech: 2 of 2 cues to synthesise anew" in out  # its French voice now
