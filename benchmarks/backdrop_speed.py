"""Backdrops: the shipped routine with a clip (or a photo) behind every section, built in full.

The routine is the shipped one with ``backdrop "media/section-N.mp4"`` as the
first statement of each section; the media are made here by ffmpeg's test
sources (1280x720 clips of 20 s at 30 frames/s, looped where a section is
longer; 1920x1080 photos), never kept.  It prints:

1. the full build (speech from a warm cache, every other product made), clip
   backdrops: its time, the peak memory of the whole process tree (Python and
   every ffmpeg, PSS summed, sampled from /proc), and its speed against ffmpeg's
   own filter graph doing the same picture work in the same run: the clip
   looped, scaled and cropped to 1280x720, a still caption strip overlaid, the
   narration to AAC, x264 with the segments' settings (preset, CRF, profile,
   GOP, no B-frames, one reference; two threads, as the build runs two
   one-thread encoders side by side) for the routine's length.  Target: build
   speed / baseline speed >= 0.8, memory <= 400 MB;
2. a rebuild after one ``say`` cue's words changed: its time (target <= 3 s)
   and what it made;
3. the same full build with photo backdrops, against the same filter graph
   fed the photo (looped still, scaled and cropped per frame).  Target >= 1.

Usage: python benchmarks/backdrop_speed.py [--keep DIR] [--no-photos]

Measured on the 2-core build machine shared with other jobs (load average
about 12), 9.4 minutes of video: clips 557.9 s (1.02x real time), ffmpeg's
graph 236.3 s, ratio 0.42; peak 619 MB (two clip readers, ~90 MB each, beside
two encoders).  One cue edited: 16.8 s, 2 video segments made again.  Photos
529.7 s (1.07x), ffmpeg's graph 619.5 s, ratio 1.17; peak 432 MB.  The clips'
gap is the per-frame work in numpy: moviepy hands each picture over as RGB,
which is shaded, has the texts laid on it and is converted to yuv420p for
x264 (about 16 ms a frame at 720p unloaded), where ffmpeg's graph does it in
SIMD C on its own threads.

Quieter machine (load about 4), --no-photos: before the reader-aware encoders
pool 561.7 s against 260.2 s, ratio 0.46, peak 646 MB (Python ~300 MB, two
readers ~90 MB, two x264 50-64 MB); with it (and readers limited to one decoder
and one filter thread, since dropped as a hack on moviepy's internals: it saved
about 10 MB a reader) 250.1 s against 115.4 s, ratio 0.46, peak 420 MB (one
encoder and one reader at 720p); one cue edited 8.73 s (3 video segments made).

Clips composed in Y'CbCr (branch ``clips``): the encoder's painter reads a clip
as yuv444p through moviepy and shades it in the yuv420p planes, the clip's own
colour matrix and range mapped to the video's BT.709 (no RGB picture, no
conversion in numpy); the next picture is read, cropped and averaged on a
thread of its own; a finished segment leaves its reader open for the next; a
clip's segment takes two fixed x264 threads.  Per 720p frame (micro-measured,
CPU): 10-11 ms on the one drawing thread before, now 3.5 ms on the drawing
thread (the shade 1.2 ms) and about 4 ms on the read-ahead thread (the pipe read
1.5 ms).  Measured at load average 15 to 18 (three other jobs and this branch's
test suite at once; the figures above were at 4 to 12): clips 351.6 s (1.61x
real time) against ffmpeg's graph 216.7 s, ratio 0.62 (0.56 one step earlier at
load 11, 0.36 after the first Y'CbCr step alone at load 10 to 13: under such
load a pipeline runs at its busiest single thread's share of a core, and the
baseline's ffmpeg spreads over more threads); peak 425 MB, measured before the
overlays were worked out in strips of rows (their transient at every new
caption 57 -> 18 MB); the clips' full build again with them (the same command,
alone, no baseline; load 10 to 16 with the test suite): peak 362 MB, 623.4 s.
Photos (the same run as the clips' 351.6 s): 586.7 s (0.97x real time) against
ffmpeg's graph 885.9 s, ratio 1.51; peak 393 MB (432 before).
One cue edited 26.2 s (2 video segments).  A profile of such an edit at load 9
(12.5 s, Piper's start and one synthesis 4 s of it): the two segments 5.3 s
(the reader's start and seek in the test clips' 250-frame GOP included), the
join of the 123 MB MP4 1.9 s (ffmpeg's ``-moov_size`` instead of faststart's
second pass measured 0.90 -> 0.57 s), the outputs copied out 1.0 s (177 MB).

Quiet spell after the merges (2026-12-08, load 1.3 at the start, 5 at the
end, --no-photos): clips 182.2 s (3.11x real time) against ffmpeg's graph
109.5 s, ratio 0.60; peak 335 MB; one cue edited 11.75 s (8 video segments).

Clips read as yuv420p through ``imageio_ffmpeg.read_frames`` (ffmpeg scales,
crops and maps the colours; no 4:4:4 widening, averaging or colour map in
numpy: ``backdrop.ClipPlanes``), probes and hashes remembered in the store:
- --no-photos, quiet (load 2 to 5): clips 114.0 s (4.97x real time) against
  ffmpeg's graph 108.7 s, ratio 0.95; peak 271 MB; one cue edited 3.90 s
  (2 video segments, 160 frames of clip).  Under load 5 to 7 (another job's
  tests): 153.3 s against 159.1 s, ratio 1.04; peak 286 MB.
- The edit, traced (``/tmp`` script wrapping Store.put; quiet): start-up to
  the first product 0.64 s, the two segments one after the other 0.94-1.89 s
  and 1.89-2.41 s (memory lets one clip encoder run at a time), the join
  2.42-3.20 s beside the mix's loudness, the outputs copied out 0.24 s: 3.44
  s in the process.  Not yet under 3 s.
- Photos, the full build alone (load 5 to 7): 265.5 s and 349.1 s, peak 274
  and 269 MB; the benchmark's own run before glibc's threshold was set at the
  start said 559 MB once (and 293 MB in a run of the build alone).
- The whole script on the final code, quiet (load 1 to 3): clips 113.9 s
  against 109.2 s, ratio 0.96, peak 274 MB; one cue edited 5.46 s (5 video
  segments: the new cue's synthesised length moved the routine's length,
  which the title and end cards show, and with a clip anywhere the segments
  take the one encoder slot in turn); photos 154.3 s (3.67x real time)
  against ffmpeg's graph 277.9 s, ratio 1.80, peak 272 MB.
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

from incremental_build import EDIT, ROUTINE, keep_only_speech, run  # noqa: E402  (beside this file)

from tests import media  # noqa: E402

WIDTH, HEIGHT, FPS = 1280, 720, 30


def with_backdrops(text: str, kind: str) -> tuple[str, int]:
    """The routine with a backdrop as the first statement of every section, and how many sections."""
    count = 0

    def add(match: re.Match) -> str:
        nonlocal count
        count += 1
        name = f"media/section-{count}.{'mp4' if kind == 'clip' else 'jpg'}"
        return f'{match.group(0)}\n    backdrop "{name}"'
    return re.sub(r'^section "[^"]+":', add, text, flags=re.MULTILINE), count


def make_media(folder: Path, sections: int) -> None:
    sources = ("testsrc2", "mandelbrot", "smptehdbars", "testsrc", "rgbtestsrc")
    for n in range(1, sections + 1):
        source = sources[(n - 1) % len(sources)]
        media.clip(folder / "media" / f"section-{n}.mp4", WIDTH, HEIGHT, seconds=20.0, fps=FPS, source=source)
        media.photo(folder / "media" / f"section-{n}.jpg", 1920, 1080)


def caption_strip(path: Path) -> Path:
    """A still caption strip like the build's: a dark band with a line of text, as RGBA PNG."""
    from PIL import Image, ImageDraw

    from qidsl.renderers.video_layers import font

    strip = Image.new("RGBA", (WIDTH, 160), (15, 27, 36, 150))
    ImageDraw.Draw(strip).text((80, 50), "Float the hands up along the centre line.", font=font(44),
                               fill=(242, 245, 243, 255))
    strip.save(path)
    return path


