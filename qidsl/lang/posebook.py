"""The poses a routine can name: the library's (:mod:`qidsl.lang.poses`) and those it defines.

A routine defines a pose at its top level (or in a file it includes):
``pose "wide bow" from "drawing the bow left": left-elbow 170`` starts from
another pose and changes the joints named; ``pose "my stance": left-hip 20``
starts from "standing".  A defined pose is named like a library pose, and
mirrors the same way: a name ending in " right" is the mirror of the same
name ending in " left" (and the other way round) when only that one exists.
"""

from __future__ import annotations

from . import poses
from .loader import Library, PoseDefinition

_SIDES = (" left", " right")


class PoseBook:
    """Resolves pose names for one routine: its definitions first, then the library."""

    def __init__(self, library: Library):
        self.defined: dict[str, PoseDefinition] = library.poses
        self._memo: dict[str, poses.Pose | None] = {}
        self._active: set[str] = set()  # definitions being resolved (a circle resolves to None)

    def resolve(self, name: str) -> poses.Pose | None:
        """The pose named ``name``, or None when no pose has that name (or its definition is circular)."""
        if name in self._memo:
            return self._memo[name]
        if name in self._active:
            return None
        self._active.add(name)
        try:
            found = self._resolve(name)
        finally:
            self._active.discard(name)
        self._memo[name] = found
        return found

    def _resolve(self, name: str) -> poses.Pose | None:
        definition = self.defined.get(name)
        if definition is not None:
            return self._define(definition)
        mirrored = _other_side(name)
        if mirrored is not None and mirrored in self.defined:
            other = self.resolve(mirrored)
            return poses.mirror(other) if other is not None else None
        return poses.lookup(name)

    def _define(self, definition: PoseDefinition) -> poses.Pose | None:
        node = definition.node
        base = self.resolve(node.base.value) if node.base is not None else poses.STANDING
        if base is None:
            return None
        changes = {a.joint: a.degrees for a in node.angles if poses.joint(a.joint) is not None}
        return poses.derive(node.name.value, base, changes)

    def names(self) -> list[str]:
        """Every name a pose can be given by (for suggestions and completion), defined ones first."""
        return list(self.defined) + [n for n in poses.pose_names() if n not in self.defined]

    def suggest(self, name: str) -> str | None:
        """The known pose ``name`` was probably meant to be, or None."""
        import difflib

        close = difflib.get_close_matches(name, self.names(), n=1, cutoff=0.6)
        return close[0] if close else poses.suggest(name)


def _other_side(name: str) -> str | None:
    """``"drawing the bow right"`` → ``"drawing the bow left"`` (and back); None without a side."""
    for here, there in zip(_SIDES, reversed(_SIDES)):
        if name.endswith(here):
            return name[: -len(here)] + there
    return None
