"""Repeated frames in an H.264 stream, without encoding them: x264 codes each distinct picture once.

Most frames of a routine's video repeat the one before (a caption held
while the voice speaks, a countdown that changes once a second), and x264
spends about as long on a repeated 720p frame as on a new one.  So a segment
is encoded with only its distinct pictures, and each repeat is written here
as a *skip frame*: a P picture whose every macroblock is ``P_Skip``.  With
no neighbour moving, a skipped macroblock's motion vector is zero (H.264
8.4.1.1), and with deblocking off for the slice, the decoder copies the
reference picture exactly.  The stream must use one reference frame, no
B-frames and picture order type 2 (x264 with ``bframes=0`` and ``ref=1``);
:func:`expand` checks that and says so if the encoder was set otherwise.

Each skip frame is a reference frame too, so frame numbers count every
picture: the encoder's own pictures get their ``frame_num`` rewritten in
place (a field of fixed width near the start of the slice header).

The bits are written by hand because no maintained Python library writes
H.264 slices; what is written is small (a slice header and, with CABAC,
one context's worth of arithmetic coding) and every test decodes the result
with ffmpeg and compares it with the pictures drawn.  Tables are from
ITU-T H.264 (08/2021): 9-44 (rangeTabLPS), 9-45 (state transitions) and
9-13 (the initial state of ``mb_skip_flag``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# Each picture opens with a four-byte start code and every other NAL unit has a three-byte one, so
# pictures can be told apart by the four-byte code alone (see access_units): no NAL unit ends in a
# zero byte, and emulation prevention keeps 00 00 00 out of every unit.
START_CODE = b"\x00\x00\x00\x01"
SHORT_START_CODE = b"\x00\x00\x01"
NAL_SLICE, NAL_IDR, NAL_SPS, NAL_PPS = 1, 5, 7, 8


class StreamError(ValueError):
    """The encoder's stream is not one this module can add skip frames to (a setting changed)."""


# ---- bits ------------------------------------------------------------------------------------

