"""Alias records: immutable tags set once (put-if-absent), mutable tags moved by
compare-and-swap, each move kept in the record's own history."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Dict, Iterator, List, Optional

from ..errors import AliasError, EnvNotFound
from ..refs import Alias
from .blobs import BlobStore, Key

ALIAS_SCHEMA = 1
_CAS_ATTEMPTS = 200


@dataclass(frozen=True)
class AliasRecord:
    alias: str
    req_id: str
    envs: Dict[str, str]  # platform -> full_id
    history: List[dict]

    def to_json(self) -> bytes:
        return json.dumps({"schema": ALIAS_SCHEMA, "alias": self.alias, "req_id": self.req_id,
                           "envs": self.envs, "history": self.history}, indent=1).encode()

    @classmethod
    def from_json(cls, blob: bytes) -> "AliasRecord":
        data = json.loads(blob)
        return cls(data["alias"], data["req_id"], data["envs"], data.get("history", []))

    def full_id_for(self, platform: str) -> str:
        if platform not in self.envs:
            raise AliasError(
                "%s has no environment for %s (it has %s). Add one with: metaflow environment "
                "resolve --from %s --arch %s --alias %s"
                % (self.alias, platform, ", ".join(sorted(self.envs)), self.alias, platform, self.alias)
            )
        return self.envs[platform]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class AliasBook:
    def __init__(self, blobs: BlobStore, prefix: Key):
        self.blobs = blobs
        self.prefix = prefix

    def _key(self, alias: Alias) -> Key:
        return self.prefix.child(alias.name, alias.tag + ".json")

    def find(self, alias: Alias) -> Optional[AliasRecord]:
        found = self.blobs.get(self._key(alias))
        return AliasRecord.from_json(found[0]) if found else None

    def get(self, alias: Alias) -> AliasRecord:
        record = self.find(alias)
        if record is None:
            raise EnvNotFound(
                "Named environment %s does not exist in the store at %s. Create it with: "
                "metaflow environment resolve -r requirements.txt --alias %s"
                % (alias, self.blobs.url, alias)
            )
        return record

    def set(self, alias: Alias, req_id: str, envs: Dict[str, str], who: str,
            replace: bool = False) -> bool:
        """Point alias at envs; True if the record changed. A mutable alias keeps its other
        platforms when req_id is unchanged, unless replace is set."""
        key = self._key(alias)
        for attempt in range(_CAS_ATTEMPTS):
            found = self.blobs.get(key)
            current = AliasRecord.from_json(found[0]) if found else None
            if current is None:
                merged = dict(envs)
            elif alias.mutable:
                # A new resolution replaces every platform; same req_id adds platforms.
                same = current.req_id == req_id and not replace
                merged = {**current.envs, **envs} if same else dict(envs)
            else:
                clash = {p: f for p, f in envs.items() if current.envs.get(p, f) != f}
                # The very same envs again (even from another spec) change nothing.
                same = all(current.envs.get(p) == f for p, f in envs.items())
                if clash or (current.req_id != req_id and not same):
                    platform, full_id = next(iter((clash or envs).items()))
                    raise AliasError(
                        "%s already points to environment %s (%s); tag %r is immutable, so it "
                        "cannot point to %s. Use a new tag, or a mutable one (%s)."
                        % (alias, current.envs.get(platform) or current.req_id, platform,
                           alias.tag, full_id, ", ".join(("latest", "candidate", "stable")))
                    )
                merged = {**current.envs, **envs}
            if current is not None and merged == current.envs:
                return False
            entry = {"at": _now(), "by": who, "req_id": req_id, "envs": merged,
                     "previous": current.envs if current else None}
            history = (current.history if current else []) + [entry]
            record = AliasRecord(str(alias), req_id, merged, history)
            if current is None:
                ok = self.blobs.put_if_absent(key, record.to_json())
            else:
                ok = self.blobs.compare_and_swap(key, record.to_json(), found[1])
            if ok:
                return True
            time.sleep(random.uniform(0, 0.02 * min(attempt + 1, 10)))
        raise AliasError("Could not update %s: too many concurrent writers; try again" % alias)

    def list(self, under: str = "") -> Iterator[AliasRecord]:
        prefix = self.prefix.child(under) if under else self.prefix
        for key in self.blobs.list(prefix):
            if key.path.endswith(".json"):
                found = self.blobs.get(key)
                if found:
                    yield AliasRecord.from_json(found[0])
