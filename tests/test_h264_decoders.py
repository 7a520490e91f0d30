"""The hand-made H.264 holds in a decoder that is not FFmpeg's: Cisco's OpenH264 decodes whole builds
(skip frames, joins and all) to exactly FFmpeg's pictures, with no error state, and rejects a broken
skip slice; a segment whose stream skip frames cannot follow is encoded whole and still plays."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest

from qidsl.cli import main
from qidsl.renderers import h264
from tests.openh264 import DecodeError, annex_b, ffmpeg_frames, openh264_frames
from tests.probe import probe
from tests.test_h264 import encode, pictures
from tests.test_video import FPS, H, W, routine_steps
from tests.test_video_segments import decode, grid_timeline, render

pytestmark = pytest.mark.skipif(os.environ.get("QIDSL_SKIP_VIDEO") == "1", reason="video tests switched off")

# A few seconds with a card, captions held while the voice speaks, and a breath pacer.
ROUTINE = """\
title: "Decoders"
author: "Test Studio"

section "Only":
    say "Stand tall."
    inhale 2s "In."
    exhale 2s
"""


def skip_frames(stream: bytes) -> int:
    """How many pictures of ``stream`` are skip frames exactly as :mod:`qidsl.renderers.h264` writes them."""
    params = h264.parameters(h264.nal_units(stream))
    skips = {h264.skip_frame(params, n)[4:] for n in range(1 << params.log2_max_frame_num)}
    return sum(unit in skips for unit in h264.nal_units(stream))


@pytest.fixture(scope="module", params=["normal", "preview"])
def built(request, tmp_path_factory):
    work = tmp_path_factory.mktemp(request.param)
    routine = work / "decoders.qi"
    routine.write_text(ROUTINE, encoding="utf-8")
    options = ["--preview"] if request.param == "preview" else []
    assert main(["build", str(routine), *options, "--out", str(work / "out"),
                 "--cache-dir", str(work / "cache")]) == 0
    mp4 = work / "out" / "decoders" / "decoders.mp4"
    video = next(s for s in probe(mp4)["streams"] if s["codec_type"] == "video")
    return mp4, video, work


def test_openh264_decodes_the_joined_video_frame_for_frame_as_ffmpeg_does(built):
    mp4, video, work = built
    width, height = video["width"], video["height"]
    stream = annex_b(mp4)
    frames = int(video["nb_frames"])
    assert skip_frames(stream) > frames // 2  # most of the video is skip frames: they are what is tested
    expected = ffmpeg_frames(mp4, width, height)
    assert len(expected) == frames
    assert openh264_frames(stream, width, height, work) == expected


def test_the_stream_says_bt709_for_primaries_transfer_and_matrix(built):
    mp4, video, _ = built
    assert (video["color_primaries"], video["color_transfer"], video["color_space"], video["color_range"]) == (
        "bt709", "bt709", "bt709", "tv")
    # In the SPS itself (the MP4's colr box could say it alone): 1 is BT.709 for all three (Table E-3..E-5).
    assert h264.read_parameters(h264.nal_units(annex_b(mp4))).colour == (1, 1, 1)


def test_openh264_rejects_a_skip_slice_one_macroblock_short(tmp_path):
    # The harness can fail: a skip frame that leaves the picture's last macroblock out is an error
    # state in OpenH264 (FFmpeg, even with -err_detect explode, only warns "corrupt decoded frame").
    width, height = 320, 176
    for args in (["-preset", "superfast"], ["-preset", "ultrafast"]):  # CABAC, CAVLC
        stream = encode(pictures(width, height, 3), width, height, args + ["-bf", "0", "-refs", "1", "-g", "300"])
        good = h264.access_units(h264.expand(stream, [1, 3, 1]))
        assert len(openh264_frames(b"".join(good), width, height, tmp_path)) == 5
        params = h264.parameters(h264.nal_units(stream))
        short = dataclasses.replace(params, macroblocks=params.macroblocks - 1)
        broken = good[:2] + [h264.skip_frame(short, 2)] + good[3:]
        with pytest.raises(DecodeError, match="DecodeFrameNoDelay: state"):
            openh264_frames(b"".join(broken), width, height, tmp_path)


def test_a_segment_skip_frames_cannot_follow_is_encoded_whole_and_plays(tmp_path, monkeypatch):
    timeline = grid_timeline(routine_steps())
    normal, stats = render(timeline, tmp_path, "normal", tmp_path / "normal-segments")
    assert skip_frames(annex_b(normal)) > stats.frames // 3

    def refuse(stream, repeats):
        raise h264.StreamError("refused by the test")

    monkeypatch.setattr(h264, "expand", refuse)
    forced, forced_stats = render(timeline, tmp_path, "forced", tmp_path / "forced-segments")
    assert forced_stats.made == stats.segments  # nothing came from the first render's segments
    stream = annex_b(forced)
    assert skip_frames(stream) == 0  # every frame went to x264
    expected = ffmpeg_frames(forced, W, H)
    assert len(expected) == stats.frames == round(timeline.duration * FPS)
    assert openh264_frames(stream, W, H, tmp_path) == expected
    # The same pictures as the skip-frame render, but for the encoder's loss.
    difference = np.abs(decode(forced).astype(int) - decode(normal).astype(int))
    assert difference.mean() < 1.0 and len(difference) == stats.frames
