"""Inter-process locks that die with their holder (flock) and time out with a named knob."""

from __future__ import annotations

import fcntl
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .atomic import os_error
from .debuglog import SILENT, DebugLog, duration
from .errors import LockTimeout

DEFAULT_TIMEOUT = 600.0


def _open(path: Path):
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return open(path, "a")
        except PermissionError:
            return open(path, "r")  # a teammate's lock file: flock needs no write access
    except OSError as exc:
        raise os_error(exc, "create the lock file", path) from exc


@contextmanager
def file_lock(path: Path, what: str, timeout: float = DEFAULT_TIMEOUT, on_wait=None,
              shared: bool = False, log: DebugLog = SILENT):
    """Hold a flock on `path`, exclusive (or shared: any number of shared holders, no
    exclusive one). The kernel releases it if this process dies, so a killed run never
    blocks a later one."""
    path = Path(path)
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    with _open(path) as handle:
        start = time.monotonic()
        waited = False
        while True:
            try:
                fcntl.flock(handle, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waited:
                    log("lock %s: waiting for another process %s" % (path, what))
                    if on_wait:
                        on_wait()
                waited = True
                if time.monotonic() - start > timeout:
                    log("lock %s: gave up after %s" % (path, duration(timeout)))
                    raise LockTimeout(
                        "waited %.0f s for another process %s (lock %s)" % (timeout, what, path),
                        setting="FLOWENV_LOCK_TIMEOUT",
                        hint="If that process is stuck, stop it; to wait longer, raise "
                             "FLOWENV_LOCK_TIMEOUT (seconds).") from None
                time.sleep(0.05)
        if waited:
            log("lock %s: acquired after %s" % (path, duration(time.monotonic() - start)))
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def try_lock(path: Path, create: bool = True) -> Iterator[bool]:
    """An exclusive flock if nobody holds the lock now (True), else nothing (False).
    Without create, a lock file that does not exist is free (nobody can hold it), and
    nothing is written: the folder holding it keeps its mtime."""
    path = Path(path)
    if not create and not path.exists():
        yield True
        return
    with _open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
