"""`qidsl watch`: the server's safety on its own, then the whole loop with real Piper and chromium."""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from qidsl.watch import Served, Site, make_server
from tests.browser import browser, seek, shown, wait_until  # noqa: F401 - browser is a fixture


@pytest.fixture
def served(tmp_path):
    """A server for one routine 'r' whose last build wrote r.html and r.wav, next to files it did not write."""
    folder = tmp_path / "build" / ".watch" / "r"
    folder.mkdir(parents=True)
    (folder / "r.html").write_text("<html><body>page <!--qidsl:watch--></body></html>", encoding="utf-8")
    (folder / "r.wav").write_bytes(bytes(range(256)) * 4)
    (folder / "secret.txt").write_text("not a build output", encoding="utf-8")
    (tmp_path / "build" / "outside.txt").write_text("outside", encoding="utf-8")
    site = Site()
    site.routines["r"] = Served("r", tmp_path / "r.qi", folder, version=3,
                                files={"r.html": folder / "r.html", "r.wav": folder / "r.wav"})
    server = make_server(site, 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server, site
    server.shutdown()
    server.server_close()


def _get(server, path: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
    # http.client sends the path exactly as given: no client-side clean-up of '..'.
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body, dict(response.getheaders())


def test_server_listens_on_loopback_only(served):
    server, _ = served
    assert server.server_address[0] == "127.0.0.1"
    assert server.socket.family == socket.AF_INET


def test_server_serves_the_build_with_the_watch_script(served):
    server, _ = served
    status, body, headers = _get(server, "/r/r.html")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'window.qidslWatch = {"version": 3, "state": "/_watch/state?name=r"' in body
    assert headers["Cache-Control"] == "no-store"
    status, body, headers = _get(server, "/")
    assert status == 302 and headers["Location"] == "/r/r.html"
    status, body, _ = _get(server, "/_watch/state?name=r")
    assert json.loads(body) == {"version": 3, "ready": True, "diagnostics": ""}


def test_server_answers_range_requests_so_audio_can_seek(served):
    server, _ = served
    status, body, headers = _get(server, "/r/r.wav", {"Range": "bytes=10-19"})
    assert status == 206 and body == bytes(range(10, 20))
    assert headers["Content-Range"] == "bytes 10-19/1024" and headers["Accept-Ranges"] == "bytes"
    status, body, _ = _get(server, "/r/r.wav", {"Range": "bytes=-4"})
    assert status == 206 and body == bytes(range(252, 256))
    status, _, headers = _get(server, "/r/r.wav", {"Range": "bytes=5000-"})
    assert status == 416 and headers["Content-Range"] == "bytes */1024"


@pytest.mark.parametrize("path", [
    "/r/secret.txt", "/r/../outside.txt", "/r/..%2Foutside.txt", "/r/%2e%2e/outside.txt", "/../../etc/passwd",
    "/r/../../../../etc/passwd", "/r/..%2F..%2F..%2Fetc%2Fpasswd", "//etc/passwd", "/r//r.html",
    "/r/r.html/../r.wav", "/r/..\\outside.txt", "/r/%2Fetc%2Fpasswd", "/r/r.qi", "/x/r.html", "/r",
    "/r/r.html%00.txt", "/.watch/r/r.html",
])
def test_server_refuses_everything_outside_the_build(served, path):
    server, _ = served
    status, body, _ = _get(server, path)
    assert status == 404, path
    assert b"outside" not in body and b"root:" not in body and b"not a build output" not in body


def test_server_refuses_requests_for_other_host_names(served):
    server, _ = served
    status, body, _ = _get(server, "/r/r.html", {"Host": "attacker.example:80"})
    assert status == 403 and b"page" not in body
    port = server.server_address[1]
    assert _get(server, "/r/r.html", {"Host": f"localhost:{port}"})[0] == 200


def test_server_takes_no_uploads(served):
    server, _ = served
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
    connection.request("POST", "/r/r.html", body=b"x")
    assert connection.getresponse().status == 501
    connection.close()


# --- the whole loop ------------------------------------------------------------------------------

ROUTINE = """\
title: "Watch Test"

section "Opening":
    say "Stand tall."
    inhale 3s "Breathe in."
    exhale 3s

section "Closing":
    say "Thank you."
"""


class Watching:
    """``qidsl watch`` running in its own process, its output collected line by line."""

    def __init__(self, args: list[str], cwd: Path):
        # Ctrl-C reaches it even when these tests run as a background job (which starts with SIGINT ignored).
        self.process = subprocess.Popen([sys.executable, "-m", "qidsl.cli", "watch", *args], cwd=cwd,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.out: list[str] = []
        self.err: list[str] = []
        for stream, lines in ((self.process.stdout, self.out), (self.process.stderr, self.err)):
            threading.Thread(target=lambda s=stream, out=lines: [out.append(x) for x in s], daemon=True).start()

    def wait_for(self, pattern: str, lines: list[str], timeout: float = 90.0) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(lines):
                found = re.search(pattern, line)
                if found:
                    return found
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in {''.join(self.out)}{''.join(self.err)}")

    def stop(self, sig: int) -> int:
        """Send ``sig`` and wait for the watch to exit: its exit code."""
        self.process.send_signal(sig)
        return self.process.wait(timeout=30)

    def assert_stopped_cleanly(self, code: int) -> None:
        """It exited 0 on being stopped, said so, and printed no traceback."""
        assert code == 0
        self.wait_for(r"qidsl: stopped", self.err, timeout=5)
        assert "Traceback" not in "".join(self.err)


def test_watch_reloads_the_page_on_save_and_shows_mistakes(browser, tmp_path):  # noqa: F811
    routine = tmp_path / "watch-test.qi"
    routine.write_text(ROUTINE, encoding="utf-8")
    watching = Watching(["watch-test.qi", "--port", "0", "--out", "out", "--cache-dir", "cache"], tmp_path)
    try:
        url = watching.wait_for(r"http://127\.0\.0\.1:(\d+)/", watching.out).group(0)
        watching.wait_for(r"watching .* for saves", watching.err)
        context = browser.new_context()
        page = context.new_page()
        page.goto(url)  # redirected to the routine's page
        assert page.url == url + "watch-test/watch-test.html"
        wait_until(page, "() => document.getElementById('audio')?.readyState >= 1")
        seek(page, 3.4)
        assert shown(page)["caption"] == "Stand tall."
        page.evaluate("() => { window.oldPage = true; }")

        # A one-cue edit: the open page reloads by itself, at the same moment, with the new words.
        routine.write_text(ROUTINE.replace("Stand tall.", "Stand up tall."), encoding="utf-8")
        wait_until(page, "() => !window.oldPage && document.getElementById('audio')?.readyState >= 1", 60)
        wait_until(page, "() => Math.abs(document.getElementById('audio').currentTime - 3.4) < 0.05")
        assert shown(page)["caption"] == "Stand up tall."
        watching.wait_for(r"watch-test\.qi: page ready in [\d.]+s \(version 2, 1 cue synthesised in [\d.]+s\)", watching.err)

        # A mistake: the diagnostic shows in the page (and the terminal); the last good page plays on.
        page.evaluate("() => { window.oldPage = true; }")
        routine.write_text(ROUTINE.replace('    say "Thank you."', '    sya "Thank you."'), encoding="utf-8")
        wait_until(page, "() => document.getElementById('diagnostics')?.hidden === false", 30)
        panel = page.locator("#diagnostics-text").inner_text()
        assert panel.splitlines()[:3] == [
            "watch-test.qi:9:5: error: unknown statement 'sya'",
            '        sya "Thank you."',
            "        ^~~",
        ]
        watching.wait_for(r"watch-test\.qi has errors; the page keeps its last good version", watching.err)
        assert page.evaluate("() => window.oldPage") is True  # not reloaded
        assert shown(page)["caption"] == "Stand up tall."
        page.locator("#play").click()
        wait_until(page, "() => document.getElementById('audio').currentTime > 3.6")

        # Mended: the panel goes and the page reloads with the fix.
        routine.write_text(ROUTINE.replace("Thank you.", "Thank you all."), encoding="utf-8")
        wait_until(page, "() => !window.oldPage && document.getElementById('diagnostics')?.hidden", 60)
        assert "Thank you all." in page.locator(".sheet").inner_text()
        context.close()
    finally:
        code = watching.stop(signal.SIGINT)
    watching.assert_stopped_cleanly(code)
    leftovers = [p.name for p in (tmp_path / "out" / ".watch" / "watch-test").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_sigterm_stops_the_watch_as_ctrl_c_does(tmp_path):
    """A service manager or `kill` stops the watch cleanly: "stopped", exit 0, no traceback."""
    (tmp_path / "watch-test.qi").write_text(ROUTINE, encoding="utf-8")
    watching = Watching(["watch-test.qi", "--port", "0", "--out", "out", "--cache-dir", "cache"], tmp_path)
    try:
        watching.wait_for(r"watching .* for saves", watching.err)
    finally:
        code = watching.stop(signal.SIGTERM)
    watching.assert_stopped_cleanly(code)


def test_a_save_rebuilds_the_routines_that_read_the_file_and_no_others(tmp_path):
    from qidsl.watch import Watcher, WatchOptions

    for name in ("a", "b", "lib", "new"):
        (tmp_path / f"{name}.qi").write_text('title: "x"\n', encoding="utf-8")
    site = Site()
    watcher = Watcher([str(tmp_path)], WatchOptions(out=tmp_path / "out"), site)
    a, b, lib, new = (tmp_path / f"{n}.qi" for n in ("a", "b", "lib", "new"))
    site.routines["a"] = Served("a", a, tmp_path, 1, {"a.html": a}, "", {a.resolve(), lib.resolve()})
    site.routines["b"] = Served("b", b, tmp_path, 1, {"b.html": b}, "", {b.resolve()})
    site.routines["lib"] = Served("lib", lib, tmp_path, 1, {"lib.html": lib}, "", {lib.resolve()})
    site.routines["gone"] = Served("gone", tmp_path / "gone.qi", tmp_path, 1, {}, "", set())
    # An edit of the included file rebuilds the routine that includes it (and itself); 'new' was never built.
    assert watcher.changed({lib.resolve()}) == [a, lib, new]
    assert "gone" not in site.routines  # deleted: no longer served
    site.routines["new"] = Served("new", new, tmp_path, 1, {"new.html": new}, "", {new.resolve()})
    assert watcher.changed({b.resolve()}) == [b]
    # A routine with mistakes is tried again on any save (its includes may be what was wrong).
    site.routines["b"].diagnostics = "b.qi:1:1: error: ..."
    assert watcher.changed({a.resolve()}) == [a, b]


def test_watch_and_build_say_the_same_warnings_and_write_the_same_text_outputs(tmp_path, capfd):
    from qidsl.cli import main
    from qidsl.watch import Watcher, WatchOptions

    routine = tmp_path / "warned.qi"
    # A cue longer than its breath (a timing warning measured on the real speech) and two short
    # chapters (YouTube's chapter warnings).
    routine.write_text(ROUTINE.replace('inhale 3s "Breathe in."',
                                       'inhale 1s "Breathe in slowly and fill the whole chest."'), encoding="utf-8")
    out, cache = tmp_path / "out", tmp_path / "cache"
    assert main(["build", str(routine), "--no-video", "--out", str(out), "--cache-dir", str(cache)]) == 0
    built = capfd.readouterr().err
    Watcher([str(routine)], WatchOptions(out=out, cache_dir=cache), Site()).build(routine)
    watched = capfd.readouterr().err

    def warnings(err: str) -> list[str]:
        return [line for line in err.splitlines() if "warning" in line]
    assert any("the inhale is stretched" in w for w in warnings(built)), built
    assert any("YouTube" in w for w in warnings(built))
    assert warnings(watched) == warnings(built)
    for suffix in (".srt", ".vtt", ".chapters.txt", ".timeline.json"):
        assert (out / ".watch" / "warned" / f"warned{suffix}").read_bytes() == \
            (out / "warned" / f"warned{suffix}").read_bytes(), suffix
    assert sorted(p.name for p in (out / ".watch" / "warned").iterdir()) == [
        "warned.chapters.txt", "warned.html", "warned.srt", "warned.timeline.json", "warned.vtt", "warned.wav"]
