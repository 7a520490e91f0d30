"""Skip frames: a stream of distinct pictures from x264, with repeats written as skip frames, decodes
to exactly those pictures repeated (ffmpeg decodes; every pixel compared)."""

from __future__ import annotations

import subprocess

import imageio_ffmpeg
import numpy as np
import pytest

from qidsl.renderers import h264


def pictures(width: int, height: int, count: int) -> list[bytes]:
    """Noisy yuv420p pictures with a bar that moves from one to the next (real work for the encoder)."""
    rng = np.random.default_rng(7)
    base = rng.integers(0, 255, (height * 3 // 2, width), dtype=np.uint8)
    out = []
    for i in range(count):
        picture = base.copy()
        top = (i * 7) % (height - 20)
        picture[top:top + 20, 8:width // 2] = (40 * i) % 255
        out.append(picture.tobytes())
    return out


def encode(frames: list[bytes], width: int, height: int, args: list[str]) -> bytes:
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p",
               "-s", f"{width}x{height}", "-framerate", "10", "-i", "pipe:0", "-c:v", "libx264", *args,
               "-f", "h264", "pipe:1"]
    return subprocess.run(command, input=b"".join(frames), capture_output=True, check=True).stdout


def decode(stream: bytes, width: int, height: int) -> list[bytes]:
    done = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-err_detect", "explode",
                           "-f", "h264", "-i", "pipe:0", "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"],
                          input=stream, capture_output=True)
    assert done.returncode == 0 and not done.stderr, done.stderr.decode()
    size = width * height * 3 // 2
    return [done.stdout[i:i + size] for i in range(0, len(done.stdout), size)]


@pytest.mark.parametrize("width, height, args", [
    # The build's settings (CABAC, High profile) at a size of whole macroblocks ...
    (320, 176, ["-preset", "superfast", "-crf", "21", "-bf", "0", "-refs", "1"]),
    # ... the preview's (CAVLC) at a height that is not (cropped), and another preset.
    (320, 180, ["-preset", "ultrafast", "-crf", "28", "-bf", "0", "-refs", "1"]),
    (192, 108, ["-preset", "veryfast", "-bf", "0", "-refs", "1", "-x264-params", "weightp=1"]),
])
def test_repeats_decode_to_the_same_picture_exactly(width, height, args):
    distinct = pictures(width, height, 9)
    stream = encode(distinct, width, height, args + ["-g", "300"])
    repeats = [1, 5, 2, 1, 1, 30, 3, 1, 4]
    expanded = h264.expand(stream, repeats)
    once = decode(stream, width, height)
    assert len(once) == len(distinct)
    assert decode(expanded, width, height) == [p for p, n in zip(once, repeats) for _ in range(n)]
    # The join finds each picture by its four-byte start code.
    pieces = h264.access_units(expanded)
    assert len(pieces) == sum(repeats) and b"".join(pieces) == expanded
    # A skip frame is a few dozen bytes, however large the picture.
    assert len(expanded) - len(stream) < 60 * (sum(repeats) - len(repeats))


def test_frame_numbers_wrap_and_restart_at_each_idr():
    width, height = 64, 64
    distinct = pictures(width, height, 4)
    # Key frames every 2 pictures: the frame number starts again at each IDR picture.
    stream = encode(distinct, width, height, ["-preset", "superfast", "-bf", "0", "-refs", "1", "-g", "2",
                                              "-x264-params", "scenecut=0"])
    repeats = [40, 1, 30, 2]  # beyond x264's smallest frame number range (16)
    once = decode(stream, width, height)
    assert decode(h264.expand(stream, repeats), width, height) == [
        p for p, n in zip(once, repeats) for _ in range(n)]


def test_a_stream_with_b_frames_is_refused_with_a_reason():
    width, height = 64, 64
    stream = encode(pictures(width, height, 6), width, height, ["-preset", "medium", "-bf", "2"])
    with pytest.raises(h264.StreamError, match="no B-frames"):
        h264.expand(stream, [1] * 6)


def test_a_picture_count_that_does_not_match_is_refused():
    width, height = 64, 64
    stream = encode(pictures(width, height, 3), width, height, ["-preset", "superfast", "-bf", "0", "-refs", "1"])
    with pytest.raises(h264.StreamError, match="3 pictures where 4 were sent"):
        h264.expand(stream, [1, 1, 1, 1])


def test_escape_and_unescape_are_inverse_and_leave_no_start_code():
    rng = np.random.default_rng(3)
    for _ in range(200):
        raw = bytes(rng.choice([0, 0, 0, 1, 2, 3, 255], size=int(rng.integers(1, 40))).astype(np.uint8))
        raw += b"\x80"  # an RBSP ends with its stop bit
        escaped = h264.escape(raw)
        assert h264.unescape(escaped) == raw
        for code in (b"\x00\x00\x00", b"\x00\x00\x01", b"\x00\x00\x02"):
            assert code not in escaped
