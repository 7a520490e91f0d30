"""How fast `qidsl check` answers: throughput on a long routine, and start-up on the shipped one.

Prints:
  - parse + check (parsing, includes, the checker) of a generated 20,000-line
    routine in lines per second, best of several runs in this process (CPU time), and the
    same for the whole front end `qidsl check` runs (adding expansion and the
    estimated timeline's duration and warnings; check makes no events);
  - the baseline, run in this process on the same text: reading it into lines
    and tokenising it with Lark's lexer alone (no parser, no model), and how
    many times longer parse + check takes than that;
  - the wall (and CPU) time of `qidsl check routines/rolling-the-hands-backwards.qi` as a
    new process (best of 5), against `python -c pass` (best of 5), with the
    package's bytecode compiled first (as an installed wheel has it; this
    machine sets PYTHONDONTWRITEBYTECODE, which would otherwise count Python
    compiling qidsl in every run);
  - `qidsl check` of the generated routine through the command line, in lines
    per second with the start-up removed by difference (its wall time less
    that of `qidsl check` on the shipped routine, best of 3 each), and the
    same in CPU time (the machine is shared: wall time counts the neighbours);
  - the wall time of `qidsl plan` on the shipped routine and on one of 600
    different sentences (best of 3), where joe times its own speech, against
    `qidsl plan --quick` on the same routine (the pace of letters).

Targets on a 2-core machine (issue 19): `qidsl check` through the command line
>= 50,000 lines/s with start-up removed; `qidsl check` of the shipped routine
<= 0.15 s wall including start-up (which means it imports nothing it does not
use).  The machine is shared: read the ratios to the baselines as well.

Measured (2026-12-07, 2 cores shared with three other helpers, load average
11 to 16 throughout, so CPU times are inflated by the neighbours), the
20,000-line routine through `qidsl check`, start-up removed by difference,
in CPU time: before the parser loop and checker work of that day 46,600 and
47,300 lines/s (the same runs, interleaved); after it 51,500 and 55,100
(best 55,100, typical 53,000).  The same runs' in-process whole front end:
33,000-42,000 before, 51,600-55,600 after.  As the machine never ran quiet,
the work was also counted in instructions, which the neighbours do not
change (valgrind --tool=cachegrind, `qidsl check` of the 20,000-line routine
less `qidsl check` of the shipped one): 3,773 million before, 3,031 million
after, 20% fewer, which from the 46,000-48,000 lines/s measured on a quieter
machine before makes about 58,000.  Where it went: the parser loop
(qidsl/lang/resume.py: no closure, reductions that pass a child on or grow a
list done without a call, no token made for line breaks, indents and
dedents), the checker's walk and sizes and expansion (one isinstance chain
per statement instead of several passes and `match` on classes, which took
twice as long), the breath-safety passes (kinds looked up in sets) and the
layout check.  The shipped routine: 0.127-0.168 s CPU with start-up at the
same load (its wall time counts the neighbours' queue).

Quiet spell after the merges (2026-12-08, load 2.6): `qidsl check` of the
20,000-line routine through the command line 53,749 lines/s with start-up
removed (53,770 in CPU time); whole front end in process 58,616 lines/s.  The
shipped routine: 0.163 s best of 5 in this script; 20 interleaved runs
against the commit before this round: CPU min 0.143 s, median 0.159 s
(before: 0.150 / 0.163).
Usage: python benchmarks/check_speed.py [LINES]
"""

from __future__ import annotations

import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qidsl.lang.check import check  # noqa: E402
from qidsl.compile import _gc_paused, compile_routine  # noqa: E402
from qidsl.lang.loader import Loader  # noqa: E402
from qidsl.lang.parser import _lark  # noqa: E402

SHIPPED = ROOT / "routines" / "rolling-the-hands-backwards.qi"
QIDSL = Path(sys.executable).parent / "qidsl"


def generate(lines_wanted: int = 10_000) -> str:
    """A valid routine of exactly ``lines_wanted`` lines using every construct (about 4 hours at 10,000 lines).

    Whole parts (a definition and a section) are added while they fit; the
    lines left over are `say` lines at the end of the last section, so a cut
    never leaves a block without its body.  From 9 lines (the settings and a
    section of one line) to about 24,000 (beyond, the routine expands past
    the step limit, 30,000, and check refuses it).
    """
    if lines_wanted < 9:
        raise ValueError(f"a generated routine has at least 9 lines, not {lines_wanted}")
    lines = ["# A long routine made up for the benchmark.", 'title: "Benchmark"', 'author: "qidsl"',
             "language: en", "tempo: 1", "tags: long, generated", ""]
    part = 0
    while True:
        part += 1
        block = [
            f'define "flow {part}":',
            '    inhale 1s "Up."',
            '    exhale 1.5s "Down, slowly."',
            "",
            f'section "Part {part}":',
            "    say \"Stand tall, don't lock the knees.\"  # a trailing comment",
            "    # an own-line comment",
            "    repeat 2 counted:",
            f'        do "flow {part}"',
            "        hold 1s",
            "    each side left, right:",
            '        say "Turn to the {side}."',
            "        pause 1s",
            "    breathe 1-1-1 x1",
            '    note "Props: none."',
            '    say "你好。Καλημέρα, \\"friends\\"."',
            "    inhale 1s",
            '    exhale 1s "Let go."',
            '    do "flow 1" 2 times' if part > 1 else "    pause 1s",
            "    bell 1s",
            "",
        ]
        if len(lines) + len(block) > lines_wanted:
            break
        lines += block
    if part == 1:  # not even one part fits: a section of `say` lines
        lines.append('section "Part 1":')
    elif lines[-1] == "":
        lines.pop()  # the last section goes on
    while len(lines) < lines_wanted:
        lines.append(f'    say "Breathe out, {len(lines)}."')
    return "\n".join(lines[:lines_wanted]) + "\n"


