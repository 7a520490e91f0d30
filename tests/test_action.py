"""The GitHub Action (action.yml): its inputs are all declared, and its check step, run by bash as the
runner runs it, prints annotations, writes SARIF and fails exactly when qidsl check does."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
BIN = Path(sys.executable).parent


def step(name: str) -> dict:
    return next(s for s in ACTION["runs"]["steps"] if s.get("name") == name)


def run_check_step(cwd: Path, **inputs: str) -> subprocess.CompletedProcess:
    """The check step's script with the environment the runner gives it (``${{ inputs.x }}`` filled in)."""
    found = step("qidsl check")
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    for name, value in found["env"].items():
        key = re.fullmatch(r"\$\{\{ inputs\.([\w-]+) \}\}", value).group(1)
        env[name] = inputs.get(key, ACTION["inputs"][key]["default"])
    return subprocess.run(["bash", "-e", "-c", found["run"]], cwd=cwd, env=env, capture_output=True, text=True)


def test_the_action_is_composite_and_uses_only_declared_inputs():
    assert ACTION["runs"]["using"] == "composite"
    used = set(re.findall(r"\$\{\{ inputs\.([\w-]+) \}\}", (ROOT / "action.yml").read_text(encoding="utf-8")))
    assert used == set(ACTION["inputs"])
    assert all(s.get("shell") == "bash" for s in ACTION["runs"]["steps"] if "run" in s)
    assert "GITHUB_ACTION_PATH" in step("Install qidsl")["run"]  # installs its own copy by default


def test_the_check_step_annotates_writes_sarif_and_fails_on_errors(tmp_path):
    (tmp_path / "routines").mkdir()
    (tmp_path / "routines" / "ok.qi").write_text('title: "OK"\nsay "Hello."\n', encoding="utf-8")
    (tmp_path / "routines" / "bad.qi").write_text('title: "Bad"\ninhal 4s\n', encoding="utf-8")
    done = run_check_step(tmp_path, paths="routines", **{"sarif-file": "reports/qidsl.sarif"})
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "::error file=routines/bad.qi,line=2,col=1,endLine=2,endColumn=6,title=unknown-statement::"
        "unknown statement 'inhal' (did you mean 'inhale'?)"]
    log = json.loads((tmp_path / "reports" / "qidsl.sarif").read_text(encoding="utf-8"))
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["unknown-statement"]


def test_the_check_step_passes_on_clean_routines_unless_strict_meets_a_warning(tmp_path):
    (tmp_path / "ok.qi").write_text('title: "OK"\nsay "Hello."\n', encoding="utf-8")
    assert run_check_step(tmp_path, paths="ok.qi").returncode == 0
    (tmp_path / "warn.qi").write_text('title: "W"\nsay "Hello."\ninhale 2s\ninhale 2s\n', encoding="utf-8")
    assert run_check_step(tmp_path, paths="ok.qi warn.qi").returncode == 0
    strict = run_check_step(tmp_path, paths="ok.qi warn.qi", strict="true")
    assert strict.returncode == 1
    assert strict.stdout.startswith("::warning file=warn.qi,line=4,")
