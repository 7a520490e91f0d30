"""docs/poses.md and its pictures are what docs/make_pose_pictures.py makes from the code now,
so the page's joints, ranges and poses cannot drift from qidsl/lang/poses.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from PIL import Image

from qidsl.lang import poses as P

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_pose_pictures", ROOT / "docs" / "make_pose_pictures.py")
assert _spec is not None and _spec.loader is not None
make = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make)

RERUN = "run .venv/bin/python docs/make_pose_pictures.py"


def test_the_poses_page_is_what_the_script_writes():
    page = (ROOT / "docs" / "poses.md").read_text(encoding="utf-8")
    assert page == make.markdown(), RERUN
    for joint in P.JOINTS:
        assert f"| `{joint.name}` |" in page
    for name in P.LIBRARY:
        assert f"**{name}**" in page


def test_every_library_pose_has_its_picture_as_the_figure_draws_it_now():
    pictures = ROOT / "docs" / "poses"
    assert {p.name for p in pictures.glob("*.png")} == {make.file_name(n) for n in P.LIBRARY}, RERUN
    for name, pose in P.LIBRARY.items():
        path = pictures / make.file_name(name)
        assert path.stat().st_size < 4000, f"{path.name} should be a small picture"
        stored = np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)
        # The pictures are stored with a palette of 32 colours: within a few levels of the drawing.
        assert np.abs(stored - make.picture(pose)).max() <= 12, f"{path.name}: {RERUN}"


def test_picture_names_are_plain_file_names():
    assert make.file_name("child's pose") == "childs-pose.png"
    assert make.file_name("drawing the bow left") == "drawing-the-bow-left.png"
