"""The figure: what drawing it costs a full build of the shipped routine, timed and measured.

Prints, for the shipped routine with a pose on every breath phase (every
`inhale`, `exhale`, `hold` and `stay` moves the figure: the worst case), and the
same routine with every pose taken out, both built in full (video included,
720p) in the same run into stores that already hold the speech (so no
synthesis is timed):
  1. the wall time of each build and their ratio (the build with the figure as
     a multiple of the speed of the build without; the target is at least 0.7x);
  2. the peak memory of each whole build (the qidsl process and all its
     children, PSS summed; see benchmarks/process_tree.py; target at most 400 MB).

Usage: python benchmarks/figure_speed.py [--resolution 1080p]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from process_tree import PeakMemory  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "routines" / "rolling-the-hands-backwards.qi"
QIDSL = [sys.executable, "-c", "import sys; from qidsl.cli import main; sys.exit(main())"]
# The pose each kind of phase moves to when it names none: the hands float up on the in-breath,
# press down on the out-breath, stay where they are on a hold and rest on the Dan Tian on a stay.
TARGETS = {"inhale": "hands at the chest", "exhale": "pressing down", "hold": "hands at the chest",
           "stay": "hands at the dan tian"}
_PHASE = re.compile(r'^(\s*(inhale|exhale|hold|stay)\s[^#\n]*?)(\s+to\s+"[^"]*")?(\s*#.*)?$', re.M)


def without_poses(text: str) -> str:
    """The routine with every `pose` line and every `to "…"` taken out."""
    text = re.sub(r'^\s*pose\s.*\n', "", text, flags=re.M)
    return _PHASE.sub(lambda m: m.group(1) + (m.group(4) or ""), text)


def posed_everywhere(text: str) -> str:
    """The routine with a `to "…"` on every breath phase that has none (those that have one keep it)."""
    return _PHASE.sub(lambda m: m.group(1) + (m.group(3) or f' to "{TARGETS[m.group(2)]}"') + (m.group(4) or ""),
                      text)


def build(folder: Path, name: str, cache: Path, resolution: str, video: bool = True) -> tuple[float, PeakMemory]:
    started = time.monotonic()
    command = [*QIDSL, "build", f"{name}.qi", "--out", "out", "--cache-dir", str(cache), "--resolution", resolution]
    if not video:
        command.append("--no-video")
    process = subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with PeakMemory(process.pid) as peak:
        _, err = process.communicate()
    if process.returncode:
        raise SystemExit(err)
    return time.monotonic() - started, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resolution", default="720p", choices=("720p", "1080p"))
    args = parser.parse_args()
    text = SHIPPED.read_text(encoding="utf-8")
    plain, posed = without_poses(text), posed_everywhere(text)
    phases = len(re.findall(r"^\s*(?:inhale|exhale|hold|stay)\s", text, re.M))
    assert posed.count(' to "') == phases and ' to "' not in plain and "pose " not in plain
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "plain.qi").write_text(plain, encoding="utf-8")
        (folder / "posed.qi").write_text(posed, encoding="utf-8")
        speech = folder / "speech"
        build(folder, "plain", speech, args.resolution, video=False)  # synthesises the speech once
        for path in speech.iterdir():  # keep only the speech
            if path.is_dir() and path.name != "speech":
                shutil.rmtree(path)
        stores = {name: folder / f"store-{name}" for name in ("plain", "posed")}
        for store in stores.values():
            shutil.copytree(speech, store)
        plain_time, plain_peak = build(folder, "plain", stores["plain"], args.resolution)
        posed_time, posed_peak = build(folder, "posed", stores["posed"], args.resolution)
        print(f"shipped routine, full build at {args.resolution} ({phases} breath phases, each moving the figure):")
        print(f"  without poses {plain_time:.1f} s, with the figure {posed_time:.1f} s: "
              f"{plain_time / posed_time:.2f}x the speed (target at least 0.7x)")
        print(f"  peak memory without poses {plain_peak}")
        print(f"  peak memory with the figure {posed_peak} (target at most 400 MB)")


if __name__ == "__main__":
    main()
