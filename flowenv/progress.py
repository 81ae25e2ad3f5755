"""Progress reporting, passed in by callers. Three modes:

- live (a terminal): one status line redrawn in place, with bytes, speed and counts, in
  the style of uv and pip; each finished phase stays as a line with its duration;
- plain (a log file, CI, a Metaflow task log): one line when a phase starts and one when
  it ends, with its duration and figures; never a carriage return;
- quiet: nothing.

Meters are updated from worker threads; every method is thread-safe.
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from typing import Callable, List, Optional

LIVE, PLAIN, QUIET = "live", "plain", "quiet"
# Live redraws at most this often (seconds): a terminal is not a log.
REDRAW_INTERVAL = 0.1


def human_bytes(count: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(count) < 1000 or unit == "GB":
            return ("%d %s" if unit == "B" else "%.1f %s") % (count, unit)
        count /= 1000.0
    return "%.1f GB" % count  # not reached


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Meter:
    """One phase that moves bytes or items: 'Fetching 12/32 files, 1.2/2.9 GB, 350 MB/s'."""

    def __init__(self, progress: "Progress", message: str, total_bytes: Optional[int],
                 total_items: Optional[int], unit: str):
        self._progress = progress
        self.message = message
        self.total_bytes = total_bytes
        self.total_items = total_items
        self.unit = unit
        self.bytes = 0
        self.items = 0
        self.start = time.monotonic()

    def advance(self, count: int) -> None:
        """count more bytes moved (negative when a retried part starts over)."""
        with self._progress._lock:
            self.bytes += count
        self._progress._changed()

    def item_done(self, count: int = 1) -> None:
        with self._progress._lock:
            self.items += count
        self._progress._changed(force=True)

    def add_bytes_total(self, count: int) -> None:
        """A file whose size was unknown when the meter started."""
        with self._progress._lock:
            self.total_bytes = (self.total_bytes or 0) + count

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    @property
    def has_figures(self) -> bool:
        return self.total_items is not None or bool(self.total_bytes)

    def status(self) -> str:
        if not self.has_figures:
            return self.message + " ..."
        parts = []
        if self.total_items is not None:
            parts.append("%d/%d %s" % (self.items, self.total_items, self.unit))
        if self.total_bytes:
            parts.append("%s/%s" % (human_bytes(self.bytes), human_bytes(self.total_bytes)))
            elapsed = self.elapsed()
            if elapsed > 0.2 and self.bytes > 0:
                parts.append("%s/s" % human_bytes(self.bytes / elapsed))
        return "%s %s" % (self.message, ", ".join(parts))

    def summary(self) -> str:
        elapsed = self.elapsed()
        figures = []
        if self.total_items is not None:
            figures.append("%d %s" % (self.items, self.unit))
        if self.bytes:
            figures.append(human_bytes(self.bytes))
            if elapsed > 0:
                figures.append("%s/s" % human_bytes(self.bytes / elapsed))
        return "%s: done in %.1f s%s" % (self.message, elapsed,
                                         " (%s)" % ", ".join(figures) if figures else "")


class Progress:
    """Default mode: live on a terminal, plain otherwise. echo: where finished lines go
    (such as Metaflow's logger); live redraws always go to the stream."""

    def __init__(self, stream=None, mode: Optional[str] = None, enabled: Optional[bool] = None,
                 echo: Optional[Callable[[str], None]] = None, announce: bool = True):
        self.stream = stream or sys.stderr
        if enabled is False:
            mode = QUIET
        if mode is None:
            mode = LIVE if _is_terminal(self.stream) else PLAIN
        self.mode = mode
        self._echo = echo
        self.announce = announce  # plain mode: a line when a phase starts, not only when it ends
        self._lock = threading.RLock()
        self._meters: List[Meter] = []
        self._drawn = 0  # width of the live line on screen
        self._last_draw = 0.0

    @property
    def enabled(self) -> bool:
        return self.mode != QUIET

    # -- lines ------------------------------------------------------------------------

    def say(self, message: str) -> None:
        if self.mode == QUIET:
            return
        with self._lock:
            self._clear_live()
            if self._echo is not None:
                self._echo(message)
            else:
                self.stream.write(message + "\n")
                self.stream.flush()
            self._draw(force=True)

    @contextmanager
    def task(self, message: str):
        """A phase without figures: its start, then its duration."""
        with self.meter(message):
            yield

    @contextmanager
    def meter(self, message: str, total_bytes: Optional[int] = None,
              total_items: Optional[int] = None, unit: str = "files"):
        """A phase with figures, yielding its Meter; its summary line is printed at the
        end (with the duration), or nothing if the phase fails."""
        meter = Meter(self, message, total_bytes, total_items, unit)
        if self.mode == PLAIN and self.announce:
            self.say(message + " ...")
        with self._lock:
            self._meters.append(meter)
        self._changed(force=True)
        ok = False
        try:
            yield meter
            ok = True
        finally:
            with self._lock:
                self._meters.remove(meter)
                if not ok:
                    self._clear_live()
                    self._draw(force=True)
            if ok:
                self.say(meter.summary())

    # -- the live line ----------------------------------------------------------------

    def _changed(self, force: bool = False) -> None:
        if self.mode != LIVE:
            return
        with self._lock:
            self._draw(force)

    def _draw(self, force: bool = False) -> None:
        if self.mode != LIVE or not self._meters:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < REDRAW_INTERVAL:
            return
        self._last_draw = now
        # Phases with figures, when there are any: the enclosing task is known already.
        shown = [m for m in self._meters if m.has_figures] or self._meters
        line = " | ".join(m.status() for m in shown)[:self._width()]
        self.stream.write("\r" + line + " " * max(0, self._drawn - len(line)) + "\r")
        self.stream.flush()
        self._drawn = len(line)

    def _clear_live(self) -> None:
        if self.mode == LIVE and self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self.stream.flush()
            self._drawn = 0

    @staticmethod
    def _width() -> int:
        import shutil

        return max(20, shutil.get_terminal_size((100, 20)).columns - 1)


class EchoProgress(Progress):
    """Finished lines through a callable such as Metaflow's echo; live on a terminal."""

    def __init__(self, echo, stream=None, mode: Optional[str] = None):
        super().__init__(stream=stream, mode=mode, echo=echo)


SILENT = Progress(mode=QUIET)
