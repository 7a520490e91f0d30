"""The table of statements (qidsl/lang/statements.py): complete, read by every stage, and enough to add one.

- every statement rule of grammar/qi.lark has its row, and every row its rule;
- every class of the model's closed union has a row;
- the VS Code grammar highlights exactly the table's keywords, each as its row says;
- a toy statement added to a copy of the package through the grammar and the
  table alone is parsed, checked, formatted, expanded, completed by the
  language server and named by diff.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
import typing
from pathlib import Path

from qidsl.lang import model as m
from qidsl.lang.statements import BY_KEYWORD, KEYWORDS, KINDS, keyword_of

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR = ROOT / "grammar" / "qi.lark"
TM_GRAMMAR = ROOT / "editors" / "vscode" / "syntaxes" / "qi.tmLanguage.json"


def _statement_rules(grammar: str) -> set[str]:
    """The rules the grammar's ``?simple`` and ``?block`` alternatives name."""
    rules: set[str] = set()
    for name in ("simple", "block"):
        found = re.search(rf"^\?{name}:(.*)$", grammar, re.MULTILINE)
        assert found, f"no ?{name} rule in the grammar"
        rules |= {alternative.strip() for alternative in found.group(1).split("|")}
    return rules


def test_every_statement_rule_of_the_grammar_has_its_row_and_every_row_its_rule():
    grammar = GRAMMAR.read_text(encoding="utf-8")
    assert _statement_rules(grammar) == {kind.rule for kind in KINDS}
    for kind in KINDS:
        # The rule keeps its keyword token (`!`) and starts with the row's keyword.
        assert re.search(rf'^!{kind.rule}: "{kind.keyword}"', grammar, re.MULTILINE), kind.keyword


def test_every_class_of_the_model_has_a_row():
    classes = set(typing.get_args(m.Statement))
    assert classes == {kind.node for kind in KINDS}
    assert len(KEYWORDS) == len(KINDS)  # one row per keyword


def test_keyword_of_reads_the_table():
    parsed = [keyword_of(node) for node in _parse('stay 4s "x"\nhold 2s\nunless short:\n    say "a"\n'
                                                  'each side left:\n    say "b"\n')]
    assert parsed == ["stay", "hold", "unless", "each"]


def _parse(body: str):
    from qidsl.lang.parser import parse_text

    result = parse_text('title: "T"\nvariants: long, short\n' + body)
    assert not result.diagnostics, result.diagnostics
    return result.routine.body


def _highlighted() -> dict[str, str]:
    """Each keyword the VS Code grammar highlights at the start of a line, with its scope's middle part."""
    grammar = json.loads(TM_GRAMMAR.read_text(encoding="utf-8"))
    found: dict[str, str] = {}

    def visit(item) -> None:
        if isinstance(item, dict):
            match = item.get("match", "")
            start = re.match(r"\^\\s\*\(([a-z|]+)\)", match)
            if start and "captures" in item:
                scope = item["captures"]["1"]["name"]  # keyword.control.section.qi, keyword.other.breath.qi
                for word in start.group(1).split("|"):
                    found[word] = scope
            for value in item.values():
                visit(value)
        elif isinstance(item, list):
            for value in item:
                visit(value)

    visit(grammar)
    return found


def test_the_vscode_grammar_highlights_exactly_the_tables_keywords():
    highlighted = _highlighted()
    assert set(highlighted) == set(KEYWORDS)
    for word, scope in highlighted.items():
        kind = BY_KEYWORD[word]
        expected = {"control": "keyword.control.", "breath": "keyword.other.breath.qi",
                    "text": "keyword.other.$1.qi", "pattern": "keyword.other.breathe.qi"}[kind.scope]
        assert scope.startswith(expected), (word, scope)


_TOY_ROW = '''    Kind("rest", "rest", m.Breath, 'rest D "text"', "Lie down and rest for D.", step="rest",
         free_breath=True, scope="breath"),
'''

