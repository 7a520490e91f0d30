"""The figure's poses: the library, mirroring, ranges, speed, and the forward kinematics
(Python's, and the practice page's JavaScript run in node against it)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qidsl.lang import poses as P

ROOT = Path(__file__).resolve().parent.parent
FIGURE_JS = ROOT / "qidsl" / "renderers" / "figure.js"
LIBRARY = list(P.LIBRARY.values())


def _drawn_extent(pose: P.Pose) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of the figure as drawn: each point with its thickness."""
    pts = P.points(pose.as_dict(), pose.view, pose.facing)
    scale = P.SKELETON["scale"]
    boxes = [(x - r, y - r, x + r, y + r) for name, (x, y) in pts.items()
             for r in [P.SKELETON[P.thickness(name, pose.view)] * scale]]
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def test_the_library_covers_the_basics_of_qigong_and_yoga():
    assert len(P.LIBRARY) >= 30
    for name in ("standing", "arms overhead", "palms pressing up", "hands at the dan tian", "horse stance",
                 "drawing the bow left", "forward fold", "half lift", "lunge left", "squat", "seated", "twist left",
                 "side bend left", "cat", "cow", "mountain", "tree left", "warrior one left", "warrior two left",
                 "chair", "plank", "downward dog", "child's pose", "cobra", "holding the ball", "hands on the back",
                 "arms wide"):
        assert name in P.LIBRARY, name
    for name, pose in P.LIBRARY.items():
        assert name == pose.name == name.lower().strip()
        assert not name.endswith(" right"), "a sided pose is named for the left; the right is its mirror"
        assert [n for n, _ in pose.angles] == sorted(j.name for j in P.JOINTS)
        assert P.DESCRIPTIONS[name].endswith(".")
    assert set(P.DESCRIPTIONS) == set(P.LIBRARY)


def test_every_library_pose_is_within_its_joints_ranges():
    for pose in LIBRARY:
        assert P.out_of_range(pose.as_dict()) == [], pose.name
    # and the ranges are ranges a person has: a straight elbow, an arm raised overhead, a bent knee
    assert P.joint("left-elbow").allows(0) and not P.joint("left-elbow").allows(170)
    assert P.joint("right-shoulder").allows(180) and not P.joint("right-shoulder").allows(-90)
    assert P.joint("left-knee").allows(150) and not P.joint("left-knee").allows(-20)


def test_out_of_range_names_each_joint_outside_its_range_with_its_angle():
    bad = P.out_of_range({"left-elbow": 170, "right-knee": 20, "neck": -80, "twist": 0})
    assert [(j.name, value) for j, value in bad] == [("neck", -80), ("left-elbow", 170)]
    assert bad[1][0].maximum == 150
    assert P.out_of_range({"left-elbow": 150, "left-elbow-extra": 400}) == []  # the ends are allowed; not joints


def test_mirror_swaps_the_sides_and_twice_is_the_pose_itself():
    bow = P.LIBRARY["drawing the bow left"]
    right = P.mirror(bow)
    assert right.name == "drawing the bow right"
    assert right.angle("right-shoulder") == bow.angle("left-shoulder") == 90
    assert right.angle("left-elbow") == bow.angle("right-elbow")
    bend = P.mirror(P.LIBRARY["side bend left"])
    assert bend.angle("side-bend") == -P.LIBRARY["side bend left"].angle("side-bend")
    assert P.mirror(P.LIBRARY["twist left"]).angle("twist") == -45
    assert P.mirror(P.LIBRARY["lunge left"]).facing == "left"
    for pose in LIBRARY:
        assert P.mirror(P.mirror(pose)) == pose
    assert P.mirror(P.LIBRARY["standing"]).name == "standing"


