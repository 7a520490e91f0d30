"""Whole `qidsl build` commands, timed and measured with every child process counted.

For the shipped routine (speech warm in the store, so no synthesis is timed) it prints:
  1. a full build into a store holding only speech: wall time, speed as a
     multiple of real time (target >= 25x at 1280x720@30), and the ratio to a
     baseline run here: one plain ffmpeg encode of a lavfi colour + drawtext
     clock of the same length, size, rate and x264 preset, with the narration
     to AAC (target: the build >= 2.3x faster than the baseline); and the
     store's size by product kind afterwards (what the default cap is set from);
  2. the rebuild after the words of one `say` cue change (target <= 2 s, all
     outputs, video included);
  3. the rebuild with nothing changed (target <= 0.3 s);
  4. peak memory of the whole build (the qidsl process and all its children,
     PSS summed, polled from /proc every 20 ms; RSS summed is printed beside it,
     see ``process_tree.memory`` for why it overstates) for the shipped routine and for a
     3-hour routine (the shipped routine's sections 19 times over; target
     <= 400 MB for both).

Every figure is one `qidsl build` command line run as a child process.  The
machine these were measured on is shared, so figures move by tens of percent
from run to run.

Usage:
  python benchmarks/incremental_build.py [--no-video] [--no-long] [--long-times N] [--keep DIR]

``--no-video`` measures everything without the video (the baseline is then
skipped); ``--no-long`` skips the 3-hour routine; ``--long-times`` sets how
many times over the shipped routine's sections it holds (default 19).

Figures, 2026-12-07 (branch graphperf, ``--no-long``).  Before it, on a quiet
spell: full build 23.2x real time, 2.40x the baseline, one-cue edit 2.12 s,
nothing changed 0.32 s, peak 339 MB.  After it no quiet spell came: four other
sessions kept the load average at 7 to 16 on the 2 cores, and wall times moved
by a factor of two from run to run (best full build 32.0 s = 17.7x at load 9-13,
typical 40-80 s; baseline / build 1.27 to 2.13, the baseline timed a minute
later under another load; edit best 3.3 s, typical 4.8-6.2 s; nothing changed
best 0.34 s at load 11, typical 0.7-0.95 s; peak 329-351 MB).  So the change was measured as CPU time of
the whole process tree (user + system, qidsl and every ffmpeg), main and the
branch interleaved in one script under the same load:

  full build       main 42.1 / 40.2 s    branch 34.3 s  (x264 children 24.4 -> 20.7 s,
                                                         the qidsl process 11.8 -> 9.1 s)
  nothing changed  main 0.20-0.22 s      branch 0.18-0.19 s
  one-cue edit     main 1.9-2.0 s        branch 2.1 s, with a shorter critical path:
                   planning the frames 0.37 -> 0.21 s, and the mix's loudness
                   (0.3 s) no longer between the mix and the narration's encode

What the CPU says for a quiet machine (an estimate, not a measurement): the
full build about 20.3 s = 28x real time and 2.8x the baseline; the edit
1.6-1.7 s; nothing changed about 0.27 s.  Measure again on a quiet spell.

Measured again on a quiet spell after the merges (2026-12-08, load average
1.4 at the start, `--no-long`): full build 20.1 s = 28.2x real time, baseline
46.4 s, ratio 2.31; peak 324 MB; one-cue edit 2.15 s (16 made); nothing
changed 0.18 s.  Where the edit's 2.2 s go (a trace of the store's writes):
start-up, parse and planning 0.66 s before the first segment starts; four
video segments on two encoders 0.66-1.94 s, beside the mix WAV (0.45 s), its
loudness (0.96 s of libebur128 over the whole 9.4 minutes, taking CPU from
the segments), the MP3 and the narration's AAC chunks; the MP4 join 0.42 s.
Next: the mix's loudness from per-run block energies (as music_mix keeps per
piece), so an edit measures only the run it changes.

Branch edit18 (2026-12-08): the one-cue edit's critical path is the mix, the
narration's chunk plan, its two chunk encodes and the MP4 join.  Traced, the
chunk plan took 0.3-0.4 s inside the edit although it takes 0.06 s alone:
the mix's loudness (libebur128, holding the interpreter's lock for 0.3 s of
CPU) and the MP3 ran beside it from the moment the mix was made.  Now a
background make takes a core only when no other make is waiting for one or
coming (planning or making its later inputs), so the loudness runs beside
the MP4's join (ffmpeg, about one core); and the build asks for the video's
narration beside the MP4, so its chunks are cut as soon as the mix is made,
not once the segments are planned.  No quiet spell came (load average 4-8
throughout), so main's code and the branch's were run interleaved over one
store snapshot, one-cue edit only (min / median of 10): load about 6,
1.94 / 2.15 s -> 1.71 / 1.90 s; an earlier, lighter spell (load about 4),
1.82 -> 1.42 s (min of 8).  Under heavy load the edit's CPU (2.0 s, user +
system of the whole tree) bounds it, not the order.  The full build does the
same work (31.6-35 s of CPU in both; the loudness now overlaps the join
instead of the encoders).  Tried and dropped: reading the WAV through a
memory map for the plan (0.056 s against 0.060 s alone, nothing in the
build), libebur128 without the interpreter's lock (ctypes; no difference).
This script on the branch at load 5-8 (``--no-long``): full build 29.9 s =
18.9x real time, baseline 58.6 s, ratio 1.96; peak 350 MB; one-cue edit
2.32 s (15 made); nothing changed 0.28 s.

Merged on main with the backdrop round, quiet machine (load 1 to 4), three
runs of ``--no-long``: full build 18.4 / 19.8 / 21.6 s = 30.7x / 28.6x /
26.3x real time, baseline 47.3 / 40.4 / 45.2 s, ratio 2.57 / 2.04 / 2.10
(target 2.3: met once); peak 324-325 MB; one-cue edit 3.27 s (8 video
segments) / 1.54 s (1) / 1.89 s (3); nothing changed 0.17 / 0.16 / 0.23 s.
Which segments an edit remakes depends on the new cue's synthesised length
(Piper's varies a little from one synthesis to the next): a longer cue that
moves the routine's length remakes the title and end cards too (they show
it).  The edit from a kept store snapshot (the same cue, 3 trials): 1.56 to
1.67 s, one segment.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from process_tree import PeakMemory  # noqa: E402  (beside this file)

ROUTINE = ROOT / "routines" / "rolling-the-hands-backwards.qi"
EDIT = ("Feel the weight settle into your feet.", "Feel your weight settle down into the feet.")


def run(command: list[str], env: dict | None = None) -> tuple[float, PeakMemory, str]:
    """(wall seconds, peak memory of the whole process tree, stderr) of ``command``."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
    with PeakMemory(process.pid) as peak:
        _, err = process.communicate()
        elapsed = time.monotonic() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{err}")
    return elapsed, peak, err


