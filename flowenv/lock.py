"""Lock: exactly which files an environment is made of, and the full_id they hash to.

A lock is checked when it is built, whether by a resolver or from a stored record: every
filename is a plain file name of its kind (it becomes a cache path), every sha256 a hex
digest, and the full_id covers everything creation reads from it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

from .errors import FlowenvError

LOCK_SCHEMA = 2
KINDS = {"wheel": (".whl",), "conda": (".conda", ".tar.bz2")}
_FILENAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+!\-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MD5 = re.compile(r"^[0-9a-f]{32}$")


class LockFormatError(FlowenvError, ValueError):
    """A lock's content is malformed (the store's checked reader names the record)."""


@dataclass(frozen=True)
class LockedFile:
    name: str
    version: str
    kind: str  # "wheel" or "conda"
    filename: str
    url: str  # where it came from, never with credentials; "" for a wheel built here
    sha256: str
    size: Optional[int] = None
    # A wheel built on the resolving machine: the source it was built from (an sdist URL,
    # a git URL pinned to a commit, ...) and that source's sha256 when it has one.
    source_url: Optional[str] = None
    source_sha256: Optional[str] = None
    # A conda file's md5, as its channel publishes it (conda-lock files require it). Not
    # part of the full_id: the sha256 is what every machine verifies.
    md5: Optional[str] = None

    def __post_init__(self):
        for attr in ("name", "version", "kind", "filename", "url", "sha256"):
            if not isinstance(getattr(self, attr), str):
                raise LockFormatError("%s of a locked file must be text, not %r"
                                      % (attr, getattr(self, attr)))
        if self.kind not in KINDS:
            raise LockFormatError("%s: unknown kind %r (expected %s)"
                                  % (self.filename, self.kind, " or ".join(KINDS)))
        if (len(self.filename) > 255 or not _FILENAME.match(self.filename)
                or ".." in self.filename or not self.filename.endswith(KINDS[self.kind])):
            raise LockFormatError("%r is not a plain %s file name" % (self.filename, self.kind))
        if not _SHA256.match(self.sha256):
            raise LockFormatError("%s: %r is not a sha256 digest" % (self.filename, self.sha256))
        if self.md5 is not None and (not isinstance(self.md5, str) or not _MD5.match(self.md5)):
            raise LockFormatError("%s: %r is not an md5 digest" % (self.filename, self.md5))
        if self.size is not None and (not isinstance(self.size, int) or self.size < 0):
            raise LockFormatError("%s: size %r is not a byte count" % (self.filename, self.size))
        if not self.name or not self.version:
            raise LockFormatError("%s: a locked file needs a name and a version" % self.filename)

    def to_dict(self) -> dict:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        return {k: v for k, v in data.items() if v is not None or k == "size"}

    @classmethod
    def from_dict(cls, data) -> "LockedFile":
        if not isinstance(data, dict):
            raise LockFormatError("a locked file is a mapping, not %r" % (data,))
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise LockFormatError("unknown locked-file field(s) %s" % ", ".join(sorted(unknown)))
        try:
            return cls(**data)
        except TypeError as exc:
            raise LockFormatError("a locked file lacks a field: %s" % exc) from None


@dataclass(frozen=True)
class Lock:
    """One resolution of a Spec for one platform."""

    req_id: str
    platform: str
    python: str  # full version of the interpreter the env is built for
    files: Tuple[LockedFile, ...]
    spec: Dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def python_minor(self) -> str:
        return ".".join(self.python.split(".")[:2])

    @property
    def full_id(self) -> str:
        # Everything creation reads: the platform, the Python series, each file's kind,
        # sha256 and name. The interpreter's patch level does not change which files
        # are installed.
        content = ["schema=%d" % LOCK_SCHEMA, self.platform, "python=" + self.python_minor]
        content += sorted("%s:%s:%s" % (f.kind, f.sha256, f.filename) for f in self.files)
        return hashlib.sha256("\n".join(content).encode()).hexdigest()[:32]

    def pins(self) -> Dict[str, str]:
        """Package name -> version for the Python packages of this lock."""
        return {f.name: f.version for f in self.files if f.kind == "wheel"}

    def by_kind(self, kind: str) -> Tuple[LockedFile, ...]:
        return tuple(f for f in self.files if f.kind == kind)

    @property
    def size(self) -> int:
        return sum(f.size or 0 for f in self.files)

    def to_dict(self) -> dict:
        return {
            "schema": LOCK_SCHEMA,
            "full_id": self.full_id,
            "req_id": self.req_id,
            "platform": self.platform,
            "python": self.python,
            "spec": self.spec,
            "files": [f.to_dict() for f in self.files],
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True).encode()

    @classmethod
    def from_dict(cls, data) -> "Lock":
        """A lock from its stored form; LockFormatError when it is not one."""
        if not isinstance(data, dict):
            raise LockFormatError("an environment record is a JSON object")
        if data.get("schema") != LOCK_SCHEMA:
            raise LockFormatError(
                "environment record schema %r; this flowenv reads schema %d (a newer flowenv "
                "wrote it: upgrade flowenv)" % (data.get("schema"), LOCK_SCHEMA))
        for key, kind in (("req_id", str), ("platform", str), ("python", str), ("files", list)):
            if not isinstance(data.get(key), kind):
                raise LockFormatError("field %r is missing or not a %s" % (key, kind.__name__))
        spec = data.get("spec") or {}
        if not isinstance(spec, dict):
            raise LockFormatError("field 'spec' is not a mapping")
        lock = cls(
            req_id=data["req_id"],
            platform=data["platform"],
            python=data["python"],
            files=tuple(LockedFile.from_dict(f) for f in data["files"]),
            spec=spec,
        )
        if data.get("full_id") != lock.full_id:
            raise LockFormatError("its files hash to %s, not to the recorded id %r"
                                  % (lock.full_id, data.get("full_id")))
        return lock

    @classmethod
    def from_json(cls, blob: bytes) -> "Lock":
        try:
            data = json.loads(blob)
        except (ValueError, UnicodeDecodeError) as exc:
            raise LockFormatError("not valid JSON (%s)" % exc) from None
        return cls.from_dict(data)
