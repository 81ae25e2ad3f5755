"""A BlobStore that writes a debug line for every operation (key, duration, outcome),
then hands it to the backend it wraps: debugging needs no change to any backend.

It wraps rather than inherits: an operation it does not know (a backend's own, or one
added to the interface later) goes straight to the backend, unlogged but unchanged."""

from __future__ import annotations

import os
from typing import Iterator, Optional, Tuple

from ..debuglog import DebugLog, size
from .blobs import BlobStore, Key


class LoggedBlobStore:
    def __init__(self, inner: BlobStore, log: DebugLog):
        self.inner = inner
        self.log = log
        self.url = inner.url

    def __getattr__(self, name):  # what this class does not log
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def _timed(self, operation: str, key):
        return self.log.timed("store %s %s/%s" % (operation, self.url.rstrip("/"), key))

    def get(self, key: Key, *args, **kwargs) -> Optional[Tuple[bytes, str]]:
        with self._timed("get", key) as timing:
            found = self.inner.get(key, *args, **kwargs)
            timing.detail = "absent" if found is None else size(len(found[0]))
        return found

    def put(self, key: Key, data: bytes, *args, **kwargs) -> None:
        with self._timed("put", key) as timing:
            self.inner.put(key, data, *args, **kwargs)
            timing.detail = size(len(data))

    def put_if_absent(self, key: Key, data: bytes, *args, **kwargs) -> bool:
        with self._timed("put-if-absent", key) as timing:
            created = self.inner.put_if_absent(key, data, *args, **kwargs)
            timing.detail = "created" if created else "already there"
        return created

    def compare_and_swap(self, key: Key, data: bytes, etag: Optional[str], *args, **kwargs
                         ) -> bool:
        with self._timed("compare-and-swap", key) as timing:
            swapped = self.inner.compare_and_swap(key, data, etag, *args, **kwargs)
            timing.detail = "swapped" if swapped else "changed meanwhile"
        return swapped

    def list(self, prefix: Key, *args, **kwargs) -> Iterator[Key]:
        with self._timed("list", prefix) as timing:
            keys = list(self.inner.list(prefix, *args, **kwargs))
            timing.detail = "%d keys" % len(keys)
        return iter(keys)

    def size(self, key: Key, *args, **kwargs) -> Optional[int]:
        with self._timed("size", key) as timing:
            found = self.inner.size(key, *args, **kwargs)
            timing.detail = "absent" if found is None else size(found)
        return found

    def exists(self, key: Key, *args, **kwargs) -> bool:
        with self._timed("exists", key) as timing:
            found = self.inner.exists(key, *args, **kwargs)
            timing.detail = "present" if found else "absent"
        return found

    def put_file(self, key: Key, path: str, *args, **kwargs) -> None:
        with self._timed("put-file", key) as timing:
            self.inner.put_file(key, path, *args, **kwargs)
            timing.detail = size(os.path.getsize(path))

    def get_file(self, key: Key, path: str, *args, **kwargs) -> bool:
        with self._timed("get-file", key) as timing:
            found = self.inner.get_file(key, path, *args, **kwargs)
            timing.detail = size(os.path.getsize(path)) if found else "absent"
        return found
