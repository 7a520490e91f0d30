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

What a skip frame cannot follow is refused with a :class:`StreamError`
saying why (the segment is then encoded whole, every frame through x264):
B-frames or several references, interlacing, several slices per picture,
separately coded colour planes, and timing that every picture must restate
in an SEI message (HRD parameters, ``pic_struct``), since a skip frame
carries none.  Segments are joined by :class:`Joiner`, which keeps two IDR
pictures in a row from sharing an ``idr_pic_id``.

The bits are written by hand because no maintained Python library writes
H.264 slices; what is written is small (a slice header and, with CABAC,
one context's worth of arithmetic coding) and the tests decode the result
with FFmpeg and with Cisco's OpenH264 and compare every frame.  Tables are from
ITU-T H.264 (08/2021): 9-44 (rangeTabLPS), 9-45 (state transitions) and
9-13 (the initial state of ``mb_skip_flag``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

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

    def __init__(self) -> None:
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
    log2_max_poc_lsb: int  # pic_order_cnt_lsb's width (picture order type 0 only)
    macroblocks: int
    max_refs: int
    colour: tuple[int, int, int] | None  # VUI colour_primaries, transfer_characteristics, matrix_coefficients
    cabac: bool
    weighted_pred: bool
    refs_active: int  # num_ref_idx_l0_default_active
    chroma: bool  # ChromaArrayType != 0
    init_qp: int  # 26 + pic_init_qp_minus26
    deblocking_control: bool
    bottom_field_poc: bool  # bottom_field_pic_order_in_frame_present_flag
    pps_id: int


def _skip_scaling_list(reader: BitReader, size: int) -> None:
    last = following = 8
    for _ in range(size):
        if following:
            following = (last + reader.se() + 256) % 256
        last = following or last


def _sps(rbsp: bytes) -> dict[str, Any]:
    r = BitReader(rbsp)
    profile = r.u(8)
    r.u(16)  # constraint flags, level
    r.ue()  # seq_parameter_set_id
    chroma_format = 1
    if profile in (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135):
        chroma_format = r.ue()
        if chroma_format == 3 and r.u(1):
            # Each colour plane is then a picture of its own, sent as slices with a colour_plane_id.
            raise StreamError("separate colour planes (separate_colour_plane_flag) are not supported: "
                              "a skip frame is one slice for all three planes")
        r.ue(), r.ue(), r.u(1)  # bit depths, transform bypass
        if r.u(1):  # seq_scaling_matrix_present_flag
            for i in range(8 if chroma_format != 3 else 12):
                if r.u(1):
                    _skip_scaling_list(r, 16 if i < 6 else 64)
    log2_max_frame_num = r.ue() + 4
    poc_type = r.ue()
    log2_max_poc_lsb = 0
    if poc_type == 0:
        log2_max_poc_lsb = r.ue() + 4
    elif poc_type == 1:
        raise StreamError("picture order type 1 is not supported")
    max_refs = r.ue()
    r.u(1)  # gaps_in_frame_num_value_allowed_flag
    width_mbs = r.ue() + 1
    height_units = r.ue() + 1
    frame_mbs_only = r.u(1)
    if not frame_mbs_only:
        raise StreamError("interlaced video is not supported")
    r.u(1)  # direct_8x8_inference_flag
    if r.u(1):  # frame_cropping_flag
        r.ue(), r.ue(), r.ue(), r.ue()
    colour = _vui(r) if r.u(1) else None
    return {"log2_max_frame_num": log2_max_frame_num, "poc_type": poc_type, "log2_max_poc_lsb": log2_max_poc_lsb,
            "max_refs": max_refs, "macroblocks": width_mbs * height_units, "chroma": chroma_format != 0,
            "colour": colour}


def _vui(r: BitReader) -> tuple[int, int, int] | None:
    """Reads ``vui_parameters`` (E.1.1) as far as skip frames care; returns the colour description.

    Refuses timing that every picture must restate: skip frames carry no SEI,
    so they would break the HRD's buffering and timing (each picture's
    removal and output delays) and leave pictures without their ``pic_struct``.
    """
    if r.u(1) and r.u(8) == 255:  # aspect_ratio_info_present_flag, aspect_ratio_idc Extended_SAR
        r.u(16), r.u(16)  # sar_width, sar_height
    if r.u(1):  # overscan_info_present_flag
        r.u(1)
    colour = None
    if r.u(1):  # video_signal_type_present_flag
        r.u(3), r.u(1)  # video_format, video_full_range_flag
        if r.u(1):  # colour_description_present_flag
            colour = (r.u(8), r.u(8), r.u(8))
    if r.u(1):  # chroma_loc_info_present_flag
        r.ue(), r.ue()
    if r.u(1):  # timing_info_present_flag
        r.u(32), r.u(32), r.u(1)
    if r.u(1) or r.u(1):  # nal_hrd_parameters_present_flag, vcl_hrd_parameters_present_flag
        raise StreamError("HRD parameters in the VUI are not supported: every picture would need "
                          "buffering and timing SEI, and skip frames carry none (x264's nal-hrd)")
    if r.u(1):  # pic_struct_present_flag
        raise StreamError("pic_struct in the VUI is not supported: every picture would need a picture "
                          "timing SEI, and skip frames carry none (x264's pic-struct)")
    return colour


def _pps(rbsp: bytes) -> dict[str, Any]:
    r = BitReader(rbsp)
    pps_id = r.ue()
    r.ue()  # seq_parameter_set_id
    cabac = r.u(1)
    bottom_field_poc = r.u(1)
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
    return {"pps_id": pps_id, "cabac": bool(cabac), "refs_active": refs_active, "weighted_pred": bool(weighted_pred),
            "init_qp": init_qp, "deblocking_control": bool(deblocking_control),
            "bottom_field_poc": bool(bottom_field_poc)}


def read_parameters(units: list[bytes]) -> Parameters:
    """The stream's parameters, from its first SPS and PPS; StreamError if they cannot be read."""
    sps = next((u for u in units if u[0] & 0x1F == NAL_SPS), None)
    pps = next((u for u in units if u[0] & 0x1F == NAL_PPS), None)
    if sps is None or pps is None:
        raise StreamError("the stream has no parameter sets")
    return Parameters(**_sps(unescape(sps[1:])), **_pps(unescape(pps[1:])))


def parameters(units: list[bytes]) -> Parameters:
    """The stream's parameters, from its first SPS and PPS; StreamError if skip frames cannot follow."""
    found = read_parameters(units)
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


def _group(units: list[bytes]) -> list[list[bytes]]:
    """The NAL units of each picture, the parameter sets and SEI before its slices among them.

    A picture starts at a slice whose ``first_mb_in_slice`` is 0 (its first
    bit is then 1); a later slice or partition belongs to the picture before.
    """
    pictures: list[list[bytes]] = []
    pending: list[bytes] = []
    for unit in units:
        kind = unit[0] & 0x1F
        if kind in (NAL_SLICE, 2, NAL_IDR) and (unit[1] & 0x80 or not pictures):
            pictures.append(pending + [unit])
            pending = []
        elif 1 <= kind <= 5 and pictures:
            pictures[-1] += pending + [unit]
            pending = []
        else:
            pending.append(unit)
    if pictures:
        pictures[-1] += pending  # end of sequence or stream
    return pictures


def _written(picture: list[bytes]) -> bytes:
    """A picture's NAL units as :func:`access_units` finds them: one four-byte start code, at the start."""
    return START_CODE + SHORT_START_CODE.join(picture)


def as_pictures(stream: bytes) -> bytes:
    """An encoder's stream, every frame encoded, written as :func:`expand` writes (no skip frames).

    For the segments whose stream :func:`expand` refused: the bytes of each
    NAL unit are kept; only the start codes change, so the join finds the pictures.
    """
    return b"".join(_written(picture) for picture in _group(nal_units(stream)))


def expand(stream: bytes, repeats: list[int]) -> bytes:
    """The encoder's ``stream`` of distinct pictures with picture ``i`` shown ``repeats[i]`` times.

    Raises StreamError when the stream does not hold ``len(repeats)``
    pictures or was not encoded the way skip frames need.
    """
    units = nal_units(stream)
    params = parameters(units)
    for unit in units:
        kind = unit[0] & 0x1F
        if kind in (2, 3, 4):
            raise StreamError("data partitioning is not supported")
        if kind in (NAL_SLICE, NAL_IDR) and unit[1] & 0x80 == 0:  # first_mb_in_slice is not 0
            raise StreamError("pictures of several slices are not supported")
    pictures = _group(units)
    if len(pictures) != len(repeats):
        raise StreamError(f"the encoder gave {len(pictures)} pictures where {len(repeats)} were sent")
    out = bytearray()
    frame_num = 0
    for picture, times in zip(pictures, repeats):
        renumbered = []
        for unit in picture:
            kind = unit[0] & 0x1F
            if kind == NAL_IDR:
                frame_num = 0
            if kind in (NAL_SLICE, NAL_IDR):
                if unit[0] & 0x60 == 0:
                    raise StreamError("the encoder wrote a picture that is not a reference")
                unit = _renumbered(unit, params, frame_num)
            renumbered.append(unit)
        out += _written(renumbered)
        for _ in range(times - 1):
            frame_num += 1
            out += skip_frame(params, frame_num)
        frame_num += 1
    return bytes(out)


# ---- joining segments: idr_pic_id ------------------------------------------------------------

def _idr_header(rbsp: bytes, params: Parameters) -> tuple[int, int, int, int]:
    """Where an IDR slice's ``idr_pic_id`` starts and ends, its value and where the header ends (bits).

    Positions count from the start of ``rbsp``, the NAL unit's header byte
    included (7.3.3; an IDR slice is I or SI, and its reference marking is two flags).
    """
    r = BitReader(rbsp)
    r.u(8)  # the NAL unit's header
    r.ue()  # first_mb_in_slice
    slice_type = r.ue() % 5
    if slice_type not in (2, 4):
        raise StreamError("an IDR picture has a slice that is not intra")
    r.ue()  # pic_parameter_set_id
    r.u(params.log2_max_frame_num)  # frame_num
    start = r.position
    value = r.ue()
    end = r.position
    if params.poc_type == 0:
        r.u(params.log2_max_poc_lsb)
        if params.bottom_field_poc:
            r.se()  # delta_pic_order_cnt_bottom
    r.u(2)  # dec_ref_pic_marking: no_output_of_prior_pics_flag, long_term_reference_flag
    r.se()  # slice_qp_delta
    if slice_type == 4:
        r.se()  # slice_qs_delta
    if params.deblocking_control and r.ue() != 1:  # disable_deblocking_filter_idc
        r.se(), r.se()  # slice_alpha_c0_offset_div2, slice_beta_offset_div2
    return start, end, value, r.position


def with_idr_pic_id(unit: bytes, params: Parameters, idr_pic_id: int) -> bytes:
    """An IDR slice NAL unit with its ``idr_pic_id`` set (a field of variable width, so the rest moves).

    With CAVLC the slice data follows the header bit by bit and moves with
    it; with CABAC it starts at the next whole byte (after alignment ones),
    so only the alignment changes and the data's bytes are kept.
    """
    rbsp = unescape(unit)
    start, end, _, header_end = _idr_header(rbsp, params)
    total = len(rbsp) * 8
    value = int.from_bytes(rbsp, "big")

    def bits(a: int, b: int) -> int:
        return (value >> (total - b)) & ((1 << (b - a)) - 1)

    w = BitWriter()
    w.u(start, bits(0, start))
    w.ue(idr_pic_id)
    if params.cabac:
        w.u(header_end - end, bits(end, header_end))
        w.align(1)  # cabac_alignment_one_bit
        data = rbsp[(header_end + 7) // 8:]
    else:
        stop = total - ((value & -value).bit_length() - 1) - 1  # where rbsp_stop_one_bit sits
        w.u(stop - end, bits(end, stop))
        w.trailing()
        data = b""
    return escape(w.value.to_bytes(w.length // 8, "big") + data)


def idr_pic_id(unit: bytes, params: Parameters) -> int:
    """The ``idr_pic_id`` of an IDR slice NAL unit."""
    return _idr_header(unescape(unit[:_HEADER_BYTES]), params)[2]  # the header only, not the picture


_HEADER_BYTES = 256  # more than any IDR slice header takes


class Joiner:
    """Lays segments' pictures end to end as one stream.

    Every segment opens with an IDR picture whose ``idr_pic_id`` is the
    encoder's first (0), and two IDR pictures in a row must not share one
    (7.4.3): a decoder may take the second for more of the first.  That
    happens where a segment ends on an IDR picture (a segment of one frame,
    say); the second picture's ``idr_pic_id`` is then rewritten.  Headers are
    read only then, so the join stays a copy of bytes.
    """

    def __init__(self) -> None:
        self._sets: tuple[bytes, bytes] | None = None  # the latest SPS and PPS
        self._last_idr: tuple[bytes, tuple[bytes, bytes]] | None = None  # the previous picture's IDR slice, if any

    def pictures(self, stream: bytes) -> Iterator[bytes]:
        """The pictures of ``stream`` (written by :func:`expand` or :func:`as_pictures`), each with start codes."""
        for picture in access_units(stream):
            if picture[4] & 0x1F == NAL_SLICE:  # most pictures: a P picture or a skip frame
                self._last_idr = None
                yield picture
            else:
                yield self._idr_checked(picture)

    def _idr_checked(self, picture: bytes) -> bytes:
        units = nal_units(picture)
        sps = next((u for u in units if u[0] & 0x1F == NAL_SPS), None)
        pps = next((u for u in units if u[0] & 0x1F == NAL_PPS), None)
        if sps is not None and pps is not None:
            self._sets = (sps, pps)
        idr = next((u for u in units if u[0] & 0x1F == NAL_IDR), None)
        previous, self._last_idr = self._last_idr, None
        if idr is None:
            return picture
        if self._sets is None:
            raise StreamError("an IDR picture comes before any parameter sets")
        if previous is not None:
            params = _parameters_of(*self._sets)
            number = idr_pic_id(idr, params)
            if number == idr_pic_id(previous[0], _parameters_of(*previous[1])):
                number = (number + 1) % 65536
                units = [with_idr_pic_id(u, params, number) if u[0] & 0x1F == NAL_IDR else u for u in units]
                idr = next(u for u in units if u[0] & 0x1F == NAL_IDR)
                picture = _written(units)
        self._last_idr = (idr, self._sets)
        return picture


@functools.lru_cache(maxsize=8)
def _parameters_of(sps: bytes, pps: bytes) -> Parameters:
    return read_parameters([sps, pps])
