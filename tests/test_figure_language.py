"""The figure in the language: `pose`, `… to "pose"`, pose definitions, `figure:`, through to the scene track."""

from __future__ import annotations

from qidsl.compile import compile_routine
from qidsl.lang import poses
from qidsl.lang.formatter import format_routine
from qidsl.lang.loader import Loader
from qidsl.lang.parser import parse_text
from qidsl.renderers.scene import scene_dict, scene_track
from qidsl.timeline import POSE


def _compiled(body: str, settings: str = ""):
    result = compile_routine("f.qi", Loader(), text=f'title: "F"\n{settings}\n{body}')
    assert not result.errors, [d.message for d in result.errors]
    return result


def _poses(body: str, settings: str = "") -> list[tuple[str, str | None]]:
    """(step kind, pose name) of each step that sets or moves the figure."""
    steps = _compiled(body, settings).expanded.steps
    return [(s.kind, s.pose.name) for s in steps if s.pose is not None]


def test_pose_and_to_parse_and_format_back_the_same():
    text = ('title: "F"\n\npose   "wide bow left"  from "drawing the bow left" :  left-elbow 150,right-shoulder −20°\n'
            'pose "my stance": left-hip 20\n\nsection "A":\n    pose "standing"\n'
            '    inhale 4s "Up."   to  "arms overhead"\n    stay 2s to "standing"\n')
    parsed = parse_text(text)
    assert not parsed.diagnostics
    formatted = format_routine(parsed.routine, text.split("\n"))
    assert 'pose "wide bow left" from "drawing the bow left": left-elbow 150, right-shoulder -20\n' in formatted
    assert '    inhale 4s "Up." to "arms overhead"\n' in formatted
    assert parse_text(formatted).routine == parsed.routine


def test_each_side_mirrors_the_pose_named_with_side():
    found = _poses('section "Bow":\n    pose "horse stance"\n    each side left, right:\n'
                   '        inhale 4s "Draw." to "drawing the bow {side}"\n        exhale 4s to "horse stance"\n')
    assert found == [(POSE, "horse stance"), ("inhale", "drawing the bow left"), ("exhale", "horse stance"),
                     ("inhale", "drawing the bow right"), ("exhale", "horse stance")]
    steps = [s for s in _compiled('section "Bow":\n    each side left, right:\n'
                                  '        stay 4s to "drawing the bow {side}"\n').expanded.steps if s.pose]
    assert steps[1].pose == poses.mirror(steps[0].pose)
    assert steps[0].pose == poses.LIBRARY["drawing the bow left"]


def test_a_defined_sequence_carries_its_poses_through_repeat():
    found = _poses('define "heavens":\n    inhale 4s to "arms overhead"\n    exhale 4s to "standing"\n\n'
                   'section "A":\n    repeat 2:\n        do "heavens"\n')
    assert found == [("inhale", "arms overhead"), ("exhale", "standing")] * 2


def test_a_defined_pose_changes_its_base_and_mirrors_like_a_library_pose():
    compiled = _compiled('pose "wide bow left" from "drawing the bow left": left-elbow 140\n'
                         'pose "mine": left-hip 20\n\n'
                         'section "A":\n    each side left, right:\n        stay 4s to "wide bow {side}"\n'
                         '    pose "mine"\n')
    left, right, mine = [s.pose for s in compiled.expanded.steps if s.pose is not None]
    base = poses.LIBRARY["drawing the bow left"].as_dict()
    assert left.as_dict() == dict(base, **{"left-elbow": 140.0})
    assert right == poses.mirror(left) and right.name == "wide bow right"
    assert mine.as_dict() == dict(poses.STANDING.as_dict(), **{"left-hip": 20.0})  # from standing


def test_the_scene_track_holds_the_figure_from_its_first_pose_to_the_end_card():
    compiled = _compiled('section "A":\n    say "Stand."\n    pose "standing"\n    stay 2s\n'
                         '    inhale 4s to "arms overhead"\n    exhale 4s to "standing"\n')
    timeline = compiled.estimate
    track = scene_track(timeline, ())
    windows = track.figure
    outro = next(e for e in timeline.events if e.kind == "outro")
    stay = next(e for e in timeline.events if e.kind == "stay")
    assert windows[0].start == stay.start and windows[-1].end == outro.start
    assert all(a.end == b.start for a, b in zip(windows, windows[1:]))  # back to back
    moves = [w for w in windows if w.a != w.b]
    assert [(w.pose, round(w.end - w.start, 3)) for w in moves] == [("arms overhead", 4.0), ("standing", 4.0)]
    assert moves[0].angles(0.0) == poses.STANDING.angles and moves[0].angles(1.0) == poses.LIBRARY[
        "arms overhead"].angles
    still = windows[0]
    assert still.a == still.b == poses.STANDING.angles and still.pose == "standing"
    figure = scene_dict(track)["figure"]
    assert figure["skeleton"] == poses.skeleton_dict()
    assert figure["windows"][1]["to"] == poses.LIBRARY["arms overhead"].as_dict()
    assert figure["windows"][1]["ease"] == "cosine"


