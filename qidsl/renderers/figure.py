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

from ..lang.poses import BONES, JOINT_NAMES, SKELETON, STANDING, Facing, Point, View, points
from .pacer import blend

# Angles are rounded to this many degrees before drawing (and caching): a joint
# at the fastest followable speed (60 degrees a second) moves 4 degrees a step
# at 15 steps a second, so a quarter degree is well below what shows, and a
# still pose, or the same move repeated, draws once.
STEP = 0.25

# Seen from the side, the far arm and leg at this strength; the gap of background round a part
# in front, as a share of an arm's thickness (both from the skeleton's data, which the page reads too).
FAR = SKELETON["far"]
GAP = SKELETON["gap"]
_RADIUS = {(a, b): key for a, b, key in BONES}
# Drawn patches kept (8-bit, cropped: tens of kilobytes each at 1080p).
CACHE_SIZE = 256


def _layout(width: int, height: int) -> tuple[float, float, float]:
    """(side, left, top): the unit box's square in pixels, bottom-aligned and centred, a pixel or two
    inside the box (the figure as drawn stays inside the unit box: :func:`qidsl.lang.poses.points`)."""
    side = min(width, height) - 4
    return side, (width - side) / 2, height - 2 - side


def _ramp(values: np.ndarray) -> np.ndarray:
    """Clip to 0..1 in place (np.clip's wrapper costs more than the work on a small patch)."""
    np.maximum(values, 0, out=values)
    return np.minimum(values, 1, out=values)


class _Canvas:
    """Coverage over a rectangle of the box, drawn part by part over each part's own bounds."""

    def __init__(self, left: int, top: int, right: int, bottom: int):
        self.left, self.top = left, top
        self.acc = np.zeros((bottom - top, right - left), dtype=np.float32)
        # Pixel centres, in the box's coordinates.
        self._xs = np.arange(left, right, dtype=np.float32) + np.float32(0.5)
        self._ys = np.arange(top, bottom, dtype=np.float32) + np.float32(0.5)

    def _bounds(self, xs: list[float], ys: list[float], reach: float) -> tuple[int, int, int, int] | None:
        h, w = self.acc.shape
        x0 = max(0, math.floor(min(xs) - reach) - 1 - self.left)
        x1 = min(w, math.ceil(max(xs) + reach) + 1 - self.left)
        y0 = max(0, math.floor(min(ys) - reach) - 1 - self.top)
        y1 = min(h, math.ceil(max(ys) + reach) + 1 - self.top)
        return (y0, y1, x0, x1) if x1 > x0 and y1 > y0 else None

    def distance(self, a: Point, b: Point, reach: float):
        """(bounds, distance, t): each pixel's distance to the segment a-b and how far along it (0..1)
        its nearest point is, over the segment's bounds grown by ``reach``; None outside the canvas."""
        bounds = self._bounds([a[0], b[0]], [a[1], b[1]], reach)
        if bounds is None:
            return None
        y0, y1, x0, x1 = bounds
        px = self._xs[x0:x1] - np.float32(a[0])
        py = self._ys[y0:y1, None] - np.float32(a[1])
        dx, dy = b[0] - a[0], b[1] - a[1]
        length2 = dx * dx + dy * dy
        if length2 < 1e-9:
            return bounds, np.sqrt(px * px + py * py), None
        t = _ramp(px * np.float32(dx / length2) + py * np.float32(dy / length2))
        qx = px - t * np.float32(dx)
        qy = py - t * np.float32(dy)
        qx *= qx
        qy *= qy
        qx += qy
        return bounds, np.sqrt(qx, out=qx), t

    def add(self, found, radius: float, strength: float = 1.0) -> None:
        """Draw the part whose :meth:`distance` is ``found``, ``radius`` pixels thick (max with what is drawn)."""
        if found is None:
            return
        (y0, y1, x0, x1), distance, _ = found
        coverage = _ramp(np.float32(radius + 0.5) - distance)
        if strength != 1.0:
            coverage *= np.float32(strength)
        region = self.acc[y0:y1, x0:x1]
        np.maximum(region, coverage, out=region)

    def cut(self, found, radius: float, from_t: float = 0.0) -> None:
        """Take a ``radius`` round the part away from what is drawn (past ``from_t`` along it)."""
        if found is None:
            return
        (y0, y1, x0, x1), distance, t = found
        keep = _ramp(distance - np.float32(radius - 0.5))
        if from_t > 0 and t is not None:
            keep[t < np.float32(from_t)] = 1
        self.acc[y0:y1, x0:x1] *= keep

    def polygon(self, corners: list[Point], radius: float) -> bool:
        """Draw the convex polygon ``corners`` grown by ``radius`` pixels; False when it is too
        thin to have sides (the caller draws something else)."""
        area = 0.0
        for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1]):
            area += x0 * y1 - x1 * y0
        if abs(area) < 1.0:
            return False
        bounds = self._bounds([x for x, _ in corners], [y for _, y in corners], radius)
        if bounds is None:
            return True
        top, bottom, left, right = bounds
        xs, ys = self._xs[left:right], self._ys[top:bottom, None]
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
            t = _ramp(px * np.float32(ex / length ** 2) + py * np.float32(ey / length ** 2))
            qx, qy = px - t * np.float32(ex), py - t * np.float32(ey)
            np.minimum(outside, np.sqrt(qx * qx + qy * qy), out=outside)
        distance = np.where(inside > 0, outside, inside)
        self.add(((top, bottom, left, right), distance, None), radius)
        return True


