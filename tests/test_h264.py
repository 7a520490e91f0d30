"""Skip frames: a stream of distinct pictures from x264, with repeats written as skip frames, decodes
to exactly those pictures repeated (ffmpeg decodes; every pixel compared); what skip frames cannot
follow is refused with a reason; joined segments never put two IDR pictures with one idr_pic_id in a row."""

from __future__ import annotations

import hashlib
import subprocess

import imageio_ffmpeg
import numpy as np
import pytest

from qidsl.renderers import h264
from tests.openh264 import openh264_frames


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
                          input=stream, capture_output=True, check=False)
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


@pytest.mark.parametrize("args, reason", [
    # HRD: every picture would need buffering period and picture timing SEI; a skip frame has none.
    (["-x264-params", "nal-hrd=vbr", "-maxrate", "400k", "-bufsize", "400k"], "HRD parameters in the VUI"),
    (["-x264-params", "pic-struct=1"], "pic_struct in the VUI"),
])
def test_timing_in_the_vui_that_every_picture_restates_is_refused_with_a_reason(args, reason):
    width, height = 64, 64
    stream = encode(pictures(width, height, 3), width, height, ["-preset", "superfast", "-bf", "0", "-refs", "1",
                                                                 *args])
    with pytest.raises(h264.StreamError, match=reason):
        h264.expand(stream, [1, 2, 1])


def sps_with_separate_colour_planes() -> bytes:
    """A High 4:4:4 SPS (no encoder at hand writes one) whose colour planes are coded separately."""
    w = h264.BitWriter()
    w.u(8, 0x67)  # nal_ref_idc 3, nal_unit_type 7
    w.u(8, 244), w.u(8, 0), w.u(8, 30)  # profile_idc, constraint flags, level_idc
    w.ue(0)  # seq_parameter_set_id
    w.ue(3), w.u(1, 1)  # chroma_format_idc 4:4:4, separate_colour_plane_flag
    w.ue(0), w.ue(0), w.u(1, 0), w.u(1, 0)  # bit depths, transform bypass, no scaling matrices
    w.ue(0), w.ue(2), w.ue(1), w.u(1, 0)  # frame_num width, picture order type 2, one reference, no gaps
    w.ue(3), w.ue(3), w.u(1, 1), w.u(1, 1), w.u(1, 0), w.u(1, 0)  # 64x64, frames only, no cropping, no VUI
    w.trailing()
    return h264.escape(w.value.to_bytes(w.length // 8, "big"))


def test_separate_colour_planes_are_refused_with_a_reason():
    width, height = 64, 64
    stream = encode(pictures(width, height, 2), width, height, ["-preset", "superfast", "-bf", "0", "-refs", "1"])
    units = h264.nal_units(stream)
    replaced = b"".join(h264.START_CODE + (sps_with_separate_colour_planes() if u[0] & 0x1F == h264.NAL_SPS else u)
                        for u in units)
    with pytest.raises(h264.StreamError, match="separate colour planes"):
        h264.expand(replaced, [1, 1])


def idr_pic_ids(stream: bytes) -> list[int]:
    params = h264.read_parameters(h264.nal_units(stream))
    return [h264.idr_pic_id(u, params) for u in h264.nal_units(stream) if u[0] & 0x1F == h264.NAL_IDR]


@pytest.mark.parametrize("preset", ["superfast", "ultrafast"])  # CABAC, CAVLC
def test_adjacent_idr_pictures_of_joined_segments_never_share_an_idr_pic_id(preset, tmp_path):
    width, height = 96, 64
    args = ["-preset", preset, "-bf", "0", "-refs", "1"]
    # Segments of one picture each: every one an IDR picture with x264's first idr_pic_id.
    one = [h264.expand(encode([p], width, height, args), [1]) for p in pictures(width, height, 3)]
    two = h264.expand(encode(pictures(width, height, 2), width, height, args), [2, 1])
    assert [idr_pic_ids(s) for s in one] == [[0], [0], [0]]
    joiner = h264.Joiner()
    joined = b"".join(p for s in [*one, two, one[0]] for p in joiner.pictures(s))
    assert idr_pic_ids(joined) == [0, 1, 0, 1, 0]  # a segment after a P picture keeps its own
    expected = [p for s in [*one, two, one[0]] for p in decode(s, width, height)]
    assert decode(joined, width, height) == expected
    assert openh264_frames(joined, width, height, tmp_path) == [hashlib.md5(p).hexdigest() for p in expected]


@pytest.mark.parametrize("preset", ["superfast", "ultrafast"])  # CABAC, CAVLC
def test_an_idr_pic_id_of_another_width_leaves_the_picture_as_it_was(preset):
    width, height = 96, 64
    stream = encode(pictures(width, height, 1), width, height, ["-preset", preset, "-bf", "0", "-refs", "1"])
    units = h264.nal_units(stream)
    params = h264.read_parameters(units)
    for value in (1, 6, 300, 65535):  # ue(v) codes 3, 5, 17 and 31 bits long where 0 was 1 bit
        rewritten = [h264.with_idr_pic_id(u, params, value) if u[0] & 0x1F == h264.NAL_IDR else u for u in units]
        again = b"".join(h264.START_CODE + u for u in rewritten)
        assert idr_pic_ids(again) == [value]
        assert decode(again, width, height) == decode(stream, width, height)
