"""Regular expressions compiled on first use, for the character classes of whole scripts.

Python compiles a class of large Unicode ranges slowly (it marks every
code point of each range in a table, in Python): the three classes of CJK
and other scripts written without spaces took about 25 ms to compile at
import, a fifth of ``qidsl check``'s start-up, and a routine in a Latin
script never needs them.  Their users test ASCII text without them.
"""

from __future__ import annotations

import re
from typing import Any

_METHODS = ("match", "fullmatch", "search", "findall", "finditer", "sub", "split")


class LazyPattern:
    """``re.compile(source)``, made the first time one of its methods is read.

    The compiled pattern's methods then become this object's own attributes,
    so later calls cost what calls on the pattern cost.  (Two threads may
    both compile it the first time: they make the same pattern.)
    """

    def __init__(self, source: str, flags: int = 0):
        self.source = source
        self.flags = flags

    def __getattr__(self, name: str) -> Any:
        if name not in _METHODS:
            raise AttributeError(name)
        compiled = re.compile(self.source, self.flags)
        for method in _METHODS:
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)
