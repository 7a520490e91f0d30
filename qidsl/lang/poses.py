"""The figure's poses: its joints, the built-in library of named poses, and their geometry.

A pose is one angle per joint, seen from the front or from the side.  Each
angle turns a body part in the plane of its view: from the front, a raised
shoulder lifts the arm out to the side; from the side, forward.  The
figure's lowest point rests on the ground line, so standing, kneeling,
seated, lying and all-fours poses need no separate stance.

Pure Python (the standard library only): ``qidsl check`` imports this module
to name unknown poses and angles out of range, and must stay light.  It
imports nothing else of qidsl, so the renderers may draw from it as well (a
leaf of the layering, tests/test_layers.py).  The
drawing is :mod:`qidsl.renderers.figure` (the video, the pictures in docs/)
and ``qidsl/renderers/figure.js`` (the practice page); both draw the points
:func:`points` computes, the page from :func:`skeleton_dict`'s data.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

View = Literal["front", "side"]
Facing = Literal["right", "left"]
Point = tuple[float, float]


@dataclass(frozen=True)
class Joint:
    """One of the figure's joints: its name, its range in degrees, and what it bends."""

    name: str
    minimum: float
    maximum: float
    bends: str

    def allows(self, degrees: float) -> bool:
        return self.minimum <= degrees <= self.maximum


def _both(part: str, minimum: float, maximum: float, bends: str) -> tuple[Joint, Joint]:
    """The left and the right joint of ``part`` ("{side}" in ``bends`` names the side)."""
    left, right = (Joint(f"{side}-{part}", minimum, maximum, bends.format(side=side)) for side in ("left", "right"))
    return left, right


# Ranges: what a person's joint can do, from the American Academy of Orthopaedic
# Surgeons' average ranges of motion (Greene & Heckman, "The Clinical Measurement
# of Joint Motion", AAOS 1994; also Norkin & White, "Measurement of Joint Motion").
# Where the figure's one-piece torso stands for several joints (the hip and the
# lower back bend together in a fold, in child's pose, in cobra), the range is
# the sum, and its comment says so.  From the front a joint's angle turns the part
# out to the side; from the side, forward; one range holds both (the larger).
JOINTS: tuple[Joint, ...] = (
    # Not a joint but where the torso points: 90 is lying face down or a plank,
    # -90 lying on the back, 120-150 a deep standing fold (hips and lower back).
    Joint("lean", -90, 180, "the torso from upright: forward is positive (seen from the side; "
          "from the front it shortens the torso)"),
    # Thoracic and lumbar rotation is about 45 degrees each way (AAOS); standing, the
    # pelvis turning on the hips adds some.
    Joint("twist", -60, 60, "turns the shoulders against the hips, to the figure's left positive "
          "(seen from the front, as narrower shoulders)"),
    # Thoracolumbar lateral flexion is about 35 degrees (AAOS); the pelvis tipping over
    # the hips (a triangle pose) adds about as much again.
    Joint("side-bend", -60, 60, "tilts the torso sideways, to the figure's left positive (seen from the front)"),
    # Cervical flexion 45-50, extension 60 (AAOS).
    Joint("neck", -60, 50, "nods the head: forward, chin to chest, positive"),
    # Flexion and abduction 180, extension 60 (AAOS); across the body about 45.
    *_both("shoulder", -60, 180, "raises the {side} upper arm from hanging: out to the side seen from "
           "the front, forward seen from the side"),
    # Flexion 150, and up to 10 of hyperextension (AAOS).
    *_both("elbow", -10, 150, "bends the {side} forearm towards the body from a straight arm"),
    # Flexion 80, extension 70 (AAOS); a palm pressed up is the wrist extended.
    # From the side, a hand flat on the floor (cat, plank) is bent the elbow's way too.
    *_both("wrist", -70, 80, "bends the {side} hand the way the elbow bends (negative: bent back, "
           "as a palm pressing up)"),
    # Hip flexion 120 with the knee bent and extension 30 (AAOS); the figure's
    # torso is one piece, so the lower back's flexion (about 40: a fold, child's pose)
    # and extension (about 10: cobra) count here too.  Abduction (45) is within it.
    *_both("hip", -40, 160, "raises the {side} thigh: out to the side seen from the front, forward "
           "seen from the side (relative to the torso)"),
    # Flexion 135 actively, about 155 kneeling on it; a few degrees of hyperextension (AAOS).
    *_both("knee", -5, 155, "bends the {side} shin back from a straight leg"),
    # Plantarflexion 50 and the midfoot's 20 or so more (kneeling on the tops of the feet);
    # dorsiflexion 20 sitting (AAOS), about 40 with the body's weight over a bent knee (a deep squat).
    *_both("ankle", -70, 40, "lifts the {side} toes (positive) or points them (negative)"),
)

