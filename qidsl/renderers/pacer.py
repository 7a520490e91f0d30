"""The breath pacer's drawing: the disk that shows how full the lungs are.

How full they are at a moment (the disk grows through an inhale, rests
through a hold and shrinks through an exhale, eased so it starts and ends
each phase gently the way a breath does) is the scene track's
(:mod:`qidsl.renderers.scene`).  The disk is the one thing on screen that
changes every frame, so it is drawn into a small patch with a precomputed
distance field instead of the whole frame.
"""

from __future__ import annotations

import math

import numpy as np


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
