"""Write docs/poses.md and a picture of every library pose, docs/poses/NAME.png, from the code.

    .venv/bin/python docs/make_pose_pictures.py

Run it after changing the poses (qidsl/lang/poses.py) or the figure's drawing
(qidsl/renderers/figure.py); tests/test_poses_docs.py fails until the page and
the pictures are what this script makes.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qidsl.lang import poses as P  # noqa: E402
from qidsl.renderers.figure import figure_picture  # noqa: E402
from qidsl.renderers.themes import THEMES  # noqa: E402

DOCS = Path(__file__).resolve().parent
PICTURES = DOCS / "poses"
PAGE = DOCS / "poses.md"
SIZE = (150, 168)  # small: the page shows 41 of them
THEME = THEMES["light"]  # dark figures on paper, as the printed class sheet has them


def file_name(pose_name: str) -> str:
    """"child's pose" -> "childs-pose.png"."""
    return re.sub(r"[^a-z0-9]+", "-", pose_name.replace("'", "")).strip("-") + ".png"


def picture(pose: P.Pose) -> np.ndarray:
    """The pose's picture as RGB pixels (what the PNG holds)."""
    return figure_picture(pose.as_dict(), pose.view, pose.facing, SIZE, THEME.accent, THEME.background)


def _range(value: float) -> str:
    return f"{value:g}°" if value >= 0 else f"−{-value:g}°"


def markdown() -> str:
    """docs/poses.md."""
    fast = f"{P.FASTEST_FOLLOWABLE:g}"
    lines = [
        "# Poses: the figure",
        "",
        "<!-- Made by docs/make_pose_pictures.py from qidsl/lang/poses.py: edit those, then run it. -->",
        "",
        "The video and the practice page can show a simple figure that moves with the breath. A **pose**",
        "is an angle for each of the figure's joints, seen from the front or from the side. The figure",
        "stands (or sits, kneels, lies) on the ground line: its lowest part rests on it, whatever the pose.",
        "How a routine sets the figure's pose and moves it over a breath phase is in",
        "[language.md](language.md); this page lists the poses qidsl knows and how to make your own.",
        "",
        "## The joints",
        "",
        "Angles are in degrees. From the front, a joint turns its part out to the side (the figure's left",
        "is on your right); from the side, forward (the figure faces right, or left when mirrored). A",
        "joint's range is what a person's joint can do (the American Academy of Orthopaedic Surgeons'",
        "average ranges of motion), so `check` reports an angle outside it.",
        "",
        "| Joint | Range | What it bends |",
        "|---|---|---|",
    ]
    for joint in P.JOINTS:
        lines.append(f"| `{joint.name}` | {_range(joint.minimum)} to {_range(joint.maximum)} | {joint.bends} |")
    standing = ", ".join(f"`{name}` {value:g}" for name, value in P.STANDING.angles if value)
    lines += [
        "",
        "## Your own poses",
        "",
        "A routine can define a pose from angles, or start from a library pose and change some of them.",
        f"Joints a new pose does not name keep the angles of `standing` ({standing}; every other joint 0);",
        "a pose started from another keeps that pose's angles and view.",
        "",
        "A pose named for the left (its name ends in \" left\") gives the right: `{side}` in an `each side`",
        "block, or the name ending in \" right\", mirrors it (left and right joints swapped, the twist and",
        "the side bend turned the other way, a figure seen from the side turned round).",
        "",
        f"`check` warns when a move turns a joint faster than {fast}° a second: {P.FASTEST_FOLLOWABLE_REASON}.",
        "Faster than that is a swing, not a move a person copies from a screen while breathing with it.",
        "",
        "## The library",
        "",
        f"{len(P.LIBRARY)} poses. Each one named \"… left\" also comes as \"… right\", its mirror.",
        "",
        "| | Pose | What it is |",
        "|---|---|---|",
    ]
    for name, pose in P.LIBRARY.items():
        seen = "from the front" if pose.view == "front" else "from the side"
        lines.append(f"| ![{name}](poses/{file_name(name)}) | **{name}** | {P.DESCRIPTIONS[name]} "
                     f"Seen {seen}. |")
    return "\n".join(lines) + "\n"


def main() -> None:
    PICTURES.mkdir(exist_ok=True)
    wanted = set()
    for name, pose in P.LIBRARY.items():
        path = PICTURES / file_name(name)
        wanted.add(path.name)
        # A palette of 32 colours: the figure's edges blend two colours, so nothing is lost.
        Image.fromarray(picture(pose)).quantize(32, dither=Image.Dither.NONE).save(path, optimize=True)
    for stale in PICTURES.glob("*.png"):
        if stale.name not in wanted:
            stale.unlink()
    PAGE.write_text(markdown(), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(DOCS.parent)} and {len(wanted)} pictures in {PICTURES.relative_to(DOCS.parent)}/")


if __name__ == "__main__":
    main()