@pytest.mark.parametrize("pose", LIBRARY, ids=lambda p: p.name)
def test_a_mirrored_pose_is_the_horizontal_mirror_of_the_original(pose):
    original = P.points(pose.as_dict(), pose.view, pose.facing)
    other = P.mirror(pose)
    mirrored = P.points(other.as_dict(), other.view, other.facing)
    for name, (x, y) in original.items():
        # The left hand goes where the right hand was (from the side, the figure has turned round).
        twin = re.sub(r"^(left|right)-", lambda m: "right-" if m.group(1) == "left" else "left-", name)
        mx, my = mirrored[twin]
        assert mx == pytest.approx(1 - x, abs=1e-9) and my == pytest.approx(y, abs=1e-9), (pose.name, name)


def test_lookup_gives_the_library_pose_or_the_mirror_of_its_other_side():
    assert P.lookup("horse stance") is P.LIBRARY["horse stance"]
    right = P.lookup("warrior two right")
    assert right == P.mirror(P.LIBRARY["warrior two left"]) and right.name == "warrior two right"
    assert P.lookup("tree left") is P.LIBRARY["tree left"]
    assert P.lookup("standing right") is None  # no "standing left" to mirror
    assert P.lookup("flying pigeon") is None
    assert "drawing the bow right" in P.pose_names()


def test_suggest_names_the_pose_a_misspelling_meant():
    assert P.suggest("hors stance") == "horse stance"
    assert P.suggest("arms over head") == "arms overhead"
    assert P.suggest("Drawing the bow rigth") == "drawing the bow right"
    assert P.suggest("qwertyuiop") is None
    assert P.suggest_joint("left-elbw") == "left-elbow" and P.suggest_joint("qwerty") is None
    assert P.suggest_joint("sidebend") == "side-bend"


def test_a_mirrored_pose_is_described_for_its_own_side():
    assert P.description("horse stance") == P.DESCRIPTIONS["horse stance"]
    right = P.description("drawing the bow right")
    assert right is not None and "the right arm pushes out to the right" in right
    assert "the left hand pulls back to the left shoulder" in right
    assert P.description("flying pigeon") is None


def test_arms_overhead_reach_above_standing():
    def highest(pose):
        pts = P.points(pose.as_dict(), pose.view)
        return min(y for _, y in pts.values())
    assert highest(P.LIBRARY["arms overhead"]) < highest(P.LIBRARY["standing"]) - 0.2
    # both stand on the same ground line
    assert P.points(P.LIBRARY["arms overhead"].as_dict())["left-toe"][1] == pytest.approx(
        P.points(P.LIBRARY["standing"].as_dict())["left-toe"][1])


def test_interpolate_runs_from_one_pose_to_the_other():
    a, b = P.LIBRARY["standing"], P.LIBRARY["arms overhead"]
    assert P.interpolate(a, b, 0) == a.as_dict()
    assert P.interpolate(a, b, 1) == b.as_dict()
    middle = P.interpolate(a, b, 0.5)
    assert middle["left-shoulder"] == pytest.approx((8 + 172) / 2)
    assert middle["lean"] == 0


def test_derive_and_from_angles_fill_the_joints_not_given():
    own = P.from_angles("my reach", {"left-shoulder": 120, "lean": 10}, "side")
    assert own.view == "side" and own.name == "my reach"
    assert own.angle("left-shoulder") == 120 and own.angle("lean") == 10
    assert own.angle("right-shoulder") == P.STANDING.angle("right-shoulder")
    wider = P.derive("wide horse", P.LIBRARY["horse stance"], {"left-hip": 45, "right-hip": 45})
    assert wider.angle("left-hip") == 45 and wider.angle("left-knee") == P.LIBRARY["horse stance"].angle("left-knee")
    assert wider.view == "front"
    with pytest.raises(ValueError, match="no joint is named 'elbow'"):
        P.from_angles("x", {"elbow": 10})


def test_max_speed_names_the_fastest_joint():
    joint, speed = P.max_speed(P.LIBRARY["standing"], P.LIBRARY["arms overhead"], 4)
    assert joint.name == "left-shoulder" and speed == pytest.approx((172 - 8) / 4)
    assert speed <= P.FASTEST_FOLLOWABLE  # the slow raise of the arms is followable
    assert P.max_speed(P.LIBRARY["standing"], P.LIBRARY["arms overhead"], 2)[1] > P.FASTEST_FOLLOWABLE
    assert P.max_speed(P.LIBRARY["cat"], P.LIBRARY["cat"], 0)[1] == 0


