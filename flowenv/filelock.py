"""Inter-process locks that die with their holder (flock) and time out with a named knob."""

from __future__ import annotations

import fcntl
import time
from contextlib import contextmanager
from pathlib import Path

from .atomic import os_error
from .errors import LockTimeout

DEFAULT_TIMEOUT = 600.0


@contextmanager
def file_lock(path: Path, what: str, timeout: float = DEFAULT_TIMEOUT, on_wait=None):
    """Hold an exclusive flock on `path`. The kernel releases it if this process dies,
    so a killed run never blocks a later one."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            handle = open(path, "a")
        except PermissionError:
            handle = open(path, "r")  # a teammate's lock file: flock needs no write access
    except OSError as exc:
        raise os_error(exc, "create the lock file", path) from exc
    with handle:
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waited and on_wait:
                    on_wait()
                waited = True
                if time.monotonic() > deadline:
                    raise LockTimeout(
                        "waited %.0f s for another process %s (lock %s)" % (timeout, what, path),
                        setting="FLOWENV_LOCK_TIMEOUT",
                        hint="If that process is stuck, stop it; to wait longer, raise "
                             "FLOWENV_LOCK_TIMEOUT (seconds).") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
