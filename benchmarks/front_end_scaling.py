"""Is `qidsl check` linear in its input?  Lines per second for valid, mistaken and random input of growing size.

For each kind of input at about 10 kB, 100 kB and 1 MB, the whole check front
end (`compile_routine`: parse, includes, check, and for a clean routine
expansion and the estimated timeline) is timed in CPU seconds of this process
(the machine is shared: wall time would measure the neighbours), and printed
as lines per second and as a ratio to the baseline:

- baseline: the shipped routine (routines/rolling-the-hands-backwards.qi),
  checked the same way, best of 20;
- valid: the shipped routine's sections repeated (past 100 kB the routine
  runs longer than 12 hours, which check reports: one diagnostic);
- mistaken, many: the shipped routine with mutations in every copy (parsing
  stops at 50 syntax errors, as `check` does);
- mistaken, few: a valid routine with 40 mistakes spread through it, the
  worst case for recovery (every mistake means parsing again from the line
  before it);
- random: tokens of the language, quotes, digits and odd whitespace in random
  order;
- worst case found by the fuzzer: the slowest per byte of the pathological
  inputs of 5 kB or more in tests/fuzzing.py (the shapes the fuzzer found
  slow or crashing: digit runs, deep nesting, many mistakes), against the
  baseline's bytes per second.

Then the commands themselves at 1x, 10x and 100x the input (5,000, 50,000 and
500,000 lines), in CPU seconds of this process, each against its own rate at
1x (a linear command keeps the ratio near 1):

- `check` (compile_routine, as `qidsl check` runs it) and `plan --quick`
  (the same, and the table it prints) of the routine check_speed.py makes:
  valid at 5,000 lines; past the limits (12 hours, 30,000 steps) both refuse
  it as soon as the sizes are known, before expanding anything;
- `check` of lines of `say` only (refused past 30,000 steps);
- `fmt` (parse and lay out, as `qidsl fmt --check` does) of the same
  routine, which it lays out whatever its size.

Last, the large inputs issue 19 names, each through the command's own
function (`qidsl check`, `plan`, `fmt --check` as the command line runs
them, output into memory), in CPU seconds of this process, with kB per
second against the baseline's (several are a few very long lines):

- 500,000 lines of `say` (refused past 30,000 steps), and the same with 60
  mistakes spread through it (50 are reported, as `check` does);
- `each side` with 20,000 sides nested 5 deep (refused: too many steps);
- 3,300 `{side}` placeholders in one 20 kB text;
- `plan` of a 5 MB one-line routine (one `say` of 5 MB: refused, too long);
- blocks nested 5,000 deep, in `check` and in `fmt --check`.

A linear front end keeps each kind's rate roughly constant as the size grows.
Targets (issue 19): no 20 kB input over 0.1 s; each command within about 2x
of its 1x rate at 100x.
Usage: python benchmarks/front_end_scaling.py [--commands-only | --large-only]
"""

from __future__ import annotations

import contextlib
import gc
import io
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qidsl.commands import plan_table, run_check, run_fmt, run_plan  # noqa: E402
from qidsl.compile import compile_routine  # noqa: E402
from qidsl.lang.formatter import format_routine  # noqa: E402
from qidsl.lang.loader import Loader  # noqa: E402
from qidsl.lang.parser import Source, parse_source  # noqa: E402
sys.path.insert(0, str(ROOT / "benchmarks"))
from check_speed import generate  # noqa: E402
from tests.fuzzing import DIGITS, ODD_SPACE, TOKENS, mutate, pathological  # noqa: E402

SHIPPED = (ROOT / "routines" / "rolling-the-hands-backwards.qi").read_text(encoding="utf-8")
SIZES = (10_000, 100_000, 1_000_000)


def cpu(work, runs: int = 1) -> float:
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def check(text: str) -> int:
    return len(compile_routine(str(ROOT / "bench.qi"), Loader(), text=text, events=False).diagnostics)


def _head_and_sections(text: str) -> tuple[str, str]:
    at = text.index('section "Rolling the Hands Backwards"')
    return text[:at], text[at:]


