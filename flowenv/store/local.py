"""A BlobStore in a local folder: atomic renames, link-based put-if-absent and flock for
compare-and-swap. Files are readable by everyone, so teammates can share the folder."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import BinaryIO, Iterator, Optional, Tuple

from ..atomic import FILE_MODE, TEMP_PREFIX, copy_file, os_error, temporary_file, write_bytes
from ..debuglog import SILENT, DebugLog
from ..errors import FlowenvError, StoreError
from ..filelock import DEFAULT_TIMEOUT, file_lock
from .blobs import CHUNK, BlobStore, Key

_LOCK_SUFFIX = ".flowenv-cas-lock"


def _store_error(exc: OSError, what: str, path) -> StoreError:
    error = os_error(exc, what, path)
    return StoreError(error.what, hint=error.hint)


class LocalBlobStore(BlobStore):
    def __init__(self, root, lock_timeout: float = DEFAULT_TIMEOUT, log: DebugLog = SILENT):
        self.root = Path(root)
        self.url = str(self.root)
        self.lock_timeout = lock_timeout
        self.log = log

    def _path(self, key: Key) -> Path:
        return self.root / key.path

    def get(self, key: Key) -> Optional[Tuple[bytes, str]]:
        try:
            data = self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise _store_error(exc, "read", self._path(key)) from exc
        return data, hashlib.sha256(data).hexdigest()

    def size(self, key: Key) -> Optional[int]:
        try:
            st = os.stat(self._path(key))
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise _store_error(exc, "read", self._path(key)) from exc
        return st.st_size if stat.S_ISREG(st.st_mode) else None

    def read_range(self, key: Key, offset: int, length: int, out: BinaryIO) -> bool:
        try:
            source = open(self._path(key), "rb")
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            raise _store_error(exc, "read", self._path(key)) from exc
        with source:
            source.seek(offset)
            while length > 0:
                chunk = source.read(min(CHUNK, length))
                if not chunk:
                    break
                out.write(chunk)
                length -= len(chunk)
        return True

    def put(self, key: Key, data: bytes) -> None:
        try:
            write_bytes(self._path(key), data)
        except OSError as exc:
            raise _store_error(exc, "write", self._path(key)) from exc

    def put_file(self, key: Key, path: str) -> None:
        try:
            copy_file(path, self._path(key))
        except OSError as exc:
            raise _store_error(exc, "write", self._path(key)) from exc

    def get_file(self, key: Key, path: str) -> bool:
        source = self._path(key)
        if not source.is_file():
            return False
        try:
            copy_file(source, path)
        except OSError as exc:
            raise _store_error(exc, "copy %s to" % source, path) from exc
        return True

    def put_if_absent(self, key: Key, data: bytes) -> bool:
        target = self._path(key)
        try:
            with temporary_file(target) as tmp:
                with open(tmp, "wb") as f:
                    f.write(data)
                os.chmod(tmp, FILE_MODE)
                try:
                    os.link(tmp, target)  # atomic, and fails if the target exists
                    return True
                except FileExistsError:
                    return False
        except OSError as exc:
            raise _store_error(exc, "write", target) from exc

    def compare_and_swap(self, key: Key, data: bytes, etag: Optional[str]) -> bool:
        target = self._path(key)
        # The lock file lives beside the object; flock dies with its holder.
        try:
            with file_lock(Path(str(target) + _LOCK_SUFFIX), "updating %s" % target,
                           timeout=self.lock_timeout, log=self.log):
                current = self.get(key)
                if (current[1] if current else None) != etag:
                    return False
                self.put(key, data)
                return True
        except StoreError:
            raise
        except FlowenvError as exc:
            raise StoreError(exc.what, hint=exc.hint, setting=exc.setting) from exc

    def list(self, prefix: Key) -> Iterator[Key]:
        base = self._path(prefix)
        for folder, _dirs, files in os.walk(base):
            for name in files:
                if name.startswith(TEMP_PREFIX) or name.endswith(_LOCK_SUFFIX):
                    continue
                rel = os.path.relpath(os.path.join(folder, name), self.root)
                try:
                    yield Key(rel.replace(os.sep, "/"))
                except StoreError:
                    continue  # a file no flowenv key can name: not ours

