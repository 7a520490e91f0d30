"""A programme of eight routines built with -j 1, -j 2 and through a local two-worker Dask cluster.

Prints each build's wall time and its ratio to the -j 1 build run here, and
the cluster's overhead per task two ways: a no-op task's round trip on a
local two-process cluster (submit to result, one after another), and the
cluster build's time over the -j 2 build's divided by the tasks it sent.
Each build is one ``qidsl build`` command run as a child process, into a
store holding only the speech (made once first), so synthesis is not timed
and every build makes the same products.  The machine is shared, so the
figures move by tens of percent from run to run.

Usage:
  python benchmarks/studio_build.py [--video] [--keep DIR]

Needs qidsl[cluster] (dask.distributed).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DAYS = 8


def _write_programme(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for day in range(1, DAYS + 1):
        (folder / f"day-{day:02d}.qi").write_text(
            f'title: "Day {day}"\n\nsection "Arriving":\n    say "Day {day}. Stand tall and let the shoulders drop."\n'
            f'    bell 2s\n    pause 2s\n\nsection "Breathing":\n    repeat {day + 2}:\n'
            '        inhale 3s "Breathe in slowly."\n        exhale 4s "And out."\n\n'
            'section "Closing":\n    say "Rest here for a moment."\n    bell 3s\n', encoding="utf-8")


def _build(folder: Path, out: Path, cache: Path, speech: Path, extra: list[str], video: bool) -> float:
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    shutil.copytree(speech, cache / "speech")
    command = [sys.executable, "-m", "qidsl.cli", "build", str(folder), "--out", str(out), "--cache-dir", str(cache),
               *([] if video else ["--no-video"]), *extra]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"build failed ({' '.join(extra)}):\n{done.stderr}")
    return seconds


def _task_round_trip(tasks: int = 200) -> float:
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.submit(len, "warm", pure=False).result()
        started = time.perf_counter()
        for i in range(tasks):
            client.submit(len, str(i), key=f"noop-{i}").result()
        return (time.perf_counter() - started) / tasks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", action="store_true", help="also make each routine's video")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and leave it")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="qidsl-studio-"))
    try:
        folder = work / "thirty-days"
        _write_programme(folder)
        warm = work / "warm-cache"
        subprocess.run([sys.executable, "-m", "qidsl.cli", "build", str(folder), "--no-video", "-j", "2",
                        "--out", str(work / "warm"), "--cache-dir", str(warm)], check=True, capture_output=True)
        speech = warm / "speech"
        out, cache = work / "out", work / "cache"
        times = {}
        for label, extra in (("-j 1", ["-j", "1"]), ("-j 2", ["-j", "2"]),
                             ("--cluster local:2", ["-j", "2", "--cluster", "local:2"])):
            times[label] = _build(folder, out, cache, speech, extra, args.video)
            print(f"{DAYS} routines, {label:<18} {times[label]:6.2f} s  "
                  f"({times['-j 1'] / times[label]:.2f}x the -j 1 build)", flush=True)
        tasks = sum(1 for p in cache.rglob("*") if p.is_file() and p.parent.parent.name not in ("speech", "build"))
        per_task = _task_round_trip()
        print(f"cluster overhead: a no-op task's round trip {per_task * 1000:.1f} ms; the cluster build "
              f"{times['--cluster local:2'] - times['-j 2']:+.2f} s against -j 2 over {tasks} products "
              f"({(times['--cluster local:2'] - times['-j 2']) / max(1, tasks) * 1000:+.1f} ms a product, "
              "the local cluster's start-up included)")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
