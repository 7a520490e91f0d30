"""Remake the recorded gTTS responses used by tests/test_engines_gtts.py.

Google's batchexecute endpoint answers a gTTS request with a text body in
which the MP3 is base64 inside a JSON string (the shape gtts/tts.py parses).
The MP3 here is made with ffmpeg, not fetched: 0.2 s of silence, 0.5 s of a
440 Hz tone, 0.2 s of silence, 24 kHz mono at 32 kbit/s like Google's own.

Run: .venv/bin/python tests/recordings/make_gtts_recordings.py
"""

import base64
import subprocess
from pathlib import Path

import imageio_ffmpeg

HERE = Path(__file__).parent


def frames(*frames: str) -> str:
    # Each frame is preceded by its length, after Google's ")]}'" guard line.
    return ")]}'\n\n" + "".join(f"{len(frame)}\n{frame}" for frame in frames)


def main() -> None:
    mp3 = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
         "aevalsrc=if(between(t\\,0.2\\,0.7)\\,0.5*sin(2*PI*440*t)\\,0):s=24000:d=0.9",
         "-ac", "1", "-c:a", "libmp3lame", "-b:a", "32k", "-f", "mp3", "pipe:1"],
        check=True, capture_output=True).stdout
    audio = base64.b64encode(mp3).decode("ascii")
    tail = ('[["di",37]\n,["af.httprm",36,"-668177807451224424",66]\n]\n', '[["e",4,null,null,5662]\n]\n')
    (HERE / "gtts_tone.batchexecute.txt").write_text(frames(
        '[["wrb.fr","jQ1olc","[\\"' + audio + '\\"]\\n",null,null,null,"generic"]\n]\n', *tail))
    # What Google sends for a language it will not speak: the RPC answers null.
    (HERE / "gtts_no_audio.batchexecute.txt").write_text(frames(
        '[["wrb.fr","jQ1olc",null,null,null,[3],"generic"]\n]\n', *tail))


if __name__ == "__main__":
    main()
