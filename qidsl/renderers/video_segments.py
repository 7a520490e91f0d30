"""Video in segments: cut at whole frames, encoded on their own, cached by what they show, joined.

The timeline lies on the video's frame grid (every event lasts whole
frames), and nothing drawn depends on the routine's absolute time: captions,
cards, counters, the pacer and the section's own progress are all measured
from the event that shows them.  So the video is cut into segments:

- a segment starts where the timed event on screen changes (a caption, a
  breath phase, a counter, a side, a card) once the segment is at least
  ``MIN_SECONDS`` long, and never runs past ``MAX_SECONDS`` (a long hold is
  split, which also gives the cores work to share);
- its key is a hash of everything it draws, frame by frame, in the units it
  is drawn in (:class:`~qidsl.renderers.video.FrameState`: the still screen,
  the section's place, the pacer's radius in eighths of a pixel and its
  number, the bar's fill in pixels), plus the size, rate, theme, on-screen
  words and encoder settings, under the recipe of the drawing and encoding
  code (:data:`qidsl.products.VIDEO_SEGMENT`: a digest of that code);
- it is encoded to H.264 on its own by one ffmpeg (a fixed number of x264
  threads, so the bytes do not depend on the machine), starting with an IDR
  frame; only its distinct pictures go to x264, and each repeat of the one
  before is written as a skip frame (:mod:`qidsl.renderers.h264`), which
  costs a few dozen bytes and no encoding (should x264's stream be one skip
  frames cannot follow, every frame of the segment is encoded instead);
- it is a product of the build graph (:func:`declare_mp4`), kept in the store
  (:class:`qidsl.store.Store`) under its key as a raw H.264 stream, written
  under a temporary name and renamed, so two builds, or a killed one, never
  leave a half-written segment under a real name;
- the graph's scheduler makes the missing ones: encoders take a slot of the
  shared ``encoders`` pool and the narration's chunks one of ``cores``
  (:class:`qidsl.pools.Pools`), so routines built side by side share the
  machine; with ``--cluster`` each is a Dask task;
- an edit that lengthens a cue moves later events by whole frames, so later
  segments keep their keys and are reused; only the segments that show the
  edited event are made again;
- the segments' bytes are laid end to end (one valid stream, as they share
  their encoder settings) and muxed without re-encoding with the narration
  (encoded to AAC once per distinct mix, cached like a segment, while the
  segments are made), with ``+faststart`` there only.
"""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BuildError
from ..pools import CORES, ENCODERS, Pools
from ..products import AAC, AAC_CHUNK, MP4, NARRATION, VIDEO_SEGMENT, Later, Product
from ..progress import Progress
from . import backdrop, chapters, h264, mp4_tags, narration_aac, video
from .encoder import Encoder, ffmpeg_failure
from .ffmpeg_tool import ffmpeg_exe, ffmpeg_name
from .scene import CueLike
from .video import FrameState, VideoFrames

MAX_SECONDS = 10.0  # longest segment: a long hold is split, so the cores share it
MIN_SECONDS = 2.0  # shortest segment (but the last): short events are joined to the next (fewer encoder starts)
# x264's output depends on its thread count (checked: 1, 2 and 4 threads give three different files),
# so the count is fixed, never "auto": the same segment has the same bytes on every machine.  One
# thread per encoder, with two encoders side by side: the same speed as two threads each on the
# 2-core build machine (20.1 and 22.3 s against 23.0 and 22.4 s for the shipped routine's video),
# 10 % less CPU and 7 MB less per encoder.
X264_THREADS = 1
# A segment over a clip backdrop has no repeated pictures to skip and a clip reader beside its encoder,
# so memory lets only one such encoder run at a time (encoders_at_once): it takes two x264 threads,
# fixed as well (the segment's states say it shows a clip, so the count follows from its key).
CLIP_X264_THREADS = 2
# The whole build must stay under 400 MB, every process counted; the encoders get this much of it,
# the build's own Python process the rest.  One ffmpeg + x264 with the segments' settings (no
# B-frames, one reference) peaked at 45 MB at 640x360, 85 MB at 1280x720 and 148 MB at 1920x1080
# with one thread (47, 92 and 168 MB with two): at most 32 MB plus 66 MB per million pixels.  So two
# encoders run side by side at 720p, one at 1080p.
ENCODERS_MB = 230
SEGMENT_SUFFIX = VIDEO_SEGMENT.ext  # a raw H.264 stream: segments join by concatenating their bytes


