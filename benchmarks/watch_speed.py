"""From saving a one-cue edit to the practice page reloaded with it, under `qidsl watch`.

Prints, for the shipped routine (9.4 minutes, 45 cues):
  - each of several one-cue edits: the wall time from writing the file to an
    open page (Debian's headless chromium) having reloaded with the new words
    and its audio ready to play (readyState >= 1); the median of them; and the
    same for the edit back to the original words, which the speech cache
    holds (everything but speaking the cue);
  - the baseline, in the same run: the wall time of `qidsl build --no-video`
    (a new process, every child counted) after the same kind of one-cue edit,
    with every other cue already in the speech cache; and the ratio.

The watch process is started first and given its first build and voice
load before any edit is timed (that is what "keep the engine warm" buys).
Target on this 2-core machine: <= 1 s from save to reloaded page.
Figures are noisy on a shared machine.

Usage: python benchmarks/watch_speed.py [EDITS]
"""

from __future__ import annotations

import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import ARGS, CHROMIUM, wait_until  # noqa: E402

SHIPPED = ROOT / "routines" / "rolling-the-hands-backwards.qi"
CUE = "Feel the weight settle into your feet."
QIDSL = [sys.executable, "-m", "qidsl.cli"]


def edited(text: str, n: int, tag: str) -> str:
    return text.replace(CUE, f"Feel the weight settle, {tag} {n}.")


def main() -> None:
    edits = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="qidsl-watch-bench-"))
    try:
        routine = work / SHIPPED.name
        original = SHIPPED.read_text(encoding="utf-8")
        routine.write_text(original, encoding="utf-8")
        cache = ROOT / "build" / ".cache"  # shared with `make demo`: the unchanged cues are already there
        common = ["--out", str(work / "out"), "--cache-dir", str(cache)]

        run = uuid.uuid4().hex[:6]  # new words every run: the shared cache has never heard them
        # Baseline: a full --no-video build after a one-cue edit (the other cues cached).
        subprocess.run(QIDSL + ["build", str(routine), "--no-video"] + common, check=True,
                       capture_output=True)
        routine.write_text(edited(original, 0, f"baseline {run}"), encoding="utf-8")
        started = time.perf_counter()
        subprocess.run(QIDSL + ["build", str(routine), "--no-video"] + common, check=True, capture_output=True)
        baseline = time.perf_counter() - started
        routine.write_text(original, encoding="utf-8")

        watch = subprocess.Popen(QIDSL + ["watch", str(routine), "--port", "0"] + common, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True,
                                 preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        err: list[str] = []
        threading.Thread(target=lambda: [err.append(line) for line in watch.stderr], daemon=True).start()
        url = re.search(r"http://127\.0\.0\.1:\d+/", watch.stdout.readline()).group(0)
        while not any("for saves" in line for line in err):
            if watch.poll() is not None:
                raise SystemExit("qidsl watch stopped:\n" + "".join(err))
            time.sleep(0.05)
        times = []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page()
                page.goto(url)
                cached_times = []
                for n in range(1, edits + 1):
                    for words, text, into in (
                            (f"Feel the weight settle, edit {run} {n}.", edited(original, n, f"edit {run}"), times),
                            (CUE, original, cached_times)):  # back to the words the cache already holds
                        wait_until(page, "() => document.getElementById('audio')?.readyState >= 1", 120)
                        page.evaluate("() => { window.oldPage = true; }")
                        time.sleep(0.3)
                        started = time.perf_counter()
                        routine.write_text(text, encoding="utf-8")
                        wait_until(page, "() => !window.oldPage && "
                                   "document.getElementById('audio')?.readyState >= 1 && "
                                   f"document.querySelector('.sheet')?.textContent.includes({words!r})", 120)
                        into.append(time.perf_counter() - started)
                    print(f"edit {n}: save -> page reloaded with a new cue in {times[-1]:.2f}s; "
                          f"with a cue already in the cache in {cached_times[-1]:.2f}s", flush=True)
                browser.close()
        finally:  # never leave the watch running
            watch.send_signal(signal.SIGINT)
            try:
                watch.wait(timeout=60)
            except subprocess.TimeoutExpired:
                watch.kill()
                print("qidsl watch did not stop within 60 s of Ctrl-C; killed")
        median = statistics.median(times)
        print(f"median save -> reloaded page, new cue: {median:.2f}s (target <= 1 s)")
        print(f"median save -> reloaded page, cue from the cache (everything but speaking it): "
              f"{statistics.median(cached_times):.2f}s")
        print(f"baseline: qidsl build --no-video after a one-cue edit: {baseline:.2f}s")
        print(f"ratio baseline / watch: {baseline / median:.1f}x")
        found = re.findall(r"page ready in ([\d.]+)s \(version \d+, 1 cue synthesised in ([\d.]+)s",
                           "".join(err))
        if found:
            rebuild = statistics.median(float(a) for a, _ in found)
            speaking = statistics.median(float(b) for _, b in found)
            print(f"of which, as qidsl watch reports it: the rebuild after compiling {rebuild:.2f}s, "
                  f"and within it speaking the one new cue {speaking:.2f}s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
