"""Narration chunks: where they are cut depends on the sound around each pause alone, so an edit
re-encodes only the chunks that hold it; on a frame grid every sound starts exactly on its frame."""

from __future__ import annotations

import wave

import numpy as np

from qidsl.renderers import narration_aac
from tests.test_video import routine_steps
from tests.test_video_segments import grid_timeline

RATE = narration_aac.RATE


def narration(path, sounds: list[tuple[float, float]], seconds: float):
    """16-bit mono 48 kHz: noise bursts (start, length in seconds), true silence between."""
    signal = np.zeros(round(seconds * RATE), np.int16)
    for i, (start, length) in enumerate(sounds):
        lo = round(start * RATE)
        burst = (np.random.default_rng(i).standard_normal(round(length * RATE)) * 3000).astype(np.int16)
        signal[lo:lo + len(burst)] = burst
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(signal.tobytes())
    return path


def keys(path, seconds):
    return [c.key for c in narration_aac.plan(path, round(seconds * RATE), b"settings")]


def test_an_edit_early_on_changes_only_the_chunks_that_hold_it(tmp_path):
    # Cues of 3 s with pauses of 0.6 s, the spacing of a routine's steady stretch.  The edit makes the
    # second cue 1.8 s longer: everything after it moves, and so does the distance from the last cut
    # before it (a rule such as "at least 5 s since the last cut" then pairs the later cues
    # differently into chunks, and every later chunk is new).
    def sounds(extra):
        at, out = 1.0, []
        for i in range(40):
            length = 3.0 + (extra if i == 1 else 0.0)
            out.append((at, length))
            at += length + 0.6
        return out, at + 1.0
    before, seconds = sounds(0.0)
    after, seconds_after = sounds(1.8)
    old = keys(narration(tmp_path / "old.wav", before, seconds), seconds)
    new = keys(narration(tmp_path / "new.wav", after, seconds_after), seconds_after)
    assert len(new) >= 20
    made = [k for k in new if k not in set(old)]
    assert 1 <= len(made) <= 3, (len(made), len(new))


def test_on_a_frame_grid_every_sound_starts_on_its_frame():
    timeline = grid_timeline(routine_steps(), fps=30)
    assert timeline.frame_rate == 30
    for event in timeline.events:
        at = timeline.at_sample(event.start, 48000)
        assert at % 1600 == 0 and abs(at - event.start * 48000) <= 48  # within the millisecond kept
