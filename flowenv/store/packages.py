"""Package files in the store, addressed by their sha256."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import IntegrityError
from ..fetch import verified_move
from ..lock import LockedFile
from .blobs import BlobStore, Key


class PackageStore:
    def __init__(self, blobs: BlobStore, prefix: Key):
        self.blobs = blobs
        self.prefix = prefix

    def key(self, sha256: str) -> Key:
        return self.prefix.child(sha256[:2], sha256)

    def has(self, file: LockedFile) -> bool:
        return self.blobs.exists(self.key(file.sha256))

    def upload(self, file: LockedFile, path: Path) -> None:
        # Content-addressed: concurrent writers write the same bytes, so any may win.
        self.blobs.put_file(self.key(file.sha256), str(path))

    def download(self, file: LockedFile, dest: Path) -> None:
        """Copy the stored blob to dest, verified; a missing or altered blob is an error."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-")
        os.close(fd)
        if not self.blobs.get_file(self.key(file.sha256), tmp):
            os.unlink(tmp)
            raise IntegrityError(
                "Package %s %s (%s) is missing from the store at %s. Re-publish the "
                "environment from a machine that has it: metaflow environment resolve --force"
                % (file.name, file.version, file.filename, self.blobs.url)
            )
        try:
            verified_move(tmp, dest, file, "the store at %s" % self.blobs.url)
        except IntegrityError as exc:
            raise IntegrityError(
                "%s The store's copy is damaged: repair it from a machine that can reach the "
                "package index with: metaflow environment resolve --force (same requirements), "
                "which uploads every package again." % str(exc).split(": the file was")[0]
            ) from None
