"""Compiled bytecode shared through the store: per package file and Python version, a
record naming one archive of that package's .pyc files, kept with the package files
(content-addressed). The archive is stored first, the record last and only if absent:
a record never names an archive the store lacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from .blobs import BlobStore, Key
from .packages import PackageStore
from .records import parse_json, read_record

SCHEMA = 1
_FIELDS = (("sha256", str), ("size", int), ("magic", str), ("files", int))


def _parse(blob: bytes) -> dict:
    data = parse_json(blob, SCHEMA)
    for name, kind in _FIELDS:
        if not isinstance(data.get(name), kind):
            raise ValueError("%s is missing or not a %s" % (name, kind.__name__))
    if len(data["sha256"]) != 64 or data["size"] < 0:
        raise ValueError("not a sha256 and a size")
    return data


class BytecodeStore:
    def __init__(self, blobs: BlobStore, prefix: Key, packages: PackageStore):
        self.blobs = blobs
        self.prefix = prefix
        self.packages = packages

    def key(self, package_sha256: str, python: str) -> Key:
        # python: an implementation and minor version, such as cpython-3.11.
        return self.prefix.child(package_sha256[:2], package_sha256, python + ".json")

    def get(self, package_sha256: str, python: str) -> Optional[dict]:
        """{'sha256', 'size', 'magic', 'files'} of the archive, or None. A damaged record
        is a DamagedRecord (compiling instead is always safe)."""
        found = read_record(self.blobs, self.key(package_sha256, python), _parse,
                            "bytecode record",
                            "Creation compiles the bytecode instead; nothing to repair.")
        return None if found is None else found[0]

    def put(self, package_sha256: str, python: str, archive: Path, record: dict) -> bool:
        """Store the archive, then its record; False when another machine was first."""
        self.blobs.put_file(self.packages.key(record["sha256"]), str(archive))
        return self.blobs.put_if_absent(self.key(package_sha256, python), encode(record))


def record_of(sha256: str, size: int, magic: str, files: int) -> dict:
    return {"schema": SCHEMA, "sha256": sha256, "size": size, "magic": magic, "files": files}


def encode(record: dict) -> bytes:
    return json.dumps(record, sort_keys=True).encode()


def decode(blob: bytes) -> dict:
    """A record's bytes, checked; ValueError when they are not one."""
    return _parse(blob)
