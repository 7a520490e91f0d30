"""qidsl.lazyre: a pattern compiled on first use answers as the compiled pattern does."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from qidsl.lazyre import LazyPattern

CJK = r"[\u3040-\u30ff\u3400-\u9fff]"


@pytest.mark.parametrize("text", ["", "abc", "你好 world", "カタカナ and 漢字", "x\u3040y"])
def test_it_answers_as_the_compiled_pattern(text):
    lazy, compiled = LazyPattern(CJK), re.compile(CJK)
    assert lazy.findall(text) == compiled.findall(text)
    assert lazy.sub("", text) == compiled.sub("", text)
    assert bool(lazy.search(text)) == bool(compiled.search(text))
    assert bool(lazy.match(text)) == bool(compiled.match(text))
    with pytest.raises(AttributeError):
        lazy.groupindex_of_nothing  # noqa: B018 - only the pattern's matching methods are there


def test_an_english_check_compiles_no_script_class():
    # The classes of unspaced scripts cost about 25 ms to compile: `qidsl check` of an English routine needs none.
    code = ("from qidsl.compile import compile_routine; from qidsl.lang.loader import Loader\n"
            "from qidsl import timeline; from qidsl.fonts import breaks, textfit\n"
            "c = compile_routine('routines/rolling-the-hands-backwards.qi', Loader())\n"
            "assert not c.errors and c.estimate.events\n"
            "print(sorted(name for name, p in (('timeline', timeline._UNSPACED), ('breaks', breaks.UNSPACED),\n"
            "      ('textfit', textfit._CJK)) if 'match' in vars(p)))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.stdout.strip() == "[]"