@dataclass(frozen=True)
class Segment:
    """Frames ``start`` .. ``start + frames - 1`` of the video, and the key of what they show.

    ``repeats``: how many frames each of its pictures lasts, in order (the
    plan works them out; its make then draws each picture without looking at
    the frames that repeat it).
    """

    start: int
    frames: int
    key: str
    repeats: tuple[int, ...] = field(compare=False, repr=False)


@dataclass(frozen=True)
class Encoding:
    """The encoder settings every segment shares."""

    width: int
    height: int
    fps: int
    preset: str
    crf: int

    def video_args(self, threads: int = X264_THREADS) -> list[str]:
        gop = max(1, round(MAX_SECONDS * self.fps))
        return ["-c:v", "libx264", "-preset", self.preset, "-crf", str(self.crf), "-profile:v", "high",
                "-pix_fmt", "yuv420p", "-color_range", "tv", "-colorspace", "bt709",
                "-color_primaries", "bt709", "-color_trc", "bt709",
                # ffmpeg passes only the matrix on to x264 by itself: without these the SPS would
                # call the primaries and transfer "unspecified" and players would guess them.
                # subme=0: whole-pixel motion search only.  Measured on 450 pictures of the shipped
                # routine's segments at 720p (best of 5 interleaved runs, 2-core machine): x264's CPU
                # 1.21 s against 1.50 s with superfast's subme=1, the same picture (PSNR 45.83 against
                # 45.84 dB), a 12 % larger stream.  What moves here (a disk growing, a figure's
                # limbs) gains nothing from sub-pixel vectors, and x264 skips its half-pixel planes.
                "-x264-params", "colorprim=bt709:transfer=bt709:colormatrix=bt709:subme=0",
                # One GOP per segment (none is longer), opened by an IDR frame.  One reference frame
                # and no B-frames, so repeated pictures can be written as skip frames (see h264).
                "-g", str(gop), "-bf", "0", "-refs", "1", "-threads", str(threads)]


