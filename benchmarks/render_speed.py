"""How fast the video renders, against a plain ffmpeg encode of the same size, rate and length.

For the shipped routine (its real timeline, speech from the warm cache; about 9.5 minutes) and for a
30-minute routine (the shipped routine's steps three times over) it prints:
  - the render time and speed as a multiple of real time,
  - the baseline: ffmpeg alone encoding a lavfi colour source with a drawtext
    clock over it, the same narration to AAC, same preset/CRF/size/rate/length,
    run in this script, and the render's time as a ratio of the baseline's,
  - peak memory (RSS) of the Python renderer and of its ffmpeg, each render
    run in a child process and measured there with getrusage.

Then, for the shipped routine with the segment cache (issue 8, item 3):
  - a cold render into an empty segment folder, every core (``-j``), against the baseline,
    with the peak memory of the whole process tree (Python and every ffmpeg at once,
    sampled from /proc every 20 ms),
  - the same render again with nothing changed (every segment reused),
  - the render after the words of one ``say`` cue changed (its spoken length grows by
    0.8 s, so every later event moves by whole frames): the segments made again and the time.

Targets on a 2-core machine: >= 20x real time at 1280x720@30 and >= 1.5x faster than
the baseline, the one-cue re-render well under 3 s, peak memory under 400 MB.

Usage:
  python benchmarks/render_speed.py [--routine PATH] [--seconds N] [--narration FILE]
                                    [--presets superfast,veryfast] [--no-long]

``--seconds`` caps every length for a quick run; ``--presets`` measures each
x264 preset in turn (how the shipped preset was chosen).  When the routine or
the front end is missing, a representative ~10-minute timeline is built by
hand instead (see ``handmade_timeline``).

Measured on the 2-core build machine, shared with other jobs, so single
runs moved by +-30%; best of 3 interleaved runs, 120 s of the shipped routine
at 1280x720@30 (render / lavfi baseline, x real time; file size):
    ultrafast  17.0x / 24.1x  3.58 MB  (Constrained Baseline profile, not High)
    superfast  13.8x / 13.1x  1.35 MB  <- shipped (qidsl.renderers.video.PRESET)
    veryfast   11.5x / 13.2x  0.83 MB
    faster      7.0x /  7.7x  0.87 MB
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from process_tree import PeakMemory  # noqa: E402  (beside this file)

DEFAULT_ROUTINE = ROOT / "routines" / "rolling-the-hands-backwards.qi"


# --- timelines --------------------------------------------------------------------------------

def handmade_timeline(repeats: int = 1):
    """A representative routine built from steps: speech, counted breathing, sides, holds, notes.

    About 10 minutes per repeat.  Used when the .qi front end or the shipped
    routine is not available.
    """
    from qidsl.lang.model import Span
    from qidsl.lang.settings import Settings
    from qidsl.lang.steps import ExpandedRoutine, Repetition, Step
    from qidsl.timeline import EstimatedSpeech, build_timeline

    span = Span("handmade.qi", 1, 1, 1, 2)

    def step(kind, seconds=None, text=None, section=None, repetition=None, side=None):
        return Step(kind, seconds, text, section, repetition, side, span)

    steps = []
    for r in range(repeats):
        for name in ("Arriving", "Warming the Back", "Rolling the Hands Backwards", "Closing"):
            section = f"{name} {r + 1}" if repeats > 1 else name
            steps += [step("section", text=section, section=section),
                      step("say", text="Stand with your feet shoulder-width apart, knees soft.", section=section),
                      step("note", text="Move within a range that feels easy.", section=section),
                      step("pause", 3.0, section=section)]
            for i in range(1, 10):
                rep = Repetition(i, 9, True)
                steps += [step("count", text=str(i), section=section, repetition=rep),
                          step("inhale", 4.0, "Float the hands up along the centre line.", section, rep),
                          step("hold", 2.0, None, section, rep),
                          step("exhale", 6.0, "Roll them backwards, forward and down.", section, rep)]
            for side in ("left", "right"):
                steps += [step("say", text=f"Turn your gaze gently to the {side}.", section=section, side=side),
                          step("hold", 8.0, section=section, side=side)]
            steps += [step("say", text="Rest both hands on the belly and breathe naturally.", section=section),
                      step("pause", 10.0, section=section)]
    settings = Settings(title="Rolling the Hands Backwards", author="Qi Studio")
    return build_timeline(ExpandedRoutine(settings, tuple(steps), ("This practice does not replace "
                                                                    "medical advice.",)), EstimatedSpeech())


def routine_timeline(path: Path, repeats: int = 1, edit: bool = False, fps: int | None = None):
    """The routine's timeline (speech from the warm cache), its steps ``repeats`` times over."""
    try:
        from qidsl.compile import compile_routine
        from qidsl.lang.loader import Loader
        from qidsl.timeline import build_timeline
    except ImportError:
        return None
    if not path.is_file():
        return None
    compiled = compile_routine(path, Loader())
    if compiled.errors or compiled.expanded is None:
        raise SystemExit(f"{path} has errors; run qidsl check on it")
    expanded = compiled.expanded
    if repeats > 1:
        expanded = dataclasses.replace(expanded, steps=expanded.steps * repeats)
    speech = _warm_speech(compiled, path)
    if edit:
        expanded, speech = _edited(expanded, speech)
    return build_timeline(expanded, speech, frame_rate=fps)


