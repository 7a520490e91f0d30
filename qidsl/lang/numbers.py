"""Numbers as written in a routine, read without trusting their size.

A count may be written with thousands of digits (Python's ``int()`` refuses
more than 4,300) and a duration may overflow a float to ``inf``.  Every
number in a routine is read here, capped at :data:`HUGE`: far beyond any
limit the checker allows, so the checker reports it as too large, in words.
"""

from __future__ import annotations

import math
from decimal import Decimal

HUGE = 10 ** 12  # larger than any limit; a number over it is read as this


def whole(digits: str) -> int:
    """A whole number written in decimal digits, at most :data:`HUGE`."""
    significant = digits.lstrip("0")
    if len(significant) > len(str(HUGE)):
        return HUGE
    return min(int(significant or "0"), HUGE)


def decimal(text: str) -> float:
    """A decimal number such as ``1.5``, at most :data:`HUGE` (never ``inf``)."""
    whole_part = text.split(".", 1)[0].lstrip("0")
    if len(whole_part) > len(str(HUGE)):
        return float(HUGE)
    value = float(text)
    return float(HUGE) if not math.isfinite(value) or value > HUGE else value


def shown(value: float) -> str:
    """A number for a message: as written when it is ordinary, else in words."""
    if value >= HUGE:
        return "a number that large"
    return plain(value)


def plain(value: float) -> str:
    """A number the way the grammar reads it back: no exponent, no trailing zeros (``1e-06`` is ``0.000001``)."""
    if float(value).is_integer():
        return str(int(value))
    # repr() is the shortest text that reads back as the same float; the
    # Decimal of it writes that text out without an exponent.
    text = format(Decimal(repr(float(value))), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