def encoders_at_once(jobs: int, width: int, height: int, clips: bool = False) -> int:
    """How many segment encoders may run side by side: ``jobs``, fewer if memory would not allow.

    With ``clips`` (a clip backdrop somewhere) each encoder has a clip's reader beside it: an ffmpeg
    decoding, scaling and converting to yuv420p, which holds about 20 MB plus 45 MB per million
    pixels (31, 63 and 114 MB measured at 640x360, 1280x720 and 1920x1080).
    """
    each = 32 + 66 * width * height / 1e6 + ((20 + 45 * width * height / 1e6) if clips else 0)
    return max(1, min(int(jobs), int(ENCODERS_MB // each)))


def _has_clips(timeline) -> bool:
    """Whether a clip (not a photo) is a backdrop anywhere in ``timeline``."""
    from ..timeline import probe_media

    infos = (probe_media(Path(cue.path)) for cue in timeline.backdrops if cue.path)
    return any(not isinstance(info, str) and info.kind == "clip" for info in infos)


def _header(frames: VideoFrames, encoding: Encoding) -> bytes:
    theme = frames.theme
    # The routine's language decides where on-screen texts may break (qidsl.fonts.breaks).
    return repr((ffmpeg_name(), encoding, theme, sorted(frames.scene.words.items()),
                 frames.language)).encode()


def plan_segments(frames: VideoFrames, count: int, encoding: Encoding) -> list[Segment]:
    """Cut frames ``0 .. count-1`` into segments and key each by the run of states it shows."""
    fps = encoding.fps
    longest = max(1, round(MAX_SECONDS * fps))
    shortest = max(1, round(MIN_SECONDS * fps))
    header = _header(frames, encoding)
    scene = frames.scene
    segments: list[Segment] = []
    start, event, state, run = 0, None, None, 0
    digest: hashlib._Hash | None = None  # the open segment's; None between segments
    has_card = False

    screens: dict = {}  # the segment's screens, each hashed in full once, then by its number
    repeats: list[int] = []  # the open segment's

    def feed(value: FrameState, repeat: int) -> None:
        nonlocal has_card
        assert digest is not None  # called while a segment is open
        repeats.append(repeat)
        number = screens.get(value.screen)
        if number is None:
            number = screens[value.screen] = len(screens)
            digest.update(repr(value.screen).encode())
            has_card = has_card or value.screen.card is not None
        digest.update(repr((number, value.place, value.pacer, value.fill, value.backdrop, value.figure,
                            repeat)).encode())

    def close(end: int) -> None:
        nonlocal digest, has_card
        if state is not None:
            feed(state, run)
        assert digest is not None  # called while a segment is open
        if has_card:  # the title and end cards show the routine's title, author, notes and length
            digest.update(repr(frames.card).encode())
        segments.append(Segment(start, end - start, VIDEO_SEGMENT.key(digest.hexdigest()), tuple(repeats)))
        digest, has_card = None, False
        screens.clear()
        repeats.clear()

    for i in range(count):
        moment = scene.at(i / fps)
        current = frames.state_of(moment)
        length = i - start
        if digest is not None and ((moment.event != event and length >= shortest) or length >= longest):
            close(i)
            state, run = None, 0
        if digest is None:
            start = i
            digest = hashlib.sha256(header)
        event = moment.event
        if current == state:
            run += 1
        else:
            if state is not None:
                feed(state, run)
            state, run = current, 1
    close(count)
    return segments

# The painters of this process, by Painting.token: the building process registers the one it planned
# with; a Dask worker makes its own once.  Each thread draws with its own copy (buffers), sharing the stills.
_PAINTERS: OrderedDict[str, VideoFrames] = OrderedDict()
_PAINTERS_KEPT = 2
_painters_lock = threading.Lock()
_drawing = threading.local()


@dataclass(frozen=True, eq=False)
class Painting:
    """What a video's frames are drawn from; pickled with each segment's make to a Dask worker.

    ``token`` names the painter in a process (:func:`_frames_for`), so one is
    made once per process, not once per segment.
    """

    timeline: Any
    cues: tuple[CueLike, ...]
    width: int
    height: int
    fps: int
    token: str


def _frames_for(painting: Painting) -> VideoFrames:
    """This thread's frame function for ``painting`` (made on first use in this process)."""
    mine = getattr(_drawing, "frames", None)
    if mine is not None and mine[0] == painting.token:
        return mine[1]
    with _painters_lock:
        model = _PAINTERS.get(painting.token)
    if model is None:
        model = VideoFrames(painting.timeline, painting.cues, painting.width, painting.height, planar=True,
                            fps=painting.fps, yuv_only=True)
        _remember(painting.token, model)
    frames = model.fresh()
    _drawing.frames = (painting.token, frames)
    return frames


def _remember(token: str, frames: VideoFrames) -> None:
    with _painters_lock:
        _PAINTERS[token] = frames
        while len(_PAINTERS) > _PAINTERS_KEPT:
            _PAINTERS.popitem(last=False)


@dataclass(frozen=True, eq=False)
class SegmentMake:
    """The make of one video segment (a graph product of the ``video-segment`` family)."""

    painting: Painting
    segment: Segment
    encoding: Encoding

    def __call__(self, out: Path) -> None:
        _encode_segment(_frames_for(self.painting), self.segment, self.encoding, out)


def _encode_segment(frames: VideoFrames, segment: Segment, encoding: Encoding, out: Path) -> None:
    """Draw and encode one segment into ``out`` (the store's temporary name for it).

    Only the segment's distinct pictures are drawn and sent to x264; each
    repeat of the one before becomes a skip frame (:mod:`qidsl.renderers.h264`).
    Should the encoder's stream be one skip frames cannot follow (h264 says
    why), every frame of the segment goes to x264 instead: slower, never a failed build.
    """
    fps = encoding.fps
    scene = frames.scene
    repeats = segment.repeats
    pictures, at = [], segment.start  # each picture's state, worked out at its first frame only
    for times in repeats:
        pictures.append(frames.state_of(scene.at(at / fps)))
        at += times
    try:
        _x264(frames, pictures, encoding, out)
        try:
            stream = h264.expand(out.read_bytes(), list(repeats))
        except h264.StreamError:
            _x264(frames, [picture for picture, times in zip(pictures, repeats) for _ in range(times)], encoding,
                  out)
            stream = h264.as_pictures(out.read_bytes())
        out.write_bytes(stream)
    finally:
        frames.release(park=True)  # a clip's reader: left for the next segment, which mostly goes on from here


def _x264(frames: VideoFrames, pictures: list[FrameState], encoding: Encoding, tmp: Path) -> None:
    """Draw each of ``pictures`` and encode them, one frame each, into ``tmp``."""
    clip = any(s.screen.backdrop is not None and s.screen.backdrop.kind == "clip" for s in pictures)
    command = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-nostdin",
        "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{encoding.width}x{encoding.height}",
        "-framerate", str(encoding.fps), "-color_range", "tv", "-colorspace", "bt709", "-i", "pipe:0",
        *encoding.video_args(CLIP_X264_THREADS if clip else X264_THREADS),
        "-an", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
        "-frames:v", str(len(pictures)), "-f", "h264", str(tmp),
    ]
    encoder = Encoder(command)
    try:
        for picture in pictures:
            frames.draw(picture)
            assert frames.yuv is not None  # the segments' painter draws planar YUV
            encoder.write(frames.yuv)
        encoder.finish()
    finally:
        encoder.close()


def _encode_whole_audio(audio: Path, seconds: float, tmp: Path) -> None:
    command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-nostdin", "-i", str(audio),
               "-vn", "-af", "apad", "-t", f"{seconds:.6f}", *narration_aac.AAC_OPTIONS,
               "-b:a", video.AUDIO_BITRATE,
               "-ar", str(video.AUDIO_RATE), "-map_metadata", "-1", "-fflags", "+bitexact",
               "-flags:a", "+bitexact", "-f", "mp4", str(tmp)]
    done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True)
    if done.returncode != 0:
        raise BuildError(ffmpeg_failure(done.stderr.decode("utf-8", "replace"), done.returncode,
                                        "could not encode the narration", audio))


