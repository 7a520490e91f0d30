"""``qidsl watch``: check and build a routine on every save, and serve its practice page live.

The loop waits for saves with ``watchfiles``, compiles the routines a save
touched and builds each through :func:`qidsl.build.build_one`, the same
graph as ``qidsl build`` asked for fewer targets (``quick``: the page, a WAV
mixed at the voice's own rate and the text outputs; no MP3 or video), with
the voice and every clip kept in memory between builds (:class:`WarmSpeech`).
So warnings, engine choice and outputs agree with ``qidsl build`` by
construction.  A
small HTTP server on 127.0.0.1 serves the latest good build; an open page
polls ``/_watch/state`` and reloads itself, keeping its position, when a new
version is ready, and shows the diagnostics of a routine saved with mistakes
while the last good version stays playable.

Safety: the server binds 127.0.0.1 only, answers only requests addressed to
127.0.0.1 or localhost (a DNS-rebinding page elsewhere cannot read it), and
serves only the files the last build of each routine wrote, looked up by
exact name, so no path can reach outside them.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import os
import re
import sys
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from .compile import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, compile_routine, find_routines, print_diagnostics
from .errors import BuildError
from .lang.check import is_library
from .lang.loader import Loader
from .renderers.page import WATCH_MARKER

POLL_MS = 150  # how often an open page asks for a new version
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".wav": "audio/wav", ".mp3": "audio/mpeg",
                 ".mp4": "video/mp4", ".srt": "text/plain; charset=utf-8", ".vtt": "text/vtt; charset=utf-8",
                 ".txt": "text/plain; charset=utf-8", ".json": "application/json; charset=utf-8"}


@dataclass(frozen=True)
class WatchOptions:
    """Everything ``qidsl watch`` can be told on the command line."""

    out: Path = Path("build")
    port: int = 8765
    video: bool = False
    engine: str | None = None
    voice: str | None = None
    tld: str = "com"
    cache_dir: Path | None = None
    fps: int = 30  # the timeline's frame grid: that of a default `qidsl build`

    @classmethod
    def from_args(cls, args) -> WatchOptions:
        from .build import engine_and_voice

        engine, voice = engine_and_voice(args.engine, args.voice)
        return cls(out=Path(args.out), port=args.port, video=args.video, engine=engine, voice=voice,
                   tld=args.tld, cache_dir=Path(args.cache_dir) if args.cache_dir else None)


@dataclass
class Served:
    """One routine as the server sees it: the files of its last good build and its current mistakes."""

    name: str
    source: Path
    folder: Path
    version: int = 0
    files: dict[str, Path] = field(default_factory=dict)
    diagnostics: str = ""
    depends: set[Path] = field(default_factory=set)


class Site:
    """What the server may serve, shared between the build loop and the request threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.routines: dict[str, Served] = {}

    def state(self, name: str) -> dict:
        with self.lock:
            served = self.routines.get(name)
            if served is None:
                return {"version": -1, "ready": False, "diagnostics": ""}
            return {"version": served.version, "ready": bool(served.files), "diagnostics": served.diagnostics}

    def file(self, name: str, filename: str) -> tuple[Path | None, Served | None]:
        with self.lock:
            served = self.routines.get(name)
            if served is None:
                return None, None
            return served.files.get(filename), served


def _watch_script(name: str, version: int, diagnostics: str) -> str:
    config = {"version": version, "state": f"/_watch/state?name={name}", "interval": POLL_MS,
              "diagnostics": diagnostics}
    data = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    return f"<script>window.qidslWatch = {data};</script>"


def waiting_page(name: str, diagnostics: str) -> str:
    """The page of a routine with no good build yet: its mistakes, and a wait for the first build."""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(name)}</title>