def _edited(expanded, speech):
    """The routine with the words of its middle ``say`` cue changed (spoken 0.8 s longer)."""
    from qidsl.engines.timing import Sentence, SpokenTiming

    says = [i for i, s in enumerate(expanded.steps) if s.kind == "say"]
    index = says[len(says) // 2]
    original = expanded.steps[index]
    changed = dataclasses.replace(original, text=original.text + " Take your time.")
    steps = expanded.steps[:index] + (changed,) + expanded.steps[index + 1:]

    class Timer:
        def timing(self, text):
            if text != changed.text:
                return speech.timing(text)
            base = speech.timing(original.text)
            end = base.duration + 0.8
            return SpokenTiming(end, base.sentences + (Sentence(base.duration, end, "Take your time."),))

    return dataclasses.replace(expanded, steps=steps), Timer()


def _warm_speech(compiled, path: Path):
    """Real speech lengths from the speech cache (filled on the first run), as a build has them."""
    from qidsl.engines.cache import SpeechCache, default_cache_dir
    from qidsl.engines.synthesize import make_engine, synthesize_all

    engine = make_engine(compiled.settings, base_dir=path.parent)
    cache = SpeechCache(default_cache_dir(ROOT / "build"))
    return synthesize_all(compiled.estimate.spoken_texts, engine, cache, progress=False).timer()


def capped(timeline, seconds: float | None):
    """The first ``seconds`` of ``timeline`` (unchanged when None or longer)."""
    if not seconds or seconds >= timeline.duration:
        return timeline
    events = tuple(e for e in timeline.events if e.start < seconds)
    return dataclasses.replace(timeline, duration=float(seconds), events=events)


def cues_for(timeline):
    """The captions renderer's cues; one cue per spoken sentence if it is not there."""
    try:
        from qidsl.renderers.captions import caption_cues
    except ImportError:
        from types import SimpleNamespace

        return [SimpleNamespace(start=s.start, end=s.end, lines=(s.text,))
                for e in timeline.events for s in e.speech]
    return caption_cues(timeline)


def noise_wav(path: Path, seconds: float) -> Path:
    """Quiet noise at 48 kHz: a narration as costly to encode as speech (silence is cheaper)."""
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"anoisesrc=d={seconds:.3f}:r=48000:a=0.05:seed=1", "-ac", "1", "-c:a", "pcm_s16le", str(path)],
                   check=True)
    return path


def silent_wav(path: Path, seconds: float, rate: int = 24000) -> Path:
    chunk = b"\0\0" * rate
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        whole, rest = divmod(int(seconds * rate), rate)
        for _ in range(whole):
            out.writeframes(chunk)
        out.writeframes(b"\0\0" * rest)
    return path


# --- child: one render, measured where it runs -----------------------------------------------

