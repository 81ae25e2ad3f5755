"""Inter-process locks that die with their holder (flock) and time out with a named knob."""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path

from .errors import LockTimeout

DEFAULT_TIMEOUT = 600.0


def lock_timeout() -> float:
    return float(os.environ.get("FLOWENV_LOCK_TIMEOUT", DEFAULT_TIMEOUT))


@contextmanager
def file_lock(path: Path, what: str, timeout: float = None, on_wait=None):
    """Hold an exclusive flock on `path`. The kernel releases it if this process dies,
    so a killed run never blocks a later one."""
    timeout = lock_timeout() if timeout is None else timeout
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
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
                        "Waited %.0f s for another process %s (lock %s). If that process is "
                        "stuck, stop it; to wait longer set FLOWENV_LOCK_TIMEOUT (seconds)."
                        % (timeout, what, path)
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
