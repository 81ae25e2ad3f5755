"""Progress reporting, passed in by callers; silent unless someone listens."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager


class Progress:
    """Default: report on stderr when it is a terminal, stay silent otherwise."""

    def __init__(self, stream=None, enabled: bool = None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled

    def say(self, message: str) -> None:
        if self.enabled:
            self.stream.write(message + "\n")
            self.stream.flush()

    @contextmanager
    def task(self, message: str):
        start = time.monotonic()
        self.say(message + " ...")
        yield
        self.say("%s: done in %.1f s" % (message, time.monotonic() - start))


class EchoProgress(Progress):
    """Progress through a callable such as Metaflow's echo."""

    def __init__(self, echo):
        super().__init__(enabled=True)
        self._echo = echo

    def say(self, message: str) -> None:
        self._echo(message)


SILENT = Progress(enabled=False)
