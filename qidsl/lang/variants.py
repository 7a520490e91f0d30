"""Audience variants: which variants a routine has, and problems found in some of them.

A routine declares ``variants: standing, seated``; ``for``/``unless``
blocks (:class:`~qidsl.lang.model.ForVariants`) play in some of them.  The
stages that depend on what plays (sizes, expansion, timing, breath safety)
run once per variant; :func:`merge_variant_problems` then reports a problem
found in every variant once, as it is, and one found in only some of them
with the variants named.
"""

from __future__ import annotations

import dataclasses

from .diagnostics import Diagnostic
from .settings import Settings


def variant_names(settings: Settings) -> tuple[str | None, ...]:
    """The variants to compile, the default first; ``(None,)`` for a routine that declares none."""
    return settings.variants or (None,)


def _quoted(names: list[str]) -> str:
    words = [f"'{name}'" for name in names]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def merge_variant_problems(found: dict[str | None, list[Diagnostic]]) -> list[Diagnostic]:
    """One list from each variant's problems, in order of first appearance.

    A problem every variant has is kept as it is; one only some have says
    which: ``… (only in the 'seated' variant)``.
    """
    order: dict[Diagnostic, list[str | None]] = {}
    for variant, problems in found.items():
        for problem in problems:
            order.setdefault(problem, [])
            if variant not in order[problem]:
                order[problem].append(variant)
    merged = []
    for problem, where in order.items():
        if len(where) == len(found) or None in where:
            merged.append(problem)
        else:
            noun = "variant" if len(where) == 1 else "variants"
            merged.append(dataclasses.replace(
                problem, message=f"{problem.message} (only in the {_quoted([w for w in where if w is not None])} {noun})"))
    return merged
