"""The blob-store interface every backend implements, and the one validated key type."""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import BinaryIO, Iterator, Optional, Tuple

from ..atomic import temporary_file
from ..errors import StoreError

# Streamed reads hand over this much at a time: memory stays bounded whatever the size.
CHUNK = 1 << 20

# The SDKs' own errors for a dropped or stalled connection (botocore, urllib3, requests).
_TRANSIENT_ERRORS = frozenset((
    "EndpointConnectionError", "ConnectionClosedError", "ReadTimeoutError",
    "ConnectTimeoutError", "IncompleteReadError", "ResponseStreamingError", "ProtocolError",
    "ChunkedEncodingError", "ConnectionError", "ReadTimeout", "ConnectTimeout",
    "IncompleteRead"))

_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class Key:
    """A path inside the store. The only way to a backend path, and it refuses traversal."""

    path: str

    def __post_init__(self):
        segments = self.path.split("/")
        if not self.path or any(not _SEGMENT.match(s) or s in (".", "..") for s in segments):
            raise StoreError("Invalid store key %r" % self.path)

    @classmethod
    def join(cls, *parts: str) -> "Key":
        return cls("/".join(p.strip("/") for p in parts if p))

    def child(self, *parts: str) -> "Key":
        return Key.join(self.path, *parts)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def __str__(self):
        return self.path


class BlobStore(ABC):
    """Small, atomic object storage: whole-object reads and writes with preconditions.

    ETags are opaque strings; a backend returns the one its service gives, and
    compare_and_swap succeeds only while the object still has that ETag.
    """

    #: Human-readable location, such as s3://bucket/prefix or a folder path.
    url: str = ""

    @abstractmethod
    def get(self, key: Key) -> Optional[Tuple[bytes, str]]:
        """(content, etag), or None when the object does not exist."""

    @abstractmethod
    def put(self, key: Key, data: bytes) -> None:
        """Write unconditionally (used for content-addressed data, where any writer wins)."""

    @abstractmethod
    def put_if_absent(self, key: Key, data: bytes) -> bool:
        """Write only if nothing is there; True if this call created the object."""

    @abstractmethod
    def compare_and_swap(self, key: Key, data: bytes, etag: Optional[str]) -> bool:
        """Replace the object only if its ETag is still `etag` (None: must not exist)."""

    @abstractmethod
    def list(self, prefix: Key) -> Iterator[Key]:
        """Every key under prefix, recursively, in no particular order."""

    def size(self, key: Key) -> Optional[int]:
        """The object's size in bytes, or None when it does not exist (backends ask the
        service for the size alone: no download)."""
        found = self.get(key)
        return None if found is None else len(found[0])

    def exists(self, key: Key) -> bool:
        return self.size(key) is not None

    def read_range(self, key: Key, offset: int, length: int, out: BinaryIO) -> bool:
        """Write bytes [offset, offset + length) of the object to out, as they arrive
        (never the whole object in memory); False when it does not exist. Backends
        override this with a streamed, ranged read."""
        found = self.get(key)
        if found is None:
            return False
        out.write(found[0][offset:offset + length])
        return True

    def is_transient(self, exc: BaseException) -> bool:
        """Whether a failed read may succeed if tried again (a dropped connection, a
        timeout, the service asking to slow down)."""
        return isinstance(exc, (ConnectionError, TimeoutError)) or any(
            cls.__name__ in _TRANSIENT_ERRORS for cls in type(exc).__mro__)

    def put_file(self, key: Key, path: str) -> None:
        with open(path, "rb") as f:
            self.put(key, f.read())

    def get_file(self, key: Key, path: str) -> bool:
        """Copy the object to a local file, streamed through a temporary file; False when
        it does not exist."""
        size = self.size(key)
        if size is None:
            return False
        with temporary_file(path) as partial:
            with open(partial, "wb") as f:
                if not self.read_range(key, 0, size, f):
                    return False
            os.replace(partial, path)
        return True