def _draw(angles: tuple[float, ...], view: View, facing: Facing, width: int, height: int) -> _Canvas:
    side, left, top = _layout(width, height)
    unit = points(dict(zip(JOINT_NAMES, angles)), view, facing)
    p = {name: (left + x * side, top + y * side) for name, (x, y) in unit.items()}
    body = side * SKELETON["scale"]
    limb = SKELETON["limb-radius"] * body
    head, torso = SKELETON["head-radius"] * body, SKELETON["torso-radius"] * body
    gap = max(1.0, GAP * limb)
    # Only the rectangle round the figure is drawn; its corner and sides are even (whole 2x2
    # blocks of yuv420p chroma).
    reach = max(head, torso) + 2
    x0 = max(0, math.floor(min(x for x, _ in p.values()) - reach))
    y0 = max(0, math.floor(min(y for _, y in p.values()) - reach))
    x1 = min(width, math.ceil(max(x for x, _ in p.values()) + reach))
    y1 = min(height, math.ceil(max(y for _, y in p.values()) + reach))
    x0, y0 = x0 - x0 % 2, y0 - y0 % 2
    x1, y1 = min(width - width % 2, x1 + x1 % 2), min(height - height % 2, y1 + y1 % 2)
    canvas = _Canvas(x0, y0, max(x0, x1), max(y0, y1))

    def chain(*names: str) -> list[tuple[str, str, float]]:
        return [(a, b, SKELETON[_RADIUS[a, b]] * body) for a, b in zip(names, names[1:])]

    def arm(s: str) -> list[tuple[str, str, float]]:
        return chain(f"{s}-shoulder", f"{s}-elbow", f"{s}-wrist", f"{s}-hand")

    def leg_of(s: str) -> list[tuple[str, str, float]]:
        return chain(f"{s}-hip", f"{s}-knee", f"{s}-ankle", f"{s}-toe")

    def part(a: str, b: str, r: float, strength: float = 1.0) -> None:
        canvas.add(canvas.distance(p[a], p[b], r + 1), r, strength)

    def layer(parts: list[tuple[str, str, float]], roots: tuple[str, ...], root_clear: float) -> None:
        """Draw ``parts`` in front of what is drawn: a gap round them first (not within
        ``root_clear`` pixels of their ``roots``, where they join the body).  Parts of one
        layer do not cut each other, so both arms drawn at once stay mirror images."""
        found = [canvas.distance(p[a], p[b], r + gap + 1) for a, b, r in parts]
        for (a, b, r), each in zip(parts, found):
            from_t = 0.0
            if a in roots:  # the gap starts where the part leaves the body
                length = math.dist(p[a], p[b])
                if length <= root_clear:
                    continue
                from_t = root_clear / length
            canvas.cut(each, r + gap, from_t)
        for (_, _, r), each in zip(parts, found):
            canvas.add(each, r)

    if view == "front":
        for a, b, r in leg_of("left") + leg_of("right"):
            part(a, b, r)
        corners = [p["left-shoulder"], p["right-shoulder"], p["right-hip"], p["left-hip"]]
        if not canvas.polygon(corners, limb):
            part("pelvis", "neck", SKELETON["hip-half"] * body)
        part("neck", "head", SKELETON["neck-radius"] * body)
        part("head", "head", head)
        layer(arm("left") + arm("right"), ("left-shoulder", "right-shoulder"), limb * SKELETON["shoulder-clear"])
        return canvas
    # From the side: the far limbs, the trunk, the near leg, the near arm, each in front of the last.
    near, far = ("right", "left") if facing == "right" else ("left", "right")
    for a, b, r in arm(far) + leg_of(far):
        part(a, b, r, FAR)
    part("pelvis", "neck", torso)
    part("neck", "head", SKELETON["neck-radius"] * body)
    part("head", "head", head)
    layer(leg_of(near), (f"{near}-hip",), torso + SKELETON["leg-radius"] * body)
    layer(arm(near), (f"{near}-shoulder",), limb * SKELETON["shoulder-clear"])
    return canvas


def _rounded(angles: Mapping[str, float]) -> tuple[float, ...]:
    """Every joint's angle (standing's for those not given), rounded to :data:`STEP`."""
    full = STANDING.as_dict() | dict(angles)
    return tuple(round(full[name] / STEP) * STEP for name in JOINT_NAMES)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _cropped(angles: tuple[float, ...], view: View, facing: Facing, width: int, height: int
             ) -> tuple[int, int, np.ndarray]:
    canvas = _draw(angles, view, facing, width, height)
    # acc is within 0..1: +0.5 and the truncating cast round it to 8 bits.
    crop = (canvas.acc * np.float32(255) + np.float32(0.5)).astype(np.uint8)
    crop.flags.writeable = False
    return canvas.left, canvas.top, crop


def figure_coverage(angles: Mapping[str, float], view: View, facing: Facing, size: tuple[int, int]
                    ) -> tuple[int, int, np.ndarray]:
    """(left, top, alpha): the figure in a box of ``size`` (width, height), as 8-bit coverage over
    a rectangle round it (its corner and sides even, on whole yuv420p chroma blocks), and that
    rectangle's corner in the box.

    ``angles`` are the joints' (those not given are standing's); they are rounded to :data:`STEP`
    degrees, and the drawing is cached by them.  The array is shared: do not write to it.
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