@dataclass(frozen=True)
class ChunkMake:
    """The make of one narration chunk (an ``aac-chunk`` product) from the mixed WAV."""

    chunk: narration_aac.Chunk
    samples: int

    def __call__(self, out: Path, audio: Path) -> None:
        narration_aac.encode_chunk(ffmpeg_exe(), audio, self.chunk, self.samples, video.AUDIO_BITRATE, out)


@dataclass(frozen=True)
class WholeAudioMake:
    """The make of a whole narration's AAC (an ``aac`` product), for a WAV the chunks cannot read."""

    seconds: float

    def __call__(self, out: Path, audio: Path) -> None:
        _encode_whole_audio(audio, self.seconds, out)


def _ivf_header(width: int, height: int, fps: int, frames: int) -> bytes:
    # IVF: a 32-byte file header, then per picture its size, its time in 1/fps and its bytes.
    return b"DKIF" + struct.pack("<HH4sHHIIII", 0, 32, b"H264", width, height, fps, 1, frames, 0)


def _join(segments: list[Path], audio: Path, seconds: float, encoding: Encoding, frames: int, out: Path,
          metadata: str = ";FFMETADATA1\n", language: str = "und") -> None:
    """Join the segments and mux the narration: the only +faststart pass.

    The segments are raw H.264 streams made with the same settings, each
    opened by its parameter sets and an IDR picture, so their pictures laid
    end to end are one valid stream.  They are handed to ffmpeg in IVF, which
    gives each picture its time (picture N at N / fps), and ffmpeg copies
    them and the narration into the MP4, interleaved by those times.  (From
    a raw stream, which has no times, the muxer either held the whole video
    in memory waiting for the sound, 280 MB for 90 minutes, or interleaved
    differently from run to run.)  ``metadata`` is an ffmetadata file's text
    (:func:`qidsl.renderers.mp4_tags.ffmetadata`): its tags and chapters go into
    the MP4, and ``language`` onto every track.
    """
    fps = encoding.fps
    tags = Path(f"{out}.ffmetadata")
    tags.write_text(metadata, encoding="utf-8")
    command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
               "-f", "ivf", "-i", "pipe:0", "-i", str(audio), "-f", "ffmetadata", "-i", str(tags),
               "-map", "0:v:0", "-map", "1:a:0", "-c", "copy", "-t", f"{seconds:.6f}",
               "-bsf:v", "setts=duration=1",  # every picture lasts one frame, the last one too
               # The time scale an x264 encode to MP4 would have (fps x 512); interleave by times
               # alone, never by which input thread was quicker.
               "-video_track_timescale", str(fps * 512), "-max_interleave_delta", "0",
               # The QuickTime chapter track takes the movie's time scale; left to ffmpeg it is
               # 28224000 here, and a chapter longer than 152 s overflows its 32-bit duration.
               "-movie_timescale", "1000",
               "-map_metadata", "2", "-map_chapters", "2", "-metadata:s", f"language={language}",
               "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
               "-movflags", "+faststart", "-f", "mp4", str(out)]
    encoder = Encoder(command, audio, failure="could not join the video")
    try:
        encoder.write(_ivf_header(encoding.width, encoding.height, fps, frames))
        at = 0
        joiner = h264.Joiner()
        for segment in segments:
            with open(segment, "rb") as part:
                framed = []
                for picture in joiner.pictures(part.read()):
                    framed.append(struct.pack("<IQ", len(picture), at))
                    framed.append(picture)
                    at += 1
            encoder.write(b"".join(framed))  # a segment at a time: a write per picture cost 0.4 s a build
        encoder.finish()
    except h264.StreamError as exc:
        raise BuildError(f"could not join the video's segments: {exc}") from exc
    finally:
        encoder.close()
        tags.unlink(missing_ok=True)


