"""Music under the voice: what `music: calm` costs a build of the shipped routine, timed and measured.

Prints, for the shipped routine with `music: calm` added (speech warm in the
store, so no synthesis is timed in the full builds, and no video: the music is
all in the sound):
  1. a full build into a store holding only speech, and the same build of the
     routine without music in the same run: wall times and their ratio;
  2. the rebuild after the words of one `say` cue change, of the routine without
     music and of the one with it, each into its own store (each synthesises
     the edited cue): wall time and CPU time (the build and every process it
     waited for), and what the music adds to each.  The music's loop is not
     levelled again; the mix is remade only in the pieces the edit reaches
     (qidsl.renderers.music_mix);
  3. peak memory of the whole build (the qidsl process and all its children,
     PSS summed; see benchmarks/process_tree.py);
  4. the programme's integrated loudness and true peak (ffmpeg ebur128).

Figures (the 2-core machine shared with three other builds, load average 9 to
15 throughout, so wall times swing 2-4x between runs; CPU times hold better):

  before (one bed, the mix and the whole MP3 made again): one-cue edit with
  music 50.5 s at load 3.7 (15.7 s on an idle machine), without music about
  2 s idle; full build 41.5 s.

  now, when the edit leaves the programme's gains on their grid (the usual
  case): edit without music 4.1 s wall, 2.9 s CPU; with music 6.5 s wall,
  4.5 s CPU (+2.4 s wall, +1.7 s CPU: 10 of 36 pieces mixed and encoded
  again); in another run at load 11, 7.8 s and 9.2 s (+1.4 s).  On an idle
  machine the edit without music takes about 2 s, so the music's +1.7 s of
  CPU on two cores puts the edit with music at about 3 s.

  when the edit tips the make-up gain over a step of its 0.25 dB grid, every
  piece is made again: 16.3 s / 3.1 s CPU without music, 41.3 s / 11.2 s CPU
  with it (load 15).  The shipped routine's make-up gain sits within 0.005 dB
  of a step (0.871 and 0.880 dB before and after the edit, the step at
  0.875), so its edits often tip it (both runs measured with this grid did);
  an edit moves the gain by about 0.01 dB, so a routine whose gain is not that
  close to a step tips on about one edit in twenty.

  full build with music 11.3 s to 37.7 s against 3.5 s to 17.5 s without
  (ratios 1.2x to 5.5x, the load swinging); peak memory 226 to 285 MB with
  music, 118 to 126 MB without; the MP3 at -16.0 LUFS (-15.9 in one run),
  true peak -1.3 to -1.5 dBTP.

Usage: python benchmarks/music_mix.py
"""

from __future__ import annotations

import re
import resource
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


def build(folder: Path, name: str, cache: Path) -> tuple[float, str, PeakMemory, float]:
    """Build ``name``.qi: wall seconds, the products summary, peak memory, and CPU seconds (user and
    system, of the build and every process it waited for: what the load of other work does not stretch)."""
    started, cpu = time.monotonic(), _children_cpu()
    process = subprocess.Popen([*QIDSL, "build", f"{name}.qi", "--out", "out", "--no-video", "--cache-dir",
                                str(cache)], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with PeakMemory(process.pid) as peak:
        _, err = process.communicate()
    if process.returncode:
        raise SystemExit(err)
    return time.monotonic() - started, re.search(r"products: (.*)", err).group(1), peak, _children_cpu() - cpu


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def main() -> None:
    import imageio_ffmpeg

    text = SHIPPED.read_text(encoding="utf-8")
    calm = re.sub(r"^(title: .*)$", r"\1\nmusic: calm", text, count=1, flags=re.M)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "plain.qi").write_text(text, encoding="utf-8")
        (folder / "calm.qi").write_text(calm, encoding="utf-8")
        speech = folder / "speech"
        build(folder, "plain", speech)  # warms the speech
        for path in speech.iterdir():  # keep only the speech
            if path.is_dir() and path.name != "speech":
                shutil.rmtree(path)
        plain_store, calm_store = folder / "a", folder / "b"
        shutil.copytree(speech, plain_store)
        shutil.copytree(speech, calm_store)
        plain_time, _, plain_peak, _ = build(folder, "plain", plain_store)
        calm_time, calm_made, calm_peak, _ = build(folder, "calm", calm_store)
        print(f"full build, no video: without music {plain_time:.1f} s, with music: calm {calm_time:.1f} s "
              f"(ratio {calm_time / plain_time:.2f}x)")
        print(f"  products: {calm_made}")
        print(f"peak memory: without music {plain_peak}; with music {calm_peak}")
        # The same one-cue edit of both routines, each into its own store: each synthesises the edited
        # cue once, so what the edit with music takes over the plain one is the music's.
        for name, routine, store in (("plain", text, plain_store), ("calm", calm, calm_store)):
            edited = routine.replace("a gentle practice for the back.", "a gentle practice for your back.", 1)
            assert edited != routine, "the shipped routine no longer has the cue this edits"
            (folder / f"{name}.qi").write_text(edited, encoding="utf-8")
            edit_time, edit_made, _, edit_cpu = build(folder, name, store)
            if name == "plain":
                plain_edit, plain_cpu = edit_time, edit_cpu
                print(f"one-cue edit without music: {edit_time:.1f} s, {edit_cpu:.1f} s of CPU ({edit_made})")
            else:
                print(f"one-cue edit with music: {edit_time:.1f} s, {edit_cpu:.1f} s of CPU ({edit_made}); "
                      f"{edit_time - plain_edit:+.1f} s and {edit_cpu - plain_cpu:+.1f} s of CPU over the edit "
                      f"without music")
        done = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostats", "-i",
                               str(folder / "out" / "calm" / "calm.mp3"), "-af", "ebur128=peak=true", "-f", "null",
                               "-"], capture_output=True, text=True, check=True)
        summary = done.stderr.rsplit("Summary:", 1)[1]
        loudness = re.search(r"I:\s*([-\d.]+) LUFS", summary).group(1)
        peak = re.search(r"Peak:\s*([-\d.]+) dBFS", summary).group(1)
        print(f"MP3 with music: {loudness} LUFS integrated, true peak {peak} dBTP")


if __name__ == "__main__":
    main()