def child(spec: dict) -> None:
    from qidsl.build import render_video
    from qidsl.renderers import video

    timeline = routine_timeline(Path(spec["routine"]), spec["repeats"]) if spec["routine"] else None
    if timeline is None:
        timeline = handmade_timeline(spec["repeats"])
    timeline = capped(timeline, spec["seconds"])
    video.PRESET = spec["preset"]  # read by render_video at each call
    started = time.monotonic()
    render_video(timeline, cues_for(timeline), spec["narration"], spec["out"],
                 width=spec["width"], height=spec["height"], fps=spec["fps"], progress=False)
    elapsed = time.monotonic() - started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ffmpeg = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"elapsed": elapsed, "duration": timeline.duration, "python_mb": own,
                      "ffmpeg_mb": ffmpeg, "bytes": os.path.getsize(spec["out"])}))


def segmented_child(spec: dict) -> None:
    from qidsl.build import render_video
    from qidsl.pools import Pools
    from qidsl.store import Store

    timeline = routine_timeline(Path(spec["routine"]), 1, spec["edit"], spec["fps"])
    timeline = capped(timeline, spec["seconds"])
    narration = noise_wav(Path(spec["work"]) / f"narration-{spec['edit']}.wav", timeline.duration)
    started = time.monotonic()
    stats = render_video(timeline, cues_for(timeline), narration, spec["out"],
                         width=spec["width"], height=spec["height"], fps=spec["fps"], progress=False,
                         store=Store(Path(spec["segments"])), pools=Pools(spec["jobs"]))
    elapsed = time.monotonic() - started
    print(json.dumps({"elapsed": elapsed, "duration": timeline.duration, "made": stats.made,
                      "reused": stats.reused, "segments": stats.segments, "audio_made": stats.audio_made,
                      "bytes": os.path.getsize(spec["out"])}))