def baseline(source: Path, photo: bool, seconds: float, narration: Path, strip: Path, out: Path) -> float:
    """Seconds ffmpeg's own filter graph takes for the same picture work (see the module's docstring)."""
    import imageio_ffmpeg

    from qidsl.renderers.video import CRF, PRESET
    from qidsl.renderers.video_segments import Encoding

    args = Encoding(WIDTH, HEIGHT, FPS, PRESET, CRF).video_args()
    args[args.index("-threads") + 1] = "2"
    picture = (["-loop", "1", "-framerate", str(FPS), "-i", str(source)] if photo
               else ["-stream_loop", "-1", "-i", str(source)])
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *picture, "-loop", "1", "-i", str(strip),
               "-i", str(narration), "-filter_complex",
               f"[0:v]scale={WIDTH}:{HEIGHT}:force_original_aspect_ratio=increase,crop={WIDTH}:{HEIGHT},"
               f"fps={FPS}[bg];[bg][1:v]overlay=0:{HEIGHT - 200}:format=auto,format=yuv420p[v]",
               "-map", "[v]", "-map", "2:a", *args, "-c:a", "aac", "-b:a", "160k", "-t", f"{seconds:.3f}",
               "-movflags", "+faststart", str(out)]
    started = time.monotonic()
    subprocess.run(command, check=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    parser.add_argument("--no-photos", action="store_true", help="measure clip backdrops only")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]  # each figure as it is measured
    work = args.keep or Path(tempfile.mkdtemp(prefix="qidsl-backdrops-"))
    work.mkdir(parents=True, exist_ok=True)
    qidsl = [sys.executable, "-m", "qidsl.cli", "build"]
    cache = work / "cache"
    shipped = ROUTINE.read_text(encoding="utf-8")
    clips, sections = with_backdrops(shipped, "clip")
    photos, _ = with_backdrops(shipped, "photo")
    make_media(work, sections)
    strip = caption_strip(work / "strip.png")
    routine = work / "footage.qi"

    # Warm the speech cache (not timed), the edited cue's too; then empty the product store.
    for text in (clips, clips.replace(*EDIT)):
        routine.write_text(text, encoding="utf-8")
        run(qidsl + [str(routine), "--no-video", "--out", str(work / "warm"), "--cache-dir", str(cache)])

    def full(text: str, label: str) -> tuple[float, float, Path]:
        routine.write_text(text, encoding="utf-8")
        keep_only_speech(cache)
        out = work / f"out-{label}"
        seconds, peak, _ = run(qidsl + [str(routine), "--out", str(out), "--cache-dir", str(cache), "--wav"])
        folder = out / routine.stem
        length = float(re.search(r'"duration": ([\d.]+)', (folder / f"{routine.stem}.timeline.json")
                                 .read_text(encoding="utf-8")).group(1))
        print(f"{label} backdrops on all {sections} sections, {length / 60:.1f} min at {WIDTH}x{HEIGHT}@{FPS}: "
              f"full build {seconds:.1f}s = {length / seconds:.2f}x real time; peak memory {peak} "
              f"(target <= 400 MB)")
        return seconds, length, folder

    build, length, folder = full(clips, "clip")
    base = baseline(work / "media" / "section-1.mp4", False, length, folder / f"{routine.stem}.wav", strip,
                    work / "baseline-clip.mp4")
    print(f"   ffmpeg's filter graph (clip looped, scaled, cropped, caption strip overlaid, x264, AAC): {base:.1f}s "
          f"= {length / base:.2f}x real time; build speed / baseline speed = {base / build:.2f} (target >= 0.8)")

    routine.write_text(clips.replace(*EDIT), encoding="utf-8")
    edit, edit_peak, err = run(qidsl + [str(routine), "--out", str(work / "out-clip"), "--cache-dir", str(cache),
                                        "--wav"])
    made = re.search(r"products: (.*)", err)
    print(f"one say cue's words changed, rebuilt: {edit:.2f}s (target <= 3 s); peak memory {edit_peak}; "
          f"{made.group(1) if made else '?'}")

    if not args.no_photos:
        build, length, folder = full(photos, "photo")
        base = baseline(work / "media" / "section-1.jpg", True, length, folder / f"{routine.stem}.wav", strip,
                        work / "baseline-photo.mp4")
        print(f"   ffmpeg's filter graph (photo scaled and cropped per frame, strip overlaid, x264, AAC): "
              f"{base:.1f}s = {length / base:.2f}x real time; build speed / baseline speed = {base / build:.2f} "
              f"(target >= 1)")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