class BitReader:
    """Reads an RBSP (emulation prevention removed) bit by bit."""

    def __init__(self, data: bytes):
        self._value = int.from_bytes(data, "big")
        self._length = len(data) * 8
        self.position = 0

    def u(self, n: int) -> int:
        if n == 0:
            return 0
        if self.position + n > self._length:
            raise StreamError("an H.264 header ends early")
        self.position += n
        return (self._value >> (self._length - self.position)) & ((1 << n) - 1)

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise StreamError("an H.264 number is too long")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k % 2 else -(k // 2)


class BitWriter:
    """Builds an RBSP bit by bit."""

    def __init__(self):
        self._value = 0
        self.length = 0

    def u(self, n: int, value: int) -> None:
        self._value = (self._value << n) | (value & ((1 << n) - 1))
        self.length += n

    def ue(self, value: int) -> None:
        code = value + 1
        self.u(2 * code.bit_length() - 1, code)

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def align(self, bit: int) -> None:
        while self.length % 8:
            self.u(1, bit)

    def trailing(self) -> None:
        """``rbsp_trailing_bits``: a stop bit, then zeros to the byte."""
        self.u(1, 1)
        self.align(0)

    @property
    def value(self) -> int:
        """The bits written so far, as one number."""
        return self._value


_EMULATED = re.compile(b"\x00\x00\x03")
_NEEDS_ESCAPE = re.compile(b"\x00\x00(?=[\x00-\x03])")


def unescape(payload: bytes) -> bytes:
    """A NAL unit's bytes without its emulation prevention bytes."""
    return _EMULATED.sub(b"\x00\x00", payload)


def escape(rbsp: bytes) -> bytes:
    """Emulation prevention: no start code can appear inside the NAL unit."""
    return _NEEDS_ESCAPE.sub(b"\x00\x00\x03", rbsp)


def access_units(stream: bytes) -> list[bytes]:
    """The pictures of a stream written by :func:`expand`, each with its start codes."""
    return [START_CODE + unit for unit in stream.split(START_CODE)[1:]]


def nal_units(stream: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream (start codes and leading zeros removed)."""
    units = []
    for piece in stream.split(b"\x00\x00\x01")[1:]:
        units.append(piece.rstrip(b"\x00") if piece.endswith(b"\x00") else piece)
    return [unit for unit in units if unit]


# ---- parameter sets --------------------------------------------------------------------------

@dataclass(frozen=True)
class Parameters:
    """What the skip frames and the renumbering need to know of the stream's SPS and PPS."""

    log2_max_frame_num: int
    poc_type: int
    macroblocks: int
    max_refs: int
    cabac: bool
    weighted_pred: bool
    refs_active: int  # num_ref_idx_l0_default_active
    chroma: bool  # ChromaArrayType != 0
    init_qp: int  # 26 + pic_init_qp_minus26
    deblocking_control: bool
    pps_id: int


def _skip_scaling_list(reader: BitReader, size: int) -> None:
    last = following = 8
    for _ in range(size):
        if following:
            following = (last + reader.se() + 256) % 256
        last = following or last


def _sps(rbsp: bytes) -> dict:
    r = BitReader(rbsp)
    profile = r.u(8)
    r.u(16)  # constraint flags, level
    r.ue()  # seq_parameter_set_id
    chroma_format = 1
    if profile in (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135):
        chroma_format = r.ue()
        separate_planes = r.u(1) if chroma_format == 3 else 0
        if separate_planes:
            chroma_format = 0
        r.ue(), r.ue(), r.u(1)  # bit depths, transform bypass
        if r.u(1):  # seq_scaling_matrix_present_flag
            for i in range(8 if chroma_format != 3 else 12):
                if r.u(1):
                    _skip_scaling_list(r, 16 if i < 6 else 64)
    log2_max_frame_num = r.ue() + 4
    poc_type = r.ue()
    if poc_type == 0:
        r.ue()
    elif poc_type == 1:
        raise StreamError("picture order type 1 is not supported")
    max_refs = r.ue()
    r.u(1)  # gaps_in_frame_num_value_allowed_flag
    width_mbs = r.ue() + 1
    height_units = r.ue() + 1
    frame_mbs_only = r.u(1)
    if not frame_mbs_only:
        raise StreamError("interlaced video is not supported")
    return dict(log2_max_frame_num=log2_max_frame_num, poc_type=poc_type, max_refs=max_refs,
                macroblocks=width_mbs * height_units, chroma=chroma_format != 0)


def _pps(rbsp: bytes) -> dict:
    r = BitReader(rbsp)
    pps_id = r.ue()
    r.ue()  # seq_parameter_set_id
    cabac = r.u(1)
    r.u(1)  # bottom_field_pic_order_in_frame_present_flag
    if r.ue() != 0:
        raise StreamError("slice groups are not supported")
    refs_active = r.ue() + 1
    r.ue()
    weighted_pred = r.u(1)
    r.u(2)
    init_qp = 26 + r.se()
    r.se(), r.se()  # pic_init_qs, chroma_qp_index_offset
    deblocking_control = r.u(1)
    r.u(1)  # constrained_intra_pred_flag
    if r.u(1):
        raise StreamError("redundant pictures are not supported")
    return dict(pps_id=pps_id, cabac=bool(cabac), refs_active=refs_active, weighted_pred=bool(weighted_pred),
                init_qp=init_qp, deblocking_control=bool(deblocking_control))


def parameters(units: list[bytes]) -> Parameters:
    """The stream's parameters, from its first SPS and PPS; StreamError if skip frames cannot follow."""
    sps = next((u for u in units if u[0] & 0x1F == NAL_SPS), None)
    pps = next((u for u in units if u[0] & 0x1F == NAL_PPS), None)
    if sps is None or pps is None:
        raise StreamError("the stream has no parameter sets")
    found = Parameters(**_sps(unescape(sps[1:])), **_pps(unescape(pps[1:])))
    if found.poc_type != 2 or found.max_refs != 1:
        raise StreamError("skip frames need one reference frame and no B-frames (bframes=0, ref=1)")
    return found


# ---- CABAC (9.3.4): only mb_skip_flag = 1 and end_of_slice_flag are ever coded ----------------

_RANGE_LPS = (
    (128, 176, 208, 240), (128, 167, 197, 227), (128, 158, 187, 216), (123, 150, 178, 205),
    (116, 142, 169, 195), (111, 135, 160, 185), (105, 128, 152, 175), (100, 122, 144, 166),
    (95, 116, 137, 158), (90, 110, 130, 150), (85, 104, 123, 142), (81, 99, 117, 135),
    (77, 94, 111, 128), (73, 89, 105, 122), (69, 85, 100, 116), (66, 80, 95, 110),
    (62, 76, 90, 104), (59, 72, 86, 99), (56, 69, 81, 94), (53, 65, 77, 89),
    (51, 62, 73, 85), (48, 59, 69, 80), (46, 56, 66, 76), (43, 53, 63, 72),
    (41, 50, 59, 69), (39, 48, 56, 65), (37, 45, 54, 62), (35, 43, 51, 59),
    (33, 41, 48, 56), (32, 39, 46, 53), (30, 37, 43, 50), (29, 35, 41, 48),
    (27, 33, 39, 45), (26, 31, 37, 43), (24, 30, 35, 41), (23, 28, 33, 39),
    (22, 27, 32, 37), (21, 26, 30, 35), (20, 24, 29, 33), (19, 23, 27, 31),
    (18, 22, 26, 30), (17, 21, 25, 28), (16, 20, 23, 27), (15, 19, 22, 25),
    (14, 18, 21, 24), (14, 17, 20, 23), (13, 16, 19, 22), (12, 15, 18, 21),
    (12, 14, 17, 20), (11, 14, 16, 19), (11, 13, 15, 18), (10, 12, 15, 17),
    (10, 12, 14, 16), (9, 11, 13, 15), (9, 11, 12, 14), (8, 10, 12, 14),
    (8, 9, 11, 13), (7, 9, 11, 12), (7, 9, 10, 12), (7, 8, 10, 11),
    (6, 8, 9, 11), (6, 7, 9, 10), (6, 7, 8, 9), (2, 2, 2, 2),
)
_NEXT_LPS = (
    0, 0, 1, 2, 2, 4, 4, 5, 6, 7, 8, 9, 9, 11, 11, 12,
    13, 13, 15, 15, 16, 16, 18, 18, 19, 19, 21, 21, 22, 22, 23, 24,
    24, 25, 26, 26, 27, 27, 28, 29, 29, 30, 30, 30, 31, 32, 32, 33,
    33, 33, 34, 34, 35, 35, 35, 36, 36, 36, 37, 37, 37, 38, 38, 63,
)
_SKIP_FLAG_INIT = (23, 33)  # (m, n) of ctxIdx 11 for cabac_init_idc 0; every neighbour skips, so ctxIdxInc is 0


class _Cabac:
    """The arithmetic encoder of 9.3.4.2, writing into a BitWriter."""

    def __init__(self, out: BitWriter):
        self.out = out
        self.low, self.range, self.outstanding, self.first = 0, 510, 0, True

    def _put(self, bit: int) -> None:
        if self.first:
            self.first = False
        else:
            self.out.u(1, bit)
        while self.outstanding:
            self.out.u(1, 1 - bit)
            self.outstanding -= 1

    def _renormalise(self) -> None:
        while self.range < 256:
            if self.low < 256:
                self._put(0)
            elif self.low >= 512:
                self.low -= 512
                self._put(1)
            else:
                self.low -= 256
                self.outstanding += 1
            self.range <<= 1
            self.low <<= 1

    def decision(self, state: list[int], bit: int) -> None:
        """Code ``bit`` with the context ``state`` = [pStateIdx, valMPS] (updated in place)."""
        p, mps = state
        lps = _RANGE_LPS[p][(self.range >> 6) & 3]
        self.range -= lps
        if bit != mps:
            self.low += self.range
            self.range = lps
            if p == 0:
                state[1] = 1 - mps
            state[0] = _NEXT_LPS[p]
        else:
            state[0] = min(p + 1, 62)
        self._renormalise()

    def terminate(self, bit: int) -> None:
        self.range -= 2
        if bit:
            self.low += self.range
            self.range = 2
            self._renormalise()
            self._put((self.low >> 9) & 1)
            self.out.u(2, ((self.low >> 7) & 3) | 1)  # the last bit written is the stop bit
        else:
            self._renormalise()


def _context(m: int, n: int, qp: int) -> list[int]:
    pre = max(1, min(126, ((m * max(0, min(51, qp))) >> 4) + n))
    return [63 - pre, 0] if pre <= 63 else [pre - 64, 1]


# ---- skip frames and renumbering ------------------------------------------------------------

def skip_frame(params: Parameters, frame_num: int) -> bytes:
    """An access unit (start code included) that repeats the reference picture exactly."""
    template, shift, size = _skip_template(params)
    value = template | ((frame_num % (1 << params.log2_max_frame_num)) << shift)
    return START_CODE + escape(value.to_bytes(size, "big"))


@functools.lru_cache(maxsize=8)
def _skip_template(params: Parameters) -> tuple[int, int, int]:
    """A skip frame's RBSP with frame_num 0 as an integer, where frame_num's lowest bit sits, its bytes.

    Only frame_num differs between skip frames, and it has a fixed width, so
    the arithmetic coding of the slice (the dear part) is done once.
    """
    w = BitWriter()
    w.u(8, 0x41)  # forbidden_zero_bit 0, nal_ref_idc 2 (a reference picture), nal_unit_type 1
    w.ue(0)  # first_mb_in_slice
    w.ue(5)  # slice_type: P, and every slice of the picture is P
    w.ue(params.pps_id)
    w.u(params.log2_max_frame_num, 0)  # frame_num, set by skip_frame
    after_frame_num = w.length
    w.u(1, 0)  # num_ref_idx_active_override_flag: the PPS's count stands
    w.u(1, 0)  # ref_pic_list_modification_flag_l0
    if params.weighted_pred:  # pred_weight_table: denominators 0, no weights (the defaults)
        w.ue(0)
        if params.chroma:
            w.ue(0)
        for _ in range(params.refs_active):
            w.u(1, 0)
            if params.chroma:
                w.u(1, 0)
    w.u(1, 0)  # adaptive_ref_pic_marking_mode_flag: sliding window
    if params.cabac:
        w.ue(0)  # cabac_init_idc
    w.se(0)  # slice_qp_delta
    if params.deblocking_control:
        w.ue(1)  # disable_deblocking_filter_idc: off, so the copy is exact
    if not params.cabac:
        w.ue(params.macroblocks)  # mb_skip_run: every macroblock
        w.trailing()
    else:
        w.align(1)  # cabac_alignment_one_bit
        coder = _Cabac(w)
        state = _context(*_SKIP_FLAG_INIT, params.init_qp)
        for mb in range(params.macroblocks):
            coder.decision(state, 1)  # mb_skip_flag
            coder.terminate(1 if mb == params.macroblocks - 1 else 0)  # end_of_slice_flag
        w.align(0)
    return w.value, w.length - after_frame_num, w.length // 8


def _renumbered(unit: bytes, params: Parameters, frame_num: int) -> bytes:
    """A slice NAL unit with its ``frame_num`` set to ``frame_num`` (same width, same place)."""
    rbsp = unescape(unit)
    reader = BitReader(rbsp[1:])
    reader.ue(), reader.ue(), reader.ue()  # first_mb_in_slice, slice_type, pic_parameter_set_id
    at = 8 + reader.position
    width = params.log2_max_frame_num
    value = int.from_bytes(rbsp, "big")
    total = len(rbsp) * 8
    shift = total - at - width
    value = (value & ~(((1 << width) - 1) << shift)) | ((frame_num % (1 << width)) << shift)
    return escape(value.to_bytes(len(rbsp), "big"))


def expand(stream: bytes, repeats: list[int]) -> bytes:
    """The encoder's ``stream`` of distinct pictures with picture ``i`` shown ``repeats[i]`` times.

    Raises StreamError when the stream does not hold ``len(repeats)``
    pictures or was not encoded the way skip frames need.
    """
    units = nal_units(stream)
    params = parameters(units)
    pictures: list[list[bytes]] = []  # each picture's NAL units, parameter sets and SEI first
    pending: list[bytes] = []
    for unit in units:
        kind = unit[0] & 0x1F
        if kind in (NAL_SLICE, NAL_IDR):
            if unit[1] & 0x80 == 0:  # first_mb_in_slice is not 0: a second slice of the same picture
                raise StreamError("pictures of several slices are not supported")
            pictures.append(pending + [unit])
            pending = []
        elif kind in (2, 3, 4):
            raise StreamError("data partitioning is not supported")
        else:
            pending.append(unit)
    if len(pictures) != len(repeats):
        raise StreamError(f"the encoder gave {len(pictures)} pictures where {len(repeats)} were sent")
    out = bytearray()
    frame_num = 0
    for picture, times in zip(pictures, repeats):
        for at, unit in enumerate(picture):
            kind = unit[0] & 0x1F
            if kind == NAL_IDR:
                frame_num = 0
            if kind in (NAL_SLICE, NAL_IDR):
                if unit[0] & 0x60 == 0:
                    raise StreamError("the encoder wrote a picture that is not a reference")
                unit = _renumbered(unit, params, frame_num)
            out += (START_CODE if at == 0 else SHORT_START_CODE) + unit
        for _ in range(times - 1):
            frame_num += 1
            out += skip_frame(params, frame_num)
        frame_num += 1
    return bytes(out)
