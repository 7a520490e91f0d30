"""The VS Code extension (editors/vscode): its TextMate grammar passes vscode-tmgrammar-test on the
sample files, and its manifest, language configuration and client hang together."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

VSCODE = Path(__file__).resolve().parent.parent / "editors" / "vscode"
TMGRAMMAR_TEST = VSCODE / "node_modules" / ".bin" / "vscode-tmgrammar-test"
MISSING = "vscode-tmgrammar-test is not installed: run `make editors` (npm ci in editors/vscode)"


def test_the_grammar_passes_its_scope_tests_on_the_sample_files():
    assert TMGRAMMAR_TEST.exists(), MISSING
    samples = sorted(p.name for p in (VSCODE / "tests").glob("*.qi"))
    assert samples == ["mistakes.qi", "routine.qi"]
    done = subprocess.run([str(TMGRAMMAR_TEST), "-g", "syntaxes/qi.tmLanguage.json", "tests/*.qi"],
                          cwd=VSCODE, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(re.findall(r"✓ tests/(\S+) run successfuly", done.stdout)) == samples


def test_the_grammar_test_fails_on_a_wrong_scope(tmp_path):
    """The runner really compares scopes: a sample that asserts a wrong one fails."""
    assert TMGRAMMAR_TEST.exists(), MISSING
    wrong = tmp_path / "wrong.qi"
    wrong.write_text('# SYNTAX TEST "source.qi"\nsay "Hello."\n# <--- entity.name.section.qi\n', encoding="utf-8")
    done = subprocess.run([str(TMGRAMMAR_TEST), "-g", str(VSCODE / "syntaxes" / "qi.tmLanguage.json"), str(wrong)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "missing required scopes: entity.name.section.qi" in done.stdout


def test_the_manifest_names_files_that_exist_and_the_grammar_it_ships():
    manifest = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    (language,) = manifest["contributes"]["languages"]
    (grammar,) = manifest["contributes"]["grammars"]
    assert language["id"] == grammar["language"] == "qi" and language["extensions"] == [".qi"]
    assert (VSCODE / manifest["main"]).is_file()
    assert (VSCODE / language["configuration"]).is_file()
    tm = json.loads((VSCODE / grammar["path"]).read_text(encoding="utf-8"))
    assert tm["scopeName"] == grammar["scopeName"] == "source.qi"
    assert manifest["contributes"]["configuration"]["properties"]["qidsl.args"]["default"] == ["lsp"]
    assert "vscode-languageclient" in manifest["dependencies"]


def test_the_client_is_valid_javascript_that_starts_qidsl_lsp():
    node = shutil.which("node")
    assert node, "node is needed (it comes with npm)"
    done = subprocess.run([node, "--check", str(VSCODE / "extension.js")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    source = (VSCODE / "extension.js").read_text(encoding="utf-8")
    assert 'require("vscode-languageclient/node")' in source
    assert 'settings.get("path", "qidsl")' in source and 'settings.get("args", ["lsp"])' in source


def test_the_language_configuration_indents_after_block_headers_only():
    config = json.loads((VSCODE / "language-configuration.json").read_text(encoding="utf-8"))
    assert config["comments"] == {"lineComment": "#"}
    indent = re.compile(config["indentationRules"]["increaseIndentPattern"])
    on_enter = re.compile(config["onEnterRules"][0]["beforeText"])
    headers = ['section "Arriving":', "    repeat 9 counted:", "    each side left, right:  # both",
               "    for seated, short:", "    unless seated:", 'define "rolling breath":']
    others = ['say "Look: here."', "    inhale 4s", 'title: "T"', "# section:"]
    for pattern in (indent, on_enter):
        assert all(pattern.search(line) for line in headers)
        assert not any(pattern.search(line) for line in others)


def test_qidsl_lsp_without_pygls_says_how_to_install_it():
    import sys

    code = ("import sys; sys.modules['pygls'] = None; from qidsl.cli import main; "
            "sys.exit(main(['lsp']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 1
    assert done.stderr == "qidsl: the language server needs pygls: pip install 'qidsl[lsp]'\n"
    assert done.stdout == ""