def _metadata(timeline, seconds: float) -> str:
    """The MP4's tags and chapters (as the MP3's), as ffmetadata; no chapter reaches past its end."""
    settings = timeline.settings
    marks = [(c.title, c.start, min(c.end, seconds)) for c in chapters.chapters(timeline) if c.start < seconds]
    return mp4_tags.ffmetadata(settings.title, settings.author, settings.description, settings.tags, marks)

@dataclass(frozen=True)
class JoinMake:
    """The make of the MP4: its ``segments`` segment files, then the narration's AAC (ADTS or M4A)."""

    encoding: Encoding
    count: int  # frames
    segments: int
    metadata: str
    language: str

    def __call__(self, out: Path, *files: Path) -> None:
        backdrop.close_parked()  # the segments are made: no clip reader is left waiting
        seconds = self.count / self.encoding.fps
        _join(list(files[:self.segments]), files[self.segments], seconds, self.encoding, self.count, out,
              self.metadata, self.language)


@dataclass(frozen=True)
class NarrationJoin:
    """The make of the narration (``narration``): its chunks' AAC packets laid end to end in one ADTS stream."""

    chunks: tuple[narration_aac.Chunk, ...]
    samples: int

    def __call__(self, out: Path, audio: Path, *chunk_files: Path) -> None:
        del audio  # an input for its chunks, which are made from it
        narration_aac.join(list(self.chunks), list(chunk_files), self.samples, out)