def test_figure_none_and_a_routine_without_poses_have_no_figure():
    body = 'section "A":\n    pose "standing"\n    inhale 4s to "arms overhead"\n'
    assert _compiled(body).estimate.figure
    off = _compiled(body, "figure: none").estimate
    assert off.figure == () and "figure" not in scene_dict(scene_track(off, ()))
    plain = _compiled('section "A":\n    inhale 4s\n').estimate
    assert "figure" not in scene_dict(scene_track(plain, ()))


def test_a_move_before_any_pose_starts_from_standing():
    windows = scene_track(_compiled('section "A":\n    inhale 4s to "arms overhead"\n').estimate, ()).figure
    assert windows[0].a == poses.STANDING.angles and windows[0].b == poses.LIBRARY["arms overhead"].angles


def test_the_language_server_completes_pose_names_after_pose_and_to():
    from qidsl.lsp.features import analyse, complete

    text = ('title: "T"\npose "my bow left" from "drawing the bow left": left-elbow 100\n'
            'section "A":\n    pose "hor\n    inhale 4s "Up." to "arms\n')
    doc = analyse("/tmp/figure-completion.qi", text)
    after_pose = complete(doc, 4, 15)
    assert after_pose[0].label == "my bow left" and after_pose[0].detail == "a pose of the routine"
    assert "horse stance" in [c.label for c in after_pose] and after_pose[0].text == '"my bow left"'
    after_to = complete(doc, 5, 29)
    assert "arms overhead" in [c.label for c in after_to]


def test_the_figure_is_off_where_a_backdrop_shows():
    from qidsl.renderers.scene import hide_figure

    compiled = _compiled('section "A":\n    pose "standing"\n    stay 4s\n    inhale 4s to "arms overhead"\n'
                         '    stay 4s\n    exhale 4s to "standing"\n')
    windows = scene_track(compiled.estimate, ()).figure
    still, rise, held, fall = windows[0], windows[1], windows[2], windows[3]
    # A backdrop over the rise and the first half of the held pose: the rise is gone, the pose is cut.
    shown = hide_figure(windows, [(rise.start, held.start + 2.0)])
    assert shown[0] == still and rise not in shown
    assert (shown[1].start, shown[1].end, shown[1].b) == (held.start + 2.0, held.end, held.b)
    assert shown[2:] == windows[3:] and fall in shown
    assert hide_figure(windows, []) == windows


def test_diff_names_a_changed_pose():
    from qidsl.diff import diff_compiled

    old = 'title: "F"\n\nsection "A":\n    pose "standing"\n    inhale 4s "Up." to "arms overhead"\n'
    new = old.replace('to "arms overhead"', 'to "palms pressing up"').replace('pose "standing"', 'pose "mountain"')
    changes = diff_compiled(compile_routine("a.qi", Loader(), text=old), compile_routine("b.qi", Loader(), text=new))
    assert [(c.before, c.after) for c in changes.steps] == [
        ('pose "standing"', 'pose "mountain"'),
        ('inhale 4s "…" to "arms overhead"', 'inhale 4s "…" to "palms pressing up"')]


def test_a_slow_move_takes_fewer_steps_a_second_on_the_disks_beat():
    from qidsl.renderers.scene import FIGURE_STEP_DEGREES

    windows = scene_track(_compiled('section "A":\n    pose "standing"\n    inhale 4s to "arms overhead"\n'
                                    '    stay 60s to "hands at the dan tian"\n').estimate, ()).figure
    quick, slow = [w for w in windows if w.a != w.b]
    assert quick.steps == 15 and slow.steps in (1, 3, 5)
    # No joint turns more than the limit in one step of the slow move.
    times = [slow.start + k / slow.steps for k in range(round((slow.end - slow.start) * slow.steps) + 1)]
    angles = [dict(slow.at(t)) for t in times]
    assert max(abs(b[j] - a[j]) for a, b in zip(angles, angles[1:]) for j in a) <= FIGURE_STEP_DEGREES
