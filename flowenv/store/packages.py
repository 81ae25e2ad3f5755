"""Package files in the store, addressed by their sha256 (fetched by transfer.py)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import StoreError
from ..lock import LockedFile
from .blobs import BlobStore, Key

REPAIR = ("Repair it from a machine that can reach the package index: metaflow environment "
          "resolve --force (same requirements) uploads every package again.")


class PackageStore:
    def __init__(self, blobs: BlobStore, prefix: Key):
        self.blobs = blobs
        self.prefix = prefix

    def key(self, sha256: str) -> Key:
        return self.prefix.child(sha256[:2], sha256)

    def has(self, file: LockedFile) -> bool:
        return self.blobs.exists(self.key(file.sha256))

    def upload(self, file: LockedFile, path: Path) -> None:
        """Store a verified local copy, then check that the store holds all of it."""
        # Content-addressed: concurrent writers write the same bytes, so any may win.
        key = self.key(file.sha256)
        self.blobs.put_file(key, str(path))
        expected = os.path.getsize(path)
        stored = self.blobs.size(key)
        if stored != expected:
            raise StoreError(
                "after the upload the store at %s holds %s of its %d bytes"
                % (self.blobs.url, "none" if stored is None else stored, expected),
                package="%s %s (%s)" % (file.name, file.version, file.filename),
                hint="Check the store's quota and health, then resolve again with --force.")