def declare_narration(audio: Product | Path, audio_key: str, samples: int, seconds: float) -> Product:
    """The narration as AAC for the MP4, from the WAV ``audio`` (a product, or a file) keyed ``audio_key``.

    A 16-bit mono 48 kHz WAV (the build's mix always is) is cut into chunks
    in its silences, each an ``aac-chunk`` product keyed by its samples (see
    narration_aac), declared once the WAV is made, and their packets are
    joined (``narration``); a file in another format is encoded whole (``aac``).
    """
    if isinstance(audio, Path) and not narration_aac.readable(audio):
        return Product(AAC.kind, AAC.key(audio_key, video.AUDIO_BITRATE, narration_aac.AAC_OPTIONS, video.AUDIO_RATE,
                                         f"{seconds:.6f}", ffmpeg_name()), AAC.ext, WholeAudioMake(seconds), (audio,))
    settings = repr((video.AUDIO_BITRATE, narration_aac.AAC_OPTIONS, narration_aac.PRE_ROLL,
                     narration_aac.POST_ROLL, ffmpeg_name())).encode()

    def chunks_of(wav: Path) -> Later:
        if not narration_aac.readable(wav):
            raise BuildError(f"the narration {wav} is not a 16-bit mono 48 kHz WAV")
        chunks = tuple(narration_aac.plan(wav, samples, settings))
        return Later(tuple(Product(AAC_CHUNK.kind, AAC_CHUNK.key(c.key), AAC_CHUNK.ext, ChunkMake(c, samples),
                                   (wav,)) for c in chunks), make=NarrationJoin(chunks, samples))
    # No slot for the narration itself: its making waits for the mix and its chunks (which take slots of
    # ``cores``), then lays their packets end to end; so it may wait in a thread of its own beside the rest.
    return Product(NARRATION.kind, NARRATION.key(audio_key, samples, settings.decode()), NARRATION.ext, _planned,
                   (audio,), pool=None, more=chunks_of)


class _FramesMeter:
    """Progress over the frames of the segments being made: a bar on a terminal, ten lines otherwise."""

    def __init__(self, missing: list[Product], frames: dict[str, int], enabled: bool | None):
        total = sum(frames[p.key] for p in missing if p.kind == VIDEO_SEGMENT.kind)
        self.frames = frames
        self.bar = Progress(total, enabled if total else False, "video", "frame", lambda done, all_, _: (
            f"video {done * 100 // all_}% ({done}/{all_} frames)"), lines=10)
        self.lock = threading.Lock()

    def made(self, product: Product) -> None:
        if product.kind == VIDEO_SEGMENT.kind:
            with self.lock:
                self.bar.step(count=self.frames[product.key])

    def close(self) -> None:
        self.bar.close()


