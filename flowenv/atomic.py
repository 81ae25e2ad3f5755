"""Write files and folders atomically: built under a temporary name beside the target,
then renamed into place, so a reader sees the old content or the new, never half of it,
and a killed writer leaves only a temporary name that `sweep_stale` later removes."""

from __future__ import annotations

import os
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Union

from .errors import FlowenvError

TEMP_PREFIX = ".flowenv-tmp-"
# Temporary names older than this are a killed writer's: safe to remove.
STALE_SECONDS = 6 * 3600
# Store and cache files are shared by teammates (a shared folder store): readable by all.
FILE_MODE = 0o644


def _temp_name(target: Path) -> Path:
    return target.with_name("%s%d-%d-%s" % (TEMP_PREFIX, os.getpid(), time.monotonic_ns(),
                                            target.name[:40]))


_swept = set()
_swept_lock = threading.Lock()


def _beside(target: Path) -> Path:
    """Make target's folder, and sweep a killed writer's leftovers from it (once per
    folder and process: a folder is listed at most once, however many files it gets)."""
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    with _swept_lock:
        first = folder not in _swept
        _swept.add(folder)
    if first:
        sweep_stale(folder)
    return _temp_name(target)


def os_error(exc: OSError, what: str, path) -> FlowenvError:
    """An OSError as an error that says what to do."""
    import errno

    hints = {
        errno.ENOSPC: "The disk is full: free some space (metaflow environment gc removes "
                      "unused environments).",
        errno.EDQUOT: "The disk quota is exceeded: free some space.",
        errno.EFBIG: "The file is larger than this file system or a file-size limit (ulimit "
                     "-f) allows.",
        errno.EACCES: "Permission denied: check the folder's owner and permissions, or "
                      "point flowenv elsewhere.",
        errno.EPERM: "Operation not permitted: check the folder's owner and permissions.",
        errno.EROFS: "The file system is read-only: point flowenv at a writable folder.",
        errno.ENOENT: "A folder on the way does not exist: create it first.",
        errno.ENOTDIR: "A part of the path is a file, not a folder.",
        errno.EEXIST: "A file is in the way where a folder should be.",
    }
    return FlowenvError("cannot %s %s: %s" % (what, path, exc.strerror or exc),
                        hint=hints.get(exc.errno))


@contextmanager
def temporary_file(target: Union[str, Path]) -> Iterator[Path]:
    """A temporary path beside target, removed on the way out unless it was renamed."""
    tmp = _beside(Path(target))
    try:
        yield tmp
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def write_bytes(target: Union[str, Path], data: bytes, mode: int = FILE_MODE) -> None:
    target = Path(target)
    with temporary_file(target) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)


def write_text(target: Union[str, Path], text: str, mode: int = FILE_MODE) -> None:
    write_bytes(target, text.encode("utf-8"), mode)


def save_text(target: Union[str, Path], text: str) -> None:
    """write_text to a file the user named (an --output): an OSError is a FlowenvError
    that says what to do."""
    try:
        write_text(target, text)
    except OSError as exc:
        raise os_error(exc, "write", target) from exc


def copy_file(source: Union[str, Path], target: Union[str, Path], mode: int = FILE_MODE) -> None:
    target = Path(target)
    with temporary_file(target) as tmp:
        shutil.copyfile(source, tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, target)


@contextmanager
def staging_dir(target: Union[str, Path]) -> Iterator[Path]:
    """A temporary folder beside target; on success it is renamed to target (unless another
    process got there first: theirs is kept), on failure removed."""
    target = Path(target)
    tmp = _beside(target)
    tmp.mkdir()
    try:
        yield tmp
        try:
            os.rename(tmp, target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def set_aside(target: Union[str, Path]) -> Path:
    """Rename a folder to a temporary name beside it, in one step: readers see it whole or
    not at all. The caller deletes what it returns (sweep_stale does, if it dies first)."""
    target = Path(target)
    aside = _temp_name(target)
    os.rename(target, aside)
    return aside


def sweep_stale(folder: Union[str, Path], older_than: float = STALE_SECONDS) -> int:
    """Remove temporary names a killed writer left in folder (not below); the count."""
    folder = Path(folder)
    horizon = time.time() - older_than
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if not entry.name.startswith(TEMP_PREFIX):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_mtime > horizon:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
            removed += 1
        except OSError:
            continue
    return removed
