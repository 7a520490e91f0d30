"""The pre-commit hooks (.pre-commit-hooks.yaml) as a user's repository runs them: `pre-commit try-repo`.

pre-commit builds the hooks' environment itself, installing qidsl from this
repository (and its dependencies from PyPI) the way it would from a tag;
pre-commit-uv makes that install take about 25 s instead of minutes.
try-repo builds a new environment on every run, so there are two runs: one
that passes, one that fails both hooks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

CLEAN = 'title: "Clean"\n\nsection "Arriving":\n    say "Stand tall."\n    inhale 4s\n'
BROKEN = 'title: "Broken"\n\nsection "Arriving":\n    inhal 4s\n'
MESSY = 'title:   "Messy"\nsection "Arriving":\n  say  "Stand tall."\n'


@pytest.fixture(scope="module")
def env():
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}


def repository(folder: Path, files: dict[str, str], env) -> Path:
    folder.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True, env=env)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "notes.txt").write_text("inhal is not a routine\n", encoding="utf-8")  # not a .qi: not checked
    subprocess.run(["git", "add", "-A"], cwd=folder, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "routines"], cwd=folder, check=True, env=env)
    return folder


def try_repo(folder: Path, env) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "pre-commit"), "try-repo", str(ROOT), "--all-files", "--color", "never"],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=600)


def hook_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("qidsl ")]


def test_the_hooks_pass_on_clean_routines(tmp_path, env):
    clean = repository(tmp_path / "clean", {"morning.qi": CLEAN}, env)
    done = try_repo(clean, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [(line.split(".")[0], line.rsplit(".", 1)[1]) for line in hook_lines(done.stdout)] == [
        ("qidsl check", "Passed"), ("qidsl fmt", "Passed")]
    assert (clean / "morning.qi").read_text(encoding="utf-8") == CLEAN


def test_the_hooks_fail_on_a_broken_routine_and_reformat_a_messy_one(tmp_path, env):
    files = {"morning.qi": CLEAN, "evening.qi": BROKEN, "messy.qi": MESSY}
    repo = repository(tmp_path / "broken", files, env)
    done = try_repo(repo, env)
    assert done.returncode == 1
    assert [(line.split(".")[0], line.rsplit(".", 1)[1]) for line in hook_lines(done.stdout)] == [
        ("qidsl check", "Failed"), ("qidsl fmt", "Failed")]
    assert "evening.qi:4:5: error: unknown statement 'inhal'" in done.stdout
    assert "hint: did you mean 'inhale'?" in done.stdout
    assert "qidsl: evening.qi was not formatted: fix the errors above first" in done.stdout
    assert "files were modified by this hook" in done.stdout
    assert (repo / "messy.qi").read_text(encoding="utf-8") == \
        'title: "Messy"\n\nsection "Arriving":\n    say "Stand tall."\n'
    assert (repo / "morning.qi").read_text(encoding="utf-8") == CLEAN
    assert (repo / "evening.qi").read_text(encoding="utf-8") == BROKEN
