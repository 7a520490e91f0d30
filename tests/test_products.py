"""Product families: recipes computed from the code, and a new product declared in a few lines.

The recipe test edits a copy of the package (one drawing constant of the
pacer) and builds with it through the command line: only the video's
segments, and the MP4 joined from them, are made again.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from qidsl.graph import Graph, Pools, Product
from qidsl.pools import BACKGROUND, CORES
from qidsl.products import FAMILIES, Family, recipe_of
from qidsl.store import Store
from tests.test_build import ROUTINE

ROOT = Path(__file__).resolve().parent.parent


def test_every_family_is_declared_once_and_its_code_exists():
    kinds = [f.kind for f in FAMILIES]
    assert len(kinds) == len(set(kinds))
    for family in FAMILIES:
        assert len(family.recipe) == 64  # every module it names is found and read


def _made(stderr: str) -> dict[str, int]:
    """``qidsl: products: 8 made, 7 reused (made: 1 level, 1 mp3, ...)`` -> {"level": 1, "mp3": 1, ...}."""
    line = next(line for line in stderr.splitlines() if line.startswith("qidsl: products:"))
    found = re.search(r"\(made: (.*)\)", line)
    return {kind: int(n) for n, kind in (part.split(" ", 1) for part in found.group(1).split(", "))} if found else {}


def _build_with(package: Path, routine: Path, out: Path, cache: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "qidsl.cli", "build", str(routine), "--out", str(out),
                           "--cache-dir", str(cache), "--preview"], cwd=package, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(package)})
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_changing_a_drawing_constant_remakes_the_video_segments_and_nothing_else(tmp_path):
    package = tmp_path / "pkg"
    shutil.copytree(ROOT / "qidsl", package / "qidsl", ignore=shutil.ignore_patterns("__pycache__"))
    routine, out, cache = tmp_path / "short.qi", tmp_path / "out", tmp_path / "cache"
    routine.write_text(ROUTINE, encoding="utf-8")
    first = _made(_build_with(package, routine, out, cache))
    assert first["video-segment"] >= 2 and first["level"] >= 1 and first["mp3"] == 1

    # Changing nothing remakes nothing, even when the build cannot take its nothing-changed shortcut
    # (a comment in a module no product is made by).
    assert "up to date" in _build_with(package, routine, out, cache)
    diff = package / "qidsl" / "diff.py"
    diff.write_text(diff.read_text(encoding="utf-8") + "\n# an edit that changes no product\n", encoding="utf-8")
    stderr = _build_with(package, routine, out, cache)
    assert "up to date" not in stderr and _made(stderr) == {}

    # The pacer's disk drawn a little fainter: the segments are drawn again, nothing else is made.
    pacer = package / "qidsl" / "renderers" / "pacer.py"
    source = pacer.read_text(encoding="utf-8")
    assert "opacity: float = 0.92" in source
    pacer.write_text(source.replace("opacity: float = 0.92", "opacity: float = 0.8"), encoding="utf-8")
    again = _made(_build_with(package, routine, out, cache))
    assert again == {"video-segment": first["video-segment"], "mp4": 1}


def test_a_family_recipe_follows_its_code():
    assert recipe_of(("qidsl.renderers.pacer",)) != recipe_of(("qidsl.renderers.mp3",))
    video = next(f for f in FAMILIES if f.kind == "video-segment")
    assert "qidsl.renderers.pacer" in video.code
    assert all("qidsl.renderers.pacer" not in f.code for f in FAMILIES if f.kind not in ("video-segment",))


def test_a_new_toy_product_gets_caching_reuse_counts_pruning_and_scheduling(tmp_path):
    # The whole declaration: a family, and products of it with their inputs.
    toy = Family("toy", ".txt", ("qidsl.timefmt",))
    running, most = [0], [0]
    lock = threading.Lock()

    def make(out: Path, *inputs: Path) -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        out.write_text("toy" + "".join(p.read_text() for p in inputs))
        with lock:
            running[0] -= 1

    base = Product(toy.kind, toy.key("base"), toy.ext, make, pool="toys")
    toys = [Product(toy.kind, toy.key(i), toy.ext, make, (base,), pool="toys") for i in range(6)]

    store = Store(tmp_path / "store")
    graph = Graph(store, Pools(cores=4, toys=2))
    assert [p.read_text() for p in graph.need_all(toys)] == ["toytoy"] * 6
    assert dict(graph.made) == {"toy": 7} and most[0] == 2  # side by side, never more than the pool allows

    again = Graph(store, Pools(cores=4, toys=2))
    again.need_all(toys)
    assert not again.made and dict(again.reused) == {"toy": 6}  # found: their inputs are not looked at
    assert store.sizes() == {"toy": (7, 7 * 3 + 6 * 3)}

    # Pruning: least recently used first.  Use three of them now; the other four are older.
    time.sleep(0.05)
    for product in toys[:3]:
        assert store.get(toy.kind, product.key, toy.ext) is not None
    pruned = store.prune(max_size=3 * 6)
    assert pruned.removed == 4 and store.sizes() == {"toy": (3, 18)}
    third = Graph(store, Pools(cores=4, toys=2))
    third.need_all(toys)
    assert dict(third.made) == {"toy": 4} and dict(third.reused) == {"toy": 3}


@pytest.mark.parametrize("cores", [1, 3])
def test_routines_share_one_pool(cores):
    pools = Pools(cores)
    running, most = [0], [0]
    lock = threading.Lock()

    def work() -> None:
        with pools.slot("cores"):
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.02)
            with lock:
                running[0] -= 1
    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == cores


def test_a_background_make_waits_while_a_make_is_coming():
    pools = Pools(2)
    order: list[str] = []
    holding, planning, started = threading.Event(), threading.Event(), threading.Event()

    def hold(name: str, pool: str) -> None:
        with pools.slot(pool):
            order.append(name)
            started.set()
            holding.wait(5)

    def plan() -> None:
        with pools.coming(CORES):
            planning.wait(5)

    threads = [threading.Thread(target=hold, args=("first", CORES)), threading.Thread(target=plan)]
    for thread in threads:
        thread.start()
    started.wait(5)
    started.clear()
    threads.append(threading.Thread(target=hold, args=("background", BACKGROUND)))
    threads[-1].start()
    assert not started.wait(0.1) and order == ["first"]  # a core is free, but what is coming will want it
    planning.set()
    assert started.wait(5) and order == ["first", "background"]
    holding.set()
    for thread in threads:
        thread.join(5)


def test_a_make_waiting_for_a_core_goes_before_a_background_make():
    pools = Pools(1)
    order: list[str] = []
    busy, go = threading.Event(), threading.Event()

    def hold(name: str, pool: str, wait: threading.Event | None = None) -> None:
        with pools.slot(pool):
            order.append(name)
            if wait is not None:
                busy.set()
                wait.wait(5)

    first = threading.Thread(target=hold, args=("first", CORES, go))
    first.start()
    busy.wait(5)
    background = threading.Thread(target=hold, args=("background", BACKGROUND))
    background.start()
    time.sleep(0.05)
    normal = threading.Thread(target=hold, args=("normal", CORES))
    normal.start()
    time.sleep(0.05)
    go.set()
    for thread in (first, background, normal):
        thread.join(5)
    assert order == ["first", "normal", "background"]  # asked later, served first
