"""Which of this machine's cached folders are in use, and when each was last used.

A process that uses a folder (an environment, an extracted code package) holds a shared
flock on the folder's in-use file for as long as it lives, and stamps the folder's last
use (its mtime: one utime call). `metaflow environment gc` removes only folders that
nobody holds (a non-blocking exclusive lock tells) and unused for long enough; it holds
the lock while it renames the folder away, so a process that starts using it meanwhile
waits, then sees that it is gone.

Every environment flowenv creates also carries a small start-up hook (site_hook.py) that
does the same from inside: any Python running in it, a step or a notebook kernel, holds it.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from typing import Dict

IN_USE = ".flowenv-in-use"


def in_use_file(folder) -> Path:
    return Path(folder) / IN_USE


def stamp(folder) -> None:
    """Record a use of folder (its mtime), as cheaply as possible."""
    try:
        os.utime(folder)
    except OSError:
        pass  # a read-only or vanished folder: nothing to record


class Holds:
    """Folders this object holds (shared) until it is released or the process ends."""

    def __init__(self):
        self._fds: Dict[str, int] = {}
        self._lock = threading.Lock()

    def hold(self, folder) -> bool:
        """Hold folder and stamp its use; False if it no longer exists (a gc removed it
        just now: the caller makes it again)."""
        folder = Path(folder)
        key = str(folder)
        with self._lock:
            fd = self._fds.get(key)
            if fd is None:
                try:
                    fd = os.open(in_use_file(folder), os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC,
                                 0o644)
                except FileNotFoundError:
                    return False
                except OSError:  # a read-only cache cannot be held, nor cleaned up
                    return folder.is_dir()
                fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while a gc renames it away
                self._fds[key] = fd
            if not _same_file(fd, in_use_file(folder)):
                os.close(self._fds.pop(key))
                return False
        stamp(folder)
        return True

    def release_all(self) -> None:
        with self._lock:
            for fd in self._fds.values():
                os.close(fd)
            self._fds.clear()


def _same_file(fd: int, path: Path) -> bool:
    try:
        held, there = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (held.st_dev, held.st_ino) == (there.st_dev, there.st_ino)