_TOY_SCRIPT = textwrap.dedent('''
    import json, sys
    from pathlib import Path
    import qidsl
    from qidsl.lang.parser import parse_text, _lark
    from qidsl.lang.loader import Loader
    from qidsl.lang.formatter import format_routine
    from qidsl.lang.expand import expand
    from qidsl.compile import compile_routine
    from qidsl.lsp.features import analyse, complete, hover
    from qidsl.diff import diff_compiled

    folder = Path(sys.argv[1])
    old = 'title: "T"\\n\\nsection "End":\\n    exhale 4s\\n    rest   1m30s  "Lie still."\\n'
    new = old.replace("Lie still.", "Lie still and soft.")
    out = {"package": qidsl.__file__}
    parsed = parse_text(old, "toy.qi")
    node = parsed.routine.body[0].body[1]
    out["parsed"] = [type(node).__name__, node.phase, node.duration.seconds, node.text.value]
    compiled = compile_routine(folder / "toy.qi", Loader(), old)
    out["problems"] = [d.code for d in compiled.diagnostics]
    out["fmt"] = format_routine(parsed.routine, old.split("\\n"))
    out["steps"] = [(s.kind, s.seconds, s.text) for s in compiled.expanded.steps]
    out["timeline"] = [(e.kind, e.end - e.start) for e in compiled.estimate.events if e.kind == "rest"]
    doc = analyse(str(folder / "toy.qi"), old)
    out["completion"] = [(c.label, c.detail) for c in complete(doc, 5, 5) if c.label == "rest"]
    out["hover"] = hover(doc, 5, 6)[0]
    changes = diff_compiled(compiled, compile_routine(folder / "new.qi", Loader(), new))
    out["diff"] = [(c.change, c.kind, c.after) for c in changes.cues]
    print(json.dumps(out))
''')


def test_a_toy_statement_added_through_the_grammar_and_the_table_works_everywhere(tmp_path):
    """`rest D "text"` is added to a copy of the package by editing only the grammar and the table."""
    package = tmp_path / "qidsl"
    shutil.copytree(ROOT / "qidsl", package, ignore=shutil.ignore_patterns("__pycache__", "fonts"))
    shutil.copytree(ROOT / "qidsl" / "fonts", package / "fonts", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "grammar", package / "grammar", ignore=shutil.ignore_patterns("__pycache__"))
    grammar = (package / "grammar" / "qi.lark").read_text(encoding="utf-8")
    grammar = grammar.replace("?simple: say |", "?simple: rest | say |", 1)
    grammar = grammar.replace("!say:", '!rest: "rest" duration STRING?\n!say:', 1)
    (package / "grammar" / "qi.lark").write_text(grammar, encoding="utf-8")
    table = (package / "lang" / "statements.py").read_text(encoding="utf-8")
    assert table.count("KINDS: tuple[Kind, ...] = (\n") == 1
    table = table.replace("KINDS: tuple[Kind, ...] = (\n", "KINDS: tuple[Kind, ...] = (\n" + _TOY_ROW, 1)
    (package / "lang" / "statements.py").write_text(table, encoding="utf-8")

    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", _TOY_SCRIPT, str(tmp_path)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False, env=env)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["package"] == str(package / "__init__.py")  # the copy, not the installed package
    assert out["parsed"] == ["Breath", "rest", 90.0, "Lie still."]
    assert out["problems"] == []
    assert 'rest 1m30s "Lie still."' in out["fmt"].splitlines()[-1]
    assert ["rest", 90.0, "Lie still."] in out["steps"]
    assert out["timeline"] == [["rest", 90.0]]
    assert out["completion"] == [["rest", 'rest D "text"']]
    assert "Lie down and rest for D." in out["hover"]
    assert out["diff"] == [["reworded", "rest", "Lie still and soft."]]


def test_the_tables_blocks_are_the_models_blocks():
    assert {kind.node for kind in KINDS if kind.block} == set(m.BLOCKS)