def valid(size: int) -> str:
    head, sections = _head_and_sections(SHIPPED)
    return head + sections * max(1, (size - len(head)) // len(sections))


def mistaken_many(size: int) -> str:
    rnd = random.Random(9)
    parts = []
    while sum(map(len, parts)) < size:
        parts.append(mutate(SHIPPED, rnd, grow_one_in=10 ** 9))
    return "\n".join(parts)


def mistaken_few(size: int) -> str:
    lines = valid(size).split("\n")
    rnd = random.Random(4)
    for at in rnd.sample(range(20, len(lines)), min(40, len(lines) - 20)):
        lines[at] = lines[at].replace("inhale", "inhal").replace("say", "sya")
    return "\n".join(lines)


def random_text(size: int) -> str:
    rnd = random.Random(1)
    pieces = TOKENS + ODD_SPACE + DIGITS[:-1] + ["\n"] * 10 + [" "] * 10
    out, length = [], 0
    while length < size:
        piece = rnd.choice(pieces)
        out.append(piece)
        length += len(piece)
    return "".join(out)


def plan(text: str) -> int:
    compiled = compile_routine(str(ROOT / "bench.qi"), Loader(), text=text)
    return len(plan_table(compiled)) if not compiled.errors else len(compiled.diagnostics)


def fmt(text: str) -> int:
    result = parse_source(Source(str(ROOT / "bench.qi"), text))
    return len(format_routine(result.routine, text.split("\n"))) if result.routine else 0


def valid_lines(count: int) -> str:
    """The routine of check_speed.py: valid (and planned in full) at 5,000 lines, over the limits past it."""
    return generate(count)


def says(count: int) -> str:
    return 'title: "Says"\n' + "".join(f'say "Line {i}: breathe in, and let the shoulders drop."\n'
                                        for i in range(count - 1))


COMMAND_LINES = (5_000, 50_000, 500_000)


def commands() -> None:
    """check, plan and fmt at 1x, 10x and 100x, each against its own rate at 1x."""
    print(f"{'command':<26} {'lines':>8} {'CPU s':>8} {'lines/s':>10} {'rate / 1x rate':>15}  outcome")
    for name, make, work in (("check (routine)", valid_lines, check), ("plan --quick (routine)", valid_lines, plan),
                             ("check (say lines)", says, check), ("fmt (routine)", valid_lines, fmt)):
        first = None
        for count in COMMAND_LINES:
            text = make(count)
            found = []
            seconds = cpu(lambda: found.append(work(text)), runs=1 if count >= 500_000 else 3)  # noqa: B023 (run at once)
            rate = count / seconds
            first = first or rate
            outcome = {check: "diagnostics", plan: "characters printed or diagnostics",
                       fmt: "characters written"}[work]
            print(f"{name:<26} {count:>8,} {seconds:>8.3f} {rate:>10,.0f} {rate / first:>15.2f}  "
                  f"{found[-1]:,} {outcome}")


def says_with_mistakes(count: int, mistakes: int = 60) -> str:
    """``says(count)`` with ``mistakes`` of its lines misspelt (`sya`), spread evenly through it."""
    lines = says(count).split("\n")
    step = (len(lines) - 2) // mistakes
    for k in range(mistakes):
        at = 1 + k * step + step // 2
        lines[at] = lines[at].replace("say", "sya", 1)
    return "\n".join(lines)


def sides_nested(count: int = 20_000, depth: int = 5) -> str:
    names = ", ".join(f"s{i}" for i in range(count))
    return ('title: "T"\n' + "".join("    " * level + f"each side {names}:\n" for level in range(depth))
            + "    " * depth + 'say "{side}"\n')


def nested(depth: int = 5_000) -> str:
    return 'title: "T"\n' + "".join(" " * level + "repeat 2:\n" for level in range(depth)) + " " * depth + 'say "x"\n'


def one_line(size: int = 5_000_000) -> str:
    words = "breathe slowly and raise the arms "
    return 'title: "T"\nsay "' + words * (size // len(words)) + '"\n'


def large_inputs(base_bytes_rate: float) -> None:
    """The large inputs of issue 19 through the commands' own functions, as the command line runs them."""
    cases = (("check: 500,000 lines of say", lambda: says(500_000), lambda p: run_check([p])),
             ("check: the same, 60 mistakes", lambda: says_with_mistakes(500_000), lambda p: run_check([p])),
             ("check: 20,000 sides, 5 deep", sides_nested, lambda p: run_check([p])),
             ("check: 3,300 {side} in 20 kB", lambda: 'title: "T"\neach side left, right:\n    say "'
              + "{side}" * 3300 + '"\n', lambda p: run_check([p])),
             ("plan: one line of 5 MB", one_line, lambda p: run_plan(p)),
             ("check: blocks 5,000 deep", nested, lambda p: run_check([p])),
             ("fmt --check: 5,000 deep", nested, lambda p: run_fmt([p], check_only=True)))
    print(f"{'issue 19 input':<32} {'bytes':>11} {'lines':>8} {'CPU s':>8} {'kB/s':>8} {'x baseline kB/s':>16}  "
          f"exit (baseline: {base_bytes_rate / 1000:,.0f} kB/s)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "large.qi"
        for name, make, command in cases:
            text = make()
            path.write_text(text, encoding="utf-8")
            count = text.count("\n")
            codes = []
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                seconds = cpu(lambda: codes.append(command(str(path))))  # noqa: B023 (run at once)
            rate = len(text.encode("utf-8")) / seconds
            print(f"{name:<32} {len(text):>11,} {count:>8,} {seconds:>8.3f} {rate / 1000:>8,.0f} "
                  f"{rate / base_bytes_rate:>16.2f}  {codes[-1]}")


def main() -> None:
    if "--commands-only" in sys.argv:
        check(SHIPPED)
        commands()
        return
    if "--large-only" in sys.argv:
        check(SHIPPED)
        base = cpu(lambda: check(SHIPPED), runs=20)
        large_inputs(len(SHIPPED.encode("utf-8")) / base)
        return
    lines = SHIPPED.count("\n")
    check(SHIPPED)  # grammar loaded once, as in any run of qidsl check
    base = cpu(lambda: check(SHIPPED), runs=20)
    base_rate = lines / base
    print(f"baseline: the shipped routine, {lines} lines, {len(SHIPPED):,} bytes: {base * 1000:.1f} ms CPU = "
          f"{base_rate:,.0f} lines/s")
    print(f"{'input':<16} {'size':>10} {'lines':>8} {'CPU s':>8} {'lines/s':>10} {'x baseline rate':>16} "
          f"{'diagnostics':>12}")
    for kind, make in (("valid", valid), ("mistaken, many", mistaken_many), ("mistaken, few", mistaken_few),
                       ("random", random_text)):
        for size in SIZES:
            text = make(size)
            count = text.count("\n") + 1
            found = []
            seconds = cpu(lambda: found.append(check(text)), runs=1 if size >= 1_000_000 else 3)  # noqa: B023 (run at once)
            print(f"{kind:<16} {len(text):>10,} {count:>8,} {seconds:>8.3f} {count / seconds:>10,.0f} "
                  f"{count / seconds / base_rate:>16.2f} {found[-1]:>12}")
    worst = None
    for name, text in pathological().items():
        if len(text) < 5_000:  # tiny inputs measure the fixed cost of a check, not its rate
            continue
        count = text.count("\n") + 1
        seconds = cpu(lambda: check(text), runs=3)  # noqa: B023 (run at once, inside the loop)
        if worst is None or seconds / len(text) > worst[1] / len(worst[2]):
            worst = (name, seconds, text, count)
    name, seconds, text, count = worst
    print(f"worst case found by the fuzzer ({name}, per byte): {len(text):,} bytes, {count:,} lines in "
          f"{seconds:.3f} s CPU = {len(text) / seconds / 1000:,.0f} kB/s; the baseline checks "
          f"{len(SHIPPED) / base / 1000:,.0f} kB/s")
    slowest = max(((cpu(lambda: check(text), runs=3), name) for name, text in pathological().items()  # noqa: B023
                   if len(text) <= 25_000))
    print(f"slowest input of at most 25 kB found by the fuzzer: {slowest[1]}, {slowest[0]:.3f} s CPU "
          "(target: at most 0.1 s)")
    print()
    commands()
    print()
    large_inputs(len(SHIPPED.encode("utf-8")) / base)


if __name__ == "__main__":
    main()
