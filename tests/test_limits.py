"""The limits: one module (qidsl/lang/limits.py) with a reason for each, and docs/language.md's table true to it."""

from __future__ import annotations

import ast
from pathlib import Path

from qidsl.lang import limits

ROOT = Path(__file__).resolve().parent.parent
LIMITS_SOURCE = ROOT / "qidsl" / "lang" / "limits.py"
LANGUAGE = ROOT / "docs" / "language.md"


def _constants() -> dict[str, object]:
    return {name: getattr(limits, name) for name in dir(limits) if name.isupper()}


def _table() -> list[tuple[str, str, str]]:
    """The rows of the Limits section's table: (what, limit, constant)."""
    text = LANGUAGE.read_text(encoding="utf-8")
    section = text[text.index("## Limits"):]
    section = section[:section.index("\n## ", 1)]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 3 and not set(cells[0]) <= {"-"} and cells[0] != "what":
            rows.append((cells[0], cells[1], cells[2].strip("`")))
    return rows


def _written(value) -> set[str]:
    """The ways the docs may write a limit's value."""
    if isinstance(value, tuple):
        low, high = value
        return {f"{_number(low)} to {_number(high)}"}
    ways = {f"{value:,}", str(value)}
    if value >= 3600 and value % 3600 == 0:
        ways.add(f"{value // 3600} hours")
    return ways


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def test_every_limit_has_a_reason_written_above_it():
    tree = ast.parse(LIMITS_SOURCE.read_text(encoding="utf-8"))
    lines = LIMITS_SOURCE.read_text(encoding="utf-8").splitlines()
    names = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id.isupper():
            names.append(node.targets[0].id)
            above = lines[node.lineno - 2]
            assert above.startswith("# ") and len(above) > 20, f"{node.targets[0].id} has no reason above it"
    assert set(names) == set(_constants())


def test_the_limits_table_of_the_language_reference_matches_the_module():
    rows = _table()
    constants = _constants()
    named = {constant for _, _, constant in rows if constant}
    assert named == set(constants), "every limit is in the table, and every constant the table names exists"
    for what, limit, constant in rows:
        if not constant:
            continue
        assert any(way in limit for way in _written(constants[constant])), (what, limit, constants[constant])


def test_the_table_is_read_so_a_wrong_number_would_fail():
    assert ("nested `include`s", "8 deep", "MAX_INCLUDE_DEPTH") in _table()
    assert not any(way in "9 deep" for way in _written(limits.MAX_INCLUDE_DEPTH))
