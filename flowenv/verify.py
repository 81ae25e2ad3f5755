"""Files checked against their lock: sha256 on arrival, and a marker that says a cached
copy was verified, invalidated by any change to the file (size, mtime, ctime, inode: a
change that restores the mtime still moves the ctime)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Optional

from .atomic import FILE_MODE, write_text
from .errors import IntegrityError
from .lock import LockedFile

MARKER = ".flowenv-verified"


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _stamp(path: Path) -> dict:
    st = os.stat(path)
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns,
            "ino": st.st_ino}


def _marker(path: Path) -> Path:
    return Path(path).with_name(MARKER)


def verified_move(tmp, dest: Path, sha256: str, what: str, source: str,
                  hint: Optional[str] = None):
    """Rename tmp to dest if it hashes to sha256, and mark it verified. `what` names the
    file in the error (the package, its version and file name)."""
    actual = sha256_of(tmp)
    if actual != sha256:
        raise IntegrityError(
            "the copy from %s has sha256 %s, but the lock says %s: the file was changed or "
            "corrupted" % (source, actual, sha256), package=what,
            hint=hint or "Re-resolve with --force if the package was legitimately re-uploaded.")
    os.chmod(tmp, FILE_MODE)
    os.replace(tmp, dest)
    mark_verified(dest)


def mark_verified(path: Path) -> None:
    try:
        write_text(_marker(path), json.dumps(_stamp(path)))
    except OSError:
        pass  # without a marker the copy is hashed again next time: slower, never wrong


def is_intact(path: Path, file: LockedFile) -> bool:
    """Whether the cached copy at path is still the verified file: unchanged since it was
    verified, or (no marker, or a changed file) hashing to the lock's sha256."""
    path = Path(path)
    try:
        stamp = _stamp(path)
    except OSError:
        return False
    if file.size is not None and stamp["size"] != file.size:
        return False
    try:
        if json.loads(_marker(path).read_text()) == stamp:
            return True
    except (OSError, ValueError):
        pass
    if sha256_of(path) != file.sha256:
        return False
    mark_verified(path)
    return True
