"""The wheel ships the grammar and fonts, and parses routines when used outside the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build the wheel offline from a copy of the sources (so the build leaves nothing in the repository)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for folder in ("qidsl", "grammar"):
        shutil.copytree(ROOT / folder, source / folder, ignore=ignore)
    out = work / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "--no-index",
         "-w", str(out), "-q"],
        capture_output=True, text=True, timeout=300, cwd=work)
    assert done.returncode == 0, done.stderr[-2000:]
    (built,) = out.glob("qidsl-*.whl")
    return built


def test_the_wheel_holds_the_grammar_and_the_fonts(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "qidsl/grammar/qi.lark" in names
    assert {"qidsl/fonts/DejaVuSans.ttf", "qidsl/fonts/DejaVuSans-Bold.ttf"} <= names
    # The practice page's template, style and script, inlined into every NAME.html.
    assert {"qidsl/renderers/page.html", "qidsl/renderers/page.css", "qidsl/renderers/page.js",
            "qidsl/renderers/figure.js"} <= names
    assert "qidsl/lang/parser.py" in names and "qidsl/cli.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "qidsl = qidsl.cli:program" in zipfile.ZipFile(wheel).read(entry_points).decode()
    grammar = zipfile.ZipFile(wheel).read("qidsl/grammar/qi.lark").decode()
    assert grammar == (ROOT / "grammar" / "qi.lark").read_text(encoding="utf-8")


def test_the_unpacked_wheel_parses_and_checks_from_another_folder(wheel, tmp_path):
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "r.qi").write_text('title: "Away"\n\nsay "Hello."\ninhal 4s\n', encoding="utf-8")
    script = textwrap.dedent(f"""
        import qidsl, qidsl.lang.parser
        from pathlib import Path
        assert Path(qidsl.__file__).resolve().is_relative_to(Path({str(unpacked)!r}).resolve()), qidsl.__file__
        result = qidsl.lang.parser.parse_text('title: "T"\\n\\nsection "A":\\n    inhale 4s "In."\\n')
        assert not result.diagnostics and result.routine.body[0].body[0].phase == "inhale"
        from qidsl.cli import main
        raise SystemExit(main(["check", "r.qi"]))
    """)
    env = {**os.environ, "PYTHONPATH": str(unpacked), "NO_COLOR": "1"}
    done = subprocess.run([sys.executable, "-c", script], cwd=elsewhere, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("r.qi:4:1: error: unknown statement 'inhal'")