@pytest.mark.parametrize("pose", LIBRARY, ids=lambda p: p.name)
def test_every_library_pose_as_drawn_stays_in_the_unit_box_on_the_ground(pose):
    left, top, right, bottom = _drawn_extent(pose)
    assert 0 <= left and right <= 1 and 0 <= top, (left, top, right, bottom)
    assert bottom == pytest.approx(1.0)  # the lowest part rests on the ground line


def test_skeleton_dict_is_json_and_carries_the_ranges():
    data = json.loads(json.dumps(P.skeleton_dict()))
    assert data["lengths"]["thigh"] == P.SKELETON["thigh"]
    assert [j["name"] for j in data["joints"]] == [j.name for j in P.JOINTS]
    assert set(data["points"]) == set(P.points(P.STANDING.as_dict()))


def _node_points(cases: list[dict]) -> list[dict]:
    node = shutil.which("node") or "/usr/bin/node"
    if not Path(node).exists():
        pytest.skip("node is not installed")
    script = (
        "const F = require(process.argv[1]);"
        "let input = ''; process.stdin.on('data', d => input += d); process.stdin.on('end', () => {"
        "  const data = JSON.parse(input);"
        "  const out = data.cases.map(c => ({points: F.points(data.skeleton, c.angles, c.view, c.facing),"
        "    svg: F.svg(data.skeleton, F.points(data.skeleton, c.angles, c.view, c.facing), c.view, c.facing)}));"
        "  process.stdout.write(JSON.stringify(out)); });")
    done = subprocess.run([node, "-e", script, str(FIGURE_JS)], input=json.dumps(
        {"skeleton": P.skeleton_dict(), "cases": cases}), capture_output=True, text=True, check=True, timeout=60)
    return json.loads(done.stdout)


def test_the_page_s_javascript_places_every_point_where_python_does():
    poses = LIBRARY + [P.mirror(p) for p in LIBRARY if p.name.endswith(" left")]
    poses.append(P.from_angles("odd", {"twist": 30, "side-bend": -20, "lean": 40, "neck": 30}, "side"))
    cases = [{"angles": p.as_dict(), "view": p.view, "facing": p.facing} for p in poses]
    # Only some joints given: the rest are standing's, in JavaScript too.
    cases.append({"angles": {"left-shoulder": 90}, "view": "front", "facing": "right"})
    poses.append(P.from_angles("one arm", {"left-shoulder": 90}))
    results = _node_points(cases)
    for pose, result in zip(poses, results):
        expected = P.points(pose.as_dict(), pose.view, pose.facing)
        assert set(result["points"]) == set(expected)
        for name, (x, y) in expected.items():
            jx, jy = result["points"][name]
            assert abs(jx - x) < 1e-6 and abs(jy - y) < 1e-6, (pose.name, name)
        svg = result["svg"]
        # one head, the limbs as round-capped lines; from the side the far ones fainter
        assert svg.startswith('<g class="qidsl-figure"') and svg.count("<circle") == 1
        assert svg.count("<line") >= 14
        assert ("opacity:0.5" in svg) == (pose.view == "side")
        head = re.search(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)
        assert head and float(head.group(1)) == pytest.approx(expected["head"][0], abs=1e-4)


def test_the_poses_module_needs_only_the_standard_library():
    # `qidsl check` imports it, and must stay light (no numpy, no Pillow); the renderers import it
    # too, so it is a leaf (tests/test_layers.py): it imports nothing else of qidsl.
    code = ("import sys, qidsl.lang.poses as p; p.points(p.STANDING.as_dict());"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'PIL', 'moviepy', 'qidsl')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "['qidsl', 'qidsl.lang', 'qidsl.lang.poses']"
