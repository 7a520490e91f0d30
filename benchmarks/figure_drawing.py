"""How long the figure takes to draw: milliseconds per patch, against the breath pacer's disk.

Prints, for a figure's box in a 1280x720 frame (320x360) and in a 1920x1080
one (480x540):
  - drawing a pose from nothing (the cache cleared first), over every library
    pose and over a 4-second raise of the arms at 15 steps a second (60
    patches: what one moving breath phase costs at most), best of 5;
  - the same patch from the cache (a still pose, the same move repeated);
  - the baseline, in this process: the pacer disk's coverage at the frame's
    largest radius (the one moving part every breath frame draws already),
    and how many times longer a figure takes.

No target of its own: the build's speed with the figure on every breath phase
is the figure's target (issue 21: at least 0.7x of the build without).
Usage: python benchmarks/figure_drawing.py
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qidsl.lang import poses as P  # noqa: E402
from qidsl.renderers import figure as F  # noqa: E402
from qidsl.renderers.pacer import DiskPatch  # noqa: E402
from qidsl.renderers.video_layers import Layout  # noqa: E402


def best(function, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(width: int, height: int, box: tuple[int, int]) -> None:
    standing, overhead = P.LIBRARY["standing"], P.LIBRARY["arms overhead"]
    move = [P.interpolate(standing, overhead, 0.5 - 0.5 * math.cos(math.pi * i / 59)) for i in range(60)]
    library = [(p.as_dict(), p.view, p.facing) for p in P.LIBRARY.values()]
    layout = Layout(width, height)
    disk = DiskPatch(layout.pacer_box, layout.pacer_centre, (255, 255, 255))

    def draw_library():
        F._cropped.cache_clear()
        for angles, view, facing in library:
            F.figure_coverage(angles, view, facing, box)

    def draw_move():
        F._cropped.cache_clear()
        for angles in move:
            F.figure_coverage(angles, "front", "right", box)

    def cached():
        for angles in move:
            F.figure_coverage(angles, "front", "right", box)

    def baseline():
        for _ in range(60):
            disk.coverage(layout.pacer_max_radius)

    draw_move()
    per_library = best(draw_library) / len(library) * 1000
    per_move = best(draw_move) / len(move) * 1000
    per_cached = best(cached) / len(move) * 1000
    per_disk = best(baseline) / 60 * 1000
    print(f"{width}x{height}, figure box {box[0]}x{box[1]}:")
    print(f"  library poses drawn   {per_library:6.2f} ms a patch")
    print(f"  raising the arms      {per_move:6.2f} ms a patch  ({per_move / per_disk:.1f}x the pacer disk)")
    print(f"  from the cache        {per_cached:6.3f} ms a patch")
    print(f"  baseline: pacer disk  {per_disk:6.2f} ms a patch (radius {layout.pacer_max_radius:.0f} px)")


def main() -> None:
    measure(1280, 720, (320, 360))
    measure(1920, 1080, (480, 540))


if __name__ == "__main__":
    main()
