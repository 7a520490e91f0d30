"""The build graph on its own: keys, making only what is new, counting, pools."""

from __future__ import annotations

import time

import pytest

from qidsl.errors import BuildError
from qidsl.graph import Graph, Pools, Product, product_key
from qidsl.store import Store


def _writer(text: str, calls: list):
    def make(out, *inputs):
        time.sleep(0.05)
        calls.append(text)
        out.write_text(text + "".join(p.read_text() for p in inputs))
    return make


def test_a_key_changes_with_every_part_and_with_the_recipe():
    base = product_key("mp3-run", "r1", [(0, 10, "abc")], 10)
    assert base == product_key("mp3-run", "r1", [(0, 10, "abc")], 10)
    assert base != product_key("mp3-run", "r2", [(0, 10, "abc")], 10)
    assert base != product_key("mp3-run", "r1", [(0, 10, "abd")], 10)
    assert base != product_key("mp3", "r1", [(0, 10, "abc")], 10)


def test_only_products_with_new_keys_are_made_and_each_is_counted(tmp_path):
    calls: list[str] = []
    store = Store(tmp_path)
    shared = Product("level", product_key("level", "r", "a"), ".txt", _writer("a", calls))
    runs = [Product("run", product_key("run", "r", i), ".txt", _writer(str(i), calls), (shared,)) for i in range(4)]
    graph = Graph(store, Pools(4))
    paths = graph.need_all(runs)
    assert [p.read_text() for p in paths] == ["0a", "1a", "2a", "3a"]
    assert calls.count("a") == 1  # needed by four runs made side by side, made once
    assert dict(graph.made) == {"level": 1, "run": 4} and not graph.reused

    again = Graph(store)
    changed = Product("run", product_key("run", "r", "new"), ".txt", _writer("n", calls), (shared,))
    again.need_all(runs + [changed])
    assert dict(again.made) == {"run": 1}
    assert dict(again.reused) == {"run": 4, "level": 1}
    assert again.summary() == "1 made, 5 reused (made: 1 run)"


def test_a_failed_make_leaves_no_entry_and_is_made_next_time(tmp_path):
    store = Store(tmp_path)

    def broken(out):
        out.write_text("half")
        raise BuildError("the encoder stopped")
    key = product_key("mp3", "r", "x")
    with pytest.raises(BuildError):
        Graph(store).need(Product("mp3", key, ".mp3", broken))
    assert store.get("mp3", key, ".mp3") is None
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # no temporary file left either
    path = Graph(store).need(Product("mp3", key, ".mp3", lambda out: out.write_text("whole")))
    assert path.read_text() == "whole"
