"""Every limit of the language, in one place, each with the reason for it.

docs/language.md's "Limits" table states them for authors; tests/test_limits.py
reads that table and checks it against these numbers, so the two cannot drift.
The checker reports a routine over a limit as an error before anything is
expanded or built, so the work any command does stays linear in its input.
"""

from __future__ import annotations

# A repeat, a `do … N times` or a breath pattern counts at most this many rounds: a slip of
# the finger (`repeat 10000`) must not make a week-long video.
MAX_REPEAT = 1000

# Blocks inside blocks, and sequences playing sequences: real routines use three or four levels;
# past this it is a mistake (or a generated file), and every walk of the model stays shallow.
MAX_NESTING = 12

# Steps after expansion (each cue, breath phase, pause, bell, note, section and spoken count):
# room for a step every 1.4 s of a 12-hour routine, and it keeps `check` of any routine within
# the limits well under a second (the estimated timeline is built step by step).
MAX_STEPS = 30_000

# Written time after expansion, in seconds (durations as written, before `tempo`): longer than
# any class, and the longest video the renderers are tested to make in one piece.
MAX_SECONDS = 12 * 3600

# One number of a `breathe` pattern, in seconds: its numbers are plain seconds, and an hour is
# already far past any breath.
MAX_PHASE = 3600

# Nested `include`s: a library including a library is common, eight levels is a loop in all
# but name (a real loop is reported on its own).
MAX_INCLUDE_DEPTH = 8

# Syntax errors reported in one run: after 50 the file is probably not a routine at all, and
# each mistake costs a re-parse from the line before it.
MAX_SYNTAX_ERRORS = 50

# Characters in one quoted text: a cue is a sentence or two; captions and the video show at
# most a few hundred characters, and the speech engine is asked to time each text.
MAX_TEXT_CHARACTERS = 2000

# Characters of distinct speech `plan` has the voice time (Piper reads each sentence through its
# model): about an hour of speech, some seconds of work.  Past it `plan` counts letters at the
# voice's pace, as `plan --quick` does, so a huge routine is answered in about the time of `check`.
MAX_VOICED_CHARACTERS = 50_000

# `tempo:` and `rate:` (each a factor on speed): half or twice the written pace is already a
# different practice, and speech sped up or slowed down further stops sounding natural.
SPEED_RANGE = (0.5, 2.0)

# `gap:`, the silence after each `say`, in seconds: longer silences are written with `pause`.
GAP_RANGE = (0.0, 10.0)