def best_of(runs: int, work, clock=time.perf_counter) -> float:
    best = float("inf")
    for _ in range(runs):
        started = clock()
        work()
        best = min(best, clock() - started)
    return best


def children_cpu() -> float:
    """CPU seconds (user and system) of the child processes waited for so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def parse_and_check(text: str, path: str) -> None:
    with _gc_paused():  # as compile_routine runs it
        loader = Loader()
        result = loader.parse_text(text, path)
        check(result.routine, loader.library(result.routine))


def baseline(text: str) -> None:
    text.splitlines()
    for _ in _lark().lex(text):
        pass


def wall(argv: list[str], runs: int = 5) -> float:
    return wall_and_cpu(argv, runs)[0]


def wall_and_cpu(argv: list[str], runs: int = 5) -> tuple[float, float]:
    """The best wall time of ``argv`` as a new process, and its best CPU time (read it on a busy machine)."""
    best_wall = best_cpu = float("inf")
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), children_cpu()
        done = subprocess.run(argv, cwd=ROOT, capture_output=True)
        best_wall = min(best_wall, time.perf_counter() - started)
        best_cpu = min(best_cpu, children_cpu() - started_cpu)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed:\n{done.stdout.decode()}{done.stderr.decode()}")
    return best_wall, best_cpu


def main() -> None:
    wanted = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    text = generate(wanted)
    lines = text.count("\n")
    path = str(ROOT / "benchmark.qi")  # never written: the text is given directly
    compiled = compile_routine(path, Loader(), text=text)
    if compiled.errors:
        raise SystemExit("the generated routine has errors: " + compiled.errors[0].message)
    steps = len(compiled.expanded.steps)
    _lark()  # grammar loaded once, as in any run of qidsl check

    # CPU time of this process: the machine is shared, and wall time would count the neighbours.
    checking = best_of(5, lambda: parse_and_check(text, path), clock=time.process_time)
    front_end = best_of(5, lambda: compile_routine(path, Loader(), text=text, events=False),  # as check runs it
                        clock=time.process_time)
    tokenising = best_of(5, lambda: baseline(text), clock=time.process_time)

    print(f"generated routine: {lines:,} lines, {steps:,} steps after expansion, "
          f"{compiled.estimate.duration / 3600:.1f} h estimated")
    print(f"parse + check:         {checking:.3f} s = {lines / checking:>9,.0f} lines/s   (target >= 30,000)")
    print(f"whole check front end: {front_end:.3f} s = {lines / front_end:>9,.0f} lines/s   "
          "(+ expansion and estimated timeline)")
    print(f"baseline, read + tokenise only (str.splitlines + Lark's lexer): {tokenising:.3f} s = "
          f"{lines / tokenising:,.0f} lines/s")
    print(f"parse + check takes {checking / tokenising:.2f}x the baseline's time "
          f"(whole front end {front_end / tokenising:.2f}x)")

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "qidsl")], check=True,
                   capture_output=True)
    startup, startup_cpu = wall_and_cpu([str(QIDSL), "check", str(SHIPPED.relative_to(ROOT))])
    python, python_cpu = wall_and_cpu([sys.executable, "-c", "pass"])
    print(f"start-up: qidsl check {SHIPPED.name}: {startup:.3f} s wall ({startup_cpu:.3f} s CPU), best of 5   "
          "(target <= 0.15 s)")
    print(f"baseline, python -c pass: {python:.3f} s wall ({python_cpu:.3f} s CPU); qidsl check takes "
          f"{startup / python:.1f}x that ({startup_cpu / python_cpu:.1f}x in CPU)")
    with tempfile.TemporaryDirectory() as folder:
        big = Path(folder) / "big.qi"
        big.write_text(text, encoding="utf-8")
        whole, whole_cpu = wall_and_cpu([str(QIDSL), "check", str(big)], runs=3)
        small, small_cpu = wall_and_cpu([str(QIDSL), "check", str(SHIPPED.relative_to(ROOT))], runs=3)
        print(f"qidsl check of the {lines:,}-line routine: {whole:.3f} s wall, less start-up "
              f"{lines / max(whole - small, 1e-9):,.0f} lines/s   (target >= 50,000); in CPU time "
              f"{whole_cpu:.3f} s, less start-up {lines / max(whole_cpu - small_cpu, 1e-9):,.0f} lines/s; "
              f"in-process whole front end {lines / front_end:,.0f} lines/s")

    with tempfile.TemporaryDirectory() as folder:
        many = Path(folder) / "many.qi"
        many.write_text(many_sentences(600), encoding="utf-8")
        for routine in (SHIPPED, many):
            voiced = wall([str(QIDSL), "plan", str(routine)], runs=3)
            quick = wall([str(QIDSL), "plan", "--quick", str(routine)], runs=3)
            print(f"qidsl plan {routine.name} (joe times its speech): {voiced:.2f} s wall, best of 3; "
                  f"baseline plan --quick: {quick:.2f} s; {voiced / quick:.1f}x")


def many_sentences(count: int) -> str:
    """A routine of ``count`` different sentences of 3 to 10 words (the same every run)."""
    chooser = random.Random(1)
    words = ("breathe slowly raise the arms lower hands soften knees shoulders gently turn left right back "
             "forward hold feel warm relax spine neck hips waist center ground").split()
    lines = ['title: "Many sentences"', ""]
    for at in range(count):
        if at % 20 == 0:
            lines += ["", f'section "Part {at // 20 + 1}":']
        sentence = " ".join(chooser.choice(words) for _ in range(chooser.randint(3, 10)))
        lines.append(f'    say "{sentence.capitalize()} {at}."')
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
