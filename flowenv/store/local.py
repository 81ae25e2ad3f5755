"""A BlobStore in a local folder: atomic renames, O_EXCL creation and flock for CAS."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator, Optional, Tuple

from ..errors import StoreError
from .blobs import BlobStore, Key

_LOCK_SUFFIX = ".flowenv-cas-lock"


class LocalBlobStore(BlobStore):
    def __init__(self, root):
        self.root = Path(root)
        self.url = str(self.root)

    def _path(self, key: Key) -> Path:
        return self.root / key.path

    def get(self, key: Key) -> Optional[Tuple[bytes, str]]:
        try:
            data = self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError("Cannot read %s: %s" % (self._path(key), exc)) from exc
        return data, hashlib.sha256(data).hexdigest()

    def exists(self, key: Key) -> bool:
        return self._path(key).is_file()

    def _temp(self, target: Path, data: bytes = None, source: str = None) -> str:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            if source is not None:
                with open(source, "rb") as src:
                    shutil.copyfileobj(src, f)
            else:
                f.write(data)
        return tmp

    def put(self, key: Key, data: bytes) -> None:
        target = self._path(key)
        os.replace(self._temp(target, data), target)

    def put_file(self, key: Key, path: str) -> None:
        target = self._path(key)
        os.replace(self._temp(target, source=path), target)

    def get_file(self, key: Key, path: str) -> bool:
        source = self._path(key)
        if not source.is_file():
            return False
        shutil.copyfile(source, path)
        return True

    def put_if_absent(self, key: Key, data: bytes) -> bool:
        target = self._path(key)
        tmp = self._temp(target, data)
        try:
            os.link(tmp, target)  # atomic, and fails if the target exists
            return True
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)

    def compare_and_swap(self, key: Key, data: bytes, etag: Optional[str]) -> bool:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # The lock file lives beside the object; flock dies with its holder.
        with open(str(target) + _LOCK_SUFFIX, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = self.get(key)
            if (current[1] if current else None) != etag:
                return False
            self.put(key, data)
            return True

    def list(self, prefix: Key) -> Iterator[Key]:
        base = self._path(prefix)
        for folder, _dirs, files in os.walk(base):
            for name in files:
                if name.startswith(".tmp-") or name.endswith(_LOCK_SUFFIX):
                    continue
                rel = os.path.relpath(os.path.join(folder, name), self.root)
                yield Key(rel.replace(os.sep, "/"))
