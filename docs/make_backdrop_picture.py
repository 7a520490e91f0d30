"""Make docs/images/backdrop-frame.png: a frame of the video over a clip backdrop.

The clip is made here by ffmpeg's test sources (no media is kept in the
repository); the frame is drawn by the video's own painter from the routine's
estimated timeline, as a build draws it.  Run from the repository's root:

    .venv/bin/python docs/make_backdrop_picture.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from qidsl.compile import compile_routine  # noqa: E402
from qidsl.lang.loader import Loader  # noqa: E402
from qidsl.renderers.captions import caption_cues  # noqa: E402
from qidsl.renderers.video import VideoFrames  # noqa: E402
from qidsl.timeline import EstimatedSpeech, build_timeline  # noqa: E402
from tests import media  # noqa: E402

OUT = ROOT / "docs" / "images" / "backdrop-frame.png"
ROUTINE = '''title: "Rolling the Hands Backwards"

section "Rolling the Hands Backwards":
    backdrop "media/rolling.mp4" from 0:02
    repeat 3 counted:
        inhale 4s "Float the hands up along the centre line."
        exhale 4s "Roll them backwards, forward and down."
'''


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        media.clip(root / "media" / "rolling.mp4", 640, 360, seconds=8.0, fps=30, source="mandelbrot")
        path = root / "footage.qi"
        path.write_text(ROUTINE, encoding="utf-8")
        compiled = compile_routine(path, Loader())
        assert compiled.expanded is not None, compiled.diagnostics
        timeline = build_timeline(compiled.expanded, EstimatedSpeech(), frame_rate=30)
        frames = VideoFrames(timeline, caption_cues(timeline), 640, 360, fps=30)
        clip = frames.scene.track.backdrop[0]
        picture = frames(clip.start + 6.5)  # the second round's exhale: counter, pacer, caption
        frames.release()
        OUT.parent.mkdir(exist_ok=True)
        # 256 colours: a small file for the docs, the picture unchanged to the eye.
        Image.fromarray(picture).quantize(256, dither=Image.Dither.NONE).save(OUT, optimize=True)
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size // 1024} kB)")


if __name__ == "__main__":
    main()
