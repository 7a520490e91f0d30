"""The figure's drawing: a pose's points (:func:`qidsl.lang.poses.points`) as an anti-aliased picture.

The figure is drawn as coverage (one alpha value a pixel, 0..1) in one
colour, the way the pacer's disk is (:mod:`qidsl.renderers.pacer`), so the
video painter blends it with the same blends, into RGB or straight into the
yuv420p planes.  Every part is a capsule (a segment with round ends) or, for
the torso seen from the front, a rounded trapezoid; the coverage of each is
its signed distance field clipped to a one-pixel ramp, computed over the
part's own bounding box only.  Parts in front keep a thin gap of background
round them where they cross the parts behind (a forearm over the belly, the
near leg over the far one), and seen from the side the far arm and leg are
drawn at half strength, so a one-colour figure still reads.

Poses repeat (a still stretch, each repetition of a move), so coverage is
cached by the angles rounded to :data:`STEP` degrees.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

import numpy as np

from ..lang.poses import JOINT_NAMES, SKELETON, Facing, View, points
from .pacer import blend

# Angles are rounded to this many degrees before drawing (and caching): a joint
# at the fastest followable speed (60 degrees a second) moves 4 degrees a step
# at 15 steps a second, so a quarter degree is well below what shows, and a
# still pose, or the same move repeated, draws once.
STEP = 0.25

# Seen from the side, the far arm and leg at this strength: behind, yet there.
FAR = 0.5
# The gap of background round a part in front, as a share of its thickness.
GAP = 0.45
# Drawn patches kept (uint8, a 720p figure's is about 100 KB).
CACHE_SIZE = 256

_TRUNK = ("pelvis", "neck", "head")


def _layout(width: int, height: int) -> tuple[float, float, float]:
    """(side, left, top): the unit box's square in pixels, bottom-aligned and centred, a pixel or two
    inside the box (the figure as drawn stays inside the unit box: :func:`qidsl.lang.poses.points`)."""
    side = min(width, height) - 4
    return side, (width - side) / 2, height - 2 - side


def _capsule(acc: np.ndarray, a: tuple[float, float], b: tuple[float, float], radius: float,
             strength: float = 1.0, cut: np.ndarray | None = None) -> None:
    """Add the capsule a-b of ``radius`` pixels into ``acc`` (max), or cut it out of ``cut`` (its
    coverage taken away), over its bounding box only."""
    h, w = acc.shape
    x0 = max(0, math.floor(min(a[0], b[0]) - radius - 1))
    x1 = min(w, math.ceil(max(a[0], b[0]) + radius + 2))
    y0 = max(0, math.floor(min(a[1], b[1]) - radius - 1))
    y1 = min(h, math.ceil(max(a[1], b[1]) + radius + 2))
    if x1 <= x0 or y1 <= y0:
        return
    xs = np.arange(x0, x1, dtype=np.float32) + np.float32(0.5 - a[0])
    ys = np.arange(y0, y1, dtype=np.float32) + np.float32(0.5 - a[1])
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    px, py = xs[None, :], ys[:, None]
    if length2 > 1e-9:
        t = np.clip((px * np.float32(dx) + py * np.float32(dy)) * np.float32(1 / length2), 0, 1)
        px, py = px - t * np.float32(dx), py - t * np.float32(dy)
    distance = np.sqrt(px * px + py * py)
    coverage = np.clip(np.float32(radius + 0.5) - distance, 0, 1)
    if cut is not None:
        cut[y0:y1, x0:x1] *= 1 - coverage
        return
    if strength != 1.0:
        coverage *= np.float32(strength)
    np.maximum(acc[y0:y1, x0:x1], coverage, out=acc[y0:y1, x0:x1])


def _polygon(acc: np.ndarray, corners: list[tuple[float, float]], radius: float) -> bool:
    """Add the convex polygon ``corners``, grown by ``radius`` pixels, into ``acc``; False when it
    is too thin to have sides (the caller draws something else)."""
    area = 0.0
    for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1]):
        area += x0 * y1 - x1 * y0
    if abs(area) < 1.0:
        return False
    h, w = acc.shape
    left = max(0, math.floor(min(x for x, _ in corners) - radius - 1))
    right = min(w, math.ceil(max(x for x, _ in corners) + radius + 2))
    top = max(0, math.floor(min(y for _, y in corners) - radius - 1))
    bottom = min(h, math.ceil(max(y for _, y in corners) + radius + 2))
    if right <= left or bottom <= top:
        return True
    xs = np.arange(left, right, dtype=np.float32)[None, :] + np.float32(0.5)
    ys = np.arange(top, bottom, dtype=np.float32)[:, None] + np.float32(0.5)
    # The signed distance: inside, the nearest edge's line (negative); outside, the nearest edge
    # (so the corners are round, not mitred).
    inside = np.full((bottom - top, right - left), -np.inf, dtype=np.float32)
    outside = np.full((bottom - top, right - left), np.inf, dtype=np.float32)
    sign = 1.0 if area > 0 else -1.0
    for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1]):
        ex, ey = x1 - x0, y1 - y0
        length = math.hypot(ex, ey)
        if length < 1e-6:
            continue
        px, py = xs - np.float32(x0), ys - np.float32(y0)
        # The outward normal of this edge (y down: a positive area turns clockwise on screen).
        nx, ny = sign * ey / length, -sign * ex / length
        np.maximum(inside, px * np.float32(nx) + py * np.float32(ny), out=inside)
        t = np.clip((px * np.float32(ex) + py * np.float32(ey)) * np.float32(1 / (length * length)), 0, 1)
        qx, qy = px - t * np.float32(ex), py - t * np.float32(ey)
        np.minimum(outside, np.sqrt(qx * qx + qy * qy), out=outside)
    inside = np.where(inside > 0, outside, inside)
    coverage = np.clip(np.float32(radius + 0.5) - inside, 0, 1)
    np.maximum(acc[top:bottom, left:right], coverage, out=acc[top:bottom, left:right])
    return True


def _draw(angles: tuple[float, ...], view: View, facing: Facing, width: int, height: int) -> np.ndarray:
    side, left, top = _layout(width, height)
    unit = points(dict(zip(JOINT_NAMES, angles)), view, facing)
    p = {name: (left + x * side, top + y * side) for name, (x, y) in unit.items()}
    body = side * SKELETON["scale"]
    limb, leg = SKELETON["limb-radius"] * body, SKELETON["leg-radius"] * body
    acc = np.zeros((height, width), dtype=np.float32)

    def arm(s: str) -> list[tuple[str, str, float]]:
        return [(f"{s}-shoulder", f"{s}-elbow", limb), (f"{s}-elbow", f"{s}-wrist", limb),
                (f"{s}-wrist", f"{s}-hand", limb * 0.85)]

    def leg_of(s: str) -> list[tuple[str, str, float]]:
        return [(f"{s}-hip", f"{s}-knee", leg), (f"{s}-knee", f"{s}-ankle", leg),
                (f"{s}-ankle", f"{s}-toe", limb)]

    def layer(parts: list[tuple[str, str, float]], roots: tuple[str, ...], root_clear: float) -> None:
        """Draw ``parts`` in front of what is drawn: a gap round them first (not within
        ``root_clear`` pixels of their ``roots``, where they join the body).  Parts of one
        layer do not cut each other, so both arms drawn at once stay mirror images."""
        gap = max(1.0, GAP * limb)
        for a, b, r in parts:
            start, end = p[a], p[b]
            if a in roots:  # the gap starts where the part leaves the body
                rx, ry = start
                dx, dy = end[0] - rx, end[1] - ry
                length = math.hypot(dx, dy)
                if length <= root_clear:
                    continue
                start = (rx + dx * root_clear / length, ry + dy * root_clear / length)
            _capsule(acc, start, end, r + gap, cut=acc)
        for a, b, r in parts:
            _capsule(acc, p[a], p[b], r)

    head = SKELETON["head-radius"] * body
    if view == "front":
        for s in ("left", "right"):
            for a, b, r in leg_of(s):
                _capsule(acc, p[a], p[b], r)
        corners = [p["left-shoulder"], p["right-shoulder"], p["right-hip"], p["left-hip"]]
        if not _polygon(acc, corners, limb):
            _capsule(acc, p["pelvis"], p["neck"], SKELETON["hip-half"] * body)
        _capsule(acc, p["neck"], p["head"], limb * 0.9)
        _capsule(acc, p["head"], p["head"], head)
        layer(arm("left") + arm("right"), ("left-shoulder", "right-shoulder"), limb * 2.5)
        return acc
    # From the side: the far limbs, the trunk, the near leg, the near arm, each in front of the last.
    near, far = ("right", "left") if facing == "right" else ("left", "right")
    torso = SKELETON["torso-radius"] * body
    for a, b, r in arm(far) + leg_of(far):
        _capsule(acc, p[a], p[b], r, FAR)
    _capsule(acc, p["pelvis"], p["neck"], torso)
    _capsule(acc, p["neck"], p["head"], limb * 0.9)
    _capsule(acc, p["head"], p["head"], head)
    layer(leg_of(near), (f"{near}-hip",), torso + leg)
    layer(arm(near), (f"{near}-shoulder",), limb * 2.5)
    return acc


def _rounded(angles: Mapping[str, float]) -> tuple[float, ...]:
    return tuple(round(angles[name] / STEP) * STEP for name in JOINT_NAMES)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _cropped(angles: tuple[float, ...], view: View, facing: Facing, width: int, height: int
             ) -> tuple[int, int, np.ndarray]:
    alpha = _draw(angles, view, facing, width, height)
    rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    if not len(rows):
        return 0, 0, np.zeros((0, 0), dtype=np.uint8)
    # Even corners and sides: the patch lies on whole 2x2 blocks of yuv420p chroma.
    y0, x0 = rows[0] - rows[0] % 2, cols[0] - cols[0] % 2
    y1, x1 = min(height, rows[-1] + 1 + (rows[-1] + 1) % 2), min(width, cols[-1] + 1 + (cols[-1] + 1) % 2)
    crop = np.rint(alpha[y0:y1, x0:x1] * 255).astype(np.uint8)
    crop.flags.writeable = False
    return int(x0), int(y0), crop


def figure_coverage(angles: Mapping[str, float], view: View, facing: Facing, size: tuple[int, int]
                    ) -> tuple[int, int, np.ndarray]:
    """(left, top, alpha): the figure in a box of ``size`` (width, height), as 8-bit coverage over
    the smallest even-cornered, even-sided rectangle holding it, and that rectangle's corner.

    ``angles`` gives every joint (:data:`qidsl.lang.poses.JOINT_NAMES`); they are rounded to
    :data:`STEP` degrees, and the drawing cached by them.  The array is shared: do not write to it.
    """
    return _cropped(_rounded(angles), view, facing, size[0], size[1])


def figure_alpha(angles: Mapping[str, float], view: View, facing: Facing, size: tuple[int, int]) -> np.ndarray:
    """The figure's coverage (0..1, float32) over the whole box of ``size`` (width, height)."""
    left, top, crop = figure_coverage(angles, view, facing, size)
    alpha = np.zeros((size[1], size[0]), dtype=np.float32)
    alpha[top:top + crop.shape[0], left:left + crop.shape[1]] = crop * np.float32(1 / 255)
    return alpha