def declare_mp4(timeline, cues: Sequence[CueLike], audio: Product | Path, audio_key: str, key: str, *,
                width: int = 1280, height: int = 720, fps: int = 30, preview: bool = False,
                progress: bool | None = None, pools: Pools | None = None) -> Product:
    """The joined MP4 of ``timeline`` over the WAV ``audio`` (a product, or a file, keyed ``audio_key``), keyed ``key``.

    Its segments (``video-segment``, keyed by what they show) and the
    narration (:func:`declare_narration`) are its :class:`~qidsl.graph.Later`
    inputs, planned when the MP4 must be made, so a build that finds the MP4
    in the store plans nothing; the segments are encoded while the mix is
    made and cut into chunks.  Encoders take slots of the ``encoders`` pool,
    sized here from the cores and the resolution; the chunks and the join
    take ``cores``.  ``progress`` shows the frames made (None: automatic).
    """
    preset, crf = video.PRESET, video.CRF
    if timeline.backdrops:
        backdrop.return_large_blocks()  # before anything is made: see there
    if preview:
        width, height, fps = video.PREVIEW["width"], video.PREVIEW["height"], video.PREVIEW["fps"]
        preset, crf = video.PREVIEW["preset"], video.PREVIEW["crf"]
    if pools is not None:
        pools.ensure(ENCODERS, encoders_at_once(pools.size(CORES), width, height, _has_clips(timeline)))
    count = _frame_count(timeline, fps)
    encoding = Encoding(width, height, fps, preset, crf)
    narration = mp4_narration(timeline, audio, audio_key, fps=fps)

    def more() -> Later:
        frames = _painter(timeline, cues, width, height, fps)
        painting = Painting(timeline, tuple(cues), width, height, fps, uuid.uuid4().hex)
        _remember(painting.token, frames)
        segments = plan_segments(frames, count, encoding)
        made = [Product(VIDEO_SEGMENT.kind, s.key, VIDEO_SEGMENT.ext, SegmentMake(painting, s, encoding),
                        pool=ENCODERS) for s in segments]
        join = JoinMake(encoding, count, len(made), _metadata(timeline, count / fps),
                        mp4_tags.mp4_language(timeline.settings.language))
        lengths = {s.key: s.frames for s in segments}
        # The narration (the mix, then its chunks) is made beside the segments: nothing waits for the mix.
        return Later((*made, narration), lambda missing: _FramesMeter(missing, lengths, progress), join)
    return Product(MP4.kind, key, MP4.ext, _planned, more=more)


def _frame_count(timeline, fps: int) -> int:
    return max(1, round(timeline.duration * fps))  # the picture lasts the timeline to within half a frame


def mp4_narration(timeline, audio: Product | Path, audio_key: str, *, fps: int = 30, preview: bool = False) -> Product:
    """The narration the MP4 of ``timeline`` carries (the product :func:`declare_mp4`'s later inputs hold).

    A build asks for it beside the MP4 when the MP4 must be made, so its
    chunks are cut and encoded as soon as the mix is made, not once the
    video's segments are planned.
    """
    fps = video.PREVIEW["fps"] if preview else fps
    count = _frame_count(timeline, fps)
    return declare_narration(audio, audio_key, count * narration_aac.RATE // fps, count / fps)


def _planned(out: Path, *files: Path) -> None:
    raise AssertionError("made by the make its Later inputs bring")


def check_narration(audio: Path, timeline) -> None:
    """Raise :class:`~qidsl.errors.BuildError` unless ``audio`` can be read and ``timeline`` has a length."""
    if not audio.is_file():
        raise BuildError(f"the narration audio {audio} is missing")
    if not os.access(audio, os.R_OK):
        raise BuildError(f"the narration audio {audio} cannot be read")
    if timeline.duration <= 0:
        raise BuildError("the routine has no length, so there is no video to make")


def _painter(timeline, cues: Sequence[CueLike], width: int, height: int, fps: int) -> VideoFrames:
    """The frames' painter for ``timeline``, once the fonts are known to load."""
    if timeline.duration <= 0:
        raise BuildError("the routine has no length, so there is no video to make")
    try:
        frames = VideoFrames(timeline, cues, width, height, planar=True, fps=fps, yuv_only=True)
        frames(0.0)  # draws the title card, so a font problem shows here, before ffmpeg starts
    except ValueError as exc:
        raise BuildError(str(exc)) from exc
    except OSError as exc:  # the shipped fonts could not be read
        raise BuildError(f"could not load the video's fonts: {exc.strerror or exc}") from exc
    return frames
