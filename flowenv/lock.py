"""Lock: exactly which files an environment is made of, and the full_id they hash to."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

from .errors import FlowenvError

LOCK_SCHEMA = 1


@dataclass(frozen=True)
class LockedFile:
    name: str
    version: str
    kind: str  # "wheel" or "conda"
    filename: str
    url: str  # never carries credentials
    sha256: str
    size: Optional[int] = None

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


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
        # The interpreter's patch level does not change which files are installed.
        content = [self.platform, "python=" + self.python_minor]
        content += sorted("%s:%s" % (f.kind, f.sha256) for f in self.files)
        return hashlib.sha256("\n".join(content).encode()).hexdigest()[:32]

    def pins(self) -> Dict[str, str]:
        """Package name -> version for the Python packages of this lock."""
        return {f.name: f.version for f in self.files if f.kind == "wheel"}

    def by_kind(self, kind: str) -> Tuple[LockedFile, ...]:
        return tuple(f for f in self.files if f.kind == kind)

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
    def from_dict(cls, data: dict) -> "Lock":
        if data.get("schema") != LOCK_SCHEMA:
            raise FlowenvError(
                "Environment record has schema %r; this flowenv reads schema %d: upgrade flowenv"
                % (data.get("schema"), LOCK_SCHEMA)
            )
        lock = cls(
            req_id=data["req_id"],
            platform=data["platform"],
            python=data["python"],
            files=tuple(LockedFile(**f) for f in data["files"]),
            spec=data.get("spec") or {},
        )
        if data.get("full_id") and data["full_id"] != lock.full_id:
            raise FlowenvError("Environment record %s is corrupt: its files hash to %s"
                               % (data["full_id"], lock.full_id))
        return lock

    @classmethod
    def from_json(cls, blob: bytes) -> "Lock":
        return cls.from_dict(json.loads(blob))
