"""Debug lines: every uv and rattler call, store operation and lock wait, with durations.

Passed in like progress, silent by default: the edge that read the settings (FLOWENV_DEBUG,
METAFLOW_DEBUG_FLOWENV, `--verbose`) decides where the lines go. Callers redact
credentials before a line is written (flowenv.redact)."""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

PREFIX = "flowenv debug: "


class Timing:
    """What a timed operation found, added to its line (`found 1.2 kB`, `exit 0`)."""

    def __init__(self):
        self.detail = ""


class DebugLog:
    def __init__(self, write: Optional[Callable[[str], None]] = None):
        self._write = write

    @property
    def enabled(self) -> bool:
        return self._write is not None

    def __call__(self, message: str) -> None:
        if self._write is not None:
            self._write(message)

    @contextmanager
    def timed(self, what: str, announce: bool = False) -> Iterator[Timing]:
        """Log `what` with its duration once done (and first when it starts, with
        announce: for calls that may take long, so that a stuck one shows)."""
        timing = Timing()
        if self._write is None:
            yield timing
            return
        if announce:
            self("%s ..." % what)
        start = time.monotonic()
        try:
            yield timing
        except BaseException as exc:
            self("%s: failed after %s (%s)" % (what, duration(time.monotonic() - start),
                                               type(exc).__name__))
            raise
        detail = ", %s" % timing.detail if timing.detail else ""
        self("%s: %s%s" % (what, duration(time.monotonic() - start), detail))


def duration(seconds: float) -> str:
    return "%.1f ms" % (seconds * 1000) if seconds < 1 else "%.2f s" % seconds


def size(count: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return "%.1f %s" % (count / scale, unit)
    return "%d bytes" % count


SILENT = DebugLog()


def stderr_log(stream=None) -> DebugLog:
    """Lines on stderr (or stream), whole even when threads write at once."""
    lock = threading.Lock()

    def write(message: str) -> None:
        out = stream or sys.stderr
        with lock:
            out.write(PREFIX + message + "\n")
            out.flush()

    return DebugLog(write)


def debug_log(enabled: bool) -> DebugLog:
    """The log the settings ask for: stderr when debugging, else silent."""
    return stderr_log() if enabled else SILENT
