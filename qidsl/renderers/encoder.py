"""ffmpeg fed through a pipe we open ourselves, and its failures told in one sentence.

Rather than moviepy's ``write_videofile``, for measured reasons on the 2-core
machine: moviepy's 64 KiB pipe capped raw throughput near 300 frames/s before
any encoding; a 1 MiB pipe roughly tripled it.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..errors import BuildError

try:  # enlarging the frame pipe is a Linux nicety; elsewhere the default pipe works, only slower
    import fcntl
except ImportError:  # pragma: no cover - not Linux
    fcntl = None  # type: ignore[assignment]

PIPE_BYTES = 1 << 20  # Linux's unprivileged maximum (/proc/sys/fs/pipe-max-size)


class Encoder:
    """An ffmpeg process that takes the video on stdin (``command`` reads ``pipe:0``).

    ``failure`` says what went wrong when ffmpeg ends badly.
    """

    def __init__(self, command: list[str], audio: Path | None = None, failure: str = "could not write the video"):
        self._audio = audio
        self._what = failure
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close(), which every user calls
        try:
            self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                             stderr=self._log)
        except OSError as exc:
            self._log.close()
            raise BuildError(f"could not start ffmpeg to write the video: {exc.strerror or exc}") from exc
        assert self._process.stdin is not None  # stdin=PIPE
        self._stdin = self._process.stdin
        if fcntl is not None and hasattr(fcntl, "F_SETPIPE_SZ"):
            with contextlib.suppress(OSError):
                fcntl.fcntl(self._stdin.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)

    def write(self, data: np.ndarray | bytes) -> None:
        try:
            self._stdin.write(data if isinstance(data, bytes) else data.data)
        except (BrokenPipeError, OSError, ValueError) as exc:
            raise BuildError(self._failure("stopped while writing the video")) from exc

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            self._stdin.close()
        if self._process.wait() != 0:
            raise BuildError(self._failure(self._what))

    def _failure(self, what: str) -> str:
        """One sentence from ffmpeg's last words, naming the narration if that was the trouble."""
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            self._stdin.close()
            self._process.wait(timeout=30)
        self._log.seek(0)
        log = self._log.read().decode("utf-8", "replace")
        return ffmpeg_failure(log, self._process.returncode, what, self._audio)

    def close(self) -> None:
        """Make sure no ffmpeg outlives the render: a finished one is reaped, any other is killed.

        Called after :meth:`finish` on success; on any failure (including
        Ctrl-C) ffmpeg is stopped at once rather than left to finalise a file
        that is about to be thrown away.
        """
        process = self._process
        if process.poll() is None:
            process.kill()
        with contextlib.suppress(OSError):
            self._stdin.close()
        process.wait()
        self._log.close()


def ffmpeg_failure(log: str, returncode: int | None, what: str, audio: Path | None = None) -> str:
    """One sentence from ffmpeg's last words, naming the narration if that was the trouble."""
    lines = [re.sub(r"^\[[^]]*\]\s*", "", line).strip() for line in log.splitlines()]
    lines = [line for line in lines if line]
    reason = lines[-1].rstrip(".") if lines else f"exit status {returncode}"
    if audio is not None and str(audio) in log:
        return f"ffmpeg could not read the narration audio {audio}: {reason}"
    return f"ffmpeg {what}: {reason}"