def baseline(seconds: float, narration: Path, out: Path) -> float:
    """Seconds ffmpeg alone takes for a lavfi colour + drawtext clock of the same shape (1280x720@30)."""
    from render_speed import baseline as lavfi_baseline  # the one baseline every video benchmark uses

    from qidsl.renderers.video import PRESET

    return lavfi_baseline(seconds, str(narration), out, 1280, 720, 30, PRESET)


def long_routine(work: Path, times: int = 19) -> Path:
    """The shipped routine's sections ``times`` over (sections and sequences numbered): 19 times, about 3 hours."""
    text = ROUTINE.read_text(encoding="utf-8")
    head, _, body = text.partition('section "')
    body = 'section "' + body
    copies = [re.sub(r'(section|define|do) "([^"]+)"', lambda m: f'{m.group(1)} "{m.group(2)} {i + 1}"', body)  # noqa: B023
              for i in range(times)]
    path = work / "long-routine.qi"
    path.write_text(head + "\n".join(copies), encoding="utf-8")
    return path


def keep_only_speech(store: Path) -> None:
    """Empty the store of every product but speech (so synthesis is never what is timed)."""
    for kind in store.iterdir() if store.is_dir() else ():
        if kind.is_dir() and kind.name != "speech":
            shutil.rmtree(kind, ignore_errors=True)


