"""Imports run one way (ARCHITECTURE.md, "Which way imports run").

The command line (and the language server, ``qidsl.lsp``) sits on top, then the
build (``qidsl.build`` declaring the products, over the generic build graph
``qidsl.graph`` and its product store ``qidsl.store``), then the renderers and
the speech engines side by side, then the timeline, then the front end
(``qidsl.lang``).  A module may import its own layer or those below it; the
leaf helpers (errors, outputs, timefmt, progress, words, lazyre) serve every layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "qidsl"
# The one store, the product families with their key scheme, and the scheduler's pools are services
# like the atomic-write layer: the speech cache and the video renderer keep their products in the
# store, keyed by their family, and take slots of the pools.
# Facts about files remembered in the store (qidsl.memo: a file's hash, what ffmpeg says of it) serve the
# speech engines (a voice's id), the renderers (a backdrop's hash) and the build alike, as the store does.
# The figure's poses and their geometry (qidsl.lang.poses: pure data and math, importing nothing of
# qidsl) serve check (unknown poses, ranges) and the renderers that draw the figure alike.
LEAVES = {"qidsl", "qidsl.__version__", "qidsl.errors", "qidsl.outputs", "qidsl.timefmt", "qidsl.progress", "qidsl.words",
          "qidsl.lazyre",
          "qidsl.fonts", "qidsl.grammar", "qidsl.store", "qidsl.products", "qidsl.pools", "qidsl.memo",
          "qidsl.lang.poses"}


def layer(module: str) -> str:
    parts = module.split(".")
    if parts[1:2] in (["lang"], ["engines"], ["renderers"], ["lsp"]):
        return parts[1]
    return module


# What each layer may import besides the leaves and itself.
ALLOWED = {
    # the language server sits beside the command line: the front end and its estimate, nothing heavier
    "lsp": {"lang", "qidsl.compile", "qidsl.timeline"},
    "lang": set(),
    "qidsl.compile": {"lang", "qidsl.timeline"},
    "qidsl.timeline": {"lang", "engines.timing"},
    "engines": {"lang"},
    "renderers": {"qidsl.timeline", "engines.timing"},
    # The graph machinery knows products and files, nothing of routines, speech or media.
    "qidsl.graph": set(),
    "qidsl.store": set(),
    "qidsl.products": set(),
    "qidsl.pools": set(),
}
FORBIDDEN_EVERYWHERE = {"qidsl.cli"}


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("qidsl"):
                if node.module is None or target in ("qidsl", "qidsl.lang"):
                    found.update(f"{target}.{alias.name}" for alias in node.names)
                else:
                    found.add(target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("qidsl"))
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def allowed(source: str, target: str) -> bool:
    if target in LEAVES or target.startswith("qidsl.fonts"):
        return True
    if target in FORBIDDEN_EVERYWHERE:
        return False
    src, dst = layer(source), layer(target)
    if src == dst:
        return True
    rule = ALLOWED.get(src)
    if rule is None:
        return True  # the top layers (build, commands, cli) may import what lies below them
    return dst in rule or ("engines.timing" in rule and target == "qidsl.engines.timing")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_one_way(path):
    source = module_name(path)
    wrong = sorted(t for t in imports_of(path) if not allowed(source, t))
    assert not wrong, f"{source} imports {wrong} against the layering"


def test_the_build_does_not_import_the_command_layer():
    assert not {"qidsl.commands", "qidsl.cli"} & imports_of(PACKAGE / "build.py")


def test_only_the_build_and_above_use_the_build_graph():
    users = {module_name(p) for p in MODULES if "qidsl.graph" in imports_of(p)}
    assert users <= {"qidsl.build"}, users


RENDERERS = sorted((PACKAGE / "renderers").glob("*.py"))


def test_no_two_renderers_import_each_other():
    # Inside functions too: a deferred import is still a cycle (video.py and video_segments.py were one).
    imports = {module_name(p): imports_of(p) for p in RENDERERS}
    cycles = sorted((a, b) for a in imports for b in imports[a] if a < b and a in imports.get(b, ()))
    assert cycles == []


@pytest.mark.parametrize("path", RENDERERS, ids=lambda p: p.name)
def test_renderers_import_no_private_name_from_another_module(path):
    private = sorted(alias.name for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                     if isinstance(node, ast.ImportFrom) and node.module != "__future__"
                     for alias in node.names if alias.name.startswith("_") and not alias.name.startswith("__"))
    assert private == []
