"""The figure as the video draws it: anti-aliased, inside its box, mirrored exactly, in the theme's colours."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qidsl.lang import poses as P
from qidsl.renderers import figure as F
from qidsl.renderers.themes import THEMES

# A figure's box in a 1280x720 frame and in a 1920x1080 one (the same design, scaled 1.5x).
BOX_720 = (320, 360)
BOX_1080 = (480, 540)
LIBRARY = list(P.LIBRARY.values())


def alpha(pose: P.Pose, size=BOX_720) -> np.ndarray:
    return F.figure_alpha(pose.as_dict(), pose.view, pose.facing, size)


def rows(a: np.ndarray) -> np.ndarray:
    return np.flatnonzero(a.max(axis=1) > 0.5)


@pytest.mark.parametrize("pose", LIBRARY, ids=lambda p: p.name)
def test_a_mirrored_pose_draws_as_the_horizontal_mirror_of_the_original(pose):
    for size in (BOX_720, BOX_1080, (321, 361)):
        other = P.mirror(pose)
        difference = np.abs(alpha(pose, size) - alpha(other, size)[:, ::-1])
        assert difference.max() <= 1.5 / 255, (pose.name, size)  # the same picture, to the 8-bit rounding


@pytest.mark.parametrize("size", [BOX_720, BOX_1080])
@pytest.mark.parametrize("pose", LIBRARY, ids=lambda p: p.name)
def test_every_library_pose_fits_its_box_standing_on_its_floor(pose, size):
    a = alpha(pose, size)
    assert a.shape == (size[1], size[0])
    # Nothing on the box's outer two pixels, so nothing is cut off at its edge.
    assert not a[:2].any() and not a[-2:].any() and not a[:, :2].any() and not a[:, -2:].any(), pose.name
    # and the lowest part stands on the same floor, two pixels above the box's bottom
    assert size[1] - 5 <= np.flatnonzero(a.any(axis=1))[-1] <= size[1] - 3


def test_the_drawing_is_anti_aliased():
    a = alpha(P.LIBRARY["drawing the bow left"])
    drawn = a > 0
    partial = (a > 0.1) & (a < 0.9)
    # Every edge pixel is partly covered: about a pixel's ramp round every part.
    assert partial.sum() > 0.08 * drawn.sum()
    # The ramp sits between the inside and the outside: a partly covered pixel touches a fully covered one.
    inside = a > 0.99
    near_inside = np.zeros_like(inside)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            near_inside |= np.roll(np.roll(inside, dy, 0), dx, 1)
    assert (partial & ~near_inside).sum() < 0.1 * partial.sum()


def test_arms_overhead_reach_higher_and_the_figure_rises_steadily_on_the_way():
    standing, overhead = P.LIBRARY["standing"], P.LIBRARY["arms overhead"]
    tops = []
    for i in range(11):
        u = i / 10
        angles = P.interpolate(standing, overhead, 0.5 - 0.5 * math.cos(math.pi * u))  # eased as the pacer is
        tops.append(rows(F.figure_alpha(angles, "front", "right", BOX_720))[0])
    assert all(b <= a for a, b in zip(tops, tops[1:])), tops
    assert tops[-1] < tops[0] - 50  # a raise of the arms, not a twitch


def test_a_1080p_figure_is_the_720p_one_scaled():
    pose = P.LIBRARY["warrior two left"]
    small, large = alpha(pose, BOX_720), alpha(pose, BOX_1080)
    small_height = rows(small)[-1] - rows(small)[0]
    large_height = rows(large)[-1] - rows(large)[0]
    assert large_height == pytest.approx(1.5 * small_height, abs=2)
    # the limbs are thicker in proportion too: the covered area grows with the square
    assert large.sum() == pytest.approx(2.25 * small.sum(), rel=0.03)


def test_seen_from_the_side_the_far_limbs_are_drawn_at_half_strength():
    lunge = P.LIBRARY["lunge left"]  # facing right: the left (front) leg is the far one
    side, left, top = F._layout(*BOX_720)
    pts = P.points(lunge.as_dict(), lunge.view, lunge.facing)
    a = alpha(lunge)

    def at(name):
        x, y = pts[name]
        return a[int(top + y * side), int(left + x * side)]
    assert at("left-knee") == pytest.approx(F.FAR, abs=0.01)
    assert at("right-knee") == pytest.approx(1.0, abs=0.01)
    mirrored = P.mirror(lunge)  # turned round: the right (front) leg is now the far one
    pts = P.points(mirrored.as_dict(), mirrored.view, mirrored.facing)
    a = alpha(mirrored)
    assert at("right-knee") == pytest.approx(F.FAR, abs=0.01)


def test_a_forearm_across_the_body_keeps_a_gap_of_background_round_it():
    pose = P.LIBRARY["hands at the dan tian"]
    side, left, top = F._layout(*BOX_720)
    pts = {k: (left + x * side, top + y * side) for k, (x, y) in P.points(pose.as_dict()).items()}
    a = alpha(pose)
    (x0, y0), (x1, y1) = pts["left-elbow"], pts["left-wrist"]
    mx, my = x0 + (x1 - x0) * 0.75, y0 + (y1 - y0) * 0.75  # over the belly
    length = math.hypot(x1 - x0, y1 - y0)
    nx, ny = -(y1 - y0) / length, (x1 - x0) / length  # across the forearm
    across = [a[int(my + ny * d), int(mx + nx * d)] for d in range(-16, 17)]
    # forearm (covered), then a gap (uncovered) on each side, then the torso (covered) again
    assert across[16] > 0.99
    assert min(across[:16]) < 0.05 and min(across[17:]) < 0.05
    assert across[0] > 0.99 and across[-1] > 0.99


def test_coverage_is_cropped_on_whole_chroma_blocks_and_cached_by_rounded_angles():
    pose = P.LIBRARY["holding the ball"]
    left, top, crop = F.figure_coverage(pose.as_dict(), pose.view, pose.facing, BOX_720)
    assert left % 2 == 0 and top % 2 == 0 and crop.shape[0] % 2 == 0 and crop.shape[1] % 2 == 0
    assert crop.dtype == np.uint8 and not crop.flags.writeable
    whole = alpha(pose)
    assert np.allclose(whole[top:top + crop.shape[0], left:left + crop.shape[1]], crop / 255, atol=1e-6)
    assert whole.sum() == pytest.approx(crop.sum() / 255, rel=1e-6)  # nothing lies outside the crop
    nudged = dict(pose.as_dict(), **{"left-elbow": pose.angle("left-elbow") + F.STEP / 4})
    assert F.figure_coverage(nudged, pose.view, pose.facing, BOX_720)[2] is crop
    moved = dict(pose.as_dict(), **{"left-elbow": pose.angle("left-elbow") + 10})
    assert F.figure_coverage(moved, pose.view, pose.facing, BOX_720)[2] is not crop


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_the_figure_is_drawn_in_the_theme_s_colours(theme):
    colours = THEMES[theme]
    pose = P.LIBRARY["standing"]
    picture = F.figure_picture(pose.as_dict(), pose.view, pose.facing, BOX_720, colours.accent, colours.background)
    side, left, top = F._layout(*BOX_720)
    hx, hy = P.points(pose.as_dict())["head"]
    assert tuple(picture[int(top + hy * side), int(left + hx * side)]) == colours.accent
    assert tuple(picture[3, 3]) == colours.background
    # the edges blend the two: colours between them, none outside
    lo = np.minimum(colours.accent, colours.background)
    hi = np.maximum(colours.accent, colours.background)
    assert ((picture >= lo) & (picture <= hi)).all()
    assert len(np.unique(picture.reshape(-1, 3), axis=0)) > 20


def test_the_patch_blends_into_a_frame_region_as_the_pacer_does():
    pose = P.LIBRARY["arms wide"]
    frame = np.zeros((720, 1280, 3), dtype=np.uint8)
    box = (800, 200, 800 + BOX_720[0], 200 + BOX_720[1])
    patch = F.FigurePatch(box, (255, 255, 255), opacity=0.5)
    patch.draw(frame[box[1]:box[3], box[0]:box[2]], pose.as_dict(), pose.view)
    assert frame[:, :800].max() == 0 and frame[:200].max() == 0  # only inside its box
    assert frame.max() == 128  # at the given opacity
    left, top, a = patch.coverage(pose.as_dict(), pose.view)
    assert a.dtype == np.float32 and a.max() == pytest.approx(0.5)