class FigurePatch:
    """Draws the figure into a fixed box of the frame, as :class:`~qidsl.renderers.pacer.DiskPatch`
    draws the disk: ``coverage`` for the yuv420p route, ``draw`` for RGB."""

    def __init__(self, box: tuple[int, int, int, int], colour, opacity: float = 1.0):
        self.box = box
        self.size = (box[2] - box[0], box[3] - box[1])
        self._colour = np.asarray(colour, dtype=np.float32)
        self._opacity = np.float32(opacity)

    def coverage(self, angles: Mapping[str, float], view: View, facing: Facing = "right"
                 ) -> tuple[int, int, np.ndarray]:
        """(left, top, alpha): the figure's opacity (float32, 0..1) over its rectangle, the
        rectangle's corner in ``box`` (even, as are its sides)."""
        left, top, crop = figure_coverage(angles, view, facing, self.size)
        return left, top, crop * (self._opacity / np.float32(255))

    def draw(self, patch: np.ndarray, angles: Mapping[str, float], view: View, facing: Facing = "right") -> None:
        """Blend the figure into ``patch`` (the frame's view of ``box``), in place."""
        left, top, alpha = self.coverage(angles, view, facing)
        blend(patch[top:top + alpha.shape[0], left:left + alpha.shape[1]], self._colour, alpha)


def figure_picture(angles: Mapping[str, float], view: View, facing: Facing, size: tuple[int, int],
                   colour, background) -> np.ndarray:
    """An RGB picture (height x width x 3, uint8) of the figure in ``colour`` on ``background``."""
    picture = np.empty((size[1], size[0], 3), dtype=np.uint8)
    picture[...] = np.asarray(background, dtype=np.uint8)
    FigurePatch((0, 0, size[0], size[1]), colour).draw(picture, angles, view, facing)
    return picture