<style>body{{font:16px/1.45 system-ui,sans-serif;margin:20px}}pre{{font:14px/1.35 ui-monospace,monospace;
background:#fff1ec;color:#3a1407;padding:10px;overflow-x:auto}}</style></head><body>
<h1>{html.escape(name)}</h1><p id="wait">Waiting for the first build that has no mistakes.</p>
<div id="diagnostics" {'' if diagnostics else 'hidden'}><pre id="diagnostics-text">{html.escape(diagnostics)}</pre></div>
{_watch_script(name, -1, diagnostics)}
<script>(function () {{
  var w = window.qidslWatch;
  function poll() {{
    fetch(w.state, {{cache: "no-store"}}).then(function (r) {{ return r.json(); }}).then(function (s) {{
      if (s.ready) {{ location.reload(); return; }}
      document.getElementById("diagnostics-text").textContent = s.diagnostics;
      document.getElementById("diagnostics").hidden = !s.diagnostics;
      setTimeout(poll, w.interval);
    }}).catch(function () {{ setTimeout(poll, 1000); }});
  }}
  setTimeout(poll, w.interval);
}})();</script></body></html>"""


def index_page(site: Site) -> str:
    with site.lock:
        names = sorted(site.routines)
    items = "".join(f'<li><a href="/{html.escape(n)}/{html.escape(n)}.html">{html.escape(n)}</a></li>' for n in names)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>qidsl watch</title></head>'
            f'<body style="font:16px system-ui,sans-serif;margin:20px"><h1>Routines</h1><ul>{items}</ul></body></html>')


class Handler(BaseHTTPRequestHandler):
    """Serves the site: ``/``, ``/_watch/state?name=N`` and ``/N/FILE`` for the files of N's last build."""

    site: Site  # set on the subclass made by make_server
    server_version = "qidsl-watch"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # the terminal is for the routine's news, not every request
        pass

    def _host_ok(self) -> bool:
        host = (self.headers.get("Host") or "").strip().lower()
        port = self.server.server_address[1]  # type: ignore[index]  # an HTTPServer's address: (host, port)
        return host in (f"127.0.0.1:{port}", f"localhost:{port}", "127.0.0.1", "localhost")

    def _send(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _refuse(self, status: int = HTTPStatus.NOT_FOUND, message: str = "not found") -> None:
        self._send(status, (message + "\n").encode("utf-8"))

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        if not self._host_ok():
            return self._refuse(HTTPStatus.FORBIDDEN, "this server answers only to 127.0.0.1 and localhost")
        url = urlsplit(self.path)
        path = url.path
        if path == "/":
            with self.site.lock:
                names = list(self.site.routines)
            if len(names) == 1:
                return self._send(HTTPStatus.FOUND, b"", headers={"Location": f"/{names[0]}/{names[0]}.html"})
            return self._send(HTTPStatus.OK, index_page(self.site).encode("utf-8"), CONTENT_TYPES[".html"])
        if path == "/_watch/state":
            name = parse_qs(url.query).get("name", [""])[0]
            body = json.dumps(self.site.state(name), ensure_ascii=False).encode("utf-8")
            return self._send(HTTPStatus.OK, body, "application/json; charset=utf-8")
        # Exactly /NAME/FILE, both looked up by name in what the last build wrote: '..', '/',
        # '\\' or an encoded form of them can match no entry, so nothing else is reachable.
        parts = path.split("/")
        if len(parts) != 3 or parts[0] != "":
            return self._refuse()
        name, filename = unquote(parts[1]), unquote(parts[2])
        file, served = self.site.file(name, filename)
        if served is None:
            return self._refuse()
        if file is None:
            if filename == f"{name}.html":  # no good build yet: show the mistakes and wait
                page = waiting_page(name, served.diagnostics)
                return self._send(HTTPStatus.OK, page.encode("utf-8"), CONTENT_TYPES[".html"])
            return self._refuse()
        content_type = CONTENT_TYPES.get(file.suffix, "application/octet-stream")
        try:
            if file.suffix == ".html":
                # The version is read before the file: a page may be newer than the version it is
                # told (it then reloads once more), never older (it would miss a build).
                with self.site.lock:
                    script = _watch_script(name, served.version, served.diagnostics)
                data = file.read_text(encoding="utf-8")
                body = data.replace(WATCH_MARKER, script, 1).encode("utf-8")
                return self._send(HTTPStatus.OK, body, content_type)
            with file.open("rb") as stream:
                self._send_ranged(stream, os.fstat(stream.fileno()).st_size, content_type)
        except OSError:
            return self._refuse()

    def _send_ranged(self, stream, size: int, content_type: str) -> None:
        # Browsers seek audio with Range requests; without them an <audio> cannot jump.
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", (self.headers.get("Range") or "").strip())
        if not match or (not match.group(1) and not match.group(2)):
            return self._send(HTTPStatus.OK, stream.read(), content_type, {"Accept-Ranges": "bytes"})
        first, last = match.groups()
        if first:
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
        else:  # the last N bytes
            start, end = max(0, size - int(last)), size - 1
        if start >= size or start > end:
            return self._send(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, b"", content_type,
                              {"Content-Range": f"bytes */{size}"})
        stream.seek(start)
        self._send(HTTPStatus.PARTIAL_CONTENT, stream.read(end - start + 1), content_type,
                   {"Accept-Ranges": "bytes", "Content-Range": f"bytes {start}-{end}/{size}"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A page reloading mid-download drops its connection: routine, not worth a traceback.
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError):
            _say(f"the page server could not answer a request: {error}")


def make_server(site: Site, port: int) -> ThreadingHTTPServer:
    """An HTTP server for ``site`` on 127.0.0.1:``port`` (0: any free port)."""
    handler = type("SiteHandler", (Handler,), {"site": site})
    return _Server(("127.0.0.1", port), handler)


def _say(message: str) -> None:
    print(f"qidsl: {message}", file=sys.stderr, flush=True)


def _diagnostics_text(diagnostics, loader: Loader) -> str:
    stream = io.StringIO()
    print_diagnostics(list(diagnostics), loader, "text", stream)
    return stream.getvalue()


class WarmSpeech:
    """Speech engines (voices loaded) and clips kept between builds of one ``qidsl watch``."""

    def __init__(self, cache_dir: Path, tld: str = "com"):
        from .engines.cache import MemoryCache

        self.cache = MemoryCache(cache_dir)
        self.tld = tld
        self._engines: dict[tuple, object] = {}

    def engine(self, settings, base_dir: Path, tld: str | None = None):
        """The engine for ``settings``, made once (same signature as :func:`make_engine`)."""
        from .engines.synthesize import make_engine

        key = (settings.engine, settings.voice, settings.rate, settings.language, str(Path(base_dir).resolve()),
               tld or self.tld)
        if key not in self._engines:
            from .build import keep_voice_model
            from .store import Store

            self._engines[key] = make_engine(settings, base_dir=base_dir, tld=tld or self.tld)
            keep_voice_model(self._engines[key], Store(self.cache.directory))
        return self._engines[key]

    def warm_up(self) -> None:
        """Load every engine's voice now, so the first edit does not wait for it."""
        for engine in self._engines.values():
            warm = getattr(engine, "warm", None)
            if warm is not None:
                warm()


class Watcher:
    """Builds the routines under watch and keeps :class:`Site` up to date."""

    def __init__(self, paths: list[str], options: WatchOptions, site: Site):
        from .engines.cache import default_cache_dir

        self.paths = paths
        self.options = options
        self.site = site
        self.cache_dir = options.cache_dir or default_cache_dir(options.out)  # the store `qidsl build` uses
        self.speech = WarmSpeech(self.cache_dir, options.tld)

    def routines(self) -> list[Path]:
        found, _ = find_routines(self.paths)
        return found

    def roots(self) -> list[Path]:
        """The folders to watch: each folder named, and the folder of each file (includes live there)."""
        roots = []
        for name in self.paths:
            path = Path(name).resolve()
            roots.append(path if path.is_dir() else path.parent)
        return list(dict.fromkeys(roots))

    def build(self, path: Path) -> None:
        """Check and build one routine; on mistakes keep its last good build and record them."""
        import time

        from .build import BuildOptions, build_one

        started = time.monotonic()
        name = path.stem
        with self.site.lock:
            served = self.site.routines.get(name)
            if served is None:
                served = self.site.routines[name] = Served(name, path, self.options.out / ".watch" / name)
        loader = Loader()
        try:
            compiled = compile_routine(path, loader)
        except OSError as exc:
            self._mistakes(served, f"{path}: cannot read: {exc.strerror or exc}\n", set())
            return
        depends = {Path(file).resolve() for file in loader.sources} | {path.resolve()}
        if compiled.errors:
            text = _diagnostics_text(compiled.diagnostics, loader)
            sys.stderr.write(text)
            _say(f"{path} has errors; the page keeps its last good version")
            self._mistakes(served, text, depends)
            return
        assert compiled.routine is not None  # a routine without errors was parsed
        if is_library(compiled.routine):
            _say(f"{path} only holds definitions for other routines to include; nothing to serve")
            with self.site.lock:
                self.site.routines.pop(name, None)
            return
        # The timeline on the frame grid of a default `qidsl build`, so the page shows the video's times.
        options = BuildOptions(out=served.folder.parent, video=False, quick=True, engine=self.options.engine,
                               voice=self.options.voice, tld=self.options.tld, cache_dir=self.cache_dir,
                               fps=self.options.fps, progress=False)
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # the served page is the listing
                report = build_one(path, compiled, loader, options, engine_for=self.speech.engine,
                                   cache=self.speech.cache)
            if report is not None:
                with self.site.lock:
                    served.files = {p.name: p for p in report.outputs}
                    served.diagnostics = ""
                    served.depends = depends
                    served.version += 1
                new = (f", {report.synthesised} cue{'' if report.synthesised == 1 else 's'} synthesised in "
                       f"{report.speech_seconds:.2f}s") if report.synthesised else ""
                _say(f"{path}: page ready in {time.monotonic() - started:.2f}s (version {served.version}{new})")
        except (BuildError, OSError) as exc:
            message = str(exc) if isinstance(exc, BuildError) else f"cannot write: {exc.strerror or exc}"
            _say(message)
            self._mistakes(served, f"{path}: {message}\n", depends)
            return
        if self.options.video:
            self._video(path, compiled, loader)

    def _video(self, path: Path, compiled, loader: Loader) -> None:
        from .build import BuildOptions, build_one

        options = BuildOptions(out=self.options.out, video=True, engine=self.options.engine,
                               voice=self.options.voice, tld=self.options.tld, cache_dir=self.options.cache_dir,
                               fps=self.options.fps, progress=False)
        try:
            build_one(path, compiled, loader, options, engine_for=self.speech.engine, cache=self.speech.cache)
        except (BuildError, OSError) as exc:
            _say(f"{path}: the video was not built: {exc}")

    def _mistakes(self, served: Served, text: str, depends: set[Path]) -> None:
        with self.site.lock:
            served.diagnostics = text
            served.depends = depends

    def changed(self, files: set[Path]) -> list[Path]:
        """The routines to rebuild after ``files`` changed: those that read them, new ones, broken ones."""
        found = self.routines()
        with self.site.lock:
            known = {s.source.resolve(): s for s in self.site.routines.values()}
            for name in [n for n, s in self.site.routines.items() if s.source not in found]:
                del self.site.routines[name]  # deleted or renamed away
        return [path for path in found
                if path.resolve() not in known
                or known[path.resolve()].diagnostics
                or files & known[path.resolve()].depends]


def run_watch(paths: list[str], options: WatchOptions) -> int:
    """``qidsl watch``: serve, build, and rebuild on every save until Ctrl-C."""
    import watchfiles

    site = Site()
    watcher = Watcher(paths, options, site)
    found, missing = find_routines(paths)
    for name in missing:
        _say(f"{name}: no such file or folder")
    if missing or not found:
        if not missing:
            _say("no .qi routines found in " + ", ".join(paths))
        return EXIT_USAGE
    try:
        server = make_server(site, options.port)
    except OSError as exc:
        _say(f"cannot listen on 127.0.0.1:{options.port}: {exc.strerror or exc}; choose another --port")
        return EXIT_PROBLEMS
    thread = threading.Thread(target=server.serve_forever, name="qidsl-watch-server", daemon=True)
    thread.start()
    port = server.server_address[1]
    print(f"qidsl: serving the practice page at http://127.0.0.1:{port}/ (Ctrl-C stops)", flush=True)
    stop = threading.Event()
    status = EXIT_OK
    terminate = _stop_on_terminate()
    try:
        for path in found:
            watcher.build(path)
        watcher.speech.warm_up()
        _say("watching " + ", ".join(str(r) for r in watcher.roots()) + " for saves")
        for changes in watchfiles.watch(*watcher.roots(), watch_filter=_routine_filter, stop_event=stop,
                                        step=20, debounce=400, raise_interrupt=True):
            files = {Path(p).resolve() for _, p in changes}
            for path in watcher.changed(files):
                watcher.build(path)
    except KeyboardInterrupt:
        pass
    except BuildError as exc:  # the voice could not be loaded: nothing will build
        _say(str(exc))
        status = EXIT_PROBLEMS
    finally:
        previous = _ignore_interrupts()  # a second Ctrl-C must not cut the clean-up short
        stop.set()
        server.shutdown()
        server.server_close()
        _restore(previous)
        _restore(terminate)
    _say("stopped")
    return status


def _stop_on_terminate() -> dict:
    """SIGTERM (a service manager's or ``kill``'s stop) stops the watch as Ctrl-C does: cleanly, exit 0."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt
    try:
        return {signal.SIGTERM: signal.signal(signal.SIGTERM, interrupt)}
    except ValueError:  # not the main thread (embedded use): leave signals alone
        return {}


def _ignore_interrupts() -> dict:
    import signal

    try:
        return {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread (embedded use): leave signals alone
        return {}


def _restore(previous: dict) -> None:
    import signal

    for sig, handler in previous.items():
        signal.signal(sig, handler)


def _routine_filter(change, path: str) -> bool:
    return path.endswith(".qi") and not os.path.basename(path).startswith(".")
