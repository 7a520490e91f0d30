"""The example outputs in README.md and docs/*.md are what the code prints.

Every example is a ```text block whose first line is the command (``$ qidsl
…``), marked by an HTML comment just above it that the rendered page does not
show::

    <!-- example -->
    ```text
    $ qidsl check mistake.qi
    mistake.qi:4:5: error: unknown statement 'inhal'
    …
    ```

The test runs the command in a copy of ``docs/examples/`` (where every input
an example names lives, so a reader can open it) and compares what it prints,
standard output and standard error as a terminal interleaves them, with the
block.  In the block, a line of only ``…`` stands for any lines and ``…``
inside a line for any text (the docs leave out what does not matter there).
The comment may say more, one ``key: value`` a line:

- ``stdin: FILE``: standard input is FILE (for ``git show … | qidsl …``, the
  part after the last ``|`` is run);
- ``vary: REGEX``: what matches is left out of the comparison on both sides
  (times, sizes, a port);
- ``run: COMMAND``: run this instead of the command shown (``--port 0`` for a
  server);
- ``stop-after: N``: a command that runs until stopped gets Ctrl-C after N lines.
- ``before: COMMAND``: a qidsl command run first, its output left out (a build
  for ``qidsl cache`` to show); may be given more than once.

``UPDATE_GOLDEN=1`` rewrites the blocks from the real output (except those
with ``…``, to be mended by hand); then read the diff before committing.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
QIDSL = Path(sys.executable).parent / "qidsl"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

_MARKED = re.compile(r"<!--\s*example\b(?P<options>.*?)-->\n```text\n(?P<body>.*?)\n```", re.DOTALL)
_COMMAND_BLOCK = re.compile(r"```text\n\$ ")


@dataclass(frozen=True)
class Example:
    page: Path
    index: int  # the page's first example is 0
    line: int  # of the command, for the test's name
    command: str
    expected: str
    options: dict[str, list[str]]
    span: tuple[int, int]  # of the block's output in the page's text

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def examples(page: Path) -> list[Example]:
    text = page.read_text(encoding="utf-8")
    found = []
    for match in _MARKED.finditer(text):
        options: dict[str, list[str]] = {}
        for line in match.group("options").splitlines():
            key, sep, value = line.strip().partition(":")
            if sep:
                options.setdefault(key.strip(), []).append(value.strip())
        first, _, rest = match.group("body").partition("\n")
        assert first.startswith("$ "), f"{page.name}: an example starts with the command ($ qidsl …)"
        start = match.start("body") + len(first) + 1
        found.append(Example(page, len(found), text.count("\n", 0, match.start("body")) + 1, first[2:], rest,
                             options, (start, match.end("body"))))
    return found


ALL = [example for page in PAGES for example in examples(page)]


def _run(example: Example, folder: Path) -> str:
    command = example.options.get("run", [example.command])[0]
    words = shlex.split(command.rsplit("|", 1)[-1])
    assert words[0] == "qidsl", command
    env = dict(os.environ, NO_COLOR="1", TERM="dumb", PYTHONUNBUFFERED="1",
               QIDSL_CACHE_DIR=str(folder.parent / "cache"))
    for before in example.options.get("before", []):
        subprocess.run([str(QIDSL), *shlex.split(before)[1:]], cwd=folder, env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, check=True, timeout=600)
    with contextlib.ExitStack() as stack:
        stdin = stack.enter_context(open(folder / example.options["stdin"][0], "rb")) \
            if "stdin" in example.options else subprocess.DEVNULL
        process = stack.enter_context(subprocess.Popen(
            [str(QIDSL), *words[1:]], cwd=folder, env=env, stdin=stdin, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, preexec_fn=_as_in_a_terminal))
        assert process.stdout is not None
        if "stop-after" in example.options:  # a server: Ctrl-C once it has said its lines
            output = _stopped_after(process, int(example.options["stop-after"][0]))
        else:
            output, _ = process.communicate(timeout=600)
    return output.decode("utf-8").rstrip("\n")


def _as_in_a_terminal() -> None:
    """In the child: Ctrl-C as a terminal's foreground command gets it (a test run started in the background
    by a shell inherits SIGINT ignored, and the server would never hear the test's Ctrl-C)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _stopped_after(process: subprocess.Popen, count: int, timeout: float = 600) -> bytes:
    """A server's output: its first ``count`` lines, then what it says after a Ctrl-C until it exits.
    Fails (the server killed) rather than waits for ever when the lines or the exit do not come."""
    import queue
    import threading

    lines: queue.Queue[bytes] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    reader = threading.Thread(target=lambda: [lines.put(line) for line in iter(stdout.readline, b"")],
                              daemon=True)
    reader.start()
    said = []
    try:
        while len(said) < count:
            said.append(lines.get(timeout=timeout))
        process.send_signal(signal.SIGINT)
        process.wait(timeout=120)
    except (queue.Empty, subprocess.TimeoutExpired):
        process.kill()
        pytest.fail(f"the server said {len(said)} of {count} lines, or did not stop on Ctrl-C: "
                    + b"".join(said).decode("utf-8", "replace"))
    reader.join(timeout=60)
    while not lines.empty():
        said.append(lines.get())
    return b"".join(said)


def _pattern(expected: str) -> re.Pattern:
    parts = []
    for line in expected.split("\n"):
        if line.strip() == "…":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(re.escape(line).replace("…", r"[^\n]*?") + r"\n")
    return re.compile("".join(parts))


def _vary(example: Example, text: str) -> str:
    for pattern in example.options.get("vary", []):
        text = re.sub(pattern, "<varies>", text)
    return text


@pytest.mark.parametrize("example", ALL, ids=lambda e: e.name)
def test_documented_output_is_what_the_command_prints(example, tmp_path):
    folder = tmp_path / "examples"
    shutil.copytree(EXAMPLES, folder)
    actual = _run(example, folder)
    if UPDATE and "…" not in example.expected:
        text = example.page.read_text(encoding="utf-8")
        start, end = examples(example.page)[example.index].span  # the page as it is now
        example.page.write_text(text[:start] + actual + text[end:], encoding="utf-8")
        return
    matched = _pattern(_vary(example, example.expected)).fullmatch(_vary(example, actual) + "\n")
    assert matched, (f"{example.name}: `{example.command}` prints\n{actual}\n\nwhich the page does not show; "
                     "run UPDATE_GOLDEN=1 pytest tests/test_docs.py (or mend a block with … by hand)")


def test_every_example_with_a_command_is_marked_and_found():
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        blocks = [m.start() for m in _COMMAND_BLOCK.finditer(text)]
        marked = [text.rfind("\n```text\n", 0, e.span[0]) + 1 for e in examples(page)]
        unmarked = [text.count("\n", 0, b) + 1 for b in blocks if b not in marked]
        assert not unmarked, f"{page.name}: the examples at lines {unmarked} need <!-- example --> above them"
    assert len(ALL) >= 12


def test_every_example_input_is_named_by_an_example():
    named = " ".join(e.command + " " + " ".join(e.options.get("stdin", [])) for e in ALL)
    for path in EXAMPLES.iterdir():
        assert path.name in named, f"docs/examples/{path.name} is in no example"