def run_measured(spec: dict, key: str = "--segmented") -> dict:
    """Run a child render, sampling the memory of its whole process tree (RSS summed, in MB)."""
    child_process = subprocess.Popen([sys.executable, __file__, key, json.dumps(spec)], stdout=subprocess.PIPE,
                                     text=True)
    with PeakMemory(child_process.pid) as peak:
        out, _ = child_process.communicate()
    if child_process.returncode:
        raise SystemExit(f"the render failed (exit {child_process.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    result["tree_mb"] = peak.rss / 1e6
    return result


def segmented(routine: str, args, work: Path) -> None:
    """Cold render, unchanged re-render, one-cue-edit re-render, over one segment folder."""
    segments = Path(args.segment_dir) if args.segment_dir else work / "segments"
    jobs = args.jobs or os.cpu_count() or 1
    spec = {"routine": routine, "seconds": args.seconds, "width": args.width, "height": args.height,
            "fps": args.fps, "jobs": jobs, "segments": str(segments), "work": str(work), "edit": False}
    cold = run_measured({**spec, "out": str(work / "cold.mp4")})
    label = "cold" if cold["reused"] == 0 else f"{cold['reused']} segments already in --segment-dir,"
    duration = cold["duration"]
    narration = str(noise_wav(work / "baseline.wav", duration))
    plain = baseline(duration, narration, work / "baseline.mp4", args.width, args.height, args.fps,
                     args.preset or "superfast")
    print(f"segmented, -j {jobs}: {duration / 60:.1f} min, {cold['segments']} segments  "
          f"{label} render {cold['elapsed']:6.1f}s = {duration / cold['elapsed']:5.1f}x real time  "
          f"baseline {plain:6.1f}s = {duration / plain:5.1f}x  baseline/render {plain / cold['elapsed']:4.2f}x  "
          f"peak memory of the whole tree {cold['tree_mb']:4.0f} MB  file {cold['bytes'] / 1e6:5.1f} MB", flush=True)
    warm = run_measured({**spec, "out": str(work / "warm.mp4")})
    print(f"  nothing changed: {warm['elapsed']:5.2f}s, {warm['made']} made / {warm['reused']} reused, "
          f"narration {'encoded' if warm['audio_made'] else 'reused'}; "
          f"byte-identical: {(work / 'warm.mp4').read_bytes() == (work / 'cold.mp4').read_bytes()}", flush=True)
    edit = run_measured({**spec, "edit": True, "out": str(work / "edit.mp4")})
    print(f"  one say cue edited (+0.8 s): {edit['elapsed']:5.2f}s, {edit['made']} made / {edit['reused']} reused "
          f"of {edit['segments']}, narration {'encoded' if edit['audio_made'] else 'reused'}, "
          f"peak memory {edit['tree_mb']:4.0f} MB", flush=True)


def run_child(spec: dict) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def baseline(seconds: float, narration: str, out: Path, width: int, height: int, fps: int, preset: str) -> float:
    """Seconds ffmpeg alone takes for a lavfi colour + drawtext clock of the same shape, with the narration."""
    import imageio_ffmpeg
    from importlib import resources

    from qidsl.renderers.video import AUDIO_BITRATE, AUDIO_RATE, CRF

    with resources.as_file(resources.files("qidsl.fonts").joinpath("DejaVuSans.ttf")) as font:
        text = r"Breathe in %{pts\:hms}"
        command = [
            imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"color=c=0x0f1b24:s={width}x{height}:r={fps}:d={seconds:.3f}",
            "-i", narration, "-map", "0:v", "-map", "1:a",
            "-vf", f"drawtext=fontfile={font}:text='{text}':fontsize={height // 12}:fontcolor=white:"
                   f"x=(w-text_w)/2:y=(h-text_h)/2",
            "-c:v", "libx264", "-preset", preset, "-crf", str(CRF), "-profile:v", "high", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ar", str(AUDIO_RATE), "-t", f"{seconds:.3f}",
            "-movflags", "+faststart", str(out),
        ]
        started = time.monotonic()
        subprocess.run(command, check=True)
        return time.monotonic() - started


def measure(label: str, routine: str | None, repeats: int, args, preset: str, work: Path) -> None:
    # The length is known only once the timeline is built; a dry child would cost a build,
    # so the parent builds it too (cheap) to size the narration and the baseline.
    timeline = (routine_timeline(Path(routine), repeats) if routine else None) or handmade_timeline(repeats)
    timeline = capped(timeline, args.seconds)
    narration = args.narration or str(silent_wav(work / f"silence-{label}.wav", timeline.duration))
    spec = {"routine": routine, "repeats": repeats, "seconds": args.seconds, "narration": narration,
            "out": str(work / f"{label}-{preset}.mp4"), "width": args.width, "height": args.height,
            "fps": args.fps, "preset": preset}
    result = run_child(spec)
    plain = baseline(timeline.duration, narration, work / f"baseline-{preset}.mp4", args.width, args.height,
                     args.fps, preset)
    duration = result["duration"]
    print(f"{label:<40} {preset:<10} {duration / 60:6.1f} min  "
          f"render {result['elapsed']:7.1f}s = {duration / result['elapsed']:5.1f}x real time  "
          f"baseline {plain:6.1f}s = {duration / plain:5.1f}x  ratio {result['elapsed'] / plain:4.2f}  "
          f"peak RSS python {result['python_mb']:5.0f} MB + ffmpeg {result['ffmpeg_mb']:4.0f} MB  "
          f"file {result['bytes'] / 1e6:5.1f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--routine", default=str(DEFAULT_ROUTINE))
    parser.add_argument("--seconds", type=float, default=None, help="cap every length (quick runs)")
    parser.add_argument("--narration", default=None, help="an audio file to use instead of silence")
    parser.add_argument("--presets", default=None, help="x264 presets to compare, comma-separated")
    parser.add_argument("--no-long", action="store_true", help="skip the 30-minute routine")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--jobs", "-j", type=int, default=None, help="segments at a time (default: cores)")
    parser.add_argument("--preset", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--only-segmented", action="store_true", help="only the segment-cache measurements")
    parser.add_argument("--segment-dir", default=None, help="segment folder to use (default: a new, empty one)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--segmented", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    if args.segmented:
        segmented_child(json.loads(args.segmented))
        return

    from qidsl.renderers.video import PRESET

    routine = args.routine if Path(args.routine).is_file() else None
    name = Path(args.routine).stem if routine else "handmade routine"
    if routine is None:
        print(f"{args.routine} not found: using a hand-made ~10-minute timeline")
    print(f"{os.cpu_count()} CPUs, {args.width}x{args.height}@{args.fps}")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        if routine:
            segmented(routine, args, work)
        if args.only_segmented:
            return
        for preset in (args.presets.split(",") if args.presets else [PRESET]):
            measure(name, routine, 1, args, preset.strip(), work)
        if not args.no_long:
            measure(f"{name} x3 (30 min)", routine, 3, args, PRESET, work)


if __name__ == "__main__":
    main()
