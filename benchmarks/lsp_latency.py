"""How soon `qidsl lsp` re-checks a 1,000-line routine after a keystroke.

Starts the real server (`qidsl lsp`, a separate process, over stdio, as an
editor does), opens a generated 1,000-line routine (the one of
check_speed.py, cut to 1,000 lines), then types: each keystroke is one
incremental `didChange`, and its latency is the wall time from sending it to
receiving the `publishDiagnostics` of that version.  Half the keystrokes
make a mistake (`inhale 4` loses its unit), half mend it, so the diagnostics
really change.

Prints the median, 90th percentile and worst latency over the keystrokes,
and the baseline: the same check run in this process on the same text
(`qidsl.lsp.features.analyse`, median), with the ratio of the two (what the
protocol, the worker thread and the process boundary add).

Target on a 2-core machine (issue 19): median <= 20 ms.  The machine is shared, so the
figures are noisy.
Usage: python benchmarks/lsp_latency.py [KEYSTROKES]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from lsprotocol import types as t  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402
from pygls.uris import from_fs_path  # noqa: E402

from check_speed import generate  # noqa: E402
from qidsl.lsp.features import analyse  # noqa: E402

QIDSL = Path(sys.executable).parent / "qidsl"
LINES = 1000


def keystroke_line(text: str) -> tuple[int, int]:
    """The line and column of the keystroke: the `s` of an `inhale 1s` in the middle of the routine."""
    lines = text.split("\n")
    target = next(n for n in range(len(lines) // 2, len(lines)) if lines[n].strip() == "inhale 1s")
    return target, lines[target].index("1s") + 1


async def measure(text: str, path: Path, keystrokes: int, expected: dict[bool, int]) -> list[float]:
    client = LanguageClient("benchmark", "1")
    published: dict[int, asyncio.Future] = {}
    loop = asyncio.get_running_loop()

    @client.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(ls, params: t.PublishDiagnosticsParams) -> None:
        waiting = published.get(params.version)
        if waiting is not None and not waiting.done():
            waiting.set_result((time.perf_counter(), len(params.diagnostics)))

    await client.start_io(str(QIDSL), "lsp")
    await client.initialize_async(t.InitializeParams(capabilities=t.ClientCapabilities(), process_id=None))
    client.initialized(t.InitializedParams())
    uri = from_fs_path(str(path))
    published[1] = loop.create_future()
    client.text_document_did_open(t.DidOpenTextDocumentParams(
        t.TextDocumentItem(uri=uri, language_id="qi", version=1, text=text)))
    await asyncio.wait_for(published[1], 60)

    # The keystroke: delete or put back the `s` of `inhale 1s` on a line in the middle.
    target, column = keystroke_line(text)
    latencies = []
    for version in range(2, keystrokes + 2):
        delete = version % 2 == 0
        change = t.TextDocumentContentChangePartial(
            range=t.Range(t.Position(target, column), t.Position(target, column + (1 if delete else 0))),
            text="" if delete else "s")
        published[version] = loop.create_future()
        sent = time.perf_counter()
        client.text_document_did_change(t.DidChangeTextDocumentParams(
            t.VersionedTextDocumentIdentifier(uri=uri, version=version), [change]))
        received, count = await asyncio.wait_for(published[version], 60)
        assert count == expected[delete], f"version {version}: {count} diagnostics, not {expected[delete]}"
        latencies.append(received - sent)
        await asyncio.sleep(0.02)  # a typist's pause, so each keystroke is measured on its own
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return latencies


def main() -> None:
    keystrokes = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    text = generate(LINES)
    assert len(text.splitlines()) == LINES
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "long.qi"
        path.write_text(text, encoding="utf-8")
        baseline = []
        for _ in range(15):
            started = time.perf_counter()
            doc = analyse(str(path), text)
            baseline.append(time.perf_counter() - started)
        assert not doc.compiled.errors
        line, column = keystroke_line(text)
        lines = text.split("\n")
        lines[line] = lines[line][:column] + lines[line][column + 1:]
        broken = analyse(str(path), "\n".join(lines)).compiled.diagnostics
        assert [d.code for d in broken if d.is_error] == ["missing-unit"]
        expected = {True: len(broken), False: len(doc.compiled.diagnostics)}
        latencies = asyncio.run(measure(text, path, keystrokes, expected))
    median = statistics.median(latencies)
    p90 = statistics.quantiles(latencies, n=10)[-1]
    base = statistics.median(baseline)
    print(f"lsp re-check of a {LINES}-line routine after a keystroke ({keystrokes} keystrokes, `qidsl lsp` "
          f"over stdio): median {median * 1000:.1f} ms, p90 {p90 * 1000:.1f} ms, worst {max(latencies) * 1000:.1f} ms "
          f"(target: median <= 20 ms)")
    print(f"baseline: the same check in-process, median {base * 1000:.1f} ms; "
          f"keystroke to diagnostics / in-process check = {median / base:.2f}x")


if __name__ == "__main__":
    main()