JOINT_NAMES: tuple[str, ...] = tuple(sorted(j.name for j in JOINTS))
_JOINT = {j.name: j for j in JOINTS}


def joint(name: str) -> Joint | None:
    """The joint called ``name``, or None."""
    return _JOINT.get(name)


@dataclass(frozen=True)
class Pose:
    """A named pose: an angle for every joint (sorted by joint name), seen from ``view``.

    ``facing`` matters from the side only: the way the figure faces on screen
    (the side nearer the viewer is the right when it faces right).  Mirroring a
    side-view pose turns it round.
    """

    name: str
    angles: tuple[tuple[str, float], ...]
    view: View = "front"
    facing: Facing = "right"

    def angle(self, joint_name: str) -> float:
        """The angle of ``joint_name`` in degrees (KeyError for a name that is no joint)."""
        for name, value in self.angles:
            if name == joint_name:
                return value
        raise KeyError(joint_name)

    def as_dict(self) -> dict[str, float]:
        return dict(self.angles)


def _complete(angles: Mapping[str, float], base: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
    unknown = sorted(set(angles) - set(JOINT_NAMES))
    if unknown:
        raise ValueError(f"no joint is named {unknown[0]!r}")
    return tuple((name, float(angles.get(name, base[name]))) for name in JOINT_NAMES)


_ZERO = dict.fromkeys(JOINT_NAMES, 0.0)


def _pose(name: str, view: View, **angles: float) -> Pose:
    """A library pose: keywords write - as _ (left_shoulder), both_X sets left-X and right-X;
    the joints not given are standing's."""
    given: dict[str, float] = {}
    for key, value in angles.items():
        key = key.replace("_", "-")
        if key.startswith("both-"):
            given["left-" + key[5:]] = given["right-" + key[5:]] = value
        else:
            given[key] = value
    return Pose(name, _complete(given, _STANDING), view)


# Standing at ease, seen from the front: the arms hang a little away from the
# body (so they read apart from it), the elbows soft.
_STANDING = dict(_ZERO, **{"left-shoulder": 8.0, "right-shoulder": 8.0, "left-elbow": 8.0,
                           "right-elbow": 8.0})

# Legs of the horse stance, seen from the front: thighs out and bent knees
# bringing the shins back upright.
_HORSE = dict(both_hip=35, both_knee=35)
_SOFT_KNEES = dict(both_hip=4, both_knee=6)

_LIBRARY_POSES: tuple[Pose, ...] = (
    # Standing and Qigong, seen from the front.
    _pose("standing", "front"),
    _pose("mountain", "front", both_shoulder=14, both_elbow=2, both_wrist=-10),
    _pose("arms overhead", "front", both_shoulder=172, both_elbow=4),
    _pose("palms pressing up", "front", both_shoulder=164, both_elbow=8, both_wrist=-70, neck=-15),
    _pose("hands at the dan tian", "front", both_shoulder=26, both_elbow=112, both_wrist=8, **_SOFT_KNEES),
    _pose("hands in front of the belly", "front", both_shoulder=30, both_elbow=100, both_wrist=-10,
          **_SOFT_KNEES),
    _pose("hands at the chest", "front", both_shoulder=48, both_elbow=132, both_wrist=-20, **_SOFT_KNEES),
    _pose("pressing down", "front", both_shoulder=24, both_elbow=30, both_wrist=-70, **_SOFT_KNEES),
    _pose("holding the ball", "front", both_shoulder=44, both_elbow=92, both_wrist=10, **_SOFT_KNEES),
    _pose("arms wide", "front", both_shoulder=90, both_elbow=2),
    _pose("star", "front", both_shoulder=120, both_elbow=2, both_hip=22),
    _pose("horse stance", "front", both_shoulder=26, both_elbow=112, both_wrist=8, **_HORSE),
    _pose("horse stance holding the ball", "front", both_shoulder=44, both_elbow=92, both_wrist=10, **_HORSE),
    # Eight Brocades: the bow is drawn to the left, the left arm out and its
    # index finger up, the right hand pulled to the right shoulder.
    _pose("drawing the bow left", "front", left_shoulder=90, left_elbow=0, left_wrist=-60,
          right_shoulder=84, right_elbow=146, right_wrist=20, **_HORSE),
    _pose("separating heaven and earth left", "front", left_shoulder=168, left_elbow=6, left_wrist=-70,
          right_shoulder=18, right_elbow=8, right_wrist=-70, **_SOFT_KNEES),
    _pose("swaying the head and tail left", "front", **{"side-bend": 24}, both_shoulder=30, both_elbow=60,
          **_HORSE),
    _pose("twist left", "front", twist=45, left_shoulder=40, left_elbow=70, right_shoulder=50, right_elbow=110,
          **_SOFT_KNEES),
    _pose("side bend left", "front", **{"side-bend": 30}, right_shoulder=168, right_elbow=18,
          left_shoulder=28, left_elbow=100),
    _pose("tree left", "front", left_hip=62, left_knee=140, left_ankle=-30, both_shoulder=38,
          both_elbow=118, both_wrist=-14),
    _pose("warrior two left", "front", left_hip=62, left_knee=62, right_hip=42, right_knee=0,
          both_shoulder=90, both_elbow=2),
    _pose("triangle left", "front", **{"side-bend": 55}, left_hip=32, right_hip=34, left_shoulder=95,
          right_shoulder=95, both_elbow=0),
    # Seen from the side, facing right.
    _pose("standing side", "side", both_shoulder=4, both_elbow=6),
    _pose("forward fold", "side", lean=130, both_hip=130, both_shoulder=122, both_elbow=4, neck=20),
    _pose("half lift", "side", lean=90, both_hip=90, both_shoulder=60, both_elbow=6, neck=-20),
    _pose("chair", "side", lean=30, both_hip=90, both_knee=80, both_ankle=20, both_shoulder=160, both_elbow=4),
    _pose("squat", "side", lean=38, both_hip=140, both_knee=150, both_ankle=34, both_shoulder=50,
          both_elbow=80),
    _pose("lunge left", "side", lean=8, left_hip=96, left_knee=92, left_ankle=14, right_hip=-30,
          right_knee=10, right_ankle=30, both_shoulder=6, both_elbow=10),
    _pose("warrior one left", "side", lean=4, left_hip=90, left_knee=86, left_ankle=10, right_hip=-30,
          right_knee=4, right_ankle=24, both_shoulder=172, both_elbow=4),
    _pose("seated", "side", both_hip=70, both_knee=155, both_ankle=-70, both_shoulder=22, both_elbow=50),
    _pose("staff pose", "side", both_hip=90, both_ankle=20, both_shoulder=14, both_elbow=0, both_wrist=76),
    _pose("seated forward fold", "side", lean=60, both_hip=150, both_ankle=10, both_shoulder=110, both_elbow=6,
          neck=10),
    _pose("kneeling", "side", both_hip=62, both_knee=152, both_ankle=-68, both_shoulder=12, both_elbow=60),
    # All fours: the torso level (lean 90), thighs upright; cat rounds the back (the
    # head drops), cow lifts the chest and the gaze.
    _pose("cat", "side", lean=96, both_hip=96, both_knee=90, both_ankle=-66, both_shoulder=90, both_elbow=0,
          both_wrist=78, neck=40),
    _pose("cow", "side", lean=84, both_hip=84, both_knee=90, both_ankle=-66, both_shoulder=84, both_elbow=0,
          both_wrist=78, neck=-45),
    _pose("child's pose", "side", lean=112, both_hip=155, both_knee=155, both_ankle=-68, both_shoulder=150,
          both_elbow=4, neck=10),
    _pose("plank", "side", lean=90, both_hip=12, both_knee=0, both_ankle=20, both_shoulder=80, both_elbow=0,
          both_wrist=78),
    _pose("downward dog", "side", lean=132, both_hip=100, both_knee=2, both_ankle=10, both_shoulder=176,
          both_elbow=0, both_wrist=46, neck=-10),
    _pose("cobra", "side", lean=64, both_hip=-26, both_knee=0, both_ankle=-60, both_shoulder=-10,
          both_elbow=60, both_wrist=78, neck=-20),
    _pose("lying on the back", "side", lean=-90, both_hip=0, both_knee=0, both_ankle=-20, both_shoulder=10,
          both_elbow=0),
    _pose("hands on the back", "side", both_shoulder=-45, both_elbow=120, both_wrist=-30, **_SOFT_KNEES),
    _pose("on the toes", "side", both_ankle=-40, both_shoulder=4, both_elbow=6),
)

LIBRARY: Mapping[str, Pose] = MappingProxyType({p.name: p for p in _LIBRARY_POSES})

# What each library pose is, in a sentence (docs/poses.md, hover in an editor).
DESCRIPTIONS: Mapping[str, str] = MappingProxyType({
    "standing": "Standing at ease, feet hip-width apart, the arms hanging loose.",
    "mountain": "Mountain pose (tadasana): standing tall, the arms by the sides, the palms turned forward.",
    "arms overhead": "Both arms raised straight up over the head.",
    "palms pressing up": "Holding up the sky (Eight Brocades): the arms up, the palms turned up and pressing.",
    "hands at the dan tian": "The hands resting on the lower belly, just below the navel.",
    "hands in front of the belly": "The hands in front of the belly, palms up, fingertips facing each other.",
    "hands at the chest": "The hands floated up to the front of the chest, the elbows out.",
    "pressing down": "The palms turned down and pressing towards the floor beside the hips.",
    "holding the ball": "Standing post (zhan zhuang): the arms rounded in front of the chest as if holding a big ball.",
    "arms wide": "The arms stretched out to the sides at shoulder height.",
    "star": "The arms raised wide in a V and the feet stepped apart.",
    "horse stance": "Feet wide, knees bent over the toes, the hands at the dan tian.",
    "horse stance holding the ball": "The horse stance with the arms rounded in front of the chest.",
    "drawing the bow left": "Drawing the bow (Eight Brocades): in the horse stance, the left arm pushes out to the "
                            "left, index finger up, the right hand pulls back to the right shoulder.",
    "separating heaven and earth left": "Separating heaven and earth (Eight Brocades): the left palm presses up "
                                        "over the head, the right palm presses down.",
    "swaying the head and tail left": "Swaying the head and tail (Eight Brocades): in the horse stance, the torso "
                                      "leans over to the left.",
    "twist left": "Standing, the shoulders turned to the left from the waist, the arms swinging loose.",
    "side bend left": "Standing side bend to the left, the right arm arching over the head.",
    "tree left": "Tree pose (vrksasana): standing on the right leg, the left foot against the right leg, "
                 "the palms together at the chest.",
    "warrior two left": "Warrior two (virabhadrasana II): the left knee bent over the left foot, the right leg "
                        "straight, the arms stretched out to the sides.",
    "triangle left": "Triangle (trikonasana): the legs wide and straight, the torso tipped over to the left, "
                     "one arm down and one up.",
    "standing side": "Standing at ease, seen from the side.",
    "forward fold": "Standing forward fold (uttanasana): folding from the hips, the head and arms hanging down.",
    "half lift": "Half lift (ardha uttanasana): from the fold, the back lengthened level, the hands towards the shins.",
    "chair": "Chair (utkatasana): the knees bent as if sitting back, the arms raised forward and up.",
    "squat": "Deep squat (malasana): the heels down, the knees wide, the elbows inside the knees.",
    "lunge left": "Low lunge: the left foot forward with the knee bent over it, the right leg stretched back.",
    "warrior one left": "Warrior one (virabhadrasana I): a lunge with the left foot forward and the arms raised.",
    "seated": "Seated cross-legged (sukhasana), the back upright, the hands on the knees.",
    "staff pose": "Staff pose (dandasana): seated upright, the legs straight out in front, the hands on the floor.",
    "seated forward fold": "Seated forward fold (paschimottanasana): the legs straight, folding over them.",
    "kneeling": "Kneeling, sitting back on the heels (vajrasana), the back upright.",
    "cat": "Cat: on hands and knees, the back rounded up, the head dropped.",
    "cow": "Cow: on hands and knees, the belly low, the chest and the gaze lifted.",
    "child's pose": "Child's pose (balasana): kneeling, folded forward over the thighs, the forehead down, "
                    "the arms forward.",
    "plank": "Plank: the body straight from head to heels on straight arms.",
    "downward dog": "Downward-facing dog (adho mukha svanasana): the hips high, the arms and back in one line, "
                    "the legs straight.",
    "cobra": "Cobra (bhujangasana): lying face down, the chest lifted on bent arms.",
    "lying on the back": "Lying on the back (savasana), the arms by the sides.",
    "hands on the back": "Standing, the backs of the hands on the lower back over the kidneys.",
    "on the toes": "Standing up on the toes (bouncing on the toes, the last of the Eight Brocades).",
})
STANDING: Pose = LIBRARY["standing"]

_SIDES = ((" left", " right"), (" right", " left"))


def _other_side(name: str) -> str | None:
    for ending, other in _SIDES:
        if name.endswith(ending):
            return name[: -len(ending)] + other
    return None


def mirror(pose: Pose) -> Pose:
    """``pose`` for the other side: left and right joints swapped, the twist and side bend
    negated, the name's side swapped ("lunge left" gives "lunge right"), a side view turned round."""
    swapped: dict[str, float] = {}
    for name, value in pose.angles:
        if name.startswith("left-"):
            swapped["right-" + name[5:]] = value
        elif name.startswith("right-"):
            swapped["left-" + name[6:]] = value
        elif name in ("twist", "side-bend"):
            swapped[name] = -value if value else 0.0
        else:
            swapped[name] = value
    facing: Facing = pose.facing
    if pose.view == "side":
        facing = "left" if pose.facing == "right" else "right"
    return Pose(_other_side(pose.name) or pose.name, _complete(swapped, _ZERO), pose.view, facing)


def lookup(name: str) -> Pose | None:
    """The library's pose called ``name``; "X right" is the mirror of "X left" (and the other way round)."""
    found = LIBRARY.get(name)
    if found is not None:
        return found
    other = _other_side(name)
    if other is not None and other in LIBRARY:
        return mirror(LIBRARY[other])
    return None


def pose_names() -> list[str]:
    """Every name :func:`lookup` knows: the library's, and the other side of each sided pose."""
    names = list(LIBRARY)
    names += [other for n in LIBRARY if (other := _other_side(n)) and other not in LIBRARY]
    return names


def suggest(name: str) -> str | None:
    """The known pose name ``name`` was probably meant to be (for "did you mean"), or None."""
    close = difflib.get_close_matches(name.lower().strip(), pose_names(), n=1, cutoff=0.6)
    return close[0] if close else None


def suggest_joint(name: str) -> str | None:
    """The joint name ``name`` was probably meant to be (for "did you mean"), or None."""
    close = difflib.get_close_matches(name.lower().strip(), JOINT_NAMES, n=1, cutoff=0.6)
    return close[0] if close else None


def description(name: str) -> str | None:
    """What the pose :func:`lookup` finds for ``name`` is, in a sentence; a mirrored pose's says
    right for left and left for right."""
    if name in DESCRIPTIONS:
        return DESCRIPTIONS[name]
    other = _other_side(name)
    if other is None or other not in DESCRIPTIONS:
        return None
    return re.sub(r"\b(left|right)\b", lambda m: "right" if m.group(1) == "left" else "left", DESCRIPTIONS[other])


def from_angles(name: str, angles: Mapping[str, float], view: View = "front", facing: Facing = "right") -> Pose:
    """A pose of the routine's own: the joints not given keep ``standing``'s angles.

    ValueError for a name that is no joint (``check`` reports it first).
    """
    return Pose(name, _complete(angles, STANDING.as_dict()), view, facing)


def derive(name: str, base: Pose, changes: Mapping[str, float]) -> Pose:
    """``base`` with some angles changed, under a new name (seen as ``base`` is)."""
    return Pose(name, _complete(changes, base.as_dict()), base.view, base.facing)


def interpolate(a: Pose, b: Pose, u: float) -> dict[str, float]:
    """The angles ``u`` (0..1) of the way from ``a`` to ``b``, each joint linearly; the caller eases ``u``.

    Angles only: a move between poses seen from different views (or facing
    different ways) has no in-between view, so the caller picks one for the
    whole move (the pose moved to is the one to show).
    """
    return {name: va + (vb - va) * u for (name, va), (_, vb) in zip(a.angles, b.angles)}


def out_of_range(angles: Mapping[str, float]) -> list[tuple[Joint, float]]:
    """The joints (of those named in ``angles``) whose angle is outside their range, in joint order."""
    return [(j, angles[j.name]) for j in JOINTS if j.name in angles and not j.allows(angles[j.name])]


# The fastest a joint may turn, in degrees per second, for a class to follow the
# figure.  Breath-led moves are slow: raising the arms from the sides to overhead
# (180 degrees) over a 4-second inhale is 45 degrees a second, over a brisk
# 3-second inhale 60.  Faster than that (the same sweep in 2 s is 90) is a swing,
# no longer a move a person copies from a screen while breathing with it.
FASTEST_FOLLOWABLE = 60.0
# The same, in a sentence a warning's hint or the docs can give.
FASTEST_FOLLOWABLE_REASON = ("a class follows a slow, breath-led move: the arms sweeping 180 degrees from the "
                             "sides to overhead over a 3-second inhale turn 60 degrees a second")


def max_speed(a: Pose, b: Pose, seconds: float) -> tuple[Joint, float]:
    """The joint that turns fastest moving from ``a`` to ``b`` in ``seconds``, and its degrees per second.

    A move in no time (``seconds`` <= 0) is infinitely fast unless nothing moves.
    """
    best, speed = JOINTS[0], 0.0
    for j in JOINTS:
        change = abs(b.angle(j.name) - a.angle(j.name))
        if change == 0:
            continue
        rate = change / seconds if seconds > 0 else math.inf
        if rate > speed:
            best, speed = j, rate
    return best, speed


# ----- geometry ---------------------------------------------------------------

# Bone lengths as fractions of body height, after Drillis and Contini's segment
# proportions (as tabled in Winter, "Biomechanics and Motor Control of Human
# Movement", 4th ed., fig. 4.1): shoulder height 0.818, hip 0.530, knee 0.285,
# ankle 0.039, upper arm 0.186, forearm 0.146, hand 0.108, shoulder width 0.259,
# hip width 0.191, chin 0.870, top of head 1.
SKELETON: Mapping[str, float] = MappingProxyType({
    "torso": 0.288,          # hip joints to shoulder joints (0.818 - 0.530)
    "head": 0.118,           # shoulder line to the head's centre (about 0.936)
    "head-radius": 0.064,    # the head 0.13 high
    "shoulder-half": 0.115,  # the shoulder joints' centres are narrower than the shoulders' width
    "hip-half": 0.082,
    "upper-arm": 0.186,
    "forearm": 0.146,
    "hand": 0.100,
    "thigh": 0.245,          # 0.530 - 0.285
    "shin": 0.246,           # 0.285 - 0.039
    "foot": 0.125,           # ankle to toes (the heel is behind the ankle)
    "front-foot": 0.06,      # a foot seen from the front, pointing at the viewer, is short
    "foot-slope": 18.0,      # degrees the foot slopes down from the ankle to the toes, standing
    "scale": 0.76,           # body heights in the unit box: arms overhead still fit
    # How the figure is drawn (the video's painter and the page's read these alike): radii
    # of the parts, in body heights,
    "limb-radius": 0.024,    # arms and feet
    "hand-radius": 0.0204,
    "neck-radius": 0.0216,
    "leg-radius": 0.030,
    "torso-radius": 0.070,   # from the side; from the front the torso is the shoulders-hips trapezoid
    # the gap of background round a part in front of others, as a share of an arm's radius,
    "gap": 0.45,
    # where an arm's gap starts, in arm radii from the shoulder (so it does not notch the shoulder),
    "shoulder-clear": 2.5,
    # and the strength of the far arm and leg seen from the side (behind, yet there).
    "far": 0.5,
})

# The drawn parts (start point, end point, the SKELETON key of their radius).
BONES: tuple[tuple[str, str, str], ...] = (
    ("pelvis", "neck", "torso-radius"),
    ("neck", "head", "neck-radius"),
    ("left-hip", "left-knee", "leg-radius"), ("left-knee", "left-ankle", "leg-radius"),
    ("left-ankle", "left-toe", "limb-radius"),
    ("right-hip", "right-knee", "leg-radius"), ("right-knee", "right-ankle", "leg-radius"),
    ("right-ankle", "right-toe", "limb-radius"),
    ("left-shoulder", "left-elbow", "limb-radius"), ("left-elbow", "left-wrist", "limb-radius"),
    ("left-wrist", "left-hand", "hand-radius"),
    ("right-shoulder", "right-elbow", "limb-radius"), ("right-elbow", "right-wrist", "limb-radius"),
    ("right-wrist", "right-hand", "hand-radius"),
)

POINT_NAMES: tuple[str, ...] = (
    "pelvis", "neck", "head",
    "left-shoulder", "left-elbow", "left-wrist", "left-hand",
    "right-shoulder", "right-elbow", "right-wrist", "right-hand",
    "left-hip", "left-knee", "left-ankle", "left-toe",
    "right-hip", "right-knee", "right-ankle", "right-toe",
)


def _towards(origin: Point, degrees: float, length: float) -> Point:
    """``length`` from ``origin`` in the direction ``degrees`` from straight down, towards +x positive (y down)."""
    r = math.radians(degrees)
    return origin[0] + length * math.sin(r), origin[1] + length * math.cos(r)


def _body_points(a: Mapping[str, float], view: View) -> dict[str, Point]:
    """The points in body heights, pelvis at the origin, y down, +x forward (side) or the figure's left (front)."""
    s = SKELETON
    lean, neck_nod = a["lean"], a["neck"]
    p: dict[str, Point] = {"pelvis": (0.0, 0.0)}
    if view == "side":
        # Angles from straight down, forward positive: the torso points up (180) less its lean.
        p["neck"] = _towards(p["pelvis"], 180 - lean, s["torso"] * math.cos(math.radians(a["side-bend"])))
        p["head"] = _towards(p["neck"], 180 - lean - neck_nod, s["head"])
        # A twist brings one shoulder forward, the other back.
        shift = s["shoulder-half"] * math.sin(math.radians(a["twist"]))
        # A twist to the left brings the right shoulder forward.
        for side, sign in (("left", -1.0), ("right", 1.0)):
            nx, ny = p["neck"]
            p[f"{side}-shoulder"] = (nx + sign * shift * math.cos(math.radians(lean)),
                                     ny + sign * shift * math.sin(math.radians(lean)))
            arm = a[f"{side}-shoulder"] - lean
            p[f"{side}-elbow"] = _towards(p[f"{side}-shoulder"], arm, s["upper-arm"])
            arm += a[f"{side}-elbow"]
            p[f"{side}-wrist"] = _towards(p[f"{side}-elbow"], arm, s["forearm"])
            arm += a[f"{side}-wrist"]
            p[f"{side}-hand"] = _towards(p[f"{side}-wrist"], arm, s["hand"])
            p[f"{side}-hip"] = p["pelvis"]
            leg = a[f"{side}-hip"] - lean
            p[f"{side}-knee"] = _towards(p[f"{side}-hip"], leg, s["thigh"])
            leg -= a[f"{side}-knee"]
            p[f"{side}-ankle"] = _towards(p[f"{side}-knee"], leg, s["shin"])
            leg += 90 - s["foot-slope"] + a[f"{side}-ankle"]
            p[f"{side}-toe"] = _towards(p[f"{side}-ankle"], leg, s["foot"])
        return p
    # From the front: angles from straight down, towards the figure's left (+x) positive.
    bend, twist = math.radians(a["side-bend"]), math.radians(a["twist"])
    torso = s["torso"]
    p["neck"] = (torso * math.sin(bend), -torso * math.cos(bend) * math.cos(math.radians(lean)))
    head = s["head"]
    p["head"] = (p["neck"][0] + head * math.sin(bend),
                 p["neck"][1] - head * math.cos(bend) * math.cos(math.radians(lean + neck_nod)))
    # The shoulder line is square to the torso, narrowed by the twist.
    half = s["shoulder-half"] * math.cos(twist)
    for side, out in (("left", 1.0), ("right", -1.0)):
        nx, ny = p["neck"]
        p[f"{side}-shoulder"] = (nx + out * half * math.cos(bend), ny + out * half * math.sin(bend))
        # "Out" is +x for the left, -x for the right: mirror the angle for the right.
        arm = -a["side-bend"] + out * a[f"{side}-shoulder"]
        p[f"{side}-elbow"] = _towards(p[f"{side}-shoulder"], arm, s["upper-arm"])
        arm -= out * a[f"{side}-elbow"]
        p[f"{side}-wrist"] = _towards(p[f"{side}-elbow"], arm, s["forearm"])
        arm -= out * a[f"{side}-wrist"]
        p[f"{side}-hand"] = _towards(p[f"{side}-wrist"], arm, s["hand"])
        p[f"{side}-hip"] = (out * s["hip-half"], 0.0)
        leg = out * a[f"{side}-hip"]
        p[f"{side}-knee"] = _towards(p[f"{side}-hip"], leg, s["thigh"])
        leg -= out * a[f"{side}-knee"]
        p[f"{side}-ankle"] = _towards(p[f"{side}-knee"], leg, s["shin"])
        leg += out * (90 - s["foot-slope"] + a[f"{side}-ankle"])
        p[f"{side}-toe"] = _towards(p[f"{side}-ankle"], leg, s["front-foot"])
    return p


def thickness(point: str, view: View) -> str:
    """The :data:`SKELETON` key of how thick the figure is drawn round ``point`` (a radius)."""
    if point == "head":
        return "head-radius"
    if point in ("pelvis", "neck"):
        # From the front the torso is the trapezoid between shoulders and hips.
        return "torso-radius" if view == "side" else "limb-radius"
    if point.endswith(("-hip", "-knee", "-ankle")):
        return "leg-radius"
    return "limb-radius"


def points(angles: Mapping[str, float], view: View = "front", facing: Facing = "right") -> dict[str, Point]:
    """Where each of :data:`POINT_NAMES` is in the unit box: x right, y down, 0..1.

    The pelvis is centred left to right; the figure's lowest point as drawn (a
    foot, a knee, the seat, a hand, the head: each point with its
    :func:`thickness`) rests on the ground line, y = 1.  ``angles`` gives every
    joint (missing ones are standing's).  From the side, a figure facing left
    is the one facing right mirrored.
    """
    full = dict(STANDING.as_dict(), **angles)
    body = _body_points(full, view)
    lowest = max(y + SKELETON[thickness(name, view)] for name, (_, y) in body.items())
    scale = SKELETON["scale"]
    flip = -1.0 if view == "side" and facing == "left" else 1.0
    return {name: (0.5 + flip * scale * x, 1.0 + scale * (y - lowest)) for name, (x, y) in body.items()}


def skeleton_dict() -> dict[str, object]:
    """What a renderer in another language needs to draw the figure as :func:`points` does
    (JSON-able): the lengths, the bones and points, the joints and their ranges."""
    return {
        "lengths": dict(SKELETON),
        "bones": [list(b) for b in BONES],
        "points": list(POINT_NAMES),
        "joints": [{"name": j.name, "minimum": j.minimum, "maximum": j.maximum, "bends": j.bends}
                   for j in JOINTS],
        "standing": STANDING.as_dict(),
    }
