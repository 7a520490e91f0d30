"""The breath pacer: how full the lungs are at a moment, and the disk that shows it.

The disk grows through an inhale, rests through a hold and shrinks through
an exhale, eased so it starts and ends each phase gently the way a breath
does.  It is the one thing on screen that changes every frame, so it is
drawn into a small patch with a precomputed distance field instead of the
whole frame.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..timeline import EXHALE, HOLD, INHALE, STAY

NEUTRAL_LEVEL = 0.5  # a hold that follows no breath (holding a posture)


def ease(u: float) -> float:
    """Cosine ease-in-out: 0 at 0, 1 at 1, slow at both ends."""
    u = min(1.0, max(0.0, u))
    return 0.5 - 0.5 * math.cos(math.pi * u)


def breath_levels(events: Sequence) -> list[tuple[float, float] | None]:
    """For each event, the pacer level (0 empty, 1 full) at its start and end; None if no breath.

    An inhale goes from empty to full and an exhale from full to empty; a
    hold keeps the level the breath right before it ended on, or a middle
    level when it follows something else (holding a posture after speech).
    """
    levels: list[tuple[float, float] | None] = []
    previous: tuple[float, float] | None = None
    for event in events:
        if event.kind == INHALE:
            level = (0.0, 1.0)
        elif event.kind == EXHALE:
            level = (1.0, 0.0)
        elif event.kind == HOLD:
            rest = previous[1] if previous is not None else NEUTRAL_LEVEL
            level = (rest, rest)
        elif event.kind == STAY:  # the breath is free: the disk rests half full, neither held in nor out
            level = (NEUTRAL_LEVEL, NEUTRAL_LEVEL)
        else:
            level = None
        levels.append(level)
        previous = level
    return levels


def level_at(levels: tuple[float, float], start: float, end: float, t: float) -> float:
    """The eased level at ``t`` inside an event spanning ``start``..``end``."""
    a, b = levels
    if a == b or end <= start:
        return b
    return a + (b - a) * ease((t - start) / (end - start))


def blend(region: np.ndarray, colour, alpha: np.ndarray) -> None:
    """Blend ``colour`` into the uint8 ``region`` through ``alpha`` (0..1, one value a pixel), in place.

    ``region`` is a plane (``colour`` one value) or an RGB picture (``colour``
    three values).
    """
    mixed = region.astype(np.float32)
    if mixed.ndim == 3:
        alpha = alpha[..., None]
    mixed += (np.asarray(colour, dtype=np.float32) - mixed) * alpha
    mixed += 0.5
    region[...] = mixed  # uint8 cast truncates; the +0.5 rounds


class DiskPatch:
    """Draws an antialiased disk of any radius into a fixed square of the frame."""

    def __init__(self, box: tuple[int, int, int, int], centre: tuple[int, int], colour, opacity: float = 0.92):
        self.box = box
        left, top, right, bottom = box
        # Distance from the disk's centre to each pixel centre, computed once.
        ys = np.arange(top, bottom, dtype=np.float32) + 0.5 - centre[1]
        xs = np.arange(left, right, dtype=np.float32) + 0.5 - centre[0]
        self._distance = np.sqrt(ys[:, None] ** 2 + xs[None, :] ** 2)
        self._local_centre = (centre[0] - left, centre[1] - top)
        self._colour = np.asarray(colour, dtype=np.float32)
        self._opacity = np.float32(opacity)

    def coverage(self, radius: float) -> tuple[int, int, np.ndarray]:
        """(left, top, alpha): the disk's opacity over its square, the square's corner in ``box``.

        The corner and the square's sides are even, so the alpha maps onto whole
        2x2 blocks of a yuv420p picture's chroma (``box`` has even corners).
        """
        cx, cy = self._local_centre
        reach = math.ceil(radius) + 1
        h, w = self._distance.shape
        y0, y1 = max(0, cy - reach), min(h, cy + reach + 1)
        x0, x1 = max(0, cx - reach), min(w, cx + reach + 1)
        y0, x0 = y0 - y0 % 2, x0 - x0 % 2
        y1, x1 = min(h, y1 + y1 % 2), min(w, x1 + x1 % 2)
        # Coverage: 1 inside, 0 outside, a one-pixel ramp across the edge.
        alpha = np.clip(self._distance[y0:y1, x0:x1] * -1.0 + (radius + 0.5), 0.0, 1.0)
        alpha *= self._opacity
        return x0, y0, alpha

    def draw(self, patch: np.ndarray, radius: float) -> None:
        """Blend a disk of ``radius`` pixels into ``patch`` (the frame's view of ``box``), in place."""
        x0, y0, alpha = self.coverage(radius)
        region = patch[y0:y0 + alpha.shape[0], x0:x0 + alpha.shape[1]]
        blend(region, self._colour, alpha)
