"""Package files in the store, addressed by their sha256."""

from __future__ import annotations

from pathlib import Path

from ..atomic import temporary_file
from ..errors import IntegrityError
from ..lock import LockedFile
from ..verify import verified_move
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
        # Content-addressed: concurrent writers write the same bytes, so any may win.
        self.blobs.put_file(self.key(file.sha256), str(path))

    def download(self, file: LockedFile, dest: Path) -> None:
        """Copy the stored blob to dest, verified; a missing or altered blob is an error."""
        where = "%s %s (%s)" % (file.name, file.version, file.filename)
        with temporary_file(dest) as tmp:
            if not self.blobs.get_file(self.key(file.sha256), str(tmp)):
                raise IntegrityError("it is missing from the store at %s" % self.blobs.url,
                                     package=where, hint=REPAIR)
            verified_move(tmp, dest, file.sha256, where, "the store at %s" % self.blobs.url,
                          hint=REPAIR)