def store_sizes(store: Path) -> str:
    from qidsl.store import Store

    sizes = sorted(Store(store).sizes().items(), key=lambda item: -item[1][1])
    total = sum(size for _, (_, size) in sizes)
    return f"{total / 2 ** 20:.0f} MiB (" + ", ".join(f"{kind} {size / 2 ** 20:.1f}" for kind, (_, size) in sizes) + ")"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-video", action="store_true")
    parser.add_argument("--no-long", action="store_true")
    parser.add_argument("--long-times", type=int, default=19)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # each figure shows as soon as it is measured
    work = args.keep or Path(tempfile.mkdtemp(prefix="qidsl-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    qidsl = [sys.executable, "-m", "qidsl.cli", "build"]
    video = ["--no-video"] if args.no_video else []
    cache, out = work / "cache", work / "out"
    routine = work / ROUTINE.name
    shutil.copy(ROUTINE, routine)

    # Warm the speech cache (not timed), then empty the product store.
    run(qidsl + [str(routine), "--no-video", "--out", str(work / "warm"), "--cache-dir", str(cache)])
    edited = routine.read_text(encoding="utf-8").replace(*EDIT)
    routine.write_text(edited, encoding="utf-8")
    run(qidsl + [str(routine), "--no-video", "--out", str(work / "warm"), "--cache-dir", str(cache)])
    routine.write_text(ROUTINE.read_text(encoding="utf-8"), encoding="utf-8")
    keep_only_speech(cache)

    command = qidsl + [str(routine), "--out", str(out), "--cache-dir", str(cache), "--wav"] + video
    full, full_peak, _ = run(command)
    length = float(re.search(r'"duration": ([\d.]+)', (out / routine.stem / f"{routine.stem}.timeline.json")
                             .read_text(encoding="utf-8")).group(1))
    print(f"routine: {routine.name}, {length / 60:.1f} min{' (no video)' if video else ', 1280x720@30'}")
    print(f"1. full build, warm speech, store otherwise empty: {full:.1f}s = {length / full:.1f}x real time "
          f"(target >= 25x); peak memory {full_peak} (target <= 400 MB)")
    print(f"   store after it: {store_sizes(cache)}")
    if not args.no_video:
        base = baseline(length, out / routine.stem / f"{routine.stem}.wav", work / "baseline.mp4")
        print(f"   baseline, one plain ffmpeg encode (lavfi colour + drawtext, same length/size/rate/preset): "
              f"{base:.1f}s = {length / base:.1f}x real time; baseline / build = {base / full:.2f} (target >= 2.3)")

    routine.write_text(edited, encoding="utf-8")
    edit, edit_peak, err = run(command)
    made = re.search(r"products: (.*)", err)
    print(f"2. rebuild after one say cue's words changed: {edit:.2f}s (target <= 2 s); "
          f"{made.group(1) if made else '?'}; ratio to the full build {edit / full:.3f}")
    same, _, err = run(command)
    print(f"3. rebuild with nothing changed: {same:.2f}s (target <= 0.3 s); ratio to the full build "
          f"{same / full:.3f}; {'up to date' if 'up to date' in err else 'NOT up to date'}")

    if not args.no_long:
        long = long_routine(work, args.long_times)
        run(qidsl + [str(long), "--no-video", "--out", str(work / "warm"), "--cache-dir", str(cache)])
        keep_only_speech(cache)
        seconds, peak, _ = run(qidsl + [str(long), "--out", str(out), "--cache-dir", str(cache), "--wav"] + video)
        long_length = float(re.search(r'"duration": ([\d.]+)', (out / long.stem / f"{long.stem}.timeline.json")
                                      .read_text(encoding="utf-8")).group(1))
        print(f"4. {long_length / 60:.0f}-minute routine, full build: {seconds:.1f}s = {long_length / seconds:.1f}x "
              f"real time; peak memory {peak} (target <= 400 MB); the shipped routine's peak was "
              f"{full_peak.pss / 1e6:.0f} MB, ratio {peak.pss / max(full_peak.pss, 1):.2f}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
