"""Parsing keeps no shared state: many threads parse at once and each gets its own, exact result.

The language server checks several documents at the same time, so two
parses running together must not see each other's file name or
indentation levels (Lark's Indenter keeps them on itself).
"""

from __future__ import annotations

import sys
import threading
from dataclasses import fields, is_dataclass

import pytest

from qidsl.lang import model as m
from qidsl.lang.parser import parse_text


def _spans(value, found: list) -> list:
    """Every span inside a parsed routine, in order (spans take no part in model equality)."""
    if isinstance(value, m.Span):
        found.append(value)
    elif isinstance(value, tuple):
        for item in value:
            _spans(item, found)
    elif is_dataclass(value):
        for f in fields(value):
            _spans(getattr(value, f.name), found)
    return found


def _routine(depth: int, mistakes: bool) -> str:
    """A routine whose blocks nest ``depth`` deep (so its indentation differs from the others')."""
    lines = [f'title: "Depth {depth}"', "", 'section "One":']
    indent = "    "
    for level in range(depth):
        lines.append(f"{indent}repeat {level + 2}:")
        indent += "    "
        lines.append(f'{indent}inhale {level + 1}s "In, 你好 {level}."')
    lines.append(f"{indent}exhale 2s")
    if mistakes:
        lines += ["inhal 4s", "pause 4", 'say "unclosed']
    lines += ['say "Back at the top."', ""]
    return "\n".join(lines)


CASES = [(f"file{n}.qi", _routine(n % 5 + 1, mistakes=n % 2 == 1)) for n in range(12)]


def _result(name: str, text: str):
    result = parse_text(text, name)
    return result.routine, _spans(result.routine, []), result.diagnostics


@pytest.fixture
def switch_often():
    """Make threads switch every microsecond, so parses really interleave."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def test_threads_parsing_at_once_each_get_the_result_of_a_parse_alone(switch_often):
    expected = {name: _result(name, text) for name, text in CASES}
    assert any(diags for _, _, diags in expected.values())  # some files have mistakes
    got: dict[str, list] = {name: [] for name, _ in CASES}
    errors: list[BaseException] = []
    start = threading.Barrier(len(CASES))

    def work(name: str, text: str) -> None:
        try:
            start.wait()
            for _ in range(8):
                got[name].append(_result(name, text))
        except BaseException as exc:  # reported below, with the file that failed
            errors.append(exc)

    threads = [threading.Thread(target=work, args=case) for case in CASES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    for name, results in got.items():
        for routine, spans, diagnostics in results:
            assert routine == expected[name][0]
            assert spans == expected[name][1]  # every span names this file, at the right place
            assert {span.file for span in spans} == {name}
            assert diagnostics == expected[name][2]
